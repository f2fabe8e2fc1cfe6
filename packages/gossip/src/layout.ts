/**
 * Fixed-offset readers for the three signed gossip messages, straight from the bytes as
 * received (2-byte type + payload). The ingest path reads only the fields it needs, where they
 * are, instead of decoding every field into a fresh object (wire's codecs copy each signature
 * and key): at thousands of messages a second that is most of the garbage. Every reader trusts
 * the offsets `checkChannelAnnouncement` & co. computed, so call those first.
 *
 * Layouts (BOLT 7; offsets include the 2-byte type):
 *   channel_announcement: 2 node_signature_1 · 66 node_signature_2 · 130 bitcoin_signature_1 ·
 *     194 bitcoin_signature_2 · 258 len · 260 features · f = 260 + len: chain_hash ·
 *     f+32 short_channel_id · f+40 node_id_1 · f+73 node_id_2 · f+106 bitcoin_key_1 ·
 *     f+139 bitcoin_key_2 · f+172 (future fields)
 *   node_announcement: 2 signature · 66 flen · 68 features · f = 68 + flen: timestamp ·
 *     f+4 node_id · f+37 rgb_color · f+40 alias · f+72 addrlen · f+74 addresses
 *   channel_update: 2 signature · 66 chain_hash · 98 short_channel_id · 106 timestamp ·
 *     110 message_flags · 111 channel_flags · 112 cltv_expiry_delta · 114 htlc_minimum_msat ·
 *     122 fee_base_msat · 126 fee_proportional_millionths · 130 htlc_maximum_msat · 138
 */
import { featureForBit } from '@lnkit/wire';

export const TYPE_CHANNEL_ANNOUNCEMENT = 256;
export const TYPE_NODE_ANNOUNCEMENT = 257;
export const TYPE_CHANNEL_UPDATE = 258;

/** The gossip messages' signed parts start here (BOLT 7: "beginning at offset 256" of the payload). */
export const CA_SIGNED_FROM = 258;
export const NA_SIGNED_FROM = 66;
export const CU_SIGNED_FROM = 66;

export const CU_CHAIN_HASH = 66;
export const CU_SCID = 98;
export const CU_TIMESTAMP = 106;
export const CU_MESSAGE_FLAGS = 110;
export const CU_CHANNEL_FLAGS = 111;
export const CU_CLTV_EXPIRY_DELTA = 112;
export const CU_HTLC_MINIMUM_MSAT = 114;
export const CU_FEE_BASE_MSAT = 122;
export const CU_FEE_PROPORTIONAL_MILLIONTHS = 126;
export const CU_HTLC_MAXIMUM_MSAT = 130;
/** A channel_update with every field BOLT 7 defines today (htlc_maximum_msat included). */
export const CU_LENGTH = 138;

export function messageType(raw: Uint8Array): number {
  return raw.length < 2 ? -1 : ((raw[0]! << 8) | raw[1]!) >>> 0;
}

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
/** A u64 as a double (exact below 2^53). */
export function u64Number(b: Uint8Array, o: number): number {
  return u32(b, o) * 4294967296 + u32(b, o + 4);
}
export function u64(b: Uint8Array, o: number): bigint {
  return (BigInt(u32(b, o)) << 32n) | BigInt(u32(b, o + 4));
}

export function bytesEqualAt(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** -1, 0 or 1: `a[ao..ao+n]` against `b[bo..bo+n]`, bytewise (lexicographic order of keys). */
export function compareAt(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): number {
  for (let i = 0; i < n; i++) {
    const d = a[ao + i]! - b[bo + i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * Whether the feature bytes `b[o .. o+len]` (big-endian bit order, BOLT 9) set an even bit that
 * no known feature has: BOLT 7 "if there is an unknown even bit in the `features` field: MUST NOT
 * attempt to route messages through the channel" (and through a node, for node_announcement).
 */
export function hasUnknownRequiredFeature(b: Uint8Array, o: number, len: number): boolean {
  for (let i = 0; i < len; i++) {
    const byte = b[o + len - 1 - i]!;
    // Even bits of this byte: 0x55 masks bits 0, 2, 4, 6.
    if ((byte & 0x55) === 0) continue;
    for (let j = 0; j < 8; j += 2) {
      if ((byte & (1 << j)) !== 0 && featureForBit(i * 8 + j) === undefined) return true;
    }
  }
  return false;
}

/** Where channel_announcement's fields sit after its variable-length features. */
export interface ChannelAnnouncementOffsets {
  readonly featuresAt: number;
  readonly featuresLength: number;
  readonly chainHash: number;
  readonly scid: number;
  readonly nodeId1: number;
  readonly nodeId2: number;
  readonly bitcoinKey1: number;
  readonly bitcoinKey2: number;
  /** Bytes after the last known field (future fields, signed and kept). */
  readonly extraLength: number;
}

/** Offsets of a channel_announcement, or undefined if it is too short for its fields. */
export function channelAnnouncementOffsets(raw: Uint8Array): ChannelAnnouncementOffsets | undefined {
  if (raw.length < 260) return undefined;
  const len = u16(raw, 258);
  const f = 260 + len;
  if (raw.length < f + 172) return undefined;
  return {
    featuresAt: 260,
    featuresLength: len,
    chainHash: f,
    scid: f + 32,
    nodeId1: f + 40,
    nodeId2: f + 73,
    bitcoinKey1: f + 106,
    bitcoinKey2: f + 139,
    extraLength: raw.length - (f + 172),
  };
}

export interface NodeAnnouncementOffsets {
  readonly featuresAt: number;
  readonly featuresLength: number;
  readonly timestamp: number;
  readonly nodeId: number;
  readonly rgbColor: number;
  readonly alias: number;
  readonly addressesAt: number;
  readonly addressesLength: number;
  readonly extraLength: number;
}

/** Offsets of a node_announcement, or undefined if it is too short for its fields. */
export function nodeAnnouncementOffsets(raw: Uint8Array): NodeAnnouncementOffsets | undefined {
  if (raw.length < 68) return undefined;
  const flen = u16(raw, 66);
  const f = 68 + flen;
  if (raw.length < f + 74) return undefined;
  const addrlen = u16(raw, f + 72);
  if (raw.length < f + 74 + addrlen) return undefined;
  return {
    featuresAt: 68,
    featuresLength: flen,
    timestamp: f,
    nodeId: f + 4,
    rgbColor: f + 37,
    alias: f + 40,
    addressesAt: f + 74,
    addressesLength: addrlen,
    extraLength: raw.length - (f + 74 + addrlen),
  };
}

/** A point field's prefix byte (BOLT 1 `point`: 33-byte compressed, 0x02 or 0x03). */
export function isCompressedPointPrefix(b: Uint8Array, o: number): boolean {
  return b[o] === 0x02 || b[o] === 0x03;
}
