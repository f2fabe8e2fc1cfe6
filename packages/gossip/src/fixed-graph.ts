/**
 * A GraphView built once from plain channel data, with no messages behind it: hand-built graphs
 * for router tests, a topology file for the route benchmark, or a snapshot taken elsewhere. It
 * applies the same routability rules as the network graph (graph-view.ts, EDGE_ROUTABLE) and
 * never changes after construction (`version()` is 0), so a router's caches built over it stay
 * valid for its whole life.
 */
import { GossipError } from './errors.ts';
import {
  CHANNEL_LIVE,
  type ChannelInfo,
  type ChannelPolicy,
  EDGE_DISABLED,
  EDGE_HAS_UPDATE,
  EDGE_ROUTABLE,
  type GraphColumns,
  type GraphStats,
  type GraphView,
  NO_INDEX,
  NODE_LIVE,
  type NodeInfo,
} from './graph-view.ts';

/** One direction's policy, as a channel_update would carry it. */
export interface FixedPolicy {
  readonly feeBaseMsat: number;
  readonly feeProportionalMillionths: number;
  readonly cltvExpiryDelta: number;
  readonly htlcMinimumMsat: bigint;
  readonly htlcMaximumMsat: bigint;
  /** The update's `disable` bit. */
  readonly disabled?: boolean;
  readonly timestamp?: number;
}

/** A channel between two nodes given in any order; the graph orders them as BOLT 7 does. */
export interface FixedChannel {
  readonly shortChannelId: bigint;
  /** 33-byte node ids. */
  readonly nodeA: Uint8Array;
  readonly nodeB: Uint8Array;
  readonly capacitySat?: bigint;
  /** The policy nodeA set for forwarding to nodeB (absent: no update for that direction). */
  readonly aToB?: FixedPolicy;
  readonly bToA?: FixedPolicy;
}

export interface FixedGraphOptions {
  readonly chainHash?: Uint8Array;
  readonly channels: Iterable<FixedChannel>;
}

const NO_KEY = new Uint8Array(33);
const NO_FEATURES = new Uint8Array(0);

const keyOf = (id: Uint8Array): string => Buffer.from(id.buffer, id.byteOffset, id.length).toString('hex');

function lessThan(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 33; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** A GraphView over fixed channel data (see the file comment). */
export class FixedGraph implements GraphView {
  readonly chainHash: Uint8Array;
  private readonly cols: GraphColumns;
  private readonly nodeIds: Uint8Array[] = [];
  private readonly byNode = new Map<string, number>();
  private readonly byScid = new Map<bigint, number>();
  private readonly scids: bigint[] = [];
  private readonly adjacency: number[][] = [];
  private readonly policies: (FixedPolicy | undefined)[] = [];
  private readonly capacities: (bigint | undefined)[] = [];
  private readonly counts: GraphStats;

  constructor(options: FixedGraphOptions) {
    this.chainHash = new Uint8Array(options.chainHash ?? new Uint8Array(32));
    const channels = [...options.channels];
    const n = channels.length;
    const node1 = new Uint32Array(n);
    const node2 = new Uint32Array(n);
    const capacitySat = new Float64Array(n).fill(Number.NaN);
    const edgeFlags = new Uint8Array(2 * n);
    const feeBaseMsat = new Uint32Array(2 * n);
    const feeProportionalMillionths = new Uint32Array(2 * n);
    const cltvExpiryDelta = new Uint16Array(2 * n);
    const htlcMinimumMsat = new Float64Array(2 * n);
    const htlcMaximumMsat = new Float64Array(2 * n);
    const updateTimestamp = new Uint32Array(2 * n);
    let directions = 0;
    let routable = 0;
    channels.forEach((ch, c) => {
      if (ch.nodeA.length !== 33 || ch.nodeB.length !== 33 || keyOf(ch.nodeA) === keyOf(ch.nodeB))
        throw new GossipError(
          'invalid-argument',
          `channel ${ch.shortChannelId}: two distinct 33-byte node ids needed`,
        );
      if (this.byScid.has(ch.shortChannelId))
        throw new GossipError('invalid-argument', `channel ${ch.shortChannelId} given twice`);
      this.byScid.set(ch.shortChannelId, c);
      this.scids.push(ch.shortChannelId);
      // BOLT 7: node_id_1 is the lesser id, and direction 0 is the update node_id_1 sends.
      const aFirst = lessThan(ch.nodeA, ch.nodeB);
      const [id1, id2] = aFirst ? [ch.nodeA, ch.nodeB] : [ch.nodeB, ch.nodeA];
      const [p0, p1] = aFirst ? [ch.aToB, ch.bToA] : [ch.bToA, ch.aToB];
      node1[c] = this.nodeFor(id1, c);
      node2[c] = this.nodeFor(id2, c);
      if (ch.capacitySat !== undefined) capacitySat[c] = Number(ch.capacitySat);
      this.capacities.push(ch.capacitySat);
      for (const [dir, p] of [p0, p1].entries()) {
        const e = 2 * c + dir;
        this.policies.push(p);
        if (!p) continue;
        directions++;
        feeBaseMsat[e] = p.feeBaseMsat;
        feeProportionalMillionths[e] = p.feeProportionalMillionths;
        cltvExpiryDelta[e] = p.cltvExpiryDelta;
        htlcMinimumMsat[e] = Number(p.htlcMinimumMsat);
        htlcMaximumMsat[e] = Number(p.htlcMaximumMsat);
        updateTimestamp[e] = p.timestamp ?? 0;
        let flags = EDGE_HAS_UPDATE;
        if (p.disabled) flags |= EDGE_DISABLED;
        // The same rules as the network graph's EDGE_ROUTABLE (graph-view.ts).
        const fits =
          p.htlcMaximumMsat >= p.htlcMinimumMsat &&
          (ch.capacitySat === undefined || p.htlcMaximumMsat <= ch.capacitySat * 1000n);
        if (!p.disabled && fits) {
          flags |= EDGE_ROUTABLE;
          routable++;
        }
        edgeFlags[e] = flags;
      }
    });
    const nodes = this.nodeIds.length;
    this.cols = {
      channelLimit: n,
      nodeLimit: nodes,
      channelFlags: new Uint8Array(n).fill(CHANNEL_LIVE),
      channelNode1: node1,
      channelNode2: node2,
      channelCapacitySat: capacitySat,
      edgeFlags,
      feeBaseMsat,
      feeProportionalMillionths,
      cltvExpiryDelta,
      htlcMinimumMsat,
      htlcMaximumMsat,
      updateTimestamp,
      nodeFlags: new Uint8Array(nodes).fill(NODE_LIVE),
    };
    this.counts = {
      nodes,
      announcedNodes: 0,
      channels: n,
      directions,
      routableDirections: routable,
      memoryBytes: n * 50 + 2 * n * 40 + nodes * 33,
    };
  }

  private nodeFor(id: Uint8Array, channel: number): number {
    const key = keyOf(id);
    let i = this.byNode.get(key);
    if (i === undefined) {
      i = this.nodeIds.length;
      this.byNode.set(key, i);
      this.nodeIds.push(new Uint8Array(id));
      this.adjacency.push([]);
    }
    this.adjacency[i]!.push(channel);
    return i;
  }

  version(): number {
    return 0;
  }
  stats(): GraphStats {
    return this.counts;
  }
  nodeIndex(nodeId: Uint8Array | string): number {
    const key = typeof nodeId === 'string' ? nodeId.toLowerCase() : keyOf(nodeId);
    return this.byNode.get(key) ?? NO_INDEX;
  }
  nodeIdAt(index: number): Uint8Array {
    const id = this.nodeIds[index];
    if (!id) throw new GossipError('invalid-argument', `no node at index ${index}`);
    return id;
  }
  channelIndex(shortChannelId: bigint): number {
    return this.byScid.get(shortChannelId) ?? NO_INDEX;
  }
  shortChannelIdAt(index: number): bigint {
    const scid = this.scids[index];
    if (scid === undefined) throw new GossipError('invalid-argument', `no channel at index ${index}`);
    return scid;
  }
  channelIndexesOf(nodeIndex: number): readonly number[] {
    const list = this.adjacency[nodeIndex];
    if (!list) throw new GossipError('invalid-argument', `no node at index ${nodeIndex}`);
    return list;
  }
  columns(): GraphColumns {
    return this.cols;
  }

  node(nodeId: Uint8Array | string): NodeInfo | undefined {
    const i = this.nodeIndex(nodeId);
    return i === NO_INDEX ? undefined : this.nodeAt(i);
  }
  channel(shortChannelId: bigint): ChannelInfo | undefined {
    const c = this.channelIndex(shortChannelId);
    return c === NO_INDEX ? undefined : this.channelAt(c);
  }
  *channelsOf(nodeId: Uint8Array | string): Iterable<ChannelInfo> {
    const i = this.nodeIndex(nodeId);
    if (i === NO_INDEX) return;
    for (const c of this.adjacency[i]!) yield this.channelAt(c);
  }
  *nodes(): Iterable<NodeInfo> {
    for (let i = 0; i < this.nodeIds.length; i++) yield this.nodeAt(i);
  }
  *channels(): Iterable<ChannelInfo> {
    for (let c = 0; c < this.scids.length; c++) yield this.channelAt(c);
  }

  private nodeAt(i: number): NodeInfo {
    return {
      nodeId: new Uint8Array(this.nodeIds[i]!),
      index: i,
      channelCount: this.adjacency[i]!.length,
      announcement: undefined,
    };
  }

  private channelAt(c: number): ChannelInfo {
    const policy = (dir: 0 | 1): ChannelPolicy | undefined => {
      const p = this.policies[2 * c + dir];
      if (!p) return undefined;
      return {
        timestamp: p.timestamp ?? 0,
        messageFlags: 1,
        channelFlags: dir | (p.disabled ? 2 : 0),
        disabled: p.disabled ?? false,
        cltvExpiryDelta: p.cltvExpiryDelta,
        htlcMinimumMsat: p.htlcMinimumMsat,
        htlcMaximumMsat: p.htlcMaximumMsat,
        feeBaseMsat: p.feeBaseMsat,
        feeProportionalMillionths: p.feeProportionalMillionths,
        routable: (this.cols.edgeFlags[2 * c + dir]! & EDGE_ROUTABLE) !== 0,
      };
    };
    return {
      shortChannelId: this.scids[c]!,
      index: c,
      nodeId1: new Uint8Array(this.nodeIds[this.cols.channelNode1[c]!]!),
      nodeId2: new Uint8Array(this.nodeIds[this.cols.channelNode2[c]!]!),
      bitcoinKey1: NO_KEY,
      bitcoinKey2: NO_KEY,
      features: NO_FEATURES,
      capacitySat: this.capacities[c],
      spentAtHeight: undefined,
      directions: [policy(0), policy(1)],
    };
  }
}
