import type { RpcAuth } from '@lnkit/chain-sync';
import type { Placement } from '@lnkit/runtime';
import type { Network } from './network.ts';
import type { StorageRetryOptions } from './storage-status.ts';

export interface ChainRpcConfig {
  url: string;
  auth: RpcAuth;
}

export interface NodeConfig {
  dataDir: string;
  network: Network;
  /**
   * bitcoind JSON-RPC, for the defaults that need it (block source, fee estimator,
   * broadcaster). A node given all three of its own never connects to it.
   */
  chain: ChainRpcConfig;
  /** Where to accept peers; null: do not listen. */
  listen?: { host: string; port: number } | null;
  alias?: string;
  /** Placement of the actors: worker threads by default, in-process for debugging. */
  placement?: Placement;
  pollIntervalMs?: number;
  /** Worker actors append their JSON log lines here (default: their thread's stdout). */
  logFile?: string;
  logLevel?: string;
  /** How a write the disk refused is tried again (storage-status.ts); the defaults suit a node. */
  storageRetry?: StorageRetryOptions;
  peerTimers?: {
    pingIntervalMs?: number;
    pongTimeoutMs?: number;
    reconnectInitialDelayMs?: number;
    reconnectMaxDelayMs?: number;
  };
}

