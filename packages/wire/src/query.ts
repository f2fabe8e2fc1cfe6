// BOLT 7 query messages: query_short_channel_ids, reply_short_channel_ids_end,
// query_channel_range, reply_channel_range, gossip_timestamp_filter.
import { ByteReader, ByteWriter } from './bytes.ts';
import { defineMessage, type FieldCodec, field } from './codec.ts';
import { WireError } from './errors.ts';
import { type TlvCodec, tlv, type WithUnknownTlvs } from './tlv.ts';

/**
 * An `encoded_*` array (BOLT 7 "Encoding types"): byte 0 = uncompressed, then the
 * items. Type 1 (zlib) "MUST NOT be used" and other types are unknown; both are kept
 * as sent (never inflated) so the caller can apply "if ... not a known encoding
 * type: MAY send a warning, MAY close the connection" and the message still round-trips.
 */
export type EncodedList<T> =
  | { readonly encoding: 'uncompressed'; readonly items: T[] }
  | { readonly encoding: 'unsupported'; readonly encodingType: number; readonly data: Uint8Array };

export const ENCODING_UNCOMPRESSED = 0;
/** Deprecated zlib encoding (BOLT 7: "this encoding MUST NOT be used"). */
export const ENCODING_ZLIB_DEPRECATED = 1;

interface ItemCodec<T> {
  read(r: ByteReader): T;
  write(w: ByteWriter, v: T): void;
}

function encodedListCodec<T>(item: ItemCodec<T>, what: string) {
  return {
    decode(bytes: Uint8Array, name?: string): EncodedList<T> {
      const r = new ByteReader(bytes, name);
      // BOLT 7: "MUST set the first byte of encoded_short_ids to the encoding type".
      const encodingType = r.u8(`${what} encoding type`);
      if (encodingType !== ENCODING_UNCOMPRESSED)
        return { encoding: 'unsupported', encodingType, data: r.rest() };
      const items: T[] = [];
      try {
        while (r.remaining > 0) items.push(item.read(r));
      } catch (e) {
        // "does not decode into a whole number of" items
        if (e instanceof WireError && e.code === 'truncated')
          throw new WireError('invalid-value', `${what} is not a whole number of items`, name);
        throw e;
      }
      return { encoding: 'uncompressed', items };
    },
    encode(list: EncodedList<T>): Uint8Array {
      const w = new ByteWriter();
      if (list.encoding === 'uncompressed') {
        w.u8(ENCODING_UNCOMPRESSED);
        for (const x of list.items) item.write(w, x);
      } else {
        w.u8(list.encodingType, 'encoding type').bytes(list.data);
      }
      return w.finish();
    },
  };
}

const scidItem: ItemCodec<bigint> = { read: (r) => r.shortChannelId(), write: (w, v) => w.shortChannelId(v) };
// BOLT 7: "Each query flag is a minimally-encoded bigsize" (the reader rejects non-minimal ones).
const bigSizeItem: ItemCodec<bigint> = { read: (r) => r.bigSize(), write: (w, v) => w.bigSize(v) };

export interface TimestampPair {
  timestampNodeId1: number;
  timestampNodeId2: number;
}
export interface ChecksumPair {
  checksumNodeId1: number;
  checksumNodeId2: number;
}
const timestampItem: ItemCodec<TimestampPair> = {
  read: (r) => ({ timestampNodeId1: r.u32(), timestampNodeId2: r.u32() }),
  write: (w, v) => w.u32(v.timestampNodeId1).u32(v.timestampNodeId2),
};

export const encodedShortIds = encodedListCodec(scidItem, 'encoded_short_ids');
const encodedShortIdsField: FieldCodec<EncodedList<bigint>> = field.u16Sized(encodedShortIds);

function tlvOf<T>(
  type: bigint,
  codec: { decode(b: Uint8Array, n?: string): T; encode(v: T): Uint8Array },
): TlvCodec<T> {
  return { type, decode: (v, s) => codec.decode(v, s), encode: (x) => codec.encode(x) };
}

/** query_flags bits (BOLT 7). */
export const QUERY_FLAG_CHANNEL_ANNOUNCEMENT = 1n;
export const QUERY_FLAG_CHANNEL_UPDATE_1 = 2n;
export const QUERY_FLAG_CHANNEL_UPDATE_2 = 4n;
export const QUERY_FLAG_NODE_ANNOUNCEMENT_1 = 8n;
export const QUERY_FLAG_NODE_ANNOUNCEMENT_2 = 16n;

export interface QueryShortChannelIds extends WithUnknownTlvs {
  readonly type: 261;
  readonly kind: 'query_short_channel_ids';
  chainHash: Uint8Array;
  encodedShortIds: EncodedList<bigint>;
  /** TLV 1 `query_flags`: one bigsize bitfield per short_channel_id. */
  queryFlags?: EncodedList<bigint>;
}
export const queryShortChannelIds = defineMessage<QueryShortChannelIds>({
  type: 261,
  kind: 'query_short_channel_ids',
  fields: { chainHash: field.bytes32, encodedShortIds: encodedShortIdsField },
  tlvs: { queryFlags: tlvOf(1n, encodedListCodec(bigSizeItem, 'encoded_query_flags')) },
});

export interface ReplyShortChannelIdsEnd extends WithUnknownTlvs {
  readonly type: 262;
  readonly kind: 'reply_short_channel_ids_end';
  chainHash: Uint8Array;
  fullInformation: number;
}
export const replyShortChannelIdsEnd = defineMessage<ReplyShortChannelIdsEnd>({
  type: 262,
  kind: 'reply_short_channel_ids_end',
  fields: { chainHash: field.bytes32, fullInformation: field.u8 },
});

/** query_option_flags bits (BOLT 7). */
export const QUERY_OPTION_WANT_TIMESTAMPS = 1n;
export const QUERY_OPTION_WANT_CHECKSUMS = 2n;

export interface QueryChannelRange extends WithUnknownTlvs {
  readonly type: 263;
  readonly kind: 'query_channel_range';
  chainHash: Uint8Array;
  firstBlocknum: number;
  numberOfBlocks: number;
  /** TLV 1 `query_option`. */
  queryOptionFlags?: bigint;
}
export const queryChannelRange = defineMessage<QueryChannelRange>({
  type: 263,
  kind: 'query_channel_range',
  fields: { chainHash: field.bytes32, firstBlocknum: field.u32, numberOfBlocks: field.u32 },
  tlvs: { queryOptionFlags: tlv.bigSize(1n) },
});

const checksumsTlv: TlvCodec<ChecksumPair[]> = {
  type: 3n,
  decode(v, s) {
    if (v.length % 8 !== 0)
      throw new WireError('invalid-tlv', 'checksums_tlv is not a whole number of pairs', s);
    const r = new ByteReader(v, s);
    const out: ChecksumPair[] = [];
    while (r.remaining > 0) out.push({ checksumNodeId1: r.u32(), checksumNodeId2: r.u32() });
    return out;
  },
  encode(list) {
    const w = new ByteWriter(list.length * 8);
    for (const c of list) w.u32(c.checksumNodeId1).u32(c.checksumNodeId2);
    return w.finish();
  },
};

export interface ReplyChannelRange extends WithUnknownTlvs {
  readonly type: 264;
  readonly kind: 'reply_channel_range';
  chainHash: Uint8Array;
  firstBlocknum: number;
  numberOfBlocks: number;
  syncComplete: number;
  encodedShortIds: EncodedList<bigint>;
  /** TLV 1 `timestamps_tlv`. */
  timestamps?: EncodedList<TimestampPair>;
  /** TLV 3 `checksums_tlv`. */
  checksums?: ChecksumPair[];
}
export const replyChannelRange = defineMessage<ReplyChannelRange>({
  type: 264,
  kind: 'reply_channel_range',
  fields: {
    chainHash: field.bytes32,
    firstBlocknum: field.u32,
    numberOfBlocks: field.u32,
    syncComplete: field.u8,
    encodedShortIds: encodedShortIdsField,
  },
  tlvs: {
    timestamps: tlvOf(1n, encodedListCodec(timestampItem, 'encoded_timestamps')),
    checksums: checksumsTlv,
  },
});

export interface GossipTimestampFilter extends WithUnknownTlvs {
  readonly type: 265;
  readonly kind: 'gossip_timestamp_filter';
  chainHash: Uint8Array;
  firstTimestamp: number;
  timestampRange: number;
}
export const gossipTimestampFilter = defineMessage<GossipTimestampFilter>({
  type: 265,
  kind: 'gossip_timestamp_filter',
  fields: { chainHash: field.bytes32, firstTimestamp: field.u32, timestampRange: field.u32 },
});

/** The short_channel_ids of an uncompressed list, or undefined for an unsupported encoding. */
export function shortChannelIdsOf(list: EncodedList<bigint>): bigint[] | undefined {
  return list.encoding === 'uncompressed' ? list.items : undefined;
}
