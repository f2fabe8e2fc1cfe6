/**
 * The forwards' books: one record per incoming HTLC we were asked to forward, keyed by the
 * upstream channel and HTLC id, with the downstream channel and HTLC id it was paired with.
 * The pairing is durable before the downstream HTLC is offered (forwarder.ts), so after a
 * restart a downstream fulfil or failure still finds the upstream HTLC to settle.
 * `LmdbForwardsStore` keeps them in the node's Store as versioned TLV records (@lnkit/store's
 * defineRecord; even = required, odd = optional); `MemoryForwardsStore` for tests.
 *
 * A record holds the upstream onion's shared secret (a per-hop key, not the node key): wrapping
 * the downstream's failure for the payer needs it. It never leaves this store but to that.
 */
import { defineRecord, fieldCodec as f, type NamedDb, recordDb, type Store } from '@lnkit/store';
import type { PolicyChange } from './policy.ts';

/**
 * `offered`: the downstream HTLC is (or is about to be) offered; `fulfilled`: the preimage came
 * back and was given upstream; `failed`: refused here or failed downstream, failed upstream.
 */
export type ForwardStatus = 'offered' | 'fulfilled' | 'failed';

export interface ForwardRecord {
  inChannelId: Uint8Array;
  inHtlcId: bigint;
  /** The short_channel_id (or alias) the onion named. */
  outShortChannelId: bigint;
  /** Absent when no channel has that short_channel_id. */
  outChannelId?: Uint8Array | undefined;
  /** Absent when the forward was refused before an HTLC was offered. */
  outHtlcId?: bigint | undefined;
  paymentHash: Uint8Array;
  amountInMsat: bigint;
  amountOutMsat: bigint;
  inCltvExpiry: number;
  outCltvExpiry: number;
  /** The upstream onion's shared secret (to wrap a downstream failure); absent once resolved. */
  sharedSecret?: Uint8Array | undefined;
  status: ForwardStatus;
  /** Once fulfilled: what we gave upstream (the payer's proof of payment, not ours to hide). */
  preimage?: Uint8Array | undefined;
  /** Once failed: BOLT 4's name of the failure and where it came from. */
  failure?: string | undefined;
  /** Seconds since 1970. */
  createdAt: number;
  /** When the upstream HTLC left both commitments (settled or failed back). */
  resolvedAt?: number | undefined;
}

export interface ForwardsStore {
  load(): ForwardRecord[];
  /** Resolves once the record is durable. */
  save(r: ForwardRecord): Promise<void>;
  /** The fees and deltas set (setfees), by channel id hex, and `all` for the default. */
  loadPolicies?(): Map<string, PolicyChange>;
  /** Resolves once the change is durable; `channel` a channel id hex or `all`. */
  savePolicy?(channel: string, policy: PolicyChange): Promise<void>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** `forward/<upstream channel id>/<htlc id, 16 hex digits>`: a channel's forwards together, in id order. */
export function forwardKey(inChannelId: Uint8Array, inHtlcId: bigint): string {
  return `forward/${hex(inChannelId)}/${inHtlcId.toString(16).padStart(16, '0')}`;
}

export class MemoryForwardsStore implements ForwardsStore {
  readonly records = new Map<string, ForwardRecord>();
  readonly policies = new Map<string, PolicyChange>();

  loadPolicies(): Map<string, PolicyChange> {
    return new Map(this.policies);
  }

  async savePolicy(channel: string, policy: PolicyChange): Promise<void> {
    this.policies.set(channel, { ...policy });
  }

  load(): ForwardRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  async save(r: ForwardRecord): Promise<void> {
    this.records.set(forwardKey(r.inChannelId, r.inHtlcId), { ...r });
  }
}

const forwardRecord = defineRecord<ForwardRecord>({
  kind: 'forward',
  version: 1,
  minReadVersion: 1,
  fields: {
    inChannelId: { type: 0, codec: f.bytes32 },
    inHtlcId: { type: 2, codec: f.u64 },
    outShortChannelId: { type: 4, codec: f.u64 },
    paymentHash: { type: 6, codec: f.bytes32 },
    amountInMsat: { type: 8, codec: f.u64 },
    amountOutMsat: { type: 10, codec: f.u64 },
    inCltvExpiry: { type: 12, codec: f.u32 },
    outCltvExpiry: { type: 14, codec: f.u32 },
    status: { type: 16, codec: f.enum('forward status', ['offered', 'fulfilled', 'failed'] as const) },
    createdAt: { type: 18, codec: f.u32 },
    outChannelId: { type: 21, codec: f.bytes32, optional: true },
    outHtlcId: { type: 23, codec: f.u64, optional: true },
    sharedSecret: { type: 25, codec: f.bytes32, optional: true },
    preimage: { type: 27, codec: f.bytes32, optional: true },
    failure: { type: 29, codec: f.utf8, optional: true },
    resolvedAt: { type: 31, codec: f.u32, optional: true },
  },
});

/** What setfees set for a channel (or `all`): only the fields given, so a default can still fill the rest. */
const policyRecord = defineRecord<PolicyChange>({
  kind: 'forward-policy',
  version: 1,
  minReadVersion: 1,
  fields: {
    feeBaseMsat: { type: 1, codec: f.u32, optional: true },
    feeProportionalMillionths: { type: 3, codec: f.u32, optional: true },
    cltvExpiryDelta: { type: 5, codec: f.u16, optional: true },
    htlcMinimumMsat: { type: 7, codec: f.u64, optional: true },
    htlcMaximumMsat: { type: 9, codec: f.u64, optional: true },
    enabled: { type: 11, codec: f.bool, optional: true },
  },
});

/** `policy/<channel id hex or all>`. */
const policyKey = (channel: string) => `policy/${channel}`;

/** The database the forwards are in. */
export const FORWARDS_DB = 'forwards';

export class LmdbForwardsStore implements ForwardsStore {
  readonly #db: NamedDb<ForwardRecord>;
  readonly #policies: NamedDb<PolicyChange>;
  readonly #durably: <T>(write: () => Promise<T>) => Promise<T>;

  /** `durably`: how each write is made durable (the node's waits out a full disk). */
  constructor(store: Store, durably: <T>(write: () => Promise<T>) => Promise<T> = (w) => w()) {
    this.#db = recordDb(store.db(FORWARDS_DB), forwardRecord);
    this.#policies = recordDb(store.db(FORWARDS_DB), policyRecord);
    this.#durably = durably;
  }

  load(): ForwardRecord[] {
    return this.#db.entries({ start: 'forward/', end: 'forward0' }).map((e) => e.value);
  }

  save(r: ForwardRecord): Promise<void> {
    return this.#durably(() => this.#db.put(forwardKey(r.inChannelId, r.inHtlcId), r));
  }

  loadPolicies(): Map<string, PolicyChange> {
    return new Map(
      this.#policies
        .entries({ start: 'policy/', end: 'policy0' })
        .map((e) => [String(e.key).slice(7), e.value]),
    );
  }

  savePolicy(channel: string, policy: PolicyChange): Promise<void> {
    return this.#durably(() => this.#policies.put(policyKey(channel), policy));
  }
}
