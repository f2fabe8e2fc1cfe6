export { NodeError, type NodeErrorCode } from './errors.ts';
export { chainHash, GENESIS_HASH, NETWORKS, type Network, parseNetwork } from './network.ts';
export {
  type ChainRpcConfig,
  LNKIT_VERSION,
  LnkitNode,
  NodeBuilder,
  type NodeConfig,
  type NodeEvent,
  type NodeInfo,
  SCHEMA_VERSION,
} from './node.ts';
