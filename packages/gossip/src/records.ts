/**
 * The graph's persisted records (DESIGN.md: versioned TLV records, even = required, odd =
 * optional), all in the node's `graph` database. Each holds a signed message as received, so
 * the graph can be served to peers after a restart exactly as it came, and loads without
 * checking any signature again (it was checked before it was written).
 *
 * Keys (binary, so a range read takes one kind in short_channel_id order):
 *   [1]                      meta: the chain and when the node last took gossip in
 *   [1, 'S']                 the snapshot: the whole graph's columns in one record
 *   [1, 'J', seq(8)]         the journal: which record changed since the snapshot, in order
 *   [3, scid(8)]             a channel: its channel_announcement and what the chain said of it
 *   [4, scid(8), direction]  a channel_update
 *   [5, node_id(33)]         a node_announcement
 * The first bytes are 1, 3, 4, 5 because lmdb's key decoder (ordered-binary) gives back keys
 * starting with those as the bytes written; 0, 2, 6, 7 and 8 up mean null, a symbol, false,
 * true and numbers to it, and such keys come back as something else.
 */
import { endianness } from 'node:os';
import { defineRecord, type FieldCodec, fieldCodec as f } from '@lnkit/store';
import type { GraphSnapshot } from './graph.ts';

export const GRAPH_DB = 'graph';

export const KEY_META = 1;
export const KEY_CHANNEL = 3;
export const KEY_UPDATE = 4;
export const KEY_NODE = 5;

export function channelKey(scid: bigint): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = KEY_CHANNEL;
  new DataView(k.buffer).setBigUint64(1, scid);
  return k;
}

export function updateKey(scid: bigint, direction: 0 | 1): Uint8Array {
  const k = new Uint8Array(10);
  k[0] = KEY_UPDATE;
  new DataView(k.buffer).setBigUint64(1, scid);
  k[9] = direction;
  return k;
}

export function nodeKey(nodeId: Uint8Array): Uint8Array {
  const k = new Uint8Array(34);
  k[0] = KEY_NODE;
  k.set(nodeId, 1);
  return k;
}

export const META_KEY = Uint8Array.of(KEY_META);
export const SNAPSHOT_KEY = Uint8Array.of(KEY_META, 0x53);
export const JOURNAL_PREFIX = Uint8Array.of(KEY_META, 0x4a);
export const JOURNAL_END = Uint8Array.of(KEY_META, 0x4b);

export function journalKey(seq: bigint): Uint8Array {
  const k = new Uint8Array(10);
  k.set(JOURNAL_PREFIX);
  new DataView(k.buffer).setBigUint64(2, seq);
  return k;
}

export interface GraphChannelRecord {
  /** The channel_announcement as received (type + payload). */
  announcement: Uint8Array;
  /** Unix seconds at which it was accepted. */
  receivedAt: number;
  capacitySat?: bigint;
  /** Internal byte order. */
  fundingTxid?: Uint8Array;
  spentAtHeight?: number;
}

export const graphChannelRecord = defineRecord<GraphChannelRecord>({
  kind: 'graph-channel',
  version: 1,
  minReadVersion: 1,
  fields: {
    announcement: { type: 0, codec: f.bytes },
    receivedAt: { type: 2, codec: f.u32 },
    capacitySat: { type: 1, codec: f.tu64, optional: true },
    fundingTxid: { type: 3, codec: f.bytes32, optional: true },
    spentAtHeight: { type: 5, codec: f.u32, optional: true },
  },
});

export interface GraphUpdateRecord {
  /** The channel_update as received. */
  update: Uint8Array;
}

export const graphUpdateRecord = defineRecord<GraphUpdateRecord>({
  kind: 'graph-update',
  version: 1,
  minReadVersion: 1,
  fields: { update: { type: 0, codec: f.bytes } },
});

export interface GraphNodeRecord {
  /** The node_announcement as received. */
  announcement: Uint8Array;
}

export const graphNodeRecord = defineRecord<GraphNodeRecord>({
  kind: 'graph-node',
  version: 1,
  minReadVersion: 1,
  fields: { announcement: { type: 0, codec: f.bytes } },
});

export interface GraphMetaRecord {
  /** BOLT 7 chain_hash of the graph. */
  chainHash: Uint8Array;
  /**
   * Unix seconds up to which the node took gossip in: after a restart it asks its peers for
   * gossip from a little before this (gossip_timestamp_filter), not for the whole graph again.
   */
  lastActiveAt: number;
}

export const graphMetaRecord = defineRecord<GraphMetaRecord>({
  kind: 'graph-meta',
  version: 1,
  minReadVersion: 1,
  fields: {
    chainHash: { type: 0, codec: f.bytes32 },
    lastActiveAt: { type: 2, codec: f.u32 },
  },
});

export interface GraphJournalRecord {
  /** The key of the record that was written or removed. */
  key: Uint8Array;
}

export const graphJournalRecord = defineRecord<GraphJournalRecord>({
  kind: 'graph-journal',
  version: 1,
  minReadVersion: 1,
  fields: { key: { type: 0, codec: f.bytes } },
});

type TypedArrayCtor<T> = {
  new (buffer: ArrayBuffer, offset: number, length: number): T;
  BYTES_PER_ELEMENT: number;
};

/**
 * A typed array as its bytes, little-endian (the byte order of every machine lnkit runs on;
 * elsewhere the snapshot is not written or read, and the graph loads record by record).
 */
function typed<T extends ArrayBufferView>(name: string, ctor: TypedArrayCtor<T>): FieldCodec<T> {
  const size = ctor.BYTES_PER_ELEMENT;
  return {
    name,
    encode: (a) => {
      if (endianness() !== 'LE') throw new RangeError('snapshots are little-endian only');
      return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    },
    decode: (b) => {
      if (endianness() !== 'LE') throw new RangeError('snapshots are little-endian only');
      if (b.length % size !== 0) throw new RangeError(`length ${b.length} is not a whole number of ${name}`);
      // A copy: the array must start on its element boundary, and not alias the record bytes.
      return new ctor(b.slice().buffer, 0, b.length / size);
    },
  };
}

const u8s = f.bytes;
const u16s = typed('u16 array', Uint16Array);
const u32s = typed('u32 array', Uint32Array);
const u64s = typed('u64 array', BigUint64Array);
const f64s = typed('f64 array', Float64Array);

export interface GraphSnapshotRecord extends GraphSnapshot {
  chainHash: Uint8Array;
  /** The last journal entry the snapshot includes: entries after it are replayed at load. */
  journalSeq: bigint;
  /** Unix seconds. */
  takenAt: number;
}

/** The whole graph in one record (graph.ts `toSnapshot`); ~100 bytes per channel. */
export const graphSnapshotRecord = defineRecord<GraphSnapshotRecord>({
  kind: 'graph-snapshot',
  version: 1,
  minReadVersion: 1,
  fields: {
    chainHash: { type: 0, codec: f.bytes32 },
    journalSeq: { type: 2, codec: f.u64 },
    takenAt: { type: 4, codec: f.u32 },
    channelScid: { type: 6, codec: u64s },
    channelFlags: { type: 8, codec: u8s },
    channelNode1: { type: 10, codec: u32s },
    channelNode2: { type: 12, codec: u32s },
    channelCapacitySat: { type: 14, codec: f64s },
    channelReceivedAt: { type: 16, codec: u32s },
    channelSpentAt: { type: 18, codec: u32s },
    fundingChannels: { type: 20, codec: u32s },
    fundingTxids: { type: 22, codec: u8s },
    edgeFlags: { type: 24, codec: u8s },
    feeBaseMsat: { type: 26, codec: u32s },
    feeProportionalMillionths: { type: 28, codec: u32s },
    cltvExpiryDelta: { type: 30, codec: u16s },
    htlcMinimumMsat: { type: 32, codec: f64s },
    htlcMaximumMsat: { type: 34, codec: f64s },
    updateTimestamp: { type: 36, codec: u32s },
    nodeIds: { type: 38, codec: u8s },
    nodeFlags: { type: 40, codec: u8s },
    nodeTimestamp: { type: 42, codec: u32s },
  },
});
