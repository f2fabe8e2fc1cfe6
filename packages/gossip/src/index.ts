// @lnkit/gossip — BOLT 7: the network graph, gossip validation, queries and sync.

// Router and Scorer (router.ts, scorer.ts) are the interfaces a user may replace; DefaultRouter and
// ProbabilisticScorer are lnkit's.
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
export { forwardingFeeMsat } from './pathfinder.ts';
export {
  DEFAULT_LIQUIDITY_HALF_LIFE_MS,
  DEFAULT_SCORING_PARAMETERS,
  type LiquidityEntry,
  ProbabilisticScorer,
  type ProbabilisticScorerOptions,
  type ScoringParameters,
} from './probabilistic-scorer.ts';
export type { FirstHop, Route, RouteHint, RouteHintHop, RouteHop, RouteQuery, Router } from './router.ts';
export type { ScoredHop, ScoredPath, ScoreLookUp, Scorer, ScoreUpdate } from './scorer.ts';
export {
  loadScorer,
  SCORER_SNAPSHOT_KEY,
  type ScorerSnapshot,
  saveScorer,
  scorerSnapshot,
  scorerSnapshotRecord,
} from './scorer-record.ts';
