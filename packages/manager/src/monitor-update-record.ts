/**
 * ChannelMonitorUpdate as a versioned record (@lnkit/store's format: version byte, minimum
 * reader version, TLV stream with the even/odd rule), for the default persister and for any
 * store that keeps updates as bytes. Field numbers are fixed forever: add new ones, never
 * reuse one (store README, "Adding a field").
 */
import { defineRecord, type FieldCodec, fieldCodec as f, type RecordFields } from '@lnkit/store';
import type { ChannelType } from './channel-type.ts';
import type {
  ChannelClosedStep,
  ChannelMonitorUpdate,
  ChannelOpened,
  ChannelSideParams,
  CommitmentData,
  HolderCommitmentData,
  MonitorUpdateStep,
  OutPointData,
} from './monitor-update.ts';

const channelTypeCodec: FieldCodec<ChannelType> = {
  name: 'channel type',
  encode: (t) => Uint8Array.of(t === 'anchors_zero_fee_htlc_tx' ? 1 : 0),
  decode: (b) => {
    if (b.length !== 1 || (b[0] as number) > 1) throw new RangeError('not a channel type');
    return b[0] === 1 ? 'anchors_zero_fee_htlc_tx' : 'static_remotekey';
  },
};

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

const commitmentFields: RecordFields<CommitmentData> = {
  commitmentNumber: { type: 0, codec: f.u64 },
  perCommitmentPoint: { type: 2, codec: f.point },
  txid: { type: 4, codec: f.hex(32) },
  tx: { type: 6, codec: f.bytes },
  toLocalMsat: { type: 8, codec: f.u64 },
  toRemoteMsat: { type: 10, codec: f.u64 },
  feeratePerKw: { type: 12, codec: f.u32 },
};
const commitment = f.struct<CommitmentData>('commitment', commitmentFields);
const holderCommitment = f.struct<HolderCommitmentData>('holder commitment', {
  ...commitmentFields,
  counterpartySignature: { type: 14, codec: f.fixed(64) },
});

type OpenedFields = Omit<ChannelOpened, 'kind'>;
const opened = f.struct<OpenedFields>('channel opened', {
  channelId: { type: 0, codec: f.bytes32 },
  counterpartyNodeId: { type: 2, codec: f.hex(33) },
  isFunder: { type: 4, codec: f.bool },
  channelType: { type: 6, codec: channelTypeCodec },
  announce: { type: 8, codec: f.bool },
  fundingOutpoint: { type: 10, codec: outpoint },
  fundingSat: { type: 12, codec: f.u64 },
  fundingScript: { type: 14, codec: f.bytes },
  fundingScriptPubKey: { type: 16, codec: f.bytes },
  fundingTx: { type: 17, codec: f.bytes, optional: true },
  channelKeyIndex: { type: 18, codec: f.u64 },
  local: { type: 20, codec: side },
  remote: { type: 22, codec: side },
  commitmentNumberObscure: { type: 24, codec: f.u64 },
  minimumDepth: { type: 26, codec: f.u32 },
  createdAtHeight: { type: 28, codec: f.u32 },
  holderCommitment: { type: 30, codec: holderCommitment },
  counterpartyCommitment: { type: 32, codec: commitment },
  localShutdownScript: { type: 33, codec: f.bytes, optional: true },
});

type ClosedFields = Omit<ChannelClosedStep, 'kind'>;
const closed = f.struct<ClosedFields>('channel closed', {
  reason: { type: 0, codec: f.utf8 },
  broadcastHolderCommitment: { type: 2, codec: f.bool },
});

/** One step: exactly one of its fields is set (the even types: an older reader must refuse a step it does not know). */
interface StepFields {
  opened?: OpenedFields | undefined;
  closed?: ClosedFields | undefined;
}
const stepStruct = f.struct<StepFields>('monitor update step', {
  opened: { type: 0, codec: opened, optional: true },
  closed: { type: 2, codec: closed, optional: true },
});

const stepCodec: FieldCodec<MonitorUpdateStep> = {
  name: 'monitor update step',
  encode: (s) => {
    if (s.kind === 'channel-opened') {
      const { kind: _k, ...rest } = s;
      return stepStruct.encode({ opened: rest });
    }
    const { kind: _k, ...rest } = s;
    return stepStruct.encode({ closed: rest });
  },
  decode: (b) => {
    const v = stepStruct.decode(b);
    if (v.opened && !v.closed) return { kind: 'channel-opened', ...v.opened };
    if (v.closed && !v.opened) return { kind: 'channel-closed', ...v.closed };
    throw new RangeError('a monitor update step must hold exactly one step');
  },
};

export const monitorUpdateRecord = defineRecord<ChannelMonitorUpdate>({
  kind: 'channel-monitor-update',
  version: 1,
  minReadVersion: 1,
  fields: {
    channelId: { type: 0, codec: f.bytes32 },
    updateId: { type: 2, codec: f.u64 },
    steps: { type: 4, codec: f.list(stepCodec) },
  },
});
