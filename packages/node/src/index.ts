export { NodeBuilder } from './builder.ts';
export type {
  ChannelOnchain,
  ChannelView,
  ClosedChannel,
  OpenChannelOptions,
  OpenedChannel,
} from './channel-api.ts';
export { describeReason } from './channel-events.ts';
export { type ChainRpcConfig, DEFAULT_PEER_LIMITS, type NodeConfig, type PeerLimitName } from './config.ts';
export type { NodeRouter, NodeSignerProvider, PeerMessageHandler, RouterFactory } from './context.ts';
export { NodeError, type NodeErrorCode } from './errors.ts';
export {
  KEEP_HANDLED_EVENTS,
  type NodeEventData,
  NodeEventLog,
  type NodeEventLogOptions,
  type NodeEventRecord,
  type NodeEvents,
} from './event-log.ts';
export type { NodeEvent } from './events.ts';
export { type NodeFault, type NodeFaultKind, NodeFaults } from './faults.ts';
export {
  DEFAULT_FORWARD_POLICY,
  DEFAULT_PEER_FORWARD_LIMITS,
  type ForwardPolicy,
  type ForwardView,
  INTERCEPT_FAILURES,
  type InterceptAnswer,
  type InterceptedHtlc,
  interceptedData,
  MIN_CLTV_EXPIRY_DELTA,
  type PolicyChange,
} from './forward-api.ts';
export {
  DEFAULT_FINAL_CLTV_EXPIRY_DELTA,
  DEFAULT_GRAPH_PAGE,
  type GraphChannel,
  type GraphInfo,
  type GraphNode,
  type GraphPage,
  type GraphPageOptions,
  type QueryRoutesOptions,
  routeJson,
} from './graph-api.ts';
export { nodePrometheus } from './metrics.ts';
export { chainHash, GENESIS_HASH, NETWORKS, type Network, parseNetwork } from './network.ts';
export { LNKIT_VERSION, LnkitNode, type NodeBalance, type NodeInfo, type NodeMetrics } from './node.ts';
export type { CreatedInvoice, InvoiceView, PaymentOutcome, PaymentView } from './payment-api.ts';
export {
  CHAIN_TIP,
  chainTipRecord,
  EVENTS_DB,
  NODE_ID,
  type NodeIdentity,
  nodeEventRecord,
  nodeIdentityRecord,
  PERSISTENT_PEERS_DB,
  type PeerAddress,
  persistentPeerRecord,
  type StoredNodeEvent,
} from './records.ts';
export {
  ANNOUNCEMENT_REFRESH_INTERVAL_MS,
  colorOf,
  nodeAddressOf,
  signedNodeAnnouncement,
} from './steps/19-node-announcement.ts';
export { isStorageFault, type StorageRetryOptions, StorageStatus } from './storage-status.ts';
export { migrateNodeStore, nodeStoreOptions, SCHEMA_VERSION } from './store-schema.ts';
