/**
 * The node's view of the network graph and its routes (step 12), as LnkitNode answers them:
 * what the gossip actor holds, in pages for the big lists (the mainnet graph is 50,000
 * channels), and routes from this node over it. Shapes are JSON-friendly: hex for bytes,
 * `BLOCKxTXxOUTPUT` for a short_channel_id, bigint msat (strings in the daemon's JSON).
 */
import type { channelJson, GossipSyncStats, GraphStats, nodeJson, Route } from '@lnkit/gossip';
import { formatShortChannelId } from '@lnkit/wire';
import type { GossipActor, NodeRouter } from './context.ts';

export type GraphNode = ReturnType<typeof nodeJson>;
export type GraphChannel = ReturnType<typeof channelJson>;

export interface GraphInfo {
  /** Nodes with a channel; `announcedNodes` of them sent a node_announcement. */
  nodes: number;
  announcedNodes: number;
  channels: number;
  /** Directions with a channel_update; `routableDirections` of them a router may use. */
  directions: number;
  routableDirections: number;
  /** The graph's own estimate of what it holds in memory (columns, maps, adjacency). */
  memoryBytes: number;
  /** When the last range sync with a peer completed, since this node started (ISO 8601); null if none. */
  lastSyncAt: string | null;
  /** Whether the node still wants a whole graph from its first peers (a first start, or a graph two weeks old). */
  initialSyncNeeded: boolean;
  /** Peers the gossip sync knows, and those a range sync runs with now. */
  peers: number;
  syncingWith: string[];
  /** Gossip received and not checked yet: messages waiting, and batches being checked. */
  inbox: number;
  batchesInFlight: number;
  /** Graph writes not on disk yet: 0 means what is shown would survive a crash. */
  pendingWrites: number;
  /** Gossip received, by message kind and outcome (accepted, stale, bad-signature, ...). */
  counters: GossipSyncStats['counters'];
}

export interface GraphPage<T> {
  items: T[];
  /** Pass as `after` for the next page; null on the last. */
  next: number | null;
}

export interface GraphPageOptions {
  /** At most this many (default 1000). */
  limit?: number;
  /** Start after this index (a page's `next`). */
  after?: number;
}

export const DEFAULT_GRAPH_PAGE = 1000;

/** The final CLTV delta of a query that names none: BOLT 11's default `c`. */
export const DEFAULT_FINAL_CLTV_EXPIRY_DELTA = 18;

export async function graphInfo(gossip: GossipActor): Promise<GraphInfo> {
  const s: GraphStats & GossipSyncStats = await gossip.ref.graphInfo();
  return {
    nodes: s.nodes,
    announcedNodes: s.announcedNodes,
    channels: s.channels,
    directions: s.directions,
    routableDirections: s.routableDirections,
    memoryBytes: s.memoryBytes,
    lastSyncAt: s.lastSyncAt === undefined ? null : new Date(s.lastSyncAt).toISOString(),
    initialSyncNeeded: s.initialSyncNeeded,
    peers: s.peers,
    syncingWith: s.syncingWith,
    inbox: s.inbox,
    batchesInFlight: s.batchesInFlight,
    pendingWrites: s.store?.pendingWrites ?? 0,
    counters: s.counters,
  };
}

/** One page of a list in index order: one more than asked is fetched, to know whether it is the last. */
async function page<T extends { index: number }>(
  list: (o: { limit: number; after?: number }) => Promise<T[]>,
  options: GraphPageOptions,
): Promise<GraphPage<T>> {
  const limit = options.limit ?? DEFAULT_GRAPH_PAGE;
  const got = await list({
    limit: limit + 1,
    ...(options.after !== undefined ? { after: options.after } : {}),
  });
  const items = got.slice(0, limit);
  return { items, next: got.length > limit ? items.at(-1)!.index : null };
}

export const listNodes = (gossip: GossipActor, options: GraphPageOptions = {}) =>
  page<GraphNode>((o) => gossip.ref.listNodes(o), options);

export const listChannels = (gossip: GossipActor, options: GraphPageOptions = {}) =>
  page<GraphChannel>((o) => gossip.ref.listChannels(o), options);

/** A node of the graph with its channels; undefined if the graph does not know it. */
export async function getNode(
  gossip: GossipActor,
  nodeIdHex: string,
): Promise<{ node: GraphNode; channels: GraphChannel[] } | undefined> {
  const id = nodeIdHex.toLowerCase();
  const [node, channels] = await Promise.all([gossip.ref.node(id), gossip.ref.channelsOf(id)]);
  return node ? { node, channels } : undefined;
}

export interface QueryRoutesOptions {
  /** Total fee limit; default 1 % + 50 sat (the router's). */
  maxFeeMsat?: bigint;
  /** The payee's min_final_cltv_expiry_delta; default 18. */
  finalCltvExpiryDelta?: number;
}

/** Routes from `payer` at `blockHeight`: one path, or a split when no one path carries the amount. */
export function queryRoutes(
  router: NodeRouter,
  payer: string,
  blockHeight: number,
  payee: string,
  amountMsat: bigint,
  options: QueryRoutesOptions = {},
): Promise<Route[]> {
  return router.findRoutes({
    payer,
    payee: payee.toLowerCase(),
    amountMsat,
    finalCltvExpiryDelta: options.finalCltvExpiryDelta ?? DEFAULT_FINAL_CLTV_EXPIRY_DELTA,
    currentBlockHeight: blockHeight,
    ...(options.maxFeeMsat !== undefined ? { maxFeeMsat: options.maxFeeMsat } : {}),
  });
}

/** A route as the API shows it (`queryroutes`). */
export function routeJson(route: Route) {
  return {
    hops: route.hops.map((h) => ({
      nodeId: Buffer.from(h.nodeId).toString('hex'),
      shortChannelId: formatShortChannelId(h.shortChannelId),
      amountMsat: h.amountMsat,
      cltvExpiry: h.cltvExpiry,
    })),
    feeMsat: route.feeMsat,
    probability: route.probability,
  };
}
