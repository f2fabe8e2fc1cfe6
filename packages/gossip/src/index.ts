// @lnkit/gossip — BOLT 7: the network graph, gossip validation, queries and sync.

// Router and Scorer (router.ts, scorer.ts) are the interfaces a user may replace; DefaultRouter and
// ProbabilisticScorer are lnkit's.
export {
  type BroadcastPeer,
  StaggeredBroadcast,
  type StaggeredBroadcastOptions,
  type TimestampFilter,
} from './broadcast.ts';
export {
  DEFAULT_MAX_HOPS,
  DEFAULT_MAX_PARTS,
  DEFAULT_MAX_TOTAL_CLTV_EXPIRY_DELTA,
  DefaultRouter,
  type DefaultRouterOptions,
  defaultMaxFeeMsat,
} from './default-router.ts';
export { GossipError, type GossipErrorCode } from './errors.ts';
export { type FixedChannel, FixedGraph, type FixedGraphOptions, type FixedPolicy } from './fixed-graph.ts';
export type { GossipActorConfig, GossipOutbound } from './gossip.actor.ts';
export { gossipActor } from './gossip.module.ts';
export {
  GOSSIP_MESSAGE_TYPES,
  GossipSync,
  type GossipSyncOptions,
  type GossipSyncStats,
  type GossipTransport,
} from './gossip-sync.ts';
export { type GraphSnapshot, NetworkGraph, type NetworkGraphOptions } from './graph.ts';
export { type FlushOptions, LmdbGraphStore, type LoadResult, loadGraph } from './graph-store.ts';
export {
  CHANNEL_LIVE,
  CHANNEL_SPENT,
  CHANNEL_UNKNOWN_REQUIRED_FEATURES,
  type ChannelInfo,
  type ChannelPolicy,
  EDGE_DISABLED,
  EDGE_HAS_UPDATE,
  EDGE_ROUTABLE,
  edgeChannel,
  edgeDirection,
  edgeIndex,
  type GraphColumns,
  type GraphStats,
  type GraphView,
  NO_INDEX,
  NODE_ANNOUNCED,
  NODE_LIVE,
  NODE_UNKNOWN_REQUIRED_FEATURES,
  type NodeAnnouncementInfo,
  type NodeInfo,
} from './graph-view.ts';
export { channelJson, nodeJson } from './json.ts';
export {
  type ChannelRecordExtras,
  type GossipMessageStore,
  MemoryMessageStore,
  type StoredChannel,
} from './message-store.ts';
export {
  GOSSIP_KINDS,
  GossipCounters,
  type GossipKind,
  OUTCOMES,
  type Outcome,
  type Reaction,
  reactionTo,
} from './outcomes.ts';
export { forwardingFeeMsat } from './pathfinder.ts';
export {
  DEFAULT_LIQUIDITY_HALF_LIFE_MS,
  DEFAULT_SCORING_PARAMETERS,
  type LiquidityEntry,
  ProbabilisticScorer,
  type ProbabilisticScorerOptions,
  type ScoringParameters,
} from './probabilistic-scorer.ts';
export {
  forgetSpent,
  fundingSpent,
  OUTPOINT_BYTES,
  type PruneResult,
  pruneStale,
  SPENT_FORGET_DELAY_BLOCKS,
  STALE_AFTER_SEC,
  spentOutpoints,
  unspendFrom,
} from './prune.ts';
export {
  answerShortChannelIds,
  gossipInTimestampRange,
  maxScidsPerReply,
  type QueryProblem,
  replyChannelRanges,
  type ShortChannelIdsAnswer,
} from './queries.ts';
export { RangeSync, type RangeSyncOptions, type SyncStep } from './query-sync.ts';
export { GossipRateLimiter, type RateLimitOptions } from './rate-limit.ts';
export { GRAPH_DB } from './records.ts';
export type { FirstHop, Route, RouteHint, RouteHintHop, RouteHop, RouteQuery, Router } from './router.ts';
export type { ScoredHop, ScoredPath, ScoreLookUp, Scorer, ScoreUpdate } from './scorer.ts';
export {
  loadScorer,
  SCORER_DB,
  SCORER_SNAPSHOT_KEY,
  type ScorerSnapshot,
  saveScorer,
  scorerSnapshot,
  scorerSnapshotRecord,
} from './scorer-record.ts';
export {
  ChainUtxoLookup,
  type ChainUtxoLookupOptions,
  fundingScriptPubKey,
  rpcUtxoSource,
  type UtxoLookup,
  type UtxoResult,
  type UtxoSource,
} from './utxo.ts';
export {
  type BatchResult,
  GossipValidator,
  type InboundGossip,
  type PeerReaction,
  PreparedBatch,
  type RelayItem,
  type RunBatchOptions,
  runBatch,
  type ValidatorOptions,
} from './validate.ts';
export {
  connectGossip,
  type GossipChainLike,
  type GossipLike,
  gossipChainListener,
  type PeersLike,
} from './wiring.ts';
