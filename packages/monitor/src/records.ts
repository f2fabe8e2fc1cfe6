/**
 * The monitor's persisted records (DESIGN.md: "Persisted records are versioned TLV (even =
 * required, odd = optional)"), declared with @lnkit/store's defineRecord:
 *
 * - `channel-monitor`: a whole monitor (written at creation and at each compaction);
 * - `channel-monitor-update`: one numbered update, as the channel core sent it (the log).
 *
 * Within each stream, an even type is a field a reader must understand: a newer lnkit that adds
 * one makes an older one refuse the record (`record-unknown-required-field`), and one that
 * changes a meaning raises minReadVersion (`record-too-new`, naming both versions). An odd type
 * is one an older reader may skip. Absent-able fields are `optional`; their parity says whether
 * skipping them is safe (a funding transaction kept for rebroadcast is; an HTLC list is not).
 * A new update step kind takes a new even type in the step envelope, so an older lnkit refuses
 * an update it cannot apply rather than skipping it.
 *
 * The update record is the only one (@lnkit/manager's interim persister writes it too). Its numbers
 * for channel-opened (0), channel-closed (2) and every field inside them are those the manager's
 * own record used before, so updates stored then read here unchanged; the other steps follow at 4..10.
 */
import { defineRecord, type FieldCodec, fieldCodec as f, type RecordFields } from '@lnkit/store';
import { channelParameters, fundingKeyOf } from './commitment.ts';
import {
  decodeResolution,
  htlcDirection as direction,
  encodeResolution,
  spendKind,
} from './resolution-records.ts';
import type {
  BestBlock,
  ChannelInfo,
  ChannelMonitor,
  ChannelMonitorUpdate,
  ChannelOpened,
  ChannelSideParams,
  ChannelType,
  ClaimableOutput,
  ClaimKind,
  CommitmentData,
  FundingSpend,
  HolderCommitmentData,
  HtlcData,
  MonitorUpdateStep,
  OutPointData,
  RevokedCommitmentHtlcs,
} from './types.ts';

const channelType = f.enum<ChannelType>('channel type', ['static_remotekey', 'anchors_zero_fee_htlc_tx']);
const claimKind = f.enum<ClaimKind>('claim kind', [
  'delayed',
  'payment',
  'revocation',
  'anchor',
  'htlc-preimage',
  'htlc-timeout',
]);
const signature = f.fixed(64);

const outpoint = f.struct<OutPointData>('outpoint', {
  txid: { type: 0, codec: f.bytes32 },
  vout: { type: 2, codec: f.u16 },
});

const side = f.struct<ChannelSideParams>('channel side', {
  dustLimitSat: { type: 0, codec: f.u64 },
  maxHtlcValueInFlightMsat: { type: 2, codec: f.u64 },
  channelReserveSat: { type: 4, codec: f.u64 },
  htlcMinimumMsat: { type: 6, codec: f.u64 },
  toSelfDelay: { type: 8, codec: f.u16 },
  maxAcceptedHtlcs: { type: 10, codec: f.u16 },
  fundingPubkey: { type: 12, codec: f.point },
  revocationBasepoint: { type: 14, codec: f.point },
  paymentBasepoint: { type: 16, codec: f.point },
  delayedPaymentBasepoint: { type: 18, codec: f.point },
  htlcBasepoint: { type: 20, codec: f.point },
  upfrontShutdownScript: { type: 21, codec: f.bytes, optional: true },
});

const infoFields: RecordFields<ChannelInfo> = {
  channelId: { type: 0, codec: f.bytes32 },
  counterpartyNodeId: { type: 2, codec: f.hex(33) },
  isFunder: { type: 4, codec: f.bool },
  channelType: { type: 6, codec: channelType },
  announce: { type: 8, codec: f.bool },
  fundingOutpoint: { type: 10, codec: outpoint },
  fundingSat: { type: 12, codec: f.u64 },
  fundingScript: { type: 14, codec: f.bytes },
  fundingScriptPubKey: { type: 16, codec: f.bytes },
  // Only for rebroadcast until it confirms: a reader may do without it.
  fundingTx: { type: 17, codec: f.bytes, optional: true },
  channelKeyIndex: { type: 18, codec: f.u64 },
  local: { type: 20, codec: side },
  remote: { type: 22, codec: side },
  commitmentNumberObscure: { type: 24, codec: f.u64 },
  minimumDepth: { type: 26, codec: f.u32 },
  createdAtHeight: { type: 28, codec: f.u32 },
  // 30 and 32 are the first commitments in a channel-opened step.
  localShutdownScript: { type: 33, codec: f.bytes, optional: true },
};
const info = f.struct<ChannelInfo>('channel info', infoFields);

const htlc = f.struct<HtlcData>('htlc', {
  id: { type: 0, codec: f.u64 },
  direction: { type: 2, codec: direction },
  amountMsat: { type: 4, codec: f.u64 },
  paymentHash: { type: 6, codec: f.bytes32 },
  cltvExpiry: { type: 8, codec: f.u32 },
});
const htlcs = f.list(htlc);

const commitmentFields: RecordFields<CommitmentData> = {
  commitmentNumber: { type: 0, codec: f.u64 },
  perCommitmentPoint: { type: 2, codec: f.point },
  txid: { type: 4, codec: f.hex(32) },
  tx: { type: 6, codec: f.bytes },
  toLocalMsat: { type: 8, codec: f.u64 },
  toRemoteMsat: { type: 10, codec: f.u64 },
  feeratePerKw: { type: 12, codec: f.u32 },
  // Must not be skipped: an HTLC output unknown to the monitor is an output it cannot claim.
  htlcs: { type: 16, codec: htlcs, optional: true },
};
const commitment = f.struct<CommitmentData>('commitment', commitmentFields);
const holderCommitment = f.struct<HolderCommitmentData>('holder commitment', {
  ...commitmentFields,
  counterpartySignature: { type: 14, codec: signature },
  htlcSignatures: { type: 18, codec: f.list(signature, { itemBytes: 64 }), optional: true },
});

const revoked = f.struct<RevokedCommitmentHtlcs>('revoked commitment', {
  txid: { type: 0, codec: f.hex(32) },
  commitmentNumber: { type: 2, codec: f.u64 },
  htlcs: { type: 4, codec: htlcs },
});

const claimable = f.struct<ClaimableOutput>('claimable output', {
  vout: { type: 0, codec: f.u32 },
  valueSat: { type: 2, codec: f.u64 },
  scriptPubKey: { type: 4, codec: f.bytes },
  witnessScript: { type: 6, codec: f.bytes, optional: true },
  claim: { type: 8, codec: claimKind },
  csvDelay: { type: 10, codec: f.u16, optional: true },
  htlc: { type: 12, codec: htlc, optional: true },
  secondStage: { type: 14, codec: f.bool, optional: true },
});

const fundingSpend = f.struct<FundingSpend>('funding spend', {
  kind: { type: 0, codec: spendKind },
  txidHex: { type: 2, codec: f.hex(32) },
  height: { type: 4, codec: f.u32 },
  blockHashHex: { type: 6, codec: f.hex(32) },
  commitmentNumber: { type: 8, codec: f.u64, optional: true },
  irrevocable: { type: 10, codec: f.bool },
  claimableOutputs: { type: 12, codec: f.list(claimable) },
});

const bestBlock = f.struct<BestBlock>('best block', {
  hashHex: { type: 0, codec: f.hex(32) },
  height: { type: 2, codec: f.u32 },
});

/** The persisted part of a ChannelMonitor: `fundingKey` and `channel` are derived on reading. */
interface MonitorRecord {
  latestUpdateId: bigint;
  info: ChannelInfo;
  holderCommitment: HolderCommitmentData;
  previousHolderCommitment?: HolderCommitmentData | undefined;
  counterpartyCommitments: CommitmentData[];
  revokedCounterpartyHtlcs: RevokedCommitmentHtlcs[];
  commitmentSecrets: Uint8Array;
  preimages: Uint8Array[];
  bestBlock: BestBlock;
  closed?: { reason: string; broadcastHolderCommitment: boolean } | undefined;
  fundingSpend?: FundingSpend | undefined;
  /** A nested versioned record (resolution-records.ts). */
  resolution?: Uint8Array | undefined;
}

const monitorRecord = defineRecord<MonitorRecord>({
  kind: 'channel-monitor',
  version: 1,
  minReadVersion: 1,
  fields: {
    latestUpdateId: { type: 0, codec: f.u64 },
    info: { type: 2, codec: info },
    holderCommitment: { type: 4, codec: holderCommitment },
    previousHolderCommitment: { type: 6, codec: holderCommitment, optional: true },
    counterpartyCommitments: { type: 8, codec: f.list(commitment) },
    revokedCounterpartyHtlcs: { type: 10, codec: f.list(revoked) },
    // A nested versioned record (@lnkit/keys' counterparty-commitment-secrets).
    commitmentSecrets: { type: 12, codec: f.bytes },
    preimages: { type: 14, codec: f.list(f.bytes32, { itemBytes: 32 }) },
    bestBlock: { type: 16, codec: bestBlock },
    closed: {
      type: 18,
      codec: f.struct<{ reason: string; broadcastHolderCommitment: boolean }>('closed', {
        reason: { type: 0, codec: f.utf8 },
        broadcastHolderCommitment: { type: 2, codec: f.bool },
      }),
      optional: true,
    },
    fundingSpend: { type: 20, codec: fundingSpend, optional: true },
    // Even: a reader that cannot read it must not watch the channel without it.
    resolution: { type: 22, codec: f.bytes, optional: true },
  },
});

export const MONITOR_RECORD_KIND = monitorRecord.kind;
export const MONITOR_RECORD_VERSION = monitorRecord.version;

export function encodeMonitor(m: ChannelMonitor): Uint8Array {
  const { fundingKey: _k, channel: _c, resolution, ...rest } = m;
  return monitorRecord.encode({
    ...rest,
    ...(resolution ? { resolution: encodeResolution(resolution) } : {}),
    counterpartyCommitments: [...m.counterpartyCommitments],
    revokedCounterpartyHtlcs: [...m.revokedCounterpartyHtlcs],
    preimages: [...m.preimages],
  });
}

/** Reads a monitor record; StoreError for bytes it cannot read, MonitorError for a channel it refuses. */
export function decodeMonitor(bytes: Uint8Array): ChannelMonitor {
  const { resolution, ...r } = monitorRecord.decode(bytes);
  return {
    ...r,
    ...(resolution ? { resolution: decodeResolution(resolution) } : {}),
    fundingKey: fundingKeyOf(r.info.fundingOutpoint),
    channel: channelParameters(r.info),
  };
}

/** One update step: exactly one of these fields is present. */
interface StepEnvelope {
  channelOpened?: Omit<ChannelOpened, 'kind'> | undefined;
  counterpartyCommitment?: CommitmentData | undefined;
  holderCommitment?: HolderCommitmentData | undefined;
  commitmentSecret?: { commitmentNumber: bigint; secret: Uint8Array } | undefined;
  paymentPreimage?: Uint8Array | undefined;
  channelClosed?: { reason: string; broadcastHolderCommitment: boolean } | undefined;
}

const envelope = f.struct<StepEnvelope>('monitor update step', {
  channelOpened: {
    type: 0,
    codec: f.struct<Omit<ChannelOpened, 'kind'>>('channel opened', {
      ...infoFields,
      holderCommitment: { type: 30, codec: holderCommitment },
      counterpartyCommitment: { type: 32, codec: commitment },
    }),
    optional: true,
  },
  channelClosed: {
    type: 2,
    codec: f.struct<{ reason: string; broadcastHolderCommitment: boolean }>('channel closed', {
      reason: { type: 0, codec: f.utf8 },
      broadcastHolderCommitment: { type: 2, codec: f.bool },
    }),
    optional: true,
  },
  counterpartyCommitment: { type: 4, codec: commitment, optional: true },
  holderCommitment: { type: 6, codec: holderCommitment, optional: true },
  commitmentSecret: {
    type: 8,
    codec: f.struct<{ commitmentNumber: bigint; secret: Uint8Array }>('commitment secret', {
      commitmentNumber: { type: 0, codec: f.u64 },
      secret: { type: 2, codec: f.bytes32 },
    }),
    optional: true,
  },
  paymentPreimage: { type: 10, codec: f.bytes32, optional: true },
});

const stepCodec: FieldCodec<MonitorUpdateStep> = {
  name: 'monitor update step',
  encode: (s) => envelope.encode(toEnvelope(s)),
  decode: (b) => fromEnvelope(envelope.decode(b)),
};

function toEnvelope(s: MonitorUpdateStep): StepEnvelope {
  switch (s.kind) {
    case 'channel-opened': {
      const { kind: _kind, ...opened } = s;
      return { channelOpened: opened };
    }
    case 'counterparty-commitment':
      return { counterpartyCommitment: s.commitment };
    case 'holder-commitment':
      return { holderCommitment: s.commitment };
    case 'commitment-secret':
      return { commitmentSecret: { commitmentNumber: s.commitmentNumber, secret: s.secret } };
    case 'payment-preimage':
      return { paymentPreimage: s.paymentPreimage };
    case 'channel-closed':
      return { channelClosed: { reason: s.reason, broadcastHolderCommitment: s.broadcastHolderCommitment } };
    default:
      throw new RangeError('unknown update step kind');
  }
}

function fromEnvelope(e: StepEnvelope): MonitorUpdateStep {
  const present = Object.values(e).filter((v) => v !== undefined).length;
  if (present !== 1) throw new RangeError(`an update step holds ${present} kinds, not one`);
  if (e.channelOpened) return { kind: 'channel-opened', ...e.channelOpened };
  if (e.counterpartyCommitment)
    return { kind: 'counterparty-commitment', commitment: e.counterpartyCommitment };
  if (e.holderCommitment) return { kind: 'holder-commitment', commitment: e.holderCommitment };
  if (e.commitmentSecret) return { kind: 'commitment-secret', ...e.commitmentSecret };
  if (e.paymentPreimage) return { kind: 'payment-preimage', paymentPreimage: e.paymentPreimage };
  const closed = e.channelClosed as NonNullable<StepEnvelope['channelClosed']>;
  return { kind: 'channel-closed', ...closed };
}

const updateRecord = defineRecord<ChannelMonitorUpdate>({
  kind: 'channel-monitor-update',
  version: 1,
  minReadVersion: 1,
  fields: {
    channelId: { type: 0, codec: f.bytes32 },
    updateId: { type: 2, codec: f.u64 },
    steps: { type: 4, codec: f.list(stepCodec) },
  },
});

export const encodeMonitorUpdate = (u: ChannelMonitorUpdate): Uint8Array => updateRecord.encode(u);
export const decodeMonitorUpdate = (bytes: Uint8Array): ChannelMonitorUpdate => updateRecord.decode(bytes);
