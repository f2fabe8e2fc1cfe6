/**
 * The read side of the network graph: what the router, the scorer and the API see.
 *
 * Two ways in:
 * - **Objects** (`node`, `channel`, `channelsOf`, `nodes`, `channels`): one fresh, plain object
 *   per call, exact values (`bigint` msat), for the API and for code that is not hot.
 * - **Indexes and columns** (`nodeIndex`, `channelIndex`, `channelIndexesOf`, `columns`): every
 *   node and channel has a small integer index, and every field the pathfinder reads sits in a
 *   typed array indexed by it, so a route search allocates nothing per edge it looks at.
 *
 * Indexes. A node index is in `0 .. columns().nodeLimit - 1`, a channel index in
 * `0 .. columns().channelLimit - 1`. A directed edge (one direction of a channel: the policy
 * its source node set with a channel_update) is `channelIndex * 2 + direction`, where
 * direction 0 is from `node_id_1` to `node_id_2` (BOLT 7: "the `direction` bit of
 * `channel_flags`" is 0 for updates from `node_id_1`). An index stays the same thing for as
 * long as the graph object lives: a removed channel or node leaves its slot empty and the slot is
 * never reused, so a router may keep indexes (in a scorer cache, say) across graph changes. A
 * restart renumbers everything: persist scids and node ids, never indexes.
 *
 * Threads. The graph lives in the gossip actor's thread and changes only between two of its
 * messages, so within one synchronous call (one route search) nothing changes. `columns()` may
 * return new arrays after the graph grows: fetch it at the start of each search, and do not keep
 * it across an `await`. `version()` moves on every change, so a router can cache what it derives
 * from the graph (a CSR adjacency, a reverse index) and rebuild it only when the version moved.
 */
import type { NodeAddress } from '@lnkit/wire';

/** What `nodeIndex` / `channelIndex` answer for an unknown node or channel. */
export const NO_INDEX = -1;

/** The directed edge of `channelIndex` in `direction` (0: node 1 → node 2; 1: node 2 → node 1). */
export function edgeIndex(channelIndex: number, direction: 0 | 1): number {
  return channelIndex * 2 + direction;
}
/** The channel index of a directed edge. */
export function edgeChannel(edge: number): number {
  return edge >>> 1;
}
/** The direction of a directed edge (0 or 1). */
export function edgeDirection(edge: number): 0 | 1 {
  return (edge & 1) as 0 | 1;
}

// ---- Flags --------------------------------------------------------------------------------

/** `channelFlags`: the slot holds a channel (it was not removed). */
export const CHANNEL_LIVE = 1;
/**
 * `channelFlags`: the channel_announcement's features have an unknown even bit (BOLT 7: "MUST
 * NOT attempt to route messages through the channel").
 */
export const CHANNEL_UNKNOWN_REQUIRED_FEATURES = 2;
/** `channelFlags`: the funding output is known to be spent (kept for BOLT 7's 72-block delay, not routable). */
export const CHANNEL_SPENT = 4;

/** `edgeFlags`: a channel_update for this direction was received (the policy columns hold it). */
export const EDGE_HAS_UPDATE = 1;
/** `edgeFlags`: the update's `disable` bit (BOLT 7 `channel_flags` bit 1). */
export const EDGE_DISABLED = 2;
/**
 * `edgeFlags`: the router may use this edge. Set when all of these hold, and kept up to date
 * when any of them changes:
 * - it has an update and the update's `disable` bit is 0;
 * - `htlc_maximum_msat` ≥ `htlc_minimum_msat` (BOLT 7: "if `htlc_maximum_msat` <
 *   `htlc_minimum_msat`: SHOULD ignore this channel during route considerations");
 * - `htlc_maximum_msat` ≤ the capacity, when the capacity is known (BOLT 7: "if
 *   `htlc_maximum_msat` is greater than channel capacity: ... SHOULD ignore this channel");
 * - the channel is live, not spent, and has no unknown even feature bit;
 * - its source node (the node forwarding onto it) has not announced unknown even feature bits
 *   (BOLT 7 node_announcement: "MUST NOT route a payment _through_ the node").
 */
export const EDGE_ROUTABLE = 4;

/** `nodeFlags`: the slot holds a node (it has at least one channel). */
export const NODE_LIVE = 1;
/** `nodeFlags`: a valid node_announcement was received. */
export const NODE_ANNOUNCED = 2;
/** `nodeFlags`: its node_announcement has unknown even feature bits (see EDGE_ROUTABLE). */
export const NODE_UNKNOWN_REQUIRED_FEATURES = 4;

/**
 * The graph as typed arrays, indexed by node, channel or directed edge index. Read-only for the
 * caller; valid until the graph next changes (see the file comment). Amounts are `number`
 * here (msat as a double: exact below 2^53 msat, 90,000 BTC, far above any real HTLC bound); the
 * objects from `channel()` carry the exact `bigint`s.
 */
export interface GraphColumns {
  /** Channel indexes in use are below this. */
  readonly channelLimit: number;
  /** Node indexes in use are below this. */
  readonly nodeLimit: number;

  // Per channel index.
  readonly channelFlags: Uint8Array;
  /** Node index of `node_id_1` (the lesser node id). */
  readonly channelNode1: Uint32Array;
  /** Node index of `node_id_2`. */
  readonly channelNode2: Uint32Array;
  /** The funding output's value in satoshis; NaN when no chain source told us. */
  readonly channelCapacitySat: Float64Array;

  // Per directed edge index (channel * 2 + direction).
  readonly edgeFlags: Uint8Array;
  readonly feeBaseMsat: Uint32Array;
  readonly feeProportionalMillionths: Uint32Array;
  readonly cltvExpiryDelta: Uint16Array;
  readonly htlcMinimumMsat: Float64Array;
  readonly htlcMaximumMsat: Float64Array;
  /** The update's `timestamp` (seconds); 0 without an update. */
  readonly updateTimestamp: Uint32Array;

  // Per node index.
  readonly nodeFlags: Uint8Array;
}

/** One direction's forwarding policy, from its latest channel_update (BOLT 7 field names). */
export interface ChannelPolicy {
  readonly timestamp: number;
  readonly messageFlags: number;
  readonly channelFlags: number;
  /** The `disable` bit of `channel_flags`. */
  readonly disabled: boolean;
  readonly cltvExpiryDelta: number;
  readonly htlcMinimumMsat: bigint;
  readonly htlcMaximumMsat: bigint;
  readonly feeBaseMsat: number;
  readonly feeProportionalMillionths: number;
  /** EDGE_ROUTABLE for this direction. */
  readonly routable: boolean;
}

export interface ChannelInfo {
  readonly shortChannelId: bigint;
  readonly index: number;
  /** 33-byte compressed keys; node 1 is the lexicographically lesser (BOLT 7). */
  readonly nodeId1: Uint8Array;
  readonly nodeId2: Uint8Array;
  readonly bitcoinKey1: Uint8Array;
  readonly bitcoinKey2: Uint8Array;
  /** The channel_announcement's `features` as sent. */
  readonly features: Uint8Array;
  /** From the funding output, when a chain source was given. */
  readonly capacitySat: bigint | undefined;
  /** Height at which its funding output was seen spent (the channel goes 72 blocks later, BOLT 7). */
  readonly spentAtHeight: number | undefined;
  /** [direction 0 (set by node 1), direction 1 (set by node 2)]. */
  readonly directions: readonly [ChannelPolicy | undefined, ChannelPolicy | undefined];
}

export interface NodeAnnouncementInfo {
  readonly timestamp: number;
  readonly features: Uint8Array;
  /** The alias as text (display only: sanitize before rendering, BOLT 7 "Security Considerations"). */
  readonly alias: string;
  readonly rgbColor: Uint8Array;
  /** Known descriptors only, in the order sent (an unknown one and what follows it are dropped). */
  readonly addresses: readonly NodeAddress[];
}

export interface NodeInfo {
  readonly nodeId: Uint8Array;
  readonly index: number;
  readonly channelCount: number;
  readonly announcement: NodeAnnouncementInfo | undefined;
}

export interface GraphStats {
  readonly nodes: number;
  readonly announcedNodes: number;
  readonly channels: number;
  /** Directed edges with a channel_update. */
  readonly directions: number;
  /** Directed edges with EDGE_ROUTABLE. */
  readonly routableDirections: number;
  /** Bytes held by the graph's columns, indexes and stored messages (an estimate, not the heap). */
  readonly memoryBytes: number;
}

export interface GraphView {
  /** The chain the graph is of (BOLT 7 `chain_hash`). */
  readonly chainHash: Uint8Array;
  /** Moves on every change (a router's cache key). */
  version(): number;
  stats(): GraphStats;

  /** A node id as 33 bytes or hex; NO_INDEX if unknown. */
  nodeIndex(nodeId: Uint8Array | string): number;
  /** The 33-byte node id of a node index (a view: do not modify). Throws for an index never used. */
  nodeIdAt(index: number): Uint8Array;
  channelIndex(shortChannelId: bigint): number;
  /** The short_channel_id of a channel index. Throws for an index never used. */
  shortChannelIdAt(index: number): bigint;
  /** Channel indexes of a node index's channels (a view: do not modify; no allocation). */
  channelIndexesOf(nodeIndex: number): readonly number[];
  columns(): GraphColumns;

  node(nodeId: Uint8Array | string): NodeInfo | undefined;
  channel(shortChannelId: bigint): ChannelInfo | undefined;
  channelsOf(nodeId: Uint8Array | string): Iterable<ChannelInfo>;
  nodes(): Iterable<NodeInfo>;
  channels(): Iterable<ChannelInfo>;
}
