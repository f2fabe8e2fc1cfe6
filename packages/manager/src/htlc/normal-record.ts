/**
 * The NormalState as the channel snapshot keeps it (a versioned record of its own, nested in
 * the snapshot): the ledger with every HTLC, both commitments, our last commitment_signed and
 * revoke_and_ack (to retransmit them), the held events and the monitor updates not yet
 * completed. Not kept: the parameters (the monitor's, given back at restart), the outbox and the
 * link (a restart is a disconnection: what the peer missed is rebuilt at channel_reestablish).
 *
 * The secret of our last revoke_and_ack is here: it is (or is about to be) the peer's, for a
 * commitment we no longer hold as our latest. Written before the message leaves.
 */
import { type ChannelMonitorUpdate, decodeMonitorUpdate, encodeMonitorUpdate } from '@lnkit/monitor';
import { defineRecord, type FieldCodec, fieldCodec as f } from '@lnkit/store';
import type { HtlcChannelParams } from './build.ts';
import type { FeeUpdate, FeeUpdateState, HtlcLedger, HtlcRemoval, HtlcState, LedgerHtlc } from './ledger.ts';
import type {
  CounterpartyCommitment,
  HeldEvent,
  HolderCommitment,
  HtlcEvent,
  NormalState,
  SentCommitment,
  SentRevocation,
} from './normal-state.ts';

/**
 * A codec that remembers what it wrote for each object: the state's parts are immutable and
 * shared from one step's state to the next (an HTLC not moved is the same object), and the
 * snapshot is written at every step, so each part is encoded once.
 */
function cached<T extends object>(c: FieldCodec<T>): FieldCodec<T> {
  const seen = new WeakMap<T, Uint8Array>();
  return {
    name: c.name,
    encode: (v) => {
      let b = seen.get(v);
      if (!b) {
        b = c.encode(v);
        seen.set(v, b);
      }
      return b;
    },
    decode: (b) => c.decode(b),
  };
}

/** A codec of T through a plain shape P that the field codecs describe. */
function mapped<T, P>(c: FieldCodec<P>, to: (v: T) => P, from: (p: P) => T): FieldCodec<T> {
  return { name: c.name, encode: (v) => c.encode(to(v)), decode: (b) => from(c.decode(b)) };
}

/** Never reorder; append only (the index is what is stored). */
const STATES: readonly HtlcState[] = [
  'sent-add-htlc',
  'sent-add-commit',
  'rcvd-add-revocation',
  'rcvd-add-ack-commit',
  'sent-add-ack-revocation',
  'rcvd-remove-htlc',
  'rcvd-remove-commit',
  'sent-remove-revocation',
  'sent-remove-ack-commit',
  'rcvd-add-htlc',
  'rcvd-add-commit',
  'sent-add-revocation',
  'sent-add-ack-commit',
  'rcvd-add-ack-revocation',
  'sent-remove-htlc',
  'sent-remove-commit',
  'rcvd-remove-revocation',
  'rcvd-remove-ack-commit',
];
const DIRECTIONS = ['offered', 'received'] as const;
const signature = f.fixed(64);

interface RemovalShape {
  kind: HtlcRemoval['kind'];
  paymentPreimage?: Uint8Array | undefined;
  reason?: Uint8Array | undefined;
  sha256OfOnion?: Uint8Array | undefined;
  failureCode?: number | undefined;
}
const removal = mapped<HtlcRemoval, RemovalShape>(
  f.struct<RemovalShape>('htlc removal', {
    kind: { type: 0, codec: f.enum('removal', ['fulfill', 'fail', 'fail-malformed'] as const) },
    paymentPreimage: { type: 1, codec: f.bytes32, optional: true },
    reason: { type: 3, codec: f.bytes, optional: true },
    sha256OfOnion: { type: 5, codec: f.bytes32, optional: true },
    failureCode: { type: 7, codec: f.u16, optional: true },
  }),
  (r) => ({ ...r }),
  (p) => {
    const need = <V>(v: V | undefined): V => {
      if (v === undefined) throw new RangeError(`a ${p.kind} removal without its field`);
      return v;
    };
    if (p.kind === 'fulfill') return { kind: 'fulfill', paymentPreimage: need(p.paymentPreimage) };
    if (p.kind === 'fail') return { kind: 'fail', reason: need(p.reason) };
    return { kind: 'fail-malformed', sha256OfOnion: need(p.sha256OfOnion), failureCode: need(p.failureCode) };
  },
);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const htlc = cached(
  f.struct<Mutable<LedgerHtlc>>('ledger htlc', {
    id: { type: 0, codec: f.u64 },
    direction: { type: 2, codec: f.enum('htlc direction', DIRECTIONS) },
    amountMsat: { type: 4, codec: f.u64 },
    paymentHash: { type: 6, codec: f.bytes32 },
    cltvExpiry: { type: 8, codec: f.u32 },
    onionRoutingPacket: { type: 10, codec: f.bytes },
    state: { type: 12, codec: f.enum('htlc state', STATES) },
    blindedPathKey: { type: 13, codec: f.point, optional: true },
    removal: { type: 15, codec: removal, optional: true },
    addSeq: { type: 17, codec: f.u32, optional: true },
    removeSeq: { type: 19, codec: f.u32, optional: true },
    dustExposureExceeded: { type: 21, codec: f.bool, optional: true },
    preimageKnown: { type: 23, codec: f.bool, optional: true },
    paymentPreimage: { type: 25, codec: f.bytes32, optional: true },
  }),
);

const feeUpdate = f.struct<Mutable<FeeUpdate>>('fee update', {
  feeratePerKw: { type: 0, codec: f.u32 },
  state: { type: 2, codec: f.enum('fee update state', STATES as readonly FeeUpdateState[]) },
  seq: { type: 3, codec: f.u32, optional: true },
});

interface LedgerShape extends Omit<Mutable<HtlcLedger>, 'htlcs' | 'feeUpdates'> {
  htlcs: LedgerHtlc[];
  feeUpdates: FeeUpdate[];
}
const ledger = f.struct<LedgerShape>('htlc ledger', {
  htlcs: { type: 0, codec: f.list(htlc) },
  feeratePerKw: { type: 2, codec: f.u32 },
  feeUpdates: { type: 4, codec: f.list(feeUpdate) },
  settledLocalMsat: { type: 6, codec: f.u64 },
  settledRemoteMsat: { type: 8, codec: f.u64 },
  nextOfferedId: { type: 10, codec: f.u64 },
  nextReceivedId: { type: 12, codec: f.u64 },
  nextSeq: { type: 14, codec: f.u32 },
});

interface HolderShape extends Omit<Mutable<HolderCommitment>, 'revokedPoints'> {
  revokedPoints: Uint8Array[];
}
const holder = f.struct<HolderShape>('holder commitment', {
  number: { type: 0, codec: f.u64 },
  perCommitmentPoint: { type: 2, codec: f.point },
  nextPerCommitmentPoint: { type: 3, codec: f.point, optional: true },
  revokedPoints: { type: 4, codec: f.list(f.point, { itemBytes: 33 }) },
});

const counterparty = f.struct<Mutable<CounterpartyCommitment>>('counterparty commitment', {
  number: { type: 0, codec: f.u64 },
  perCommitmentPoint: { type: 2, codec: f.point },
  previousPerCommitmentPoint: { type: 3, codec: f.point, optional: true },
  nextPerCommitmentPoint: { type: 5, codec: f.point, optional: true },
  awaitingRevoke: { type: 6, codec: f.bool },
  secrets: { type: 8, codec: f.bytes },
});

interface SentCommitmentShape extends Omit<Mutable<SentCommitment>, 'htlcSignatures'> {
  htlcSignatures?: Uint8Array[] | undefined;
}
const sentCommitment = f.struct<SentCommitmentShape>('sent commitment_signed', {
  number: { type: 0, codec: f.u64 },
  seq: { type: 2, codec: f.u32 },
  updateId: { type: 4, codec: f.u64 },
  signature: { type: 5, codec: signature, optional: true },
  htlcSignatures: { type: 7, codec: f.list(signature, { itemBytes: 64 }), optional: true },
});

const sentRevocation = f.struct<Mutable<SentRevocation>>('sent revoke_and_ack', {
  revokedNumber: { type: 0, codec: f.u64 },
  seq: { type: 2, codec: f.u32 },
  updateId: { type: 4, codec: f.u64 },
  secret: { type: 5, codec: f.bytes32, optional: true },
  nextPerCommitmentPoint: { type: 7, codec: f.point, optional: true },
});

interface EventShape {
  type: HtlcEvent['type'];
  id: bigint;
  paymentHash: Uint8Array;
  amountMsat?: bigint | undefined;
  cltvExpiry?: number | undefined;
  onionRoutingPacket?: Uint8Array | undefined;
  blindedPathKey?: Uint8Array | undefined;
  dustExposureExceeded?: boolean | undefined;
  paymentPreimage?: Uint8Array | undefined;
  direction?: 'offered' | 'received' | undefined;
  removal?: HtlcRemoval | undefined;
}
const event = mapped<HtlcEvent, EventShape>(
  f.struct<EventShape>('htlc event', {
    type: {
      type: 0,
      codec: f.enum('htlc event', ['htlc-committed', 'htlc-fulfilled', 'htlc-resolved'] as const),
    },
    id: { type: 2, codec: f.u64 },
    paymentHash: { type: 4, codec: f.bytes32 },
    amountMsat: { type: 5, codec: f.u64, optional: true },
    cltvExpiry: { type: 7, codec: f.u32, optional: true },
    onionRoutingPacket: { type: 9, codec: f.bytes, optional: true },
    blindedPathKey: { type: 11, codec: f.point, optional: true },
    dustExposureExceeded: { type: 13, codec: f.bool, optional: true },
    paymentPreimage: { type: 15, codec: f.bytes32, optional: true },
    direction: { type: 17, codec: f.enum('htlc direction', DIRECTIONS), optional: true },
    removal: { type: 19, codec: removal, optional: true },
  }),
  (e) => ({ ...e }),
  (p) => {
    const need = <V>(v: V | undefined): V => {
      if (v === undefined) throw new RangeError(`a ${p.type} event without its field`);
      return v;
    };
    switch (p.type) {
      case 'htlc-committed':
        return {
          type: p.type,
          id: p.id,
          amountMsat: need(p.amountMsat),
          paymentHash: p.paymentHash,
          cltvExpiry: need(p.cltvExpiry),
          onionRoutingPacket: need(p.onionRoutingPacket),
          ...(p.blindedPathKey ? { blindedPathKey: p.blindedPathKey } : {}),
          ...(p.dustExposureExceeded ? { dustExposureExceeded: true } : {}),
        };
      case 'htlc-fulfilled':
        return {
          type: p.type,
          id: p.id,
          paymentHash: p.paymentHash,
          paymentPreimage: need(p.paymentPreimage),
        };
      case 'htlc-resolved':
        return {
          type: p.type,
          direction: need(p.direction),
          id: p.id,
          amountMsat: need(p.amountMsat),
          paymentHash: p.paymentHash,
          removal: need(p.removal),
        };
    }
  },
);

const heldEvent = cached(
  f.struct<Mutable<HeldEvent>>('held event', {
    event: { type: 0, codec: event },
    awaitUpdateId: { type: 1, codec: f.u64, optional: true },
  }),
);

/** A monitor update as @lnkit/monitor's own record (the one declaration of what is persisted). */
const monitorUpdate: FieldCodec<ChannelMonitorUpdate> = cached({
  name: 'monitor update',
  encode: encodeMonitorUpdate,
  decode: decodeMonitorUpdate,
});

/** NormalState without its parameters, outbox and link. */
export interface SavedNormal {
  ledger: LedgerShape;
  holder: HolderShape;
  counterparty: CounterpartyCommitment;
  lastCommitment?: SentCommitmentShape | undefined;
  lastRevocation?: SentRevocation | undefined;
  heldEvents: HeldEvent[];
  persisting: bigint[];
  unpersisted: ChannelMonitorUpdate[];
  emitted: HtlcEvent[];
  nextMonitorUpdateId: bigint;
  shutdownSent: boolean;
  shutdownReceived: boolean;
}

const normalRecord = defineRecord<SavedNormal>({
  kind: 'channel-normal-state',
  version: 1,
  minReadVersion: 1,
  fields: {
    ledger: { type: 0, codec: ledger },
    holder: { type: 2, codec: holder },
    counterparty: { type: 4, codec: counterparty },
    lastCommitment: { type: 5, codec: sentCommitment, optional: true },
    lastRevocation: { type: 7, codec: sentRevocation, optional: true },
    heldEvents: { type: 8, codec: f.list(heldEvent) },
    persisting: { type: 10, codec: f.list(f.u64, { itemBytes: 8 }) },
    unpersisted: { type: 12, codec: f.list(monitorUpdate) },
    nextMonitorUpdateId: { type: 14, codec: f.u64 },
    shutdownSent: { type: 16, codec: f.bool },
    shutdownReceived: { type: 18, codec: f.bool },
    emitted: { type: 20, codec: f.list(cached(event)) },
  },
});

export function encodeNormalState(s: NormalState): Uint8Array {
  return normalRecord.encode({
    ledger: { ...s.ledger, htlcs: [...s.ledger.htlcs], feeUpdates: [...s.ledger.feeUpdates] },
    holder: { ...s.commitments.holder, revokedPoints: [...s.commitments.holder.revokedPoints] },
    counterparty: s.commitments.counterparty,
    lastCommitment: s.lastCommitment && {
      ...s.lastCommitment,
      htlcSignatures: s.lastCommitment.htlcSignatures && [...s.lastCommitment.htlcSignatures],
    },
    lastRevocation: s.lastRevocation,
    heldEvents: [...s.heldEvents],
    persisting: [...s.persisting],
    unpersisted: [...(s.unpersisted ?? [])],
    emitted: [...(s.emitted ?? [])],
    nextMonitorUpdateId: s.nextMonitorUpdateId,
    shutdownSent: s.shutdownSent,
    shutdownReceived: s.shutdownReceived,
  });
}

/** The state as saved, with the parameters given back (the monitor's); disconnected, nothing queued. */
export function decodeNormalState(bytes: Uint8Array, params: HtlcChannelParams): NormalState {
  const r = normalRecord.decode(bytes);
  return {
    params,
    ledger: r.ledger,
    commitments: { holder: r.holder, counterparty: r.counterparty },
    lastCommitment: r.lastCommitment,
    lastRevocation: r.lastRevocation,
    outbox: [],
    heldEvents: r.heldEvents,
    persisting: r.persisting,
    unpersisted: r.unpersisted,
    emitted: r.emitted.length > 0 ? r.emitted : undefined,
    nextMonitorUpdateId: r.nextMonitorUpdateId,
    link: 'disconnected',
    shutdownSent: r.shutdownSent,
    shutdownReceived: r.shutdownReceived,
  };
}
