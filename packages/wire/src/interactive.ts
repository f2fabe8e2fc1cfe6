// BOLT 2 interactive transaction construction (tx_*), channel establishment v2
// (open_channel2 / accept_channel2, option_dual_fund) and splicing (splice_*).
import { channelTypeTlv } from './channel.ts';
import { defineMessage, type FieldCodec, field } from './codec.ts';
import type { Features } from './features.ts';
import { tlv, type WithUnknownTlvs } from './tlv.ts';

export interface TxAddInput extends WithUnknownTlvs {
  readonly type: 66;
  readonly kind: 'tx_add_input';
  channelId: Uint8Array;
  serialId: bigint;
  /** The whole previous transaction. */
  prevtx: Uint8Array;
  prevtxVout: number;
  sequence: number;
  /** TLV 0 `shared_input_txid` (splicing: the current funding transaction). */
  sharedInputTxid?: Uint8Array;
}
export const txAddInput = defineMessage<TxAddInput>({
  type: 66,
  kind: 'tx_add_input',
  fields: {
    channelId: field.bytes32,
    serialId: field.u64,
    prevtx: field.u16Bytes,
    prevtxVout: field.u32,
    sequence: field.u32,
  },
  tlvs: { sharedInputTxid: tlv.fixed(0n, 32, 'funding_txid') },
});

export interface TxAddOutput extends WithUnknownTlvs {
  readonly type: 67;
  readonly kind: 'tx_add_output';
  channelId: Uint8Array;
  serialId: bigint;
  sats: bigint;
  script: Uint8Array;
}
export const txAddOutput = defineMessage<TxAddOutput>({
  type: 67,
  kind: 'tx_add_output',
  fields: { channelId: field.bytes32, serialId: field.u64, sats: field.u64, script: field.u16Bytes },
});

export interface TxRemoveInput extends WithUnknownTlvs {
  readonly type: 68;
  readonly kind: 'tx_remove_input';
  channelId: Uint8Array;
  serialId: bigint;
}
export const txRemoveInput = defineMessage<TxRemoveInput>({
  type: 68,
  kind: 'tx_remove_input',
  fields: { channelId: field.bytes32, serialId: field.u64 },
});

export interface TxRemoveOutput extends WithUnknownTlvs {
  readonly type: 69;
  readonly kind: 'tx_remove_output';
  channelId: Uint8Array;
  serialId: bigint;
}
export const txRemoveOutput = defineMessage<TxRemoveOutput>({
  type: 69,
  kind: 'tx_remove_output',
  fields: { channelId: field.bytes32, serialId: field.u64 },
});

export interface TxComplete extends WithUnknownTlvs {
  readonly type: 70;
  readonly kind: 'tx_complete';
  channelId: Uint8Array;
}
export const txComplete = defineMessage<TxComplete>({
  type: 70,
  kind: 'tx_complete',
  fields: { channelId: field.bytes32 },
});

/** BOLT 2 subtype `witness`: `[u16:len][len*byte:witness_data]`, one per input, in serial_id order. */
const witnesses: FieldCodec<Uint8Array[]> = field.u16Array(field.u16Bytes);

export interface TxSignatures extends WithUnknownTlvs {
  readonly type: 71;
  readonly kind: 'tx_signatures';
  channelId: Uint8Array;
  txid: Uint8Array;
  /** The serialized witness of each input the sender added. */
  witnesses: Uint8Array[];
  /** TLV 0 `shared_input_signature` (splicing). */
  sharedInputSignature?: Uint8Array;
}
export const txSignatures = defineMessage<TxSignatures>({
  type: 71,
  kind: 'tx_signatures',
  fields: { channelId: field.bytes32, txid: field.bytes32, witnesses },
  tlvs: { sharedInputSignature: tlv.fixed(0n, 64, 'signature') },
});

interface RbfTlvs {
  /** TLV 0 `funding_output_contribution` (s64: may be negative). */
  fundingOutputContribution?: bigint;
  /** TLV 2 `require_confirmed_inputs` (no data). */
  requireConfirmedInputs?: true;
}
const rbfTlvs = { fundingOutputContribution: tlv.s64(0n), requireConfirmedInputs: tlv.flag(2n) };

export interface TxInitRbf extends WithUnknownTlvs, RbfTlvs {
  readonly type: 72;
  readonly kind: 'tx_init_rbf';
  channelId: Uint8Array;
  locktime: number;
  feerate: number;
}
export const txInitRbf = defineMessage<TxInitRbf>({
  type: 72,
  kind: 'tx_init_rbf',
  fields: { channelId: field.bytes32, locktime: field.u32, feerate: field.u32 },
  tlvs: rbfTlvs,
});

export interface TxAckRbf extends WithUnknownTlvs, RbfTlvs {
  readonly type: 73;
  readonly kind: 'tx_ack_rbf';
  channelId: Uint8Array;
}
export const txAckRbf = defineMessage<TxAckRbf>({
  type: 73,
  kind: 'tx_ack_rbf',
  fields: { channelId: field.bytes32 },
  tlvs: rbfTlvs,
});

export interface TxAbort extends WithUnknownTlvs {
  readonly type: 74;
  readonly kind: 'tx_abort';
  channelId: Uint8Array;
  data: Uint8Array;
}
export const txAbort = defineMessage<TxAbort>({
  type: 74,
  kind: 'tx_abort',
  fields: { channelId: field.bytes32, data: field.u16Bytes },
});

interface OpeningTlvs {
  upfrontShutdownScript?: Uint8Array;
  channelType?: Features;
  requireConfirmedInputs?: true;
}
const openingTlvs = {
  upfrontShutdownScript: tlv.bytes(0n),
  channelType: channelTypeTlv,
  requireConfirmedInputs: tlv.flag(2n),
};

export interface OpenChannel2 extends WithUnknownTlvs, OpeningTlvs {
  readonly type: 64;
  readonly kind: 'open_channel2';
  chainHash: Uint8Array;
  temporaryChannelId: Uint8Array;
  fundingFeeratePerkw: number;
  commitmentFeeratePerkw: number;
  fundingSatoshis: bigint;
  dustLimitSatoshis: bigint;
  maxHtlcValueInFlightMsat: bigint;
  htlcMinimumMsat: bigint;
  toSelfDelay: number;
  maxAcceptedHtlcs: number;
  locktime: number;
  fundingPubkey: Uint8Array;
  revocationBasepoint: Uint8Array;
  paymentBasepoint: Uint8Array;
  delayedPaymentBasepoint: Uint8Array;
  htlcBasepoint: Uint8Array;
  firstPerCommitmentPoint: Uint8Array;
  secondPerCommitmentPoint: Uint8Array;
  channelFlags: number;
}
export const openChannel2 = defineMessage<OpenChannel2>({
  type: 64,
  kind: 'open_channel2',
  fields: {
    chainHash: field.bytes32,
    temporaryChannelId: field.bytes32,
    fundingFeeratePerkw: field.u32,
    commitmentFeeratePerkw: field.u32,
    fundingSatoshis: field.u64,
    dustLimitSatoshis: field.u64,
    maxHtlcValueInFlightMsat: field.u64,
    htlcMinimumMsat: field.u64,
    toSelfDelay: field.u16,
    maxAcceptedHtlcs: field.u16,
    locktime: field.u32,
    fundingPubkey: field.point,
    revocationBasepoint: field.point,
    paymentBasepoint: field.point,
    delayedPaymentBasepoint: field.point,
    htlcBasepoint: field.point,
    firstPerCommitmentPoint: field.point,
    secondPerCommitmentPoint: field.point,
    channelFlags: field.u8,
  },
  tlvs: openingTlvs,
});

export interface AcceptChannel2 extends WithUnknownTlvs, OpeningTlvs {
  readonly type: 65;
  readonly kind: 'accept_channel2';
  temporaryChannelId: Uint8Array;
  fundingSatoshis: bigint;
  dustLimitSatoshis: bigint;
  maxHtlcValueInFlightMsat: bigint;
  htlcMinimumMsat: bigint;
  minimumDepth: number;
  toSelfDelay: number;
  maxAcceptedHtlcs: number;
  fundingPubkey: Uint8Array;
  revocationBasepoint: Uint8Array;
  paymentBasepoint: Uint8Array;
  delayedPaymentBasepoint: Uint8Array;
  htlcBasepoint: Uint8Array;
  firstPerCommitmentPoint: Uint8Array;
  secondPerCommitmentPoint: Uint8Array;
}
export const acceptChannel2 = defineMessage<AcceptChannel2>({
  type: 65,
  kind: 'accept_channel2',
  fields: {
    temporaryChannelId: field.bytes32,
    fundingSatoshis: field.u64,
    dustLimitSatoshis: field.u64,
    maxHtlcValueInFlightMsat: field.u64,
    htlcMinimumMsat: field.u64,
    minimumDepth: field.u32,
    toSelfDelay: field.u16,
    maxAcceptedHtlcs: field.u16,
    fundingPubkey: field.point,
    revocationBasepoint: field.point,
    paymentBasepoint: field.point,
    delayedPaymentBasepoint: field.point,
    htlcBasepoint: field.point,
    firstPerCommitmentPoint: field.point,
    secondPerCommitmentPoint: field.point,
  },
  tlvs: openingTlvs,
});

export interface SpliceInit extends WithUnknownTlvs {
  readonly type: 80;
  readonly kind: 'splice_init';
  channelId: Uint8Array;
  /** Signed: positive splices in, negative splices out. */
  fundingContributionSatoshis: bigint;
  fundingFeeratePerkw: number;
  locktime: number;
  fundingPubkey: Uint8Array;
  requireConfirmedInputs?: true;
}
export const spliceInit = defineMessage<SpliceInit>({
  type: 80,
  kind: 'splice_init',
  fields: {
    channelId: field.bytes32,
    fundingContributionSatoshis: field.s64,
    fundingFeeratePerkw: field.u32,
    locktime: field.u32,
    fundingPubkey: field.point,
  },
  tlvs: { requireConfirmedInputs: tlv.flag(2n) },
});

export interface SpliceAck extends WithUnknownTlvs {
  readonly type: 81;
  readonly kind: 'splice_ack';
  channelId: Uint8Array;
  fundingContributionSatoshis: bigint;
  fundingPubkey: Uint8Array;
  requireConfirmedInputs?: true;
}
export const spliceAck = defineMessage<SpliceAck>({
  type: 81,
  kind: 'splice_ack',
  fields: { channelId: field.bytes32, fundingContributionSatoshis: field.s64, fundingPubkey: field.point },
  tlvs: { requireConfirmedInputs: tlv.flag(2n) },
});

export interface SpliceLocked extends WithUnknownTlvs {
  readonly type: 77;
  readonly kind: 'splice_locked';
  channelId: Uint8Array;
  spliceTxid: Uint8Array;
}
export const spliceLocked = defineMessage<SpliceLocked>({
  type: 77,
  kind: 'splice_locked',
  fields: { channelId: field.bytes32, spliceTxid: field.bytes32 },
});
