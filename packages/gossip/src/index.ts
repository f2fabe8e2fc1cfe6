// @lnkit/gossip — BOLT 7: the network graph, gossip validation, queries and sync.
export { GossipError, type GossipErrorCode } from './errors.ts';
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
