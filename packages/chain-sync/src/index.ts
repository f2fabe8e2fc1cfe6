export {
  type BestBlock,
  type BlockData,
  type BlockHeaderData,
  type BlockSource,
  displayHex,
  internalBytes,
  parseBlock,
  parseHeader,
} from './block-source.ts';
export {
  BitcoindBroadcaster,
  type BitcoindBroadcasterOptions,
  type Broadcaster,
  type BroadcastResult,
} from './broadcaster.ts';
export { type ChainStreamEvent, fromStreamEvents, toStreamEvent } from './chain-stream.ts';
export type { ChainActorConfig } from './chain-sync.actor.ts';
export { chainSyncActor } from './chain-sync.module.ts';
export { type ChainDifference, findChainDifference } from './chain-walk.ts';
export { type Confirm, ConfirmDriver, type RelevantTxid } from './confirm.ts';
export { ChainSyncError, type ChainSyncErrorCode, redactUrl } from './errors.ts';
export {
  BitcoindFeeEstimator,
  type BitcoindFeeEstimatorOptions,
  type ConfirmationTarget,
  FEERATE_FLOOR_SAT_PER_KW,
  type FeeEstimator,
} from './fee-estimator.ts';
export { type Filter, WatchedFilter, type WatchedOutput } from './filter.ts';
export { HeaderCache } from './header-cache.ts';
export { type IntervalScheduler, timerScheduler } from './interval.ts';
export {
  type ChainListener,
  type ListenerAtBlock,
  type SynchronizeOptions,
  type SyncProgress,
  synchronizeListeners,
} from './listener.ts';
export { type ChainEvent, ChainPoller, type ChainPollerOptions, subscribeListener } from './poller.ts';
export { RestBlockSource, type RestBlockSourceOptions } from './rest-block-source.ts';
export { RpcBlockSource } from './rpc-block-source.ts';
export { BitcoindRpcClient, type JsonRpc, type RpcAuth, type RpcClientOptions } from './rpc-client.ts';
export {
  RpcTxStatusSource,
  type TxStatus,
  type TxStatusSource,
  TxStatusSync,
  type TxStatusSyncLoopOptions,
} from './tx-status-sync.ts';
