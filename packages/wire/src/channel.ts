// BOLT 2 channel establishment (v1) and close: open_channel, accept_channel,
// funding_created, funding_signed, channel_ready, shutdown, closing_signed,
// closing_complete, closing_sig, and stfu (quiescence).
import { defineMessage, field } from './codec.ts';
import { WireError } from './errors.ts';
import { Features } from './features.ts';
import { type TlvCodec, tlv, type WithUnknownTlvs } from './tlv.ts';

/** BOLT 2 `channel_type` TLV: a feature vector (BOLT 9 context T). */
export const channelTypeTlv: TlvCodec<Features> = {
  type: 1n,
  decode: (v) => Features.fromBytes(v),
  encode: (f) => f.toBytes(),
};

const upfrontShutdownScriptTlv = tlv.bytes(0n);

/** BOLT 2 `channel_flags` bit 0: announce_channel. */
export const CHANNEL_FLAG_ANNOUNCE = 0x01;

export interface OpenChannel extends WithUnknownTlvs {
  readonly type: 32;
  readonly kind: 'open_channel';
  chainHash: Uint8Array;
  temporaryChannelId: Uint8Array;
  fundingSatoshis: bigint;
  pushMsat: bigint;
  dustLimitSatoshis: bigint;
  maxHtlcValueInFlightMsat: bigint;
  channelReserveSatoshis: bigint;
  htlcMinimumMsat: bigint;
  feeratePerKw: number;
  toSelfDelay: number;
  maxAcceptedHtlcs: number;
  fundingPubkey: Uint8Array;
  revocationBasepoint: Uint8Array;
  paymentBasepoint: Uint8Array;
  delayedPaymentBasepoint: Uint8Array;
  htlcBasepoint: Uint8Array;
  firstPerCommitmentPoint: Uint8Array;
  channelFlags: number;
  /** TLV 0 `upfront_shutdown_script` (may be empty: "no upfront script"). */
  upfrontShutdownScript?: Uint8Array;
  /** TLV 1 `channel_type`. */
  channelType?: Features;
}

export const openChannel = defineMessage<OpenChannel>({
  type: 32,
  kind: 'open_channel',
  fields: {
    chainHash: field.bytes32,
    temporaryChannelId: field.bytes32,
    fundingSatoshis: field.u64,
    pushMsat: field.u64,
    dustLimitSatoshis: field.u64,
    maxHtlcValueInFlightMsat: field.u64,
    channelReserveSatoshis: field.u64,
    htlcMinimumMsat: field.u64,
    feeratePerKw: field.u32,
    toSelfDelay: field.u16,
    maxAcceptedHtlcs: field.u16,
    fundingPubkey: field.point,
    revocationBasepoint: field.point,
    paymentBasepoint: field.point,
    delayedPaymentBasepoint: field.point,
    htlcBasepoint: field.point,
    firstPerCommitmentPoint: field.point,
    channelFlags: field.u8,
  },
  tlvs: { upfrontShutdownScript: upfrontShutdownScriptTlv, channelType: channelTypeTlv },
});

export interface AcceptChannel extends WithUnknownTlvs {
  readonly type: 33;
  readonly kind: 'accept_channel';
  temporaryChannelId: Uint8Array;
  dustLimitSatoshis: bigint;
  maxHtlcValueInFlightMsat: bigint;
  channelReserveSatoshis: bigint;
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
  upfrontShutdownScript?: Uint8Array;
  channelType?: Features;
}

export const acceptChannel = defineMessage<AcceptChannel>({
  type: 33,
  kind: 'accept_channel',
  fields: {
    temporaryChannelId: field.bytes32,
    dustLimitSatoshis: field.u64,
    maxHtlcValueInFlightMsat: field.u64,
    channelReserveSatoshis: field.u64,
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
  },
  tlvs: { upfrontShutdownScript: upfrontShutdownScriptTlv, channelType: channelTypeTlv },
});

export interface FundingCreated extends WithUnknownTlvs {
  readonly type: 34;
  readonly kind: 'funding_created';
  temporaryChannelId: Uint8Array;
  /** As in the transaction (internal byte order), not reversed for display. */
  fundingTxid: Uint8Array;
  fundingOutputIndex: number;
  signature: Uint8Array;
}
export const fundingCreated = defineMessage<FundingCreated>({
  type: 34,
  kind: 'funding_created',
  fields: {
    temporaryChannelId: field.bytes32,
    fundingTxid: field.bytes32,
    fundingOutputIndex: field.u16,
    signature: field.signature,
  },
});

export interface FundingSigned extends WithUnknownTlvs {
  readonly type: 35;
  readonly kind: 'funding_signed';
  channelId: Uint8Array;
  signature: Uint8Array;
}
export const fundingSigned = defineMessage<FundingSigned>({
  type: 35,
  kind: 'funding_signed',
  fields: { channelId: field.bytes32, signature: field.signature },
});

export interface ChannelReady extends WithUnknownTlvs {
  readonly type: 36;
  readonly kind: 'channel_ready';
  channelId: Uint8Array;
  secondPerCommitmentPoint: Uint8Array;
  /** TLV 1 `short_channel_id`: the alias (option_scid_alias). */
  shortChannelIdAlias?: bigint;
}
export const channelReady = defineMessage<ChannelReady>({
  type: 36,
  kind: 'channel_ready',
  fields: { channelId: field.bytes32, secondPerCommitmentPoint: field.point },
  tlvs: { shortChannelIdAlias: tlv.shortChannelId(1n) },
});

export interface Shutdown extends WithUnknownTlvs {
  readonly type: 38;
  readonly kind: 'shutdown';
  channelId: Uint8Array;
  scriptpubkey: Uint8Array;
}
export const shutdown = defineMessage<Shutdown>({
  type: 38,
  kind: 'shutdown',
  fields: { channelId: field.bytes32, scriptpubkey: field.u16Bytes },
});

export interface FeeRange {
  minFeeSatoshis: bigint;
  maxFeeSatoshis: bigint;
}

export interface ClosingSigned extends WithUnknownTlvs {
  readonly type: 39;
  readonly kind: 'closing_signed';
  channelId: Uint8Array;
  feeSatoshis: bigint;
  signature: Uint8Array;
  /** TLV 1 `fee_range`. */
  feeRange?: FeeRange;
}
export const closingSigned = defineMessage<ClosingSigned>({
  type: 39,
  kind: 'closing_signed',
  fields: { channelId: field.bytes32, feeSatoshis: field.u64, signature: field.signature },
  tlvs: {
    feeRange: tlv.struct<FeeRange>(
      1n,
      16,
      (r) => ({ minFeeSatoshis: r.u64(), maxFeeSatoshis: r.u64() }),
      (w, v) => w.u64(v.minFeeSatoshis).u64(v.maxFeeSatoshis),
    ),
  },
});

/** BOLT 2 option_simple_close: closing_complete / closing_sig share their layout. */
interface ClosingTlvs {
  closerOutputOnly?: Uint8Array;
  closeeOutputOnly?: Uint8Array;
  closerAndCloseeOutputs?: Uint8Array;
}
const closingTlvs = {
  closerOutputOnly: tlv.fixed(1n, 64, 'signature'),
  closeeOutputOnly: tlv.fixed(2n, 64, 'signature'),
  closerAndCloseeOutputs: tlv.fixed(3n, 64, 'signature'),
};
const closingFields = {
  channelId: field.bytes32,
  closerScriptpubkey: field.u16Bytes,
  closeeScriptpubkey: field.u16Bytes,
  feeSatoshis: field.u64,
  locktime: field.u32,
};

export interface ClosingComplete extends WithUnknownTlvs, ClosingTlvs {
  readonly type: 40;
  readonly kind: 'closing_complete';
  channelId: Uint8Array;
  closerScriptpubkey: Uint8Array;
  closeeScriptpubkey: Uint8Array;
  feeSatoshis: bigint;
  locktime: number;
}
export const closingComplete = defineMessage<ClosingComplete>({
  type: 40,
  kind: 'closing_complete',
  fields: closingFields,
  tlvs: closingTlvs,
});

export interface ClosingSig extends WithUnknownTlvs, ClosingTlvs {
  readonly type: 41;
  readonly kind: 'closing_sig';
  channelId: Uint8Array;
  closerScriptpubkey: Uint8Array;
  closeeScriptpubkey: Uint8Array;
  feeSatoshis: bigint;
  locktime: number;
}
export const closingSig = defineMessage<ClosingSig>({
  type: 41,
  kind: 'closing_sig',
  fields: closingFields,
  tlvs: closingTlvs,
});

export interface Stfu extends WithUnknownTlvs {
  readonly type: 2;
  readonly kind: 'stfu';
  channelId: Uint8Array;
  initiator: number;
}
export const stfu = defineMessage<Stfu>({
  type: 2,
  kind: 'stfu',
  fields: { channelId: field.bytes32, initiator: field.u8 },
});

/** BOLT 2 "Definition of channel_id": funding txid XOR funding output index (big-endian, last 2 bytes). */
export function channelIdFromFunding(fundingTxid: Uint8Array, fundingOutputIndex: number): Uint8Array {
  if (fundingTxid.length !== 32) throw new WireError('invalid-value', 'funding txid must be 32 bytes');
  if (!Number.isInteger(fundingOutputIndex) || fundingOutputIndex < 0 || fundingOutputIndex > 0xffff)
    throw new WireError('invalid-value', 'funding output index out of range');
  const id = fundingTxid.slice();
  id[30] = (id[30] ?? 0) ^ (fundingOutputIndex >> 8);
  id[31] = (id[31] ?? 0) ^ (fundingOutputIndex & 0xff);
  return id;
}
