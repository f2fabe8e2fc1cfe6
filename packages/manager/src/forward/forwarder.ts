/**
 * Forwarding (BOLT 4 intermediate node): an incoming HTLC whose onion names a next channel is
 * checked (decide.ts) and offered on that channel with the next onion; the downstream fulfil
 * goes upstream with the preimage, the downstream failure goes upstream wrapped with our
 * shared secret (BOLT 4 "Returning Errors"), and PaymentForwarded says the fee earned.
 *
 * The durability rule across the two channels:
 * - the pairing (upstream channel + HTLC id ↔ downstream channel + HTLC id) is durable in the
 *   ForwardsStore before the downstream HTLC is offered (`offer`'s `before`, inside the
 *   manager's queue, so the id it names is the one the add takes);
 * - the upstream HTLC is failed only once the downstream one can no longer be claimed: on the
 *   downstream's `htlc-resolved` (the failure irrevocably committed on both sides) or when the
 *   add was refused (nothing was offered);
 * - the upstream fulfil uses the preimage the downstream channel already made durable in its
 *   monitor (`htlc-fulfilled`), and the upstream core persists it again before
 *   update_fulfill_htlc leaves.
 *
 * `sendToRoute` is the origin's side of the same machinery: an onion built for a given route,
 * the HTLC offered, the failure decrypted with the route's shared secrets.
 */
import { randomBytes, sha256 } from '@lnkit/crypto';
import {
  buildPaymentOnion,
  createFailurePacket,
  type DecryptedFailure,
  decodeFailureMessage,
  decryptFailurePacket,
  type FailureMessage,
  type FailureName,
  type ForwardPayment,
  failPeeledHtlc,
  failureFromMalformed,
  failureName,
  type Recipient,
  type RouteHop,
  routePayloads,
  wrapFailurePacket,
} from '@lnkit/onion';
import type { Logger } from '@lnkit/runtime';
import { bytesEqual } from '@lnkit/wire';
import { type Observable, Subject } from 'rxjs';
import type { ChannelInput, ChannelState } from '../channel-state.ts';
import type { Refusal } from '../checks.ts';
import { ManagerError } from '../errors.ts';
import { balancesOf, type HtlcEvent } from '../htlc/index.ts';
import { type NodeKeySigner, signedChannelUpdate } from './channel-update.ts';
import { decideForward, type OutgoingChannelView, scidText, withChannelUpdate } from './decide.ts';
import { DEFAULT_PEER_FORWARD_LIMITS, ForwardRateLimiter, type PeerForwardLimits } from './peer-limits.ts';
import {
  DEFAULT_FORWARD_POLICY,
  effectivePolicy,
  type ForwardPolicy,
  type PolicyChange,
  policyChangeProblem,
} from './policy.ts';
import { type ForwardRecord, type ForwardsStore, MemoryForwardsStore } from './store.ts';

type AddHtlc = Extract<ChannelInput, { kind: 'add-htlc' }>;
type Committed = Extract<HtlcEvent, { type: 'htlc-committed' }>;
type Resolved = Extract<HtlcEvent, { type: 'htlc-resolved' }>;

/** The channels as forwarding sees them (the ChannelManager gives these). */
export interface ForwardChannels {
  /** By real short_channel_id or one of our aliases. */
  byShortChannelId(scid: bigint): { id: number; state: ChannelState } | undefined;
  byChannelId(channelId: Uint8Array): { id: number; state: ChannelState } | undefined;
  /** The first channel with this peer (sendToRoute's first hop). */
  channelsWith(nodeId: string): { id: number; state: ChannelState }[];
  stateOf(id: number): ChannelState | undefined;
  /** Hands a channel a command; resolves with what the core refused, if it did. */
  command(id: number, input: ChannelInput): Promise<Refusal | undefined>;
  /**
   * add-htlc, with `before(htlcId)` awaited first in the same turn of the manager's queue:
   * `htlcId` is the id the add takes if the core accepts it.
   */
  offer(id: number, input: AddHtlc, before: (htlcId: bigint) => Promise<void>): Promise<Refusal | undefined>;
  /** A preimage for a channel gone from the manager (closed): its monitor claims the HTLC on chain. */
  providePreimage?(channelId: Uint8Array, preimage: Uint8Array): void;
  bestHeight(): number;
}

export interface ForwarderOptions {
  channels: ForwardChannels;
  nodeId: Uint8Array;
  chainHash: Uint8Array;
  /** The node key's signature, for our channel_update in failures; without it they carry none. */
  signWithNodeKey?: NodeKeySigner | undefined;
  store?: ForwardsStore | undefined;
  /** Our policy for every channel that has none of its own (setPolicy); LDK's defaults otherwise. */
  policy?: ForwardPolicy | undefined;
  /** What one upstream peer may have us forward (peer-limits.ts); DEFAULT_PEER_FORWARD_LIMITS otherwise. */
  peerLimits?: PeerForwardLimits | undefined;
  logger: Logger;
  now?: () => number;
  /**
   * The HTLC interceptor: each forward that passed our checks is held, told (`sink`, durable
   * first when it is the node's event log) and listed, until resolved (resume, fail, settle) or
   * failed back with temporary_channel_failure after `timeoutMs`.
   */
  intercept?: InterceptOptions | undefined;
}

export interface InterceptOptions {
  /** Held at most this long, then failed back. Default 30 s. */
  timeoutMs?: number;
  /** Told of each HTLC held (the node's event log); awaited before the hold's timer starts. */
  sink?: ((e: InterceptedHtlc) => Promise<void>) | undefined;
}

export const DEFAULT_INTERCEPT_TIMEOUT_MS = 30_000;

/** An HTLC the interceptor holds: what the operator decides on. */
export interface InterceptedHtlc {
  /** `<incoming channel id hex>:<htlc id>`: what resolveIntercepted takes. */
  id: string;
  inChannelId: string;
  /** The short_channel_id the onion names (BLOCKxTXxOUTPUT). */
  outShortChannelId: string;
  outChannelId: string;
  paymentHash: string;
  amountInMsat: bigint;
  amountOutMsat: bigint;
  inCltvExpiry: number;
  outCltvExpiry: number;
  /** Seconds since 1970: failed back then if not resolved. */
  expiresAt: number;
}

/** What the operator answers for a held HTLC. */
export type InterceptResolution =
  | { action: 'resume' }
  /** Failed back upstream with this BOLT 4 failure (INTERCEPT_FAILURES). */
  | { action: 'fail'; failure: InterceptFailure }
  /** Fulfilled upstream with this preimage (its sha256 must be the payment hash); nothing goes downstream. */
  | { action: 'settle'; preimage: Uint8Array };

/** The failures an interceptor may give (those that need no more data than we have). */
export const INTERCEPT_FAILURES = [
  'temporary_channel_failure',
  'permanent_channel_failure',
  'temporary_node_failure',
  'permanent_node_failure',
  'unknown_next_peer',
  'incorrect_or_unknown_payment_details',
] as const;
export type InterceptFailure = (typeof INTERCEPT_FAILURES)[number];

interface Held {
  view: InterceptedHtlc;
  channel: number;
  record: ForwardRecord;
  peeled: ForwardPayment;
  e: Committed;
  timer: NodeJS.Timeout | undefined;
}

export type ForwardEvent =
  /** A forward settled on both channels: the upstream HTLC paid us, we paid the downstream. */
  | {
      type: 'PaymentForwarded';
      inChannelId: string;
      outChannelId: string;
      paymentHash: string;
      amountInMsat: bigint;
      amountOutMsat: bigint;
      feeMsat: bigint;
    }
  /** A forward failed back upstream: refused here (`local`) or failed downstream. */
  | {
      type: 'ForwardFailed';
      inChannelId: string;
      outShortChannelId: string;
      paymentHash: string;
      failure: string;
      local: boolean;
    };

/** One forward as forwardinghistory shows it. */
export interface ForwardView {
  inChannel: string;
  /** The channel id, or the short_channel_id the onion named when we have no such channel. */
  outChannel: string;
  paymentHash: string;
  amountInMsat: bigint;
  amountOutMsat: bigint;
  /** What we earn (amountIn − amountOut), once fulfilled; 0 otherwise. */
  feeMsat: bigint;
  status: 'in-flight' | 'settled' | 'failed';
  failure: string | null;
  createdAt: number;
  resolvedAt: number | null;
}

/** The forwards that went out over one channel (or were refused for it), for metrics. */
export interface ForwardChannelMetrics {
  /** The outgoing channel id (hex), or the short_channel_id the onion named when we have none. */
  channel: string;
  settled: number;
  failed: number;
  inFlight: number;
  /** What the settled ones earned. */
  feeMsat: bigint;
  /** Failed ones by BOLT 4 name (or what else ended them). */
  failures: Record<string, number>;
}

/** What sendToRoute answers. */
export interface RouteOutcome {
  status: 'succeeded' | 'failed';
  preimage?: Uint8Array;
  /** The failure as the erring hop made it (decrypted with the route's shared secrets). */
  failure?: {
    /** 0 = the first hop after us. */
    hopIndex: number;
    name: FailureName | 'unknown';
    message: FailureMessage | undefined;
    code: number | undefined;
  };
  /** The first hop refused it (update_fail_malformed_htlc): BOLT 4 name of its code. */
  malformed?: string;
}

interface Origin {
  sharedSecrets: Uint8Array[];
  settle(o: RouteOutcome): void;
}

const CLOSING_PHASES = new Set<ChannelState['phase']>(['shutdown', 'negotiating', 'closing', 'closed']);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const htlcKey = (channelId: Uint8Array, htlcId: bigint) => `${hex(channelId)}:${htlcId}`;

export class Forwarder {
  readonly #o: ForwarderOptions;
  readonly #store: ForwardsStore;
  readonly #events = new Subject<ForwardEvent>();
  /** By upstream `<channel id>:<htlc id>`. */
  readonly #byIn = new Map<string, ForwardRecord>();
  /** By downstream `<channel id>:<htlc id>`. */
  readonly #byOut = new Map<string, ForwardRecord>();
  /** Our own HTLCs sent by sendToRoute, by `<channel id>:<htlc id>`. */
  readonly #origins = new Map<string, Origin>();
  /** Policies set per channel (channel id hex); the default for the rest. */
  readonly #policies = new Map<string, ForwardPolicy>();
  /** What setfees set, as stored: by channel id hex, and `all`. */
  readonly #set: Map<string, PolicyChange>;
  #defaultPolicy: ForwardPolicy;
  /** Signed channel_updates by `<scid>:<policy>`: one signature per channel and policy. */
  readonly #updates = new Map<string, Promise<Uint8Array>>();
  /** The last timestamp of our gossiped channel_update, by real short_channel_id. */
  readonly #gossipTimestamps = new Map<bigint, number>();
  /** The forwards each upstream peer has in flight (upstream htlc keys; pruned as they end), made at first use. */
  #peerForwards: Map<string, Set<string>> | undefined;
  readonly #limiter: ForwardRateLimiter;
  /** Fulfils and fails refused while the upstream peer was away, by channel, to give again once connected. */
  readonly #waiting = new Map<number, ChannelInput[]>();
  /** HTLCs the interceptor holds, by upstream `<channel id>:<htlc id>`. */
  readonly #held = new Map<string, Held>();

  readonly events$: Observable<ForwardEvent> = this.#events.asObservable();

  constructor(o: ForwarderOptions) {
    this.#o = o;
    this.#store = o.store ?? new MemoryForwardsStore();
    this.#limiter = new ForwardRateLimiter(o.peerLimits ?? DEFAULT_PEER_FORWARD_LIMITS);
    this.#set = this.#store.loadPolicies?.() ?? new Map();
    this.#defaultPolicy = { ...(o.policy ?? DEFAULT_FORWARD_POLICY), ...this.#set.get('all') };
    for (const [id, p] of this.#set)
      if (id !== 'all') this.#policies.set(id, { ...this.#defaultPolicy, ...p });
    for (const r of this.#store.load()) this.#index(r);
  }

  #now(): number {
    return Math.floor((this.#o.now?.() ?? Date.now()) / 1000);
  }

  #index(r: ForwardRecord): void {
    this.#byIn.set(htlcKey(r.inChannelId, r.inHtlcId), r);
    if (r.outChannelId && r.outHtlcId !== undefined) this.#byOut.set(htlcKey(r.outChannelId, r.outHtlcId), r);
  }

  /** Our policy for a channel (channel id hex), as set or the default. */
  policyOf(channelIdHex: string): ForwardPolicy {
    return this.#policies.get(channelIdHex) ?? this.#defaultPolicy;
  }

  /**
   * Sets the fees and delta of one channel (channel id hex) or of all (`'all'`: the default,
   * for channels opened later too, and every channel's). Durable before it resolves, so it
   * outlives a restart; a setting of `all` outlives the node's configured default too. The
   * next channel_update we give (in a failure, and once announced) carries it.
   */
  async setPolicy(channel: string, change: PolicyChange): Promise<ForwardPolicy> {
    const problem = policyChangeProblem(change);
    if (problem) throw new ManagerError('invalid-argument', problem);
    const given = Object.fromEntries(
      Object.entries(change).filter(([, v]) => v !== undefined),
    ) as PolicyChange;
    if (channel === 'all') {
      const saves: [string, PolicyChange][] = [['all', { ...this.#set.get('all'), ...given }]];
      for (const id of this.#policies.keys()) saves.push([id, { ...this.#set.get(id), ...given }]);
      for (const [key, p] of saves) await this.#savePolicy(key, p);
      this.#defaultPolicy = { ...this.#defaultPolicy, ...given };
      for (const [id, p] of this.#policies) this.#policies.set(id, { ...p, ...given });
      return this.#defaultPolicy;
    }
    if (!/^[0-9a-f]{64}$/.test(channel) || !this.#o.channels.byChannelId(Buffer.from(channel, 'hex')))
      throw new ManagerError('unknown-channel', `no open channel ${channel}`);
    await this.#savePolicy(channel, { ...this.#set.get(channel), ...given });
    const next = { ...this.policyOf(channel), ...given };
    this.#policies.set(channel, next);
    return next;
  }

  async #savePolicy(key: string, p: PolicyChange): Promise<void> {
    await this.#store.savePolicy?.(key, p);
    this.#set.set(key, p);
  }

  /**
   * Every forward counted by its outgoing channel: settled, failed (by reason), in flight, and
   * the fees earned. Counted from the books at each call (what a Prometheus scrape asks).
   */
  metrics(): ForwardChannelMetrics[] {
    const by = new Map<string, ForwardChannelMetrics>();
    for (const r of this.#byIn.values()) {
      const channel = r.outChannelId ? hex(r.outChannelId) : scidText(r.outShortChannelId);
      let m = by.get(channel);
      if (!m) {
        m = { channel, settled: 0, failed: 0, inFlight: 0, feeMsat: 0n, failures: {} };
        by.set(channel, m);
      }
      if (r.status === 'failed') {
        m.failed++;
        const why = r.failure ?? 'unknown';
        m.failures[why] = (m.failures[why] ?? 0) + 1;
      } else if (r.status === 'fulfilled' && r.resolvedAt) {
        m.settled++;
        m.feeMsat += r.amountInMsat - r.amountOutMsat;
      } else m.inFlight++;
    }
    return [...by.values()];
  }

  /** Forwards oldest first; `sinceSeconds`: those created from then on. */
  listForwards(sinceSeconds = 0): ForwardView[] {
    return [...this.#byIn.values()]
      .filter((r) => r.createdAt >= sinceSeconds)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((r) => ({
        inChannel: hex(r.inChannelId),
        outChannel: r.outChannelId ? hex(r.outChannelId) : scidText(r.outShortChannelId),
        paymentHash: hex(r.paymentHash),
        amountInMsat: r.amountInMsat,
        amountOutMsat: r.amountOutMsat,
        feeMsat: r.status === 'fulfilled' ? r.amountInMsat - r.amountOutMsat : 0n,
        status:
          r.status === 'failed'
            ? 'failed'
            : r.status === 'fulfilled' && r.resolvedAt
              ? 'settled'
              : 'in-flight',
        failure: r.failure ?? null,
        createdAt: r.createdAt,
        resolvedAt: r.resolvedAt ?? null,
      }));
  }

  /** The policy we hold a channel to: ours as set, within what the peer and the capacity allow. */
  advertisedPolicy(state: ChannelState): ForwardPolicy {
    const remote = state.remote;
    return effectivePolicy(this.policyOf(state.channelId ? hex(state.channelId) : ''), {
      remoteHtlcMinimumMsat: remote?.htlcMinimumMsat ?? 0n,
      remoteMaxInFlightMsat: remote?.maxHtlcValueInFlightMsat ?? state.fundingSat * 1000n,
      capacityMsat: state.fundingSat * 1000n,
    });
  }

  /**
   * Our channel_update of a public channel for gossip, signed now. Its timestamp is later than
   * any this forwarder gave for the channel before: a peer keeps only a newer update (BOLT 7).
   */
  async gossipChannelUpdate(
    state: ChannelState,
    nowSeconds: number,
    o: { disabled?: boolean } = {},
  ): Promise<Uint8Array | undefined> {
    const sign = this.#o.signWithNodeKey;
    const scid = state.shortChannelId;
    if (!sign || scid === undefined) return undefined;
    const timestamp = Math.max(nowSeconds, (this.#gossipTimestamps.get(scid) ?? 0) + 1);
    this.#gossipTimestamps.set(scid, timestamp);
    return signedChannelUpdate(
      {
        chainHash: this.#o.chainHash,
        shortChannelId: scid,
        localNodeId: this.#o.nodeId,
        remoteNodeId: Buffer.from(state.counterpartyNodeId, 'hex'),
        policy: o.disabled
          ? { ...this.advertisedPolicy(state), enabled: false }
          : this.advertisedPolicy(state),
        timestamp,
        isPrivate: !state.announce,
      },
      sign,
    );
  }

  /** The view of the outgoing channel decide.ts checks against. */
  #outgoingView(state: ChannelState): OutgoingChannelView {
    const policy = this.advertisedPolicy(state);
    const normal = state.normal;
    return {
      policy,
      closing: CLOSING_PHASES.has(state.phase) || state.forceClose !== undefined,
      usable:
        state.phase === 'ready' &&
        state.link === 'connected' &&
        (normal?.link ?? 'connected') === 'connected' &&
        !normal?.shutdownSent &&
        !normal?.shutdownReceived,
      availableMsat: normal
        ? balancesOf(normal.ledger, 'local', true).toLocalMsat
        : (state.commitments?.toLocalMsat ?? 0n),
    };
  }

  /** Our channel_update for the outgoing channel, named by the scid the onion used (cached per policy). */
  #channelUpdate(state: ChannelState, scid: bigint, policy: ForwardPolicy): Promise<Uint8Array> {
    const sign = this.#o.signWithNodeKey;
    if (!sign) return Promise.resolve(new Uint8Array(0));
    const key = `${scid}:${JSON.stringify(policy, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`;
    let update = this.#updates.get(key);
    if (!update) {
      update = signedChannelUpdate(
        {
          chainHash: this.#o.chainHash,
          shortChannelId: scid,
          localNodeId: this.#o.nodeId,
          remoteNodeId: Buffer.from(state.counterpartyNodeId, 'hex'),
          policy,
          timestamp: this.#now(),
          isPrivate: !state.announce,
        },
        sign,
      );
      this.#updates.set(key, update);
      update.catch(() => this.#updates.delete(key));
    }
    return update;
  }

  /**
   * An HTLC committed on `channel` whose onion asks to forward (payments.ts hands it over
   * after the peel). Refused: failed back at once with the failure BOLT 4 names; otherwise
   * paired durably, then offered on the outgoing channel.
   */
  async forward(channel: number, e: Committed, peeled: ForwardPayment): Promise<void> {
    const inState = this.#o.channels.stateOf(channel);
    const inChannelId = inState?.channelId;
    if (!inChannelId) return;
    const log = this.#o.logger;
    const known = this.#byIn.get(htlcKey(inChannelId, e.id));
    if (known) {
      // Told again (after a reconnect or restart): the forward is under way or ended already.
      log.debug({ htlc: `${e.id}`, status: known.status }, 'a forward heard again');
      return;
    }
    const scid = 'shortChannelId' in peeled.next ? peeled.next.shortChannelId : undefined;
    const out = scid === undefined ? undefined : this.#o.channels.byShortChannelId(scid);
    const record: ForwardRecord = {
      inChannelId,
      inHtlcId: e.id,
      outShortChannelId: scid ?? 0n,
      outChannelId: out?.state.channelId,
      paymentHash: e.paymentHash,
      amountInMsat: e.amountMsat,
      amountOutMsat: peeled.amtToForwardMsat,
      inCltvExpiry: e.cltvExpiry,
      outCltvExpiry: peeled.outgoingCltvValue,
      sharedSecret: peeled.sharedSecret,
      status: 'offered',
      createdAt: this.#now(),
    };
    this.#byIn.set(htlcKey(inChannelId, e.id), record);
    // The interceptor sees every forward first; our checks run when it resumes one.
    if (this.#o.intercept) {
      await this.#hold({ channel, record, peeled, e });
      return;
    }
    await this.#checkAndOffer(channel, record, peeled, e);
  }

  /** Our checks of a forward (decide.ts, the peer limits), then the offer downstream; a refusal fails it upstream. */
  async #checkAndOffer(
    channel: number,
    record: ForwardRecord,
    peeled: ForwardPayment,
    e: Committed,
  ): Promise<void> {
    const log = this.#o.logger;
    const inState = this.#o.channels.stateOf(channel);
    const inChannelId = record.inChannelId;
    if (!inState) return;
    const scid = 'shortChannelId' in peeled.next ? peeled.next.shortChannelId : undefined;
    const out = scid === undefined ? undefined : this.#o.channels.byShortChannelId(scid);
    const view = out && out.id !== channel ? this.#outgoingView(out.state) : undefined;
    const decision = decideForward(
      e,
      {
        shortChannelId: scid ?? 0n,
        amtToForwardMsat: peeled.amtToForwardMsat,
        outgoingCltvValue: peeled.outgoingCltvValue,
      },
      // A forward back on the channel it came from is not a forward (nor a next peer).
      view,
      this.#o.channels.bestHeight(),
    );
    if (decision.kind === 'fail') {
      let failure = decision.failure;
      if (decision.needsChannelUpdate && out && view && scid !== undefined)
        failure = withChannelUpdate(failure, await this.#channelUpdate(out.state, scid, view.policy));
      log.info({ why: decision.why, failure: failure.name, htlc: `${e.id}` }, 'a forward refused');
      await this.#failLocally(channel, record, peeled, e.onionRoutingPacket, failure);
      return;
    }
    if (!out) return;
    const peer = inState.counterpartyNodeId;
    const over = this.#overPeerLimit(peer, htlcKey(inChannelId, e.id));
    if (over) {
      // BOLT 4 temporary_channel_failure: the peer may try again later, or another route.
      log.info({ peer, why: over, htlc: `${e.id}` }, 'a forward refused: over the peer limit');
      const update = await this.#channelUpdate(
        out.state,
        scid as bigint,
        view?.policy ?? this.#defaultPolicy,
      );
      await this.#failLocally(channel, record, peeled, e.onionRoutingPacket, {
        name: 'temporary_channel_failure',
        channelUpdate: update,
      });
      return;
    }
    this.#forwardsOf(peer).add(htlcKey(inChannelId, e.id));
    await this.#offer(channel, record, peeled, e.onionRoutingPacket, out, scid, view?.policy);
  }

  /** Offers the forward downstream, the pairing durable first; a refusal fails it upstream. */
  async #offer(
    channel: number,
    record: ForwardRecord,
    peeled: ForwardPayment,
    onion: Uint8Array,
    out: { id: number; state: ChannelState },
    scid: bigint | undefined,
    viewPolicy: ForwardPolicy | undefined,
  ): Promise<void> {
    const log = this.#o.logger;
    const e = { id: record.inHtlcId, paymentHash: record.paymentHash, onionRoutingPacket: onion };
    const refused = await this.#o.channels
      .offer(
        out.id,
        {
          kind: 'add-htlc',
          amountMsat: peeled.amtToForwardMsat,
          paymentHash: e.paymentHash,
          cltvExpiry: peeled.outgoingCltvValue,
          onionRoutingPacket: peeled.nextPacket,
          blindedPathKey: peeled.nextPathKey,
        },
        async (htlcId) => {
          record.outHtlcId = htlcId;
          // Durable before the downstream HTLC can leave: a restart finds what to settle upstream.
          await this.#store.save(record);
          this.#index(record);
        },
      )
      // The pairing could not be stored: the add was never handed to the channel, so failing
      // upstream is safe (and the upstream HTLC does not hang until its expiry).
      .catch((err: unknown): Refusal => {
        log.error({ err }, 'a forward could not be paired durably');
        return { field: 'store', reason: `the forward could not be stored: ${(err as Error).message}` };
      });
    if (refused) {
      // Nothing was offered: failing upstream is safe (BOLT 4: "channel capacity reached").
      if (record.outChannelId && record.outHtlcId !== undefined)
        this.#byOut.delete(htlcKey(record.outChannelId, record.outHtlcId));
      record.outHtlcId = undefined;
      log.info({ refusal: refused, htlc: `${e.id}` }, 'the outgoing channel refused a forward');
      const policy = viewPolicy ?? this.#defaultPolicy;
      const update =
        scid === undefined ? new Uint8Array(0) : await this.#channelUpdate(out.state, scid, policy);
      await this.#failLocally(channel, record, peeled, e.onionRoutingPacket, {
        name: 'temporary_channel_failure',
        channelUpdate: update,
      });
      return;
    }
    await this.#o.channels.command(out.id, { kind: 'commit' });
  }

  /** Why the forward `key` from `peer` is over its limits (peer-limits.ts), or undefined. */
  /** The interceptor's hold: told (durably, when the sink is the event log), listed, timed out. */
  async #hold(h: Omit<Held, 'view' | 'timer'>): Promise<void> {
    const key = htlcKey(h.record.inChannelId, h.record.inHtlcId);
    const timeoutMs = this.#o.intercept?.timeoutMs ?? DEFAULT_INTERCEPT_TIMEOUT_MS;
    const view: InterceptedHtlc = {
      id: key,
      inChannelId: hex(h.record.inChannelId),
      outShortChannelId: scidText(h.record.outShortChannelId),
      outChannelId: h.record.outChannelId ? hex(h.record.outChannelId) : '',
      paymentHash: hex(h.record.paymentHash),
      amountInMsat: h.record.amountInMsat,
      amountOutMsat: h.record.amountOutMsat,
      inCltvExpiry: h.record.inCltvExpiry,
      outCltvExpiry: h.record.outCltvExpiry,
      expiresAt: this.#now() + Math.ceil(timeoutMs / 1000),
    };
    const held: Held = { ...h, view, timer: undefined };
    this.#held.set(key, held);
    await this.#o.intercept
      ?.sink?.(view)
      .catch((err: unknown) => this.#o.logger.error({ err }, 'an intercepted HTLC could not be told'));
    // Resolved while it was being told: nothing to time out.
    if (this.#held.get(key) !== held) return;
    held.timer = setTimeout(() => {
      void this.resolveIntercepted(key, { action: 'fail', failure: 'temporary_channel_failure' }).catch(
        this.#logError,
      );
    }, timeoutMs);
    this.#o.logger.info({ htlc: key, out: view.outShortChannelId }, 'a forward held for the interceptor');
  }

  /** The HTLCs the interceptor holds now, oldest first. */
  listIntercepted(): InterceptedHtlc[] {
    return [...this.#held.values()].map((h) => h.view);
  }

  /**
   * The operator's answer for a held HTLC: resume (offered downstream as it would have been),
   * fail (upstream, with the BOLT 4 failure named), or settle (fulfilled upstream with the
   * preimage; nothing goes downstream). Throws ManagerError for an unknown id, a failure not in
   * INTERCEPT_FAILURES, or a preimage that is not the payment hash's.
   */
  async resolveIntercepted(id: string, r: InterceptResolution): Promise<void> {
    const h = this.#held.get(id);
    if (!h)
      throw new ManagerError('unknown-htlc', `no intercepted HTLC ${id} (resolved already, or timed out)`);
    if (r.action === 'fail' && !(INTERCEPT_FAILURES as readonly string[]).includes(r.failure))
      throw new ManagerError(
        'invalid-argument',
        `failure must be one of ${INTERCEPT_FAILURES.join(', ')}; got ${JSON.stringify(r.failure).slice(0, 60)}`,
      );
    if (
      r.action === 'settle' &&
      (r.preimage.length !== 32 || !bytesEqual(sha256(r.preimage), h.record.paymentHash))
    )
      throw new ManagerError(
        'invalid-argument',
        'the preimage is not the payment hash’s (32 bytes whose sha256 it is)',
      );
    clearTimeout(h.timer);
    this.#held.delete(id);
    this.#o.logger.info({ htlc: id, action: r.action }, 'an intercepted HTLC resolved');
    if (r.action === 'resume') return this.#checkAndOffer(h.channel, h.record, h.peeled, h.e);
    if (r.action === 'fail')
      return this.#failLocally(
        h.channel,
        h.record,
        h.peeled,
        h.e.onionRoutingPacket,
        await this.#failureFor(h, r.failure),
      );
    // Settled by the operator: the upstream HTLC fulfilled with the preimage (the core persists it first).
    h.record.status = 'fulfilled';
    h.record.amountOutMsat = h.record.amountInMsat;
    h.record.resolvedAt = this.#now();
    h.record.sharedSecret = undefined;
    await this.#store.save(h.record);
    await this.#settle(h.channel, {
      kind: 'fulfill-htlc',
      id: h.record.inHtlcId,
      paymentPreimage: r.preimage,
    });
  }

  async #failureFor(h: Held, name: InterceptFailure): Promise<FailureMessage> {
    switch (name) {
      case 'temporary_channel_failure': {
        // With our update of the outgoing channel, when we have it (BOLT 4 asks for one).
        const out = this.#o.channels.byShortChannelId(h.record.outShortChannelId);
        const update = out
          ? await this.#channelUpdate(out.state, h.record.outShortChannelId, this.advertisedPolicy(out.state))
          : new Uint8Array(0);
        return { name, channelUpdate: update };
      }
      case 'incorrect_or_unknown_payment_details':
        return { name, htlcMsat: h.record.amountInMsat, height: this.#o.channels.bestHeight() };
      default:
        return { name };
    }
  }

  /** Stops the interceptor's timers (held HTLCs stay in their channels, held again after a restart). */
  stop(): void {
    for (const h of this.#held.values()) clearTimeout(h.timer);
    this.#held.clear();
  }

  #overPeerLimit(peer: string, key: string): string | undefined {
    const limits = this.#limiter.limits;
    const inFlight = this.#forwardsOf(peer);
    // Those that ended leave the count; this one is not counted against itself.
    for (const k of inFlight) if (k === key || this.#byIn.get(k)?.status !== 'offered') inFlight.delete(k);
    if (inFlight.size >= limits.maxInFlight)
      return `${inFlight.size} forwards of this peer in flight, the limit is ${limits.maxInFlight}`;
    if (!this.#limiter.take(peer, this.#o.now?.() ?? Date.now()))
      return `more than ${limits.perSecond} forwards a second from this peer`;
    return undefined;
  }

  /** The set of `peer`'s forwards in flight; the first call counts those the books hold (a restart's). */
  #forwardsOf(peer: string): Set<string> {
    if (!this.#peerForwards) {
      this.#peerForwards = new Map();
      for (const [key, r] of this.#byIn) {
        if (r.status !== 'offered') continue;
        const p = this.#o.channels.byChannelId(r.inChannelId)?.state.counterpartyNodeId;
        if (!p) continue;
        const set = this.#peerForwards.get(p) ?? new Set<string>();
        set.add(key);
        this.#peerForwards.set(p, set);
      }
    }
    let set = this.#peerForwards.get(peer);
    if (!set) {
      set = new Set();
      this.#peerForwards.set(peer, set);
    }
    return set;
  }

  async #failLocally(
    channel: number,
    record: ForwardRecord,
    peeled: ForwardPayment,
    onion: Uint8Array,
    failure: FailureMessage,
  ): Promise<void> {
    record.status = 'failed';
    record.failure = failure.name;
    record.sharedSecret = undefined;
    await this.#store.save(record);
    const reply = failPeeledHtlc(peeled, onion, failure);
    await this.#settle(
      channel,
      reply.kind === 'malformed'
        ? {
            kind: 'fail-malformed-htlc',
            id: record.inHtlcId,
            sha256OfOnion: reply.sha256OfOnion,
            failureCode: reply.failureCode,
          }
        : { kind: 'fail-htlc', id: record.inHtlcId, reason: reply.reason },
    );
    this.#forwardFailed(record, failure.name, true);
  }

  /**
   * At start, once the channels are restored: a forward paired durably whose downstream HTLC
   * never entered the downstream channel (the node stopped between the pairing and the add, or
   * the add was refused and the failure back was lost) can never be claimed downstream, so its
   * upstream HTLC is failed back (temporary_channel_failure). A forward whose HTLC is in the
   * downstream channel waits for its outcome as before; one whose downstream channel is gone
   * is left to the monitors (on chain).
   */
  reconcile(): void {
    for (const r of this.#byIn.values()) {
      if (r.status !== 'offered' || !r.outChannelId || r.outHtlcId === undefined) continue;
      const out = this.#o.channels.byChannelId(r.outChannelId);
      if (!out) continue;
      const ledger = out.state.normal?.ledger;
      const id = r.outHtlcId;
      const downstream = ledger?.htlcs.find((h) => h.direction === 'offered' && h.id === id);
      if (downstream) {
        // Fulfilled downstream (its preimage durable in that channel's monitor) but the stop came
        // before the upstream fulfil was: the channel told htlc-fulfilled once, not again.
        const preimage =
          downstream.removal?.kind === 'fulfill'
            ? downstream.removal.paymentPreimage
            : downstream.paymentPreimage;
        if (preimage) void this.#fulfilUpstream(r, preimage).catch(this.#logError);
        continue;
      }
      if ((ledger?.nextOfferedId ?? 0n) > id) {
        // Offered and already gone from the channel: its outcome is the restored channel's to tell.
        this.#o.logger.warn({ htlc: `${id}` }, 'a forward whose downstream HTLC is no longer in its channel');
        continue;
      }
      void this.#failNeverOffered(r).catch(this.#logError);
    }
  }

  async #failNeverOffered(r: ForwardRecord): Promise<void> {
    const secret = r.sharedSecret;
    const upstream = this.#o.channels.byChannelId(r.inChannelId);
    if (!secret || !upstream) return;
    r.status = 'failed';
    r.failure = 'temporary_channel_failure';
    r.outHtlcId = undefined;
    r.sharedSecret = undefined;
    await this.#store.save(r);
    this.#o.logger.info({ htlc: `${r.inHtlcId}` }, 'a forward never offered downstream: failed back');
    const reason = createFailurePacket(secret, {
      name: 'temporary_channel_failure',
      channelUpdate: new Uint8Array(0),
    });
    await this.#settle(upstream.id, { kind: 'fail-htlc', id: r.inHtlcId, reason });
  }

  /**
   * A preimage learnt on chain (the ChainMonitor's PaymentPreimageLearnt: the downstream peer
   * went on chain and claimed our HTLC with it): each forward offered on that channel with that
   * hash is fulfilled upstream, as an off-chain fulfil would be (BOLT 5: the preimage "MUST" be
   * extracted and used to fulfil the incoming HTLC).
   */
  preimageLearnt(channelId: Uint8Array, paymentHash: Uint8Array, preimage: Uint8Array): void {
    if (!bytesEqual(sha256(preimage), paymentHash)) return;
    for (const r of this.#byOut.values())
      if (
        r.status === 'offered' &&
        r.outChannelId &&
        bytesEqual(r.outChannelId, channelId) &&
        bytesEqual(r.paymentHash, paymentHash)
      )
        void this.#fulfilUpstream(r, preimage).catch(this.#logError);
  }

  /**
   * Our HTLC on that channel timed out on chain, or can never be claimed there, and that is
   * final (the ChainMonitor's HtlcFailedOnChain): a payment of ours sent over it fails; a forward
   * offered on it is failed upstream with permanent_channel_failure (BOLT 5: "MUST fail the
   * corresponding incoming HTLC" once the resolution is deep enough).
   */
  htlcFailedOnChain(channelId: Uint8Array, htlcId: bigint): void {
    const key = htlcKey(channelId, htlcId);
    const origin = this.#origins.get(key);
    if (origin) {
      this.#origins.delete(key);
      origin.settle({ status: 'failed' });
      return;
    }
    const r = this.#byOut.get(key);
    if (r?.status === 'offered') void this.#failFromChain(r).catch(this.#logError);
  }

  async #failFromChain(r: ForwardRecord): Promise<void> {
    const secret = r.sharedSecret;
    r.status = 'failed';
    r.failure = 'permanent_channel_failure';
    r.sharedSecret = undefined;
    await this.#store.save(r);
    this.#o.logger.info(
      { htlc: `${r.outHtlcId}`, channel: r.outChannelId && hex(r.outChannelId) },
      'a forward’s downstream HTLC timed out on chain: failed back',
    );
    const upstream = this.#o.channels.byChannelId(r.inChannelId);
    if (secret && upstream) {
      const reason = createFailurePacket(secret, { name: 'permanent_channel_failure' });
      await this.#settle(upstream.id, { kind: 'fail-htlc', id: r.inHtlcId, reason });
    }
    this.#forwardFailed(r, r.failure, true);
  }

  /** ForwardFailed: made by us (`local`) or passed on from downstream. */
  #forwardFailed(r: ForwardRecord, failure: string, local: boolean): void {
    this.#events.next({
      type: 'ForwardFailed',
      inChannelId: hex(r.inChannelId),
      outShortChannelId: scidText(r.outShortChannelId),
      paymentHash: hex(r.paymentHash),
      failure,
      local,
    });
  }

  /** The channel's HTLC events (channel.actor.ts, in the channel's order). */
  onHtlcEvent(channel: number, e: HtlcEvent): void {
    const channelId = this.#o.channels.stateOf(channel)?.channelId;
    if (!channelId || e.type === 'htlc-committed') return;
    const key = htlcKey(channelId, e.id);
    if (e.type === 'htlc-fulfilled') {
      const origin = this.#origins.get(key);
      if (origin) {
        this.#origins.delete(key);
        origin.settle({ status: 'succeeded', preimage: e.paymentPreimage });
        return;
      }
      const r = this.#byOut.get(key);
      if (r?.status === 'offered') void this.#fulfilUpstream(r, e.paymentPreimage).catch(this.#logError);
      return;
    }
    if (e.direction === 'offered') {
      const origin = this.#origins.get(key);
      if (origin && e.removal.kind !== 'fulfill') {
        this.#origins.delete(key);
        origin.settle(originFailure(origin.sharedSecrets, e.removal));
        return;
      }
      const r = this.#byOut.get(key);
      if (r?.status !== 'offered') return;
      // A fulfil whose htlc-fulfilled this forward missed (a stop between it and ours): now.
      if (e.removal.kind === 'fulfill')
        void this.#fulfilUpstream(r, e.removal.paymentPreimage).catch(this.#logError);
      else void this.#failUpstream(r, e.removal).catch(this.#logError);
      return;
    }
    const r = this.#byIn.get(key);
    if (r && r.resolvedAt === undefined && r.status !== 'offered')
      void this.#resolved(r).catch(this.#logError);
  }

  readonly #logError = (err: unknown) => this.#o.logger.error({ err }, 'a forward could not be settled');

  async #fulfilUpstream(r: ForwardRecord, preimage: Uint8Array): Promise<void> {
    r.status = 'fulfilled';
    r.preimage = preimage;
    r.sharedSecret = undefined;
    const upstream = this.#o.channels.byChannelId(r.inChannelId);
    if (!upstream) {
      // Closed meanwhile: its monitor claims the upstream HTLC on chain, with the preimage.
      this.#o.logger.warn(
        { channel: hex(r.inChannelId) },
        'the upstream channel of a forward is gone: the preimage goes to its monitor',
      );
      this.#o.channels.providePreimage?.(r.inChannelId, preimage);
      await this.#store.save(r);
      return;
    }
    await this.#settle(upstream.id, { kind: 'fulfill-htlc', id: r.inHtlcId, paymentPreimage: preimage });
    await this.#store.save(r);
  }

  async #failUpstream(r: ForwardRecord, removal: Resolved['removal']): Promise<void> {
    const secret = r.sharedSecret;
    if (!secret) return;
    let reason: Uint8Array;
    if (removal.kind === 'fail') {
      // BOLT 4: "the intermediate hop... obfuscates the packet with ammag" and passes it back.
      reason = wrapFailurePacket(secret, removal.reason);
      r.failure = 'downstream';
    } else if (removal.kind === 'fail-malformed') {
      // BOLT 2: the next node could not read the onion we sent; we make the failure for it.
      reason = failureFromMalformed(secret, {
        failureCode: removal.failureCode,
        sha256OfOnion: removal.sha256OfOnion,
      }).reason;
      r.failure = `downstream ${failureName(removal.failureCode) ?? removal.failureCode}`;
    } else return;
    r.status = 'failed';
    r.sharedSecret = undefined;
    await this.#store.save(r);
    const upstream = this.#o.channels.byChannelId(r.inChannelId);
    if (upstream) await this.#settle(upstream.id, { kind: 'fail-htlc', id: r.inHtlcId, reason });
    this.#forwardFailed(r, r.failure, false);
  }

  /** The upstream HTLC left both commitments: the forward is over. */
  async #resolved(r: ForwardRecord): Promise<void> {
    r.resolvedAt = this.#now();
    await this.#store.save(r);
    if (r.status === 'fulfilled' && r.outChannelId)
      this.#events.next({
        type: 'PaymentForwarded',
        inChannelId: hex(r.inChannelId),
        outChannelId: hex(r.outChannelId),
        paymentHash: hex(r.paymentHash),
        amountInMsat: r.amountInMsat,
        amountOutMsat: r.amountOutMsat,
        feeMsat: r.amountInMsat - r.amountOutMsat,
      });
  }

  /**
   * Fulfils or fails an upstream HTLC and signs for it. While the peer is away the core refuses
   * (nothing may leave before channel_reestablish): the answer is kept and given again when the
   * channel is connected (`channelChanged`).
   */
  async #settle(channel: number, input: ChannelInput): Promise<void> {
    const refused = await this.#o.channels.command(channel, input);
    if (refused?.field === 'peer') {
      const waiting = this.#waiting.get(channel) ?? [];
      waiting.push(input);
      this.#waiting.set(channel, waiting);
      return;
    }
    if (refused) {
      this.#o.logger.warn(
        { refusal: refused, command: input.kind },
        'an upstream answer to a forward was refused',
      );
      return;
    }
    await this.#o.channels.command(channel, { kind: 'commit' });
  }

  /** After each step of a channel: once it is connected again, the answers kept for it go. */
  channelChanged(channel: number, state: ChannelState): void {
    const waiting = this.#waiting.get(channel);
    if (!waiting || state.normal?.link !== 'connected') return;
    this.#waiting.delete(channel);
    void (async () => {
      for (const input of waiting) await this.#settle(channel, input);
    })().catch(this.#logError);
  }

  /**
   * Sends an HTLC along `route` (each hop the node that receives it, with the amount and expiry
   * of the HTLC it receives and the channel it comes in by, as @lnkit/onion's routePayloads
   * takes it); the first hop is a peer we have a ready channel with. Resolves with the preimage
   * or the failure the erring hop made. No retry, no payment record: a building block (tests,
   * probing), not `pay`.
   */
  async sendToRoute(route: RouteHop[], paymentHash: Uint8Array, recipient: Recipient): Promise<RouteOutcome> {
    const first = route[0];
    if (!first) throw new ManagerError('invalid-argument', 'a route needs at least one hop');
    const channel = this.#o.channels
      .channelsWith(hex(first.nodeId))
      .find(({ state }) => state.phase === 'ready' && state.link !== 'disconnected');
    const channelId = channel?.state.channelId;
    if (!channel || !channelId)
      throw new ManagerError(
        'invalid-argument',
        `no ready channel with ${hex(first.nodeId)}, the route's first hop`,
      );
    const onion = buildPaymentOnion({
      sessionKey: randomBytes(32),
      paymentHash,
      hops: routePayloads(route, recipient),
    });
    let settle!: (o: RouteOutcome) => void;
    const outcome = new Promise<RouteOutcome>((s) => {
      settle = s;
    });
    const refused = await this.#o.channels.offer(
      channel.id,
      {
        kind: 'add-htlc',
        amountMsat: first.amountMsat,
        paymentHash,
        cltvExpiry: first.cltvExpiry,
        onionRoutingPacket: onion.packet,
      },
      async (htlcId) => {
        this.#origins.set(htlcKey(channelId, htlcId), { sharedSecrets: onion.sharedSecrets, settle });
      },
    );
    if (refused) {
      for (const [k, o] of this.#origins) if (o.settle === settle) this.#origins.delete(k);
      throw new ManagerError('invalid-argument', `the channel cannot send this HTLC: ${refused.reason}`);
    }
    await this.#o.channels.command(channel.id, { kind: 'commit' });
    return outcome;
  }
}

function originFailure(sharedSecrets: Uint8Array[], removal: Resolved['removal']): RouteOutcome {
  if (removal.kind === 'fail-malformed')
    return { status: 'failed', malformed: failureName(removal.failureCode) ?? `${removal.failureCode}` };
  if (removal.kind !== 'fail') return { status: 'failed' };
  let d: DecryptedFailure;
  try {
    d = decryptFailurePacket(sharedSecrets, removal.reason);
  } catch {
    return { status: 'failed' };
  }
  let message: FailureMessage | undefined;
  try {
    message = decodeFailureMessage(d.message);
  } catch {
    message = undefined;
  }
  const name = d.failureCode === undefined ? 'unknown' : (failureName(d.failureCode) ?? 'unknown');
  return { status: 'failed', failure: { hopIndex: d.hopIndex, name, message, code: d.failureCode } };
}
