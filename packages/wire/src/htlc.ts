// BOLT 2 normal operation: HTLC updates, commitment_signed, revoke_and_ack,
// update_fee, channel_reestablish, start_batch.
import type { ByteWriter } from './bytes.ts';
import { defineMessage, field } from './codec.ts';
import { WireError } from './errors.ts';
import { type TlvCodec, tlv, type WithUnknownTlvs } from './tlv.ts';

/** BOLT 2: the onion in update_add_htlc is always 1366 bytes (BOLT 4 packet). */
export const ONION_PACKET_LENGTH = 1366;

export interface UpdateAddHtlc extends WithUnknownTlvs {
  readonly type: 128;
  readonly kind: 'update_add_htlc';
  channelId: Uint8Array;
  id: bigint;
  amountMsat: bigint;
  paymentHash: Uint8Array;
  cltvExpiry: number;
  onionRoutingPacket: Uint8Array;
  /** TLV 0 `blinded_path`: `path_key` (route blinding). */
  blindedPathKey?: Uint8Array;
}
export const updateAddHtlc = defineMessage<UpdateAddHtlc>({
  type: 128,
  kind: 'update_add_htlc',
  fields: {
    channelId: field.bytes32,
    id: field.u64,
    amountMsat: field.u64,
    paymentHash: field.bytes32,
    cltvExpiry: field.u32,
    onionRoutingPacket: field.fixed(ONION_PACKET_LENGTH),
  },
  tlvs: { blindedPathKey: tlv.point(0n) },
});

/** BOLT 2/4 `attribution_data`: 20 hold times (u32) and 210 truncated (4-byte) HMACs. */
export interface AttributionData {
  htlcHoldTimes: number[];
  /** 210 × 4 bytes, concatenated. */
  truncatedHmacs: Uint8Array;
}
export const ATTRIBUTION_HOLD_TIMES = 20;
export const ATTRIBUTION_HMACS_LENGTH = 210 * 4;

const attributionDataTlv: TlvCodec<AttributionData> = tlv.struct<AttributionData>(
  1n,
  ATTRIBUTION_HOLD_TIMES * 4 + ATTRIBUTION_HMACS_LENGTH,
  (r) => {
    const htlcHoldTimes: number[] = [];
    for (let i = 0; i < ATTRIBUTION_HOLD_TIMES; i++) htlcHoldTimes.push(r.u32());
    return { htlcHoldTimes, truncatedHmacs: r.bytesN(ATTRIBUTION_HMACS_LENGTH) };
  },
  (w: ByteWriter, v) => {
    if (v.htlcHoldTimes.length !== ATTRIBUTION_HOLD_TIMES)
      throw new WireError('invalid-value', `htlc_hold_times must have ${ATTRIBUTION_HOLD_TIMES} entries`);
    for (const t of v.htlcHoldTimes) w.u32(t, 'htlc_hold_times');
    w.fixed(v.truncatedHmacs, ATTRIBUTION_HMACS_LENGTH, 'truncated_hmacs');
  },
);

export interface UpdateFulfillHtlc extends WithUnknownTlvs {
  readonly type: 130;
  readonly kind: 'update_fulfill_htlc';
  channelId: Uint8Array;
  id: bigint;
  paymentPreimage: Uint8Array;
  attributionData?: AttributionData;
}
export const updateFulfillHtlc = defineMessage<UpdateFulfillHtlc>({
  type: 130,
  kind: 'update_fulfill_htlc',
  fields: { channelId: field.bytes32, id: field.u64, paymentPreimage: field.bytes32 },
  tlvs: { attributionData: attributionDataTlv },
});

export interface UpdateFailHtlc extends WithUnknownTlvs {
  readonly type: 131;
  readonly kind: 'update_fail_htlc';
  channelId: Uint8Array;
  id: bigint;
  /** Encrypted failure for the origin (BOLT 4). */
  reason: Uint8Array;
  attributionData?: AttributionData;
}
export const updateFailHtlc = defineMessage<UpdateFailHtlc>({
  type: 131,
  kind: 'update_fail_htlc',
  fields: { channelId: field.bytes32, id: field.u64, reason: field.u16Bytes },
  tlvs: { attributionData: attributionDataTlv },
});

export interface UpdateFailMalformedHtlc extends WithUnknownTlvs {
  readonly type: 135;
  readonly kind: 'update_fail_malformed_htlc';
  channelId: Uint8Array;
  id: bigint;
  sha256OfOnion: Uint8Array;
  failureCode: number;
}
export const updateFailMalformedHtlc = defineMessage<UpdateFailMalformedHtlc>({
  type: 135,
  kind: 'update_fail_malformed_htlc',
  fields: { channelId: field.bytes32, id: field.u64, sha256OfOnion: field.bytes32, failureCode: field.u16 },
});

export interface CommitmentSigned extends WithUnknownTlvs {
  readonly type: 132;
  readonly kind: 'commitment_signed';
  channelId: Uint8Array;
  signature: Uint8Array;
  htlcSignatures: Uint8Array[];
  /** TLV 1 `funding_txid` (splicing: which funding transaction this commitment spends). */
  fundingTxid?: Uint8Array;
}
export const commitmentSigned = defineMessage<CommitmentSigned>({
  type: 132,
  kind: 'commitment_signed',
  fields: {
    channelId: field.bytes32,
    signature: field.signature,
    htlcSignatures: field.u16Array(field.signature),
  },
  tlvs: { fundingTxid: tlv.fixed(1n, 32, 'funding_txid') },
});

export interface RevokeAndAck extends WithUnknownTlvs {
  readonly type: 133;
  readonly kind: 'revoke_and_ack';
  channelId: Uint8Array;
  /** A secret: never log it. */
  perCommitmentSecret: Uint8Array;
  nextPerCommitmentPoint: Uint8Array;
}
export const revokeAndAck = defineMessage<RevokeAndAck>({
  type: 133,
  kind: 'revoke_and_ack',
  fields: {
    channelId: field.bytes32,
    perCommitmentSecret: field.bytes32,
    nextPerCommitmentPoint: field.point,
  },
});

export interface UpdateFee extends WithUnknownTlvs {
  readonly type: 134;
  readonly kind: 'update_fee';
  channelId: Uint8Array;
  feeratePerKw: number;
}
export const updateFee = defineMessage<UpdateFee>({
  type: 134,
  kind: 'update_fee',
  fields: { channelId: field.bytes32, feeratePerKw: field.u32 },
});

export interface FundingTxidWithFlags {
  txid: Uint8Array;
  retransmitFlags: number;
}
const txidWithFlags = (type: bigint): TlvCodec<FundingTxidWithFlags> =>
  tlv.struct<FundingTxidWithFlags>(
    type,
    33,
    (r) => ({ txid: r.bytes32(), retransmitFlags: r.u8() }),
    (w, v) => w.bytes32(v.txid, 'txid').u8(v.retransmitFlags, 'retransmit_flags'),
  );

export interface ChannelReestablish extends WithUnknownTlvs {
  readonly type: 136;
  readonly kind: 'channel_reestablish';
  channelId: Uint8Array;
  nextCommitmentNumber: bigint;
  nextRevocationNumber: bigint;
  /** A secret: never log it. */
  yourLastPerCommitmentSecret: Uint8Array;
  myCurrentPerCommitmentPoint: Uint8Array;
  /** TLV 1 `next_funding`. */
  nextFunding?: FundingTxidWithFlags;
  /** TLV 5 `my_current_funding_locked`. */
  myCurrentFundingLocked?: FundingTxidWithFlags;
}
export const channelReestablish = defineMessage<ChannelReestablish>({
  type: 136,
  kind: 'channel_reestablish',
  fields: {
    channelId: field.bytes32,
    nextCommitmentNumber: field.u64,
    nextRevocationNumber: field.u64,
    yourLastPerCommitmentSecret: field.bytes32,
    myCurrentPerCommitmentPoint: field.point,
  },
  tlvs: { nextFunding: txidWithFlags(1n), myCurrentFundingLocked: txidWithFlags(5n) },
});

export interface StartBatch extends WithUnknownTlvs {
  readonly type: 127;
  readonly kind: 'start_batch';
  channelId: Uint8Array;
  batchSize: number;
  /** TLV 1 `message_type`. */
  messageType?: number;
}
export const startBatch = defineMessage<StartBatch>({
  type: 127,
  kind: 'start_batch',
  fields: { channelId: field.bytes32, batchSize: field.u16 },
  tlvs: { messageType: tlv.u16(1n) },
});
