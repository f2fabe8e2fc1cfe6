// BOLT 7 announcements: announcement_signatures, channel_announcement,
// node_announcement, channel_update, and the bytes their signatures cover.
import { addressesCodec, type NodeAddress } from './address.ts';
import { ByteWriter } from './bytes.ts';
import { defineMessage, field, type WithExtraData } from './codec.ts';
import { crc32c } from './crc32c.ts';
import { WireError } from './errors.ts';
import type { Features } from './features.ts';
import type { WithUnknownTlvs } from './tlv.ts';

export interface AnnouncementSignatures extends WithUnknownTlvs {
  readonly type: 259;
  readonly kind: 'announcement_signatures';
  channelId: Uint8Array;
  shortChannelId: bigint;
  nodeSignature: Uint8Array;
  bitcoinSignature: Uint8Array;
}
export const announcementSignatures = defineMessage<AnnouncementSignatures>({
  type: 259,
  kind: 'announcement_signatures',
  fields: {
    channelId: field.bytes32,
    shortChannelId: field.shortChannelId,
    nodeSignature: field.signature,
    bitcoinSignature: field.signature,
  },
});

export interface ChannelAnnouncement extends WithExtraData {
  readonly type: 256;
  readonly kind: 'channel_announcement';
  nodeSignature1: Uint8Array;
  nodeSignature2: Uint8Array;
  bitcoinSignature1: Uint8Array;
  bitcoinSignature2: Uint8Array;
  features: Features;
  chainHash: Uint8Array;
  shortChannelId: bigint;
  nodeId1: Uint8Array;
  nodeId2: Uint8Array;
  bitcoinKey1: Uint8Array;
  bitcoinKey2: Uint8Array;
}
export const channelAnnouncement = defineMessage<ChannelAnnouncement>({
  type: 256,
  kind: 'channel_announcement',
  fields: {
    nodeSignature1: field.signature,
    nodeSignature2: field.signature,
    bitcoinSignature1: field.signature,
    bitcoinSignature2: field.signature,
    features: field.features,
    chainHash: field.bytes32,
    shortChannelId: field.shortChannelId,
    nodeId1: field.point,
    nodeId2: field.point,
    bitcoinKey1: field.point,
    bitcoinKey2: field.point,
  },
  tail: 'raw',
});

export interface NodeAnnouncement extends WithExtraData {
  readonly type: 257;
  readonly kind: 'node_announcement';
  signature: Uint8Array;
  features: Features;
  timestamp: number;
  nodeId: Uint8Array;
  /** 3 bytes: red, green, blue. */
  rgbColor: Uint8Array;
  /** 32 bytes, UTF-8 padded with zeros (see `aliasText`). */
  alias: Uint8Array;
  addresses: NodeAddress[];
}
export const nodeAnnouncement = defineMessage<NodeAnnouncement>({
  type: 257,
  kind: 'node_announcement',
  fields: {
    signature: field.signature,
    features: field.features,
    timestamp: field.u32,
    nodeId: field.point,
    rgbColor: field.fixed(3),
    alias: field.fixed(32),
    addresses: field.u16Sized(addressesCodec),
  },
  tail: 'raw',
});

/** The alias as text: trailing zero bytes dropped, invalid UTF-8 replaced (display only; sanitize before rendering). */
export function aliasText(alias: Uint8Array): string {
  let end = alias.length;
  while (end > 0 && alias[end - 1] === 0) end--;
  return new TextDecoder('utf-8', { fatal: false }).decode(alias.subarray(0, end));
}

/** A 32-byte alias field from text (UTF-8, zero padded). */
export function aliasBytes(text: string): Uint8Array {
  const b = new TextEncoder().encode(text);
  if (b.length > 32) throw new WireError('invalid-value', 'alias longer than 32 bytes');
  const out = new Uint8Array(32);
  out.set(b);
  return out;
}

/** BOLT 7 channel_update `message_flags` and `channel_flags` bits. */
export const MESSAGE_FLAG_MUST_BE_ONE = 0x01;
export const MESSAGE_FLAG_DONT_FORWARD = 0x02;
export const CHANNEL_FLAG_DIRECTION = 0x01;
export const CHANNEL_FLAG_DISABLE = 0x02;

export interface ChannelUpdate extends WithExtraData {
  readonly type: 258;
  readonly kind: 'channel_update';
  signature: Uint8Array;
  chainHash: Uint8Array;
  shortChannelId: bigint;
  timestamp: number;
  messageFlags: number;
  channelFlags: number;
  cltvExpiryDelta: number;
  htlcMinimumMsat: bigint;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  htlcMaximumMsat: bigint;
}
export const channelUpdate = defineMessage<ChannelUpdate>({
  type: 258,
  kind: 'channel_update',
  fields: {
    signature: field.signature,
    chainHash: field.bytes32,
    shortChannelId: field.shortChannelId,
    timestamp: field.u32,
    messageFlags: field.u8,
    channelFlags: field.u8,
    cltvExpiryDelta: field.u16,
    htlcMinimumMsat: field.u64,
    feeBaseMsat: field.u32,
    feeProportionalMillionths: field.u32,
    htlcMaximumMsat: field.u64,
  },
  tail: 'raw',
});

// ---- Signed bytes -------------------------------------------------------------
// Each helper takes the message as received (2-byte type + payload) or a message
// object (encoded first). Pass the received bytes when verifying: they are what
// the signer signed, including any fields this package does not know.

function messageBytes<M extends { type: number }>(
  m: Uint8Array | M,
  type: number,
  encode: (x: M) => Uint8Array,
  name: string,
): Uint8Array {
  const bytes = m instanceof Uint8Array ? m : encode(m);
  if (bytes.length < 2 || ((bytes[0]! << 8) | bytes[1]!) !== type)
    throw new WireError('invalid-value', `not a ${name}`, name);
  return bytes;
}

/**
 * BOLT 7: "the double-SHA256 hash h of the message, beginning at offset 256" — the
 * payload after the four signatures (4 × 64 bytes), up to the end, future fields included.
 */
export function channelAnnouncementSignedBytes(m: Uint8Array | ChannelAnnouncement): Uint8Array {
  const b = messageBytes(m, 256, channelAnnouncement.encode, 'channel_announcement');
  if (b.length < 2 + 256)
    throw new WireError('truncated', 'shorter than its signatures', 'channel_announcement');
  return b.slice(2 + 256);
}

/** BOLT 7: "the double-SHA256 of the entire remaining packet after signature". */
export function nodeAnnouncementSignedBytes(m: Uint8Array | NodeAnnouncement): Uint8Array {
  const b = messageBytes(m, 257, nodeAnnouncement.encode, 'node_announcement');
  if (b.length < 2 + 64) throw new WireError('truncated', 'shorter than its signature', 'node_announcement');
  return b.slice(2 + 64);
}

/** BOLT 7: "the double-SHA256 of the entire remaining packet after signature". */
export function channelUpdateSignedBytes(m: Uint8Array | ChannelUpdate): Uint8Array {
  const b = messageBytes(m, 258, channelUpdate.encode, 'channel_update');
  if (b.length < 2 + 64) throw new WireError('truncated', 'shorter than its signature', 'channel_update');
  return b.slice(2 + 64);
}

/**
 * BOLT 7 `checksums_tlv`: "the CRC32C checksum ... of this channel_update without
 * its signature and timestamp fields". Read literally: the payload minus those two
 * fields, trailing unknown fields included. Eclair checksums only the known fields
 * (chain_hash through htlc_maximum_msat); the two agree unless an update carries
 * trailing data, which none on today's network does. A mismatch only costs a
 * redundant re-query.
 */
export function channelUpdateChecksum(m: Uint8Array | ChannelUpdate): number {
  const signed = channelUpdateSignedBytes(m);
  // signed = chain_hash(32) short_channel_id(8) timestamp(4) rest...
  if (signed.length < 44) throw new WireError('truncated', 'channel_update too short', 'channel_update');
  const w = new ByteWriter(signed.length - 4);
  w.bytes(signed.subarray(0, 40)).bytes(signed.subarray(44));
  return crc32c(w.finish());
}
