/**
 * NetworkGraph: nodes and channels as the router reads them, in typed arrays indexed by small
 * integers (graph-view.ts explains the indexes), with the signed messages themselves in a
 * GossipMessageStore. It knows nothing of validation: validate.ts decides what may change the
 * graph, and calls the mutators here, which assume their input was checked. Every mutation
 * keeps the EDGE_ROUTABLE bits and the counts of `stats()` up to date incrementally, so a read
 * never scans the graph.
 */
import { GossipError } from './errors.ts';
import { announcementInfo, updateChecksum } from './graph-objects.ts';
import {
  CHANNEL_LIVE,
  CHANNEL_SPENT,
  CHANNEL_UNKNOWN_REQUIRED_FEATURES,
  type ChannelInfo,
  type ChannelPolicy,
  EDGE_DISABLED,
  EDGE_HAS_UPDATE,
  EDGE_ROUTABLE,
  type GraphColumns,
  type GraphStats,
  type GraphView,
  NO_INDEX,
  NODE_ANNOUNCED,
  NODE_LIVE,
  NODE_UNKNOWN_REQUIRED_FEATURES,
  type NodeInfo,
} from './graph-view.ts';
import {
  CU_CHANNEL_FLAGS,
  CU_CLTV_EXPIRY_DELTA,
  CU_FEE_BASE_MSAT,
  CU_FEE_PROPORTIONAL_MILLIONTHS,
  CU_HTLC_MAXIMUM_MSAT,
  CU_HTLC_MINIMUM_MSAT,
  CU_MESSAGE_FLAGS,
  CU_TIMESTAMP,
  channelAnnouncementOffsets,
  hasUnknownRequiredFeature,
  u16,
  u32,
  u64,
  u64Number,
} from './layout.ts';
import { type ChannelRecordExtras, type GossipMessageStore, MemoryMessageStore } from './message-store.ts';

export interface NetworkGraphOptions {
  chainHash: Uint8Array;
  /** Where the signed messages go; default in memory. */
  messages?: GossipMessageStore;
  /** Slots to allocate up front (the columns grow by doubling otherwise). */
  expectedChannels?: number;
  expectedNodes?: number;
}

type Typed = Uint8Array | Uint16Array | Uint32Array | Float64Array | BigUint64Array;

function grown<T extends Typed>(a: T, size: number, fill?: number): T {
  const next = new (a.constructor as new (n: number) => T)(size);
  next.set(a as never);
  if (fill !== undefined) (next as Float64Array).fill(fill, a.length);
  return next;
}

const NODE_ID_BYTES = 33;
const HEX_NODE_ID = /^0[23][0-9a-fA-F]{64}$/;

/** The Map key of a node id: its 33 bytes as a one-byte-per-char string (half a hex string's size). */
export function nodeKeyAt(b: Uint8Array, o: number): string {
  return Buffer.from(b.buffer, b.byteOffset + o, NODE_ID_BYTES).toString('latin1', 0, NODE_ID_BYTES);
}

function outpointKey(txid: Uint8Array, vout: number): string {
  return `${Buffer.from(txid.buffer, txid.byteOffset, 32).toString('hex')}:${vout}`;
}

/** The graph's columns, compacted (graph-store.ts writes it as one record). */
export interface GraphSnapshot {
  channelScid: BigUint64Array;
  channelFlags: Uint8Array;
  channelNode1: Uint32Array;
  channelNode2: Uint32Array;
  channelCapacitySat: Float64Array;
  channelReceivedAt: Uint32Array;
  channelSpentAt: Uint32Array;
  /** Channel indexes with a known funding txid, and those txids (32 bytes each). */
  fundingChannels: Uint32Array;
  fundingTxids: Uint8Array;
  edgeFlags: Uint8Array;
  feeBaseMsat: Uint32Array;
  feeProportionalMillionths: Uint32Array;
  cltvExpiryDelta: Uint16Array;
  htlcMinimumMsat: Float64Array;
  htlcMaximumMsat: Float64Array;
  updateTimestamp: Uint32Array;
  nodeIds: Uint8Array;
  nodeFlags: Uint8Array;
  nodeTimestamp: Uint32Array;
}

export class NetworkGraph implements GraphView {
  readonly chainHash: Uint8Array;
  readonly messages: GossipMessageStore;
  private changes = 0;

  // ---- channels (index c) and their two directed edges (2c, 2c + 1)
  private channelSlots = 0;
  private channelCapacity: number;
  private readonly byScid = new Map<bigint, number>();
  private channelScid: BigUint64Array;
  private channelFlags: Uint8Array;
  private channelNode1: Uint32Array;
  private channelNode2: Uint32Array;
  private channelCapacitySat: Float64Array;
  private channelReceivedAt: Uint32Array;
  private channelSpentAt: Uint32Array;
  private edgeFlags: Uint8Array;
  private feeBaseMsat: Uint32Array;
  private feeProportionalMillionths: Uint32Array;
  private cltvExpiryDelta: Uint16Array;
  private htlcMinimumMsat: Float64Array;
  private htlcMaximumMsat: Float64Array;
  private updateTimestamp: Uint32Array;
  /** BOLT 7 checksums_tlv value per edge, computed on first use (0: not yet). */
  private edgeChecksum: Uint32Array;
  /** Funding outpoint (txid:vout) → channel index, for channels whose funding txid is known. */
  private readonly byOutpoint = new Map<string, number>();
  private readonly channelFundingTxid: (Uint8Array | undefined)[] = [];

  // ---- nodes (index n)
  private nodeSlots = 0;
  private nodeCapacity: number;
  private readonly byNodeKey = new Map<string, number>();
  private nodeIds: Uint8Array;
  private nodeFlags: Uint8Array;
  private nodeTimestamp: Uint32Array;
  private readonly nodeChannels: number[][] = [];

  // ---- counts for stats()
  private liveChannels = 0;
  private liveNodes = 0;
  private announcedNodes = 0;
  private edgesWithUpdate = 0;
  private routableEdges = 0;
  private adjacencyEntries = 0;

  constructor(options: NetworkGraphOptions) {
    if (!(options.chainHash instanceof Uint8Array) || options.chainHash.length !== 32)
      throw new GossipError('invalid-argument', 'chainHash must be 32 bytes');
    this.chainHash = new Uint8Array(options.chainHash);
    this.messages = options.messages ?? new MemoryMessageStore();
    const c = Math.max(16, options.expectedChannels ?? 1024);
    const n = Math.max(16, options.expectedNodes ?? 512);
    this.channelCapacity = c;
    this.channelScid = new BigUint64Array(c);
    this.channelFlags = new Uint8Array(c);
    this.channelNode1 = new Uint32Array(c);
    this.channelNode2 = new Uint32Array(c);
    this.channelCapacitySat = new Float64Array(c).fill(Number.NaN);
    this.channelReceivedAt = new Uint32Array(c);
    this.channelSpentAt = new Uint32Array(c);
    this.edgeFlags = new Uint8Array(2 * c);
    this.feeBaseMsat = new Uint32Array(2 * c);
    this.feeProportionalMillionths = new Uint32Array(2 * c);
    this.cltvExpiryDelta = new Uint16Array(2 * c);
    this.htlcMinimumMsat = new Float64Array(2 * c);
    this.htlcMaximumMsat = new Float64Array(2 * c);
    this.updateTimestamp = new Uint32Array(2 * c);
    this.edgeChecksum = new Uint32Array(2 * c);
    this.nodeCapacity = n;
    this.nodeIds = new Uint8Array(NODE_ID_BYTES * n);
    this.nodeFlags = new Uint8Array(n);
    this.nodeTimestamp = new Uint32Array(n);
  }

  // ================================================================ GraphView: reads

  version(): number {
    return this.changes;
  }

  stats(): GraphStats {
    let bytes = 0;
    for (const a of [
      this.channelScid,
      this.channelFlags,
      this.channelNode1,
      this.channelNode2,
      this.channelCapacitySat,
      this.channelReceivedAt,
      this.channelSpentAt,
      this.edgeFlags,
      this.feeBaseMsat,
      this.feeProportionalMillionths,
      this.cltvExpiryDelta,
      this.htlcMinimumMsat,
      this.htlcMaximumMsat,
      this.updateTimestamp,
      this.edgeChecksum,
      this.nodeIds,
      this.nodeFlags,
      this.nodeTimestamp,
    ])
      bytes += a.byteLength;
    // Map entries and small arrays, at V8's typical sizes (an estimate, documented as one).
    bytes += this.byScid.size * 72 + this.byNodeKey.size * 96 + this.byOutpoint.size * 160;
    bytes += this.nodeSlots * 32 + this.adjacencyEntries * 8;
    return {
      nodes: this.liveNodes,
      announcedNodes: this.announcedNodes,
      channels: this.liveChannels,
      directions: this.edgesWithUpdate,
      routableDirections: this.routableEdges,
      memoryBytes: bytes,
    };
  }

  nodeIndex(nodeId: Uint8Array | string): number {
    if (typeof nodeId === 'string') {
      if (!HEX_NODE_ID.test(nodeId)) return NO_INDEX;
      return this.byNodeKey.get(Buffer.from(nodeId, 'hex').toString('latin1', 0, NODE_ID_BYTES)) ?? NO_INDEX;
    }
    if (!(nodeId instanceof Uint8Array) || nodeId.length !== NODE_ID_BYTES) return NO_INDEX;
    return this.byNodeKey.get(nodeKeyAt(nodeId, 0)) ?? NO_INDEX;
  }

  /** Index of the node id at `b[o .. o+33]` (no copy). */
  nodeIndexAt(b: Uint8Array, o: number): number {
    return this.byNodeKey.get(nodeKeyAt(b, o)) ?? NO_INDEX;
  }

  nodeIdAt(index: number): Uint8Array {
    this.checkNodeIndex(index);
    return this.nodeIds.subarray(index * NODE_ID_BYTES, (index + 1) * NODE_ID_BYTES);
  }

  channelIndex(shortChannelId: bigint): number {
    return this.byScid.get(shortChannelId) ?? NO_INDEX;
  }

  shortChannelIdAt(index: number): bigint {
    this.checkChannelIndex(index);
    return this.channelScid[index]!;
  }

  channelIndexesOf(nodeIndex: number): readonly number[] {
    this.checkNodeIndex(nodeIndex);
    return this.nodeChannels[nodeIndex]!;
  }

  columns(): GraphColumns {
    return {
      channelLimit: this.channelSlots,
      nodeLimit: this.nodeSlots,
      channelFlags: this.channelFlags,
      channelNode1: this.channelNode1,
      channelNode2: this.channelNode2,
      channelCapacitySat: this.channelCapacitySat,
      edgeFlags: this.edgeFlags,
      feeBaseMsat: this.feeBaseMsat,
      feeProportionalMillionths: this.feeProportionalMillionths,
      cltvExpiryDelta: this.cltvExpiryDelta,
      htlcMinimumMsat: this.htlcMinimumMsat,
      htlcMaximumMsat: this.htlcMaximumMsat,
      updateTimestamp: this.updateTimestamp,
      nodeFlags: this.nodeFlags,
    };
  }

  node(nodeId: Uint8Array | string): NodeInfo | undefined {
    const n = this.nodeIndex(nodeId);
    return n === NO_INDEX ? undefined : this.nodeInfo(n);
  }

  channel(shortChannelId: bigint): ChannelInfo | undefined {
    const c = this.channelIndex(shortChannelId);
    return c === NO_INDEX ? undefined : this.channelInfo(c);
  }

  *channelsOf(nodeId: Uint8Array | string): Iterable<ChannelInfo> {
    const n = this.nodeIndex(nodeId);
    if (n === NO_INDEX) return;
    for (const c of [...this.nodeChannels[n]!]) {
      const info = this.channelInfo(c);
      if (info) yield info;
    }
  }

  *nodes(): Iterable<NodeInfo> {
    for (let n = 0; n < this.nodeSlots; n++) {
      if ((this.nodeFlags[n]! & NODE_LIVE) !== 0) yield this.nodeInfo(n);
    }
  }

  *channels(): Iterable<ChannelInfo> {
    for (let c = 0; c < this.channelSlots; c++) {
      if ((this.channelFlags[c]! & CHANNEL_LIVE) === 0) continue;
      const info = this.channelInfo(c);
      if (info) yield info;
    }
  }

  // ================================================================ reads for the gossip code

  /** Live channel indexes in short_channel_id order (for reply_channel_range). */
  channelIndexesByScid(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.channelSlots; c++) if ((this.channelFlags[c]! & CHANNEL_LIVE) !== 0) out.push(c);
    const scids = this.channelScid;
    return out.sort((a, b) => (scids[a]! < scids[b]! ? -1 : scids[a]! > scids[b]! ? 1 : 0));
  }

  edgeFlagsAt(edge: number): number {
    return this.edgeFlags[edge]!;
  }
  edgeTimestampAt(edge: number): number {
    return this.updateTimestamp[edge]!;
  }
  channelFlagsAt(c: number): number {
    return this.channelFlags[c]!;
  }
  channelNodeAt(c: number, which: 0 | 1): number {
    return which === 0 ? this.channelNode1[c]! : this.channelNode2[c]!;
  }
  channelReceivedAtSec(c: number): number {
    return this.channelReceivedAt[c]!;
  }
  /** The height its funding output was seen spent at, or 0. */
  channelSpentAtHeight(c: number): number {
    return this.channelSpentAt[c]!;
  }
  nodeFlagsAt(n: number): number {
    return this.nodeFlags[n]!;
  }
  /** The timestamp of the node's latest node_announcement (0: none). */
  nodeTimestampAt(n: number): number {
    return this.nodeTimestamp[n]!;
  }
  /** The channel whose funding output this is, or NO_INDEX. */
  channelIndexByOutpoint(txid: Uint8Array, vout: number): number {
    return this.byOutpoint.get(outpointKey(txid, vout)) ?? NO_INDEX;
  }

  /**
   * Whether `update` carries the policy the edge holds ("the fields below `timestamp`", BOLT 7),
   * compared on the columns: its flags' disable bit and the five policy fields.
   */
  sameUpdateFields(edge: number, update: Uint8Array): boolean {
    return (
      ((this.edgeFlags[edge]! & EDGE_DISABLED) !== 0) === ((update[CU_CHANNEL_FLAGS]! & 2) !== 0) &&
      this.cltvExpiryDelta[edge] === u16(update, CU_CLTV_EXPIRY_DELTA) &&
      this.htlcMinimumMsat[edge] === u64Number(update, CU_HTLC_MINIMUM_MSAT) &&
      this.feeBaseMsat[edge] === u32(update, CU_FEE_BASE_MSAT) &&
      this.feeProportionalMillionths[edge] === u32(update, CU_FEE_PROPORTIONAL_MILLIONTHS) &&
      this.htlcMaximumMsat[edge] === u64Number(update, CU_HTLC_MAXIMUM_MSAT)
    );
  }

  /** BOLT 7 `checksums_tlv` value of an edge's update (0 without one). */
  edgeChecksumAt(edge: number): number {
    if ((this.edgeFlags[edge]! & EDGE_HAS_UPDATE) === 0) return 0;
    let sum = this.edgeChecksum[edge]!;
    if (sum !== 0) return sum;
    const raw = this.messages.update(this.channelScid[edge >>> 1]!, (edge & 1) as 0 | 1);
    if (!raw) return 0;
    sum = updateChecksum(raw);
    this.edgeChecksum[edge] = sum;
    return sum;
  }

  // ================================================================ mutations

  /**
   * Adds a channel from its (checked) announcement. `persist: false` when loading from the
   * store it already sits in. Returns its index.
   */
  addChannel(announcement: Uint8Array, extras: ChannelRecordExtras, persist = true): number {
    const o = channelAnnouncementOffsets(announcement);
    if (!o) throw new GossipError('invalid-argument', 'not a channel_announcement');
    const scid = u64(announcement, o.scid);
    if (this.byScid.has(scid)) throw new GossipError('invalid-argument', 'channel already in the graph');
    if (this.channelSlots === this.channelCapacity) this.growChannels();
    const c = this.channelSlots++;
    const n1 = this.ensureNode(announcement, o.nodeId1);
    const n2 = this.ensureNode(announcement, o.nodeId2);
    this.byScid.set(scid, c);
    this.channelScid[c] = scid;
    this.channelNode1[c] = n1;
    this.channelNode2[c] = n2;
    this.channelCapacitySat[c] = extras.capacitySat === undefined ? Number.NaN : Number(extras.capacitySat);
    this.channelReceivedAt[c] = extras.receivedAt >>> 0;
    this.channelSpentAt[c] = extras.spentAtHeight ?? 0;
    let flags = CHANNEL_LIVE;
    if (hasUnknownRequiredFeature(announcement, o.featuresAt, o.featuresLength))
      flags |= CHANNEL_UNKNOWN_REQUIRED_FEATURES;
    if (extras.spentAtHeight !== undefined) flags |= CHANNEL_SPENT;
    this.channelFlags[c] = flags;
    this.nodeChannels[n1]!.push(c);
    this.nodeChannels[n2]!.push(c);
    this.adjacencyEntries += 2;
    if (extras.fundingTxid) {
      this.byOutpoint.set(outpointKey(extras.fundingTxid, Number(scid & 0xffffn)), c);
      this.channelFundingTxid[c] = extras.fundingTxid;
    }
    this.liveChannels++;
    this.changes++;
    if (persist) this.messages.putChannel(scid, { announcement, ...extras });
    return c;
  }

  /** Applies a (checked, newer) channel_update to its channel's direction. */
  applyUpdate(c: number, update: Uint8Array, persist = true): void {
    const dir = update[CU_CHANNEL_FLAGS]! & 1;
    const e = c * 2 + dir;
    this.updateTimestamp[e] = u32(update, CU_TIMESTAMP);
    this.cltvExpiryDelta[e] = u16(update, CU_CLTV_EXPIRY_DELTA);
    this.htlcMinimumMsat[e] = u64Number(update, CU_HTLC_MINIMUM_MSAT);
    this.feeBaseMsat[e] = u32(update, CU_FEE_BASE_MSAT);
    this.feeProportionalMillionths[e] = u32(update, CU_FEE_PROPORTIONAL_MILLIONTHS);
    this.htlcMaximumMsat[e] = u64Number(update, CU_HTLC_MAXIMUM_MSAT);
    this.edgeChecksum[e] = 0;
    let flags = EDGE_HAS_UPDATE;
    if ((update[CU_CHANNEL_FLAGS]! & 2) !== 0) flags |= EDGE_DISABLED;
    this.setEdgeFlags(e, this.withRoutable(e, flags));
    this.changes++;
    if (persist) this.messages.putUpdate(this.channelScid[c]!, dir as 0 | 1, update);
  }

  /** Applies a (checked, newer) node_announcement of a known node. */
  applyNodeAnnouncement(n: number, announcement: Uint8Array, timestamp: number, persist = true): void {
    const flen = u16(announcement, 66);
    const unknown = hasUnknownRequiredFeature(announcement, 68, flen);
    const before = this.nodeFlags[n]!;
    let flags = before | NODE_ANNOUNCED;
    flags = unknown ? flags | NODE_UNKNOWN_REQUIRED_FEATURES : flags & ~NODE_UNKNOWN_REQUIRED_FEATURES;
    this.nodeFlags[n] = flags;
    this.nodeTimestamp[n] = timestamp >>> 0;
    if ((before & NODE_ANNOUNCED) === 0) this.announcedNodes++;
    if ((before ^ flags) & NODE_UNKNOWN_REQUIRED_FEATURES) this.refreshEdgesOf(n);
    this.changes++;
    if (persist) this.messages.putNodeAnnouncement(this.nodeIdAt(n), announcement);
  }

  /** The funding output was spent at `height` (BOLT 7: forgotten 72 blocks later; not routable meanwhile). */
  markSpent(c: number, height: number, persist = true): void {
    if ((this.channelFlags[c]! & CHANNEL_LIVE) === 0) return;
    this.channelFlags[c]! |= CHANNEL_SPENT;
    this.channelSpentAt[c] = height;
    this.refreshChannel(c);
    if (persist) this.persistExtras(c);
  }

  /** The block that spent it was disconnected: the channel is back. */
  clearSpent(c: number, persist = true): void {
    if ((this.channelFlags[c]! & CHANNEL_SPENT) === 0) return;
    this.channelFlags[c]! &= ~CHANNEL_SPENT;
    this.channelSpentAt[c] = 0;
    this.refreshChannel(c);
    if (persist) this.persistExtras(c);
  }

  /** Forgets one direction's update (pruned as stale). */
  removeDirection(c: number, dir: 0 | 1, persist = true): void {
    const e = c * 2 + dir;
    if ((this.edgeFlags[e]! & EDGE_HAS_UPDATE) === 0) return;
    this.setEdgeFlags(e, 0);
    this.updateTimestamp[e] = 0;
    this.edgeChecksum[e] = 0;
    this.changes++;
    if (persist) this.messages.removeUpdate(this.channelScid[c]!, dir);
  }

  /** Removes a channel, and each of its nodes left with no channel (BOLT 7: "MAY purge"). */
  removeChannel(c: number, persist = true): void {
    const flags = this.channelFlags[c]!;
    if ((flags & CHANNEL_LIVE) === 0) return;
    const scid = this.channelScid[c]!;
    this.setEdgeFlags(c * 2, 0);
    this.setEdgeFlags(c * 2 + 1, 0);
    this.channelFlags[c] = 0;
    this.byScid.delete(scid);
    const txid = this.channelFundingTxid[c];
    if (txid !== undefined) {
      this.byOutpoint.delete(outpointKey(txid, Number(scid & 0xffffn)));
      this.channelFundingTxid[c] = undefined;
    }
    for (const n of [this.channelNode1[c]!, this.channelNode2[c]!]) {
      const list = this.nodeChannels[n]!;
      const at = list.indexOf(c);
      if (at >= 0) {
        list.splice(at, 1);
        this.adjacencyEntries--;
      }
      if (list.length === 0) this.removeNode(n, persist);
    }
    this.liveChannels--;
    this.changes++;
    if (persist) this.messages.removeChannel(scid);
  }

  // ================================================================ snapshot (graph-store.ts)

  /**
   * The graph as compact arrays (live channels and nodes only, renumbered from 0), for the
   * store's snapshot: loading one is copying arrays and rebuilding two maps, not reading and
   * decoding a record per message.
   */
  toSnapshot(): GraphSnapshot {
    const nodeMap = new Int32Array(this.nodeSlots).fill(-1);
    let nodeCount = 0;
    for (let n = 0; n < this.nodeSlots; n++)
      if ((this.nodeFlags[n]! & NODE_LIVE) !== 0) nodeMap[n] = nodeCount++;
    const channels: number[] = [];
    for (let c = 0; c < this.channelSlots; c++)
      if ((this.channelFlags[c]! & CHANNEL_LIVE) !== 0) channels.push(c);
    const C = channels.length;
    const s: GraphSnapshot = {
      channelScid: new BigUint64Array(C),
      channelFlags: new Uint8Array(C),
      channelNode1: new Uint32Array(C),
      channelNode2: new Uint32Array(C),
      channelCapacitySat: new Float64Array(C),
      channelReceivedAt: new Uint32Array(C),
      channelSpentAt: new Uint32Array(C),
      fundingChannels: new Uint32Array(this.byOutpoint.size),
      fundingTxids: new Uint8Array(32 * this.byOutpoint.size),
      edgeFlags: new Uint8Array(2 * C),
      feeBaseMsat: new Uint32Array(2 * C),
      feeProportionalMillionths: new Uint32Array(2 * C),
      cltvExpiryDelta: new Uint16Array(2 * C),
      htlcMinimumMsat: new Float64Array(2 * C),
      htlcMaximumMsat: new Float64Array(2 * C),
      updateTimestamp: new Uint32Array(2 * C),
      nodeIds: new Uint8Array(NODE_ID_BYTES * nodeCount),
      nodeFlags: new Uint8Array(nodeCount),
      nodeTimestamp: new Uint32Array(nodeCount),
    };
    let funded = 0;
    channels.forEach((c, i) => {
      s.channelScid[i] = this.channelScid[c]!;
      s.channelFlags[i] = this.channelFlags[c]!;
      s.channelNode1[i] = nodeMap[this.channelNode1[c]!]!;
      s.channelNode2[i] = nodeMap[this.channelNode2[c]!]!;
      s.channelCapacitySat[i] = this.channelCapacitySat[c]!;
      s.channelReceivedAt[i] = this.channelReceivedAt[c]!;
      s.channelSpentAt[i] = this.channelSpentAt[c]!;
      const txid = this.channelFundingTxid[c];
      if (txid) {
        s.fundingChannels[funded] = i;
        s.fundingTxids.set(txid, 32 * funded++);
      }
      for (let d = 0; d < 2; d++) {
        const from = c * 2 + d;
        const to = i * 2 + d;
        s.edgeFlags[to] = this.edgeFlags[from]!;
        s.feeBaseMsat[to] = this.feeBaseMsat[from]!;
        s.feeProportionalMillionths[to] = this.feeProportionalMillionths[from]!;
        s.cltvExpiryDelta[to] = this.cltvExpiryDelta[from]!;
        s.htlcMinimumMsat[to] = this.htlcMinimumMsat[from]!;
        s.htlcMaximumMsat[to] = this.htlcMaximumMsat[from]!;
        s.updateTimestamp[to] = this.updateTimestamp[from]!;
      }
    });
    for (let n = 0; n < this.nodeSlots; n++) {
      const to = nodeMap[n]!;
      if (to < 0) continue;
      s.nodeIds.set(this.nodeIdAt(n), to * NODE_ID_BYTES);
      s.nodeFlags[to] = this.nodeFlags[n]!;
      s.nodeTimestamp[to] = this.nodeTimestamp[n]!;
    }
    return s;
  }

  /** A graph from a snapshot (its arrays are taken over, not copied), reading messages from `messages`. */
  static fromSnapshot(chainHash: Uint8Array, s: GraphSnapshot, messages: GossipMessageStore): NetworkGraph {
    const C = s.channelScid.length;
    const N = s.nodeFlags.length;
    const g = new NetworkGraph({ chainHash, messages, expectedChannels: 16, expectedNodes: 16 });
    g.channelCapacity = Math.max(C, 16);
    g.nodeCapacity = Math.max(N, 16);
    const fit = <T extends Typed>(a: T, size: number): T => (a.length >= size ? a : grown(a, size));
    g.channelScid = fit(s.channelScid, g.channelCapacity);
    g.channelFlags = fit(s.channelFlags, g.channelCapacity);
    g.channelNode1 = fit(s.channelNode1, g.channelCapacity);
    g.channelNode2 = fit(s.channelNode2, g.channelCapacity);
    g.channelCapacitySat = fit(s.channelCapacitySat, g.channelCapacity);
    g.channelReceivedAt = fit(s.channelReceivedAt, g.channelCapacity);
    g.channelSpentAt = fit(s.channelSpentAt, g.channelCapacity);
    g.edgeFlags = fit(s.edgeFlags, 2 * g.channelCapacity);
    g.feeBaseMsat = fit(s.feeBaseMsat, 2 * g.channelCapacity);
    g.feeProportionalMillionths = fit(s.feeProportionalMillionths, 2 * g.channelCapacity);
    g.cltvExpiryDelta = fit(s.cltvExpiryDelta, 2 * g.channelCapacity);
    g.htlcMinimumMsat = fit(s.htlcMinimumMsat, 2 * g.channelCapacity);
    g.htlcMaximumMsat = fit(s.htlcMaximumMsat, 2 * g.channelCapacity);
    g.updateTimestamp = fit(s.updateTimestamp, 2 * g.channelCapacity);
    g.edgeChecksum = new Uint32Array(2 * g.channelCapacity);
    g.nodeIds = fit(s.nodeIds, NODE_ID_BYTES * g.nodeCapacity);
    g.nodeFlags = fit(s.nodeFlags, g.nodeCapacity);
    g.nodeTimestamp = fit(s.nodeTimestamp, g.nodeCapacity);
    g.channelSlots = C;
    g.nodeSlots = N;
    for (let n = 0; n < N; n++) {
      g.nodeChannels[n] = [];
      g.byNodeKey.set(nodeKeyAt(g.nodeIds, n * NODE_ID_BYTES), n);
      g.liveNodes++;
      if ((g.nodeFlags[n]! & NODE_ANNOUNCED) !== 0) g.announcedNodes++;
    }
    for (let c = 0; c < C; c++) {
      g.byScid.set(g.channelScid[c]!, c);
      g.nodeChannels[g.channelNode1[c]!]!.push(c);
      g.nodeChannels[g.channelNode2[c]!]!.push(c);
      g.adjacencyEntries += 2;
      g.liveChannels++;
      for (let e = c * 2; e < c * 2 + 2; e++) {
        if ((g.edgeFlags[e]! & EDGE_HAS_UPDATE) !== 0) g.edgesWithUpdate++;
        if ((g.edgeFlags[e]! & EDGE_ROUTABLE) !== 0) g.routableEdges++;
      }
    }
    for (let k = 0; k < s.fundingChannels.length; k++) {
      const c = s.fundingChannels[k]!;
      const txid = s.fundingTxids.slice(32 * k, 32 * k + 32);
      g.channelFundingTxid[c] = txid;
      g.byOutpoint.set(outpointKey(txid, Number(g.channelScid[c]! & 0xffffn)), c);
    }
    return g;
  }

  /** Sets what the chain said of a channel (a record read back after a snapshot), without writing it. */
  restoreExtras(c: number, extras: ChannelRecordExtras): void {
    this.channelCapacitySat[c] = extras.capacitySat === undefined ? Number.NaN : Number(extras.capacitySat);
    this.channelReceivedAt[c] = extras.receivedAt >>> 0;
    const spent = extras.spentAtHeight ?? 0;
    if (spent !== 0) this.markSpent(c, spent, false);
    else this.clearSpent(c, false);
    this.refreshChannel(c);
  }

  // ================================================================ internals

  private removeNode(n: number, persist: boolean): void {
    const flags = this.nodeFlags[n]!;
    if ((flags & NODE_LIVE) === 0) return;
    const id = this.nodeIdAt(n);
    if ((flags & NODE_ANNOUNCED) !== 0) {
      this.announcedNodes--;
      if (persist) this.messages.removeNodeAnnouncement(id);
    }
    this.byNodeKey.delete(nodeKeyAt(id, 0));
    this.nodeFlags[n] = 0;
    this.nodeTimestamp[n] = 0;
    this.liveNodes--;
  }

  private ensureNode(b: Uint8Array, o: number): number {
    const key = nodeKeyAt(b, o);
    const known = this.byNodeKey.get(key);
    if (known !== undefined) return known;
    if (this.nodeSlots === this.nodeCapacity) this.growNodes();
    const n = this.nodeSlots++;
    this.nodeIds.set(b.subarray(o, o + NODE_ID_BYTES), n * NODE_ID_BYTES);
    this.nodeFlags[n] = NODE_LIVE;
    this.nodeChannels[n] = [];
    this.byNodeKey.set(key, n);
    this.liveNodes++;
    return n;
  }

  /** `flags` with EDGE_ROUTABLE set or cleared by the rules in graph-view.ts. */
  private withRoutable(e: number, flags: number): number {
    const c = e >>> 1;
    const source = (e & 1) === 0 ? this.channelNode1[c]! : this.channelNode2[c]!;
    const capacityMsat = this.channelCapacitySat[c]! * 1000;
    const max = this.htlcMaximumMsat[e]!;
    const ok =
      (flags & (EDGE_HAS_UPDATE | EDGE_DISABLED)) === EDGE_HAS_UPDATE &&
      (this.channelFlags[c]! & (CHANNEL_LIVE | CHANNEL_SPENT | CHANNEL_UNKNOWN_REQUIRED_FEATURES)) ===
        CHANNEL_LIVE &&
      max >= this.htlcMinimumMsat[e]! &&
      !(max > capacityMsat) && // NaN capacity (unknown) compares false: allowed
      (this.nodeFlags[source]! & NODE_UNKNOWN_REQUIRED_FEATURES) === 0;
    return ok ? flags | EDGE_ROUTABLE : flags & ~EDGE_ROUTABLE;
  }

  private setEdgeFlags(e: number, flags: number): void {
    const before = this.edgeFlags[e]!;
    if (before === flags) return;
    this.edgeFlags[e] = flags;
    this.edgesWithUpdate +=
      ((flags & EDGE_HAS_UPDATE) !== 0 ? 1 : 0) - ((before & EDGE_HAS_UPDATE) !== 0 ? 1 : 0);
    this.routableEdges += ((flags & EDGE_ROUTABLE) !== 0 ? 1 : 0) - ((before & EDGE_ROUTABLE) !== 0 ? 1 : 0);
  }

  private refreshChannel(c: number): void {
    this.setEdgeFlags(c * 2, this.withRoutable(c * 2, this.edgeFlags[c * 2]!));
    this.setEdgeFlags(c * 2 + 1, this.withRoutable(c * 2 + 1, this.edgeFlags[c * 2 + 1]!));
    this.changes++;
  }

  /** The edges a node forwards onto (its source side of each channel). */
  private refreshEdgesOf(n: number): void {
    for (const c of this.nodeChannels[n]!) {
      const e = this.channelNode1[c] === n ? c * 2 : c * 2 + 1;
      this.setEdgeFlags(e, this.withRoutable(e, this.edgeFlags[e]!));
    }
  }

  private persistExtras(c: number): void {
    const scid = this.channelScid[c]!;
    const stored = this.messages.channel(scid);
    if (!stored) return;
    const spent = this.channelSpentAt[c]!;
    const { spentAtHeight: _old, ...rest } = stored;
    this.messages.putChannel(scid, spent !== 0 ? { ...rest, spentAtHeight: spent } : rest);
  }

  private growChannels(): void {
    const c = this.channelCapacity * 2;
    this.channelCapacity = c;
    this.channelScid = grown(this.channelScid, c);
    this.channelFlags = grown(this.channelFlags, c);
    this.channelNode1 = grown(this.channelNode1, c);
    this.channelNode2 = grown(this.channelNode2, c);
    this.channelCapacitySat = grown(this.channelCapacitySat, c, Number.NaN);
    this.channelReceivedAt = grown(this.channelReceivedAt, c);
    this.channelSpentAt = grown(this.channelSpentAt, c);
    this.edgeFlags = grown(this.edgeFlags, 2 * c);
    this.feeBaseMsat = grown(this.feeBaseMsat, 2 * c);
    this.feeProportionalMillionths = grown(this.feeProportionalMillionths, 2 * c);
    this.cltvExpiryDelta = grown(this.cltvExpiryDelta, 2 * c);
    this.htlcMinimumMsat = grown(this.htlcMinimumMsat, 2 * c);
    this.htlcMaximumMsat = grown(this.htlcMaximumMsat, 2 * c);
    this.updateTimestamp = grown(this.updateTimestamp, 2 * c);
    this.edgeChecksum = grown(this.edgeChecksum, 2 * c);
  }

  private growNodes(): void {
    const n = this.nodeCapacity * 2;
    this.nodeCapacity = n;
    this.nodeIds = grown(this.nodeIds, NODE_ID_BYTES * n);
    this.nodeFlags = grown(this.nodeFlags, n);
    this.nodeTimestamp = grown(this.nodeTimestamp, n);
  }

  private checkNodeIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.nodeSlots)
      throw new GossipError('invalid-argument', `no node has index ${index}`);
  }

  private checkChannelIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.channelSlots)
      throw new GossipError('invalid-argument', `no channel has index ${index}`);
  }

  private nodeInfo(n: number): NodeInfo {
    const nodeId = new Uint8Array(this.nodeIdAt(n));
    const raw =
      (this.nodeFlags[n]! & NODE_ANNOUNCED) !== 0 ? this.messages.nodeAnnouncement(nodeId) : undefined;
    return {
      nodeId,
      index: n,
      channelCount: this.nodeChannels[n]!.length,
      announcement: raw ? announcementInfo(raw) : undefined,
    };
  }

  private channelInfo(c: number): ChannelInfo | undefined {
    if ((this.channelFlags[c]! & CHANNEL_LIVE) === 0) return undefined;
    const scid = this.channelScid[c]!;
    const stored = this.messages.channel(scid);
    const o = stored ? channelAnnouncementOffsets(stored.announcement) : undefined;
    if (!stored || !o) return undefined;
    const a = stored.announcement;
    const cap = this.channelCapacitySat[c]!;
    const spent = this.channelSpentAt[c]!;
    return {
      shortChannelId: scid,
      index: c,
      nodeId1: a.slice(o.nodeId1, o.nodeId1 + 33),
      nodeId2: a.slice(o.nodeId2, o.nodeId2 + 33),
      bitcoinKey1: a.slice(o.bitcoinKey1, o.bitcoinKey1 + 33),
      bitcoinKey2: a.slice(o.bitcoinKey2, o.bitcoinKey2 + 33),
      features: a.slice(o.featuresAt, o.featuresAt + o.featuresLength),
      capacitySat: Number.isNaN(cap) ? undefined : BigInt(cap),
      spentAtHeight: spent === 0 ? undefined : spent,
      directions: [this.policy(c, 0), this.policy(c, 1)],
    };
  }

  private policy(c: number, dir: 0 | 1): ChannelPolicy | undefined {
    const e = c * 2 + dir;
    const flags = this.edgeFlags[e]!;
    if ((flags & EDGE_HAS_UPDATE) === 0) return undefined;
    const raw = this.messages.update(this.channelScid[c]!, dir);
    return {
      timestamp: this.updateTimestamp[e]!,
      messageFlags: raw ? raw[CU_MESSAGE_FLAGS]! : 1,
      channelFlags: raw ? raw[CU_CHANNEL_FLAGS]! : dir | ((flags & EDGE_DISABLED) !== 0 ? 2 : 0),
      disabled: (flags & EDGE_DISABLED) !== 0,
      cltvExpiryDelta: this.cltvExpiryDelta[e]!,
      htlcMinimumMsat: raw ? u64(raw, CU_HTLC_MINIMUM_MSAT) : BigInt(this.htlcMinimumMsat[e]!),
      htlcMaximumMsat: raw ? u64(raw, CU_HTLC_MAXIMUM_MSAT) : BigInt(this.htlcMaximumMsat[e]!),
      feeBaseMsat: this.feeBaseMsat[e]!,
      feeProportionalMillionths: this.feeProportionalMillionths[e]!,
      routable: (flags & EDGE_ROUTABLE) !== 0,
    };
  }
}
