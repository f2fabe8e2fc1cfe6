/**
 * Where the graph keeps the signed messages themselves. The graph holds in memory only what the
 * router reads (graph.ts); the messages as received — needed to serve queries, to relay, and to
 * answer the API's detail calls — live here, so a node's memory does not carry 40 MB of
 * signatures. `MemoryMessageStore` keeps them in maps (tests, or a node without a data dir);
 * `LmdbGraphStore` (graph-store.ts) keeps them in lmdb, read back on demand.
 *
 * The graph calls these synchronously while it changes; a store that persists does its I/O
 * later (graph-store.ts: a write-behind buffer flushed by the actor), but must answer reads of
 * what it was given at once.
 */

export interface ChannelRecordExtras {
  /** The funding output's value (from the chain source). */
  capacitySat?: bigint;
  /** The funding transaction id (internal byte order), to spot its spend in a block. */
  fundingTxid?: Uint8Array;
  /** Unix seconds at which the announcement was accepted (BOLT 7 pruning uses it for a channel without updates). */
  receivedAt: number;
  /** Block height at which the funding output was seen spent. */
  spentAtHeight?: number;
}

export interface StoredChannel extends ChannelRecordExtras {
  /** The channel_announcement as received (type + payload). */
  announcement: Uint8Array;
}

export interface GossipMessageStore {
  channel(scid: bigint): StoredChannel | undefined;
  putChannel(scid: bigint, channel: StoredChannel): void;
  /** Removes the channel and both its updates. */
  removeChannel(scid: bigint): void;
  /** The latest channel_update of one direction (0: from node 1). */
  update(scid: bigint, direction: 0 | 1): Uint8Array | undefined;
  putUpdate(scid: bigint, direction: 0 | 1, update: Uint8Array): void;
  removeUpdate(scid: bigint, direction: 0 | 1): void;
  /** The latest node_announcement of a node (key: the 33-byte node id). */
  nodeAnnouncement(nodeId: Uint8Array): Uint8Array | undefined;
  putNodeAnnouncement(nodeId: Uint8Array, announcement: Uint8Array): void;
  removeNodeAnnouncement(nodeId: Uint8Array): void;
}

const nodeKey = (id: Uint8Array): string => Buffer.from(id.buffer, id.byteOffset, id.length).toString('hex');

/** Everything in maps. */
export class MemoryMessageStore implements GossipMessageStore {
  private readonly channels = new Map<bigint, StoredChannel>();
  private readonly updates = [new Map<bigint, Uint8Array>(), new Map<bigint, Uint8Array>()] as const;
  private readonly nodes = new Map<string, Uint8Array>();

  channel(scid: bigint): StoredChannel | undefined {
    return this.channels.get(scid);
  }
  putChannel(scid: bigint, channel: StoredChannel): void {
    this.channels.set(scid, channel);
  }
  removeChannel(scid: bigint): void {
    this.channels.delete(scid);
    this.updates[0].delete(scid);
    this.updates[1].delete(scid);
  }
  update(scid: bigint, direction: 0 | 1): Uint8Array | undefined {
    return this.updates[direction].get(scid);
  }
  putUpdate(scid: bigint, direction: 0 | 1, update: Uint8Array): void {
    this.updates[direction].set(scid, update);
  }
  removeUpdate(scid: bigint, direction: 0 | 1): void {
    this.updates[direction].delete(scid);
  }
  nodeAnnouncement(nodeId: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(nodeKey(nodeId));
  }
  putNodeAnnouncement(nodeId: Uint8Array, announcement: Uint8Array): void {
    this.nodes.set(nodeKey(nodeId), announcement);
  }
  removeNodeAnnouncement(nodeId: Uint8Array): void {
    this.nodes.delete(nodeKey(nodeId));
  }
}
