import type { RpcAuth } from '@lnkit/chain-sync';
import type { ForwardPolicy, PeerForwardLimits } from '@lnkit/manager';
import { DEFAULT_INBOUND_LIMITS, DEFAULT_MAX_QUEUE_BYTES, type PeerManagerOptions } from '@lnkit/peer-net';
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
  /** Our node_announcement's rgb_color, 6 hex digits (default: the node id's first three bytes after its prefix). */
  color?: string;
  /**
   * The addresses our node_announcement gives (IPv4, IPv6 or a DNS name, with a port). None by
   * default: a node listening on loopback or behind NAT has no address worth telling the network.
   */
  announceAddresses?: { host: string; port: number }[];
  /** How often step 19 sends our node_announcement and our channel_updates again. Default 24 h. */
  announcementRefreshMs?: number;
  /**
   * The bech32 prefix of the regtest addresses the wallet gives out: `bcrt` (Bitcoin Core's, the
   * default) or `rb` (bcoin's, the embedded chain's). The scripts are the same; either text pays.
   */
  regtestAddressPrefix?: 'bcrt' | 'rb';
  /** Placement of the actors: worker threads by default, in-process for debugging. */
  placement?: Placement;
  pollIntervalMs?: number;
  /**
   * Worker actors append their JSON log lines here (default: their thread's stdout). They do
   * not rotate it: a main-thread LogFile on the same path does (lnkitd's), and they follow.
   */
  logFile?: string;
  logLevel?: string;
  /**
   * Caps on what peers may hold (peer-net's PeerManagerOptions of the same names, whose
   * defaults apply to what is not given); each hit is counted in metrics().peers.
   */
  peerLimits?: Partial<Pick<PeerManagerOptions, PeerLimitName>>;
  /**
   * Worker threads the channels step in, beside the channel manager's (@lnkit/manager
   * ChannelHosts): each new or restored channel goes to the one holding the fewest, so a
   * forward's two channels step on two cores. 0 (the default): every channel in the manager's thread.
   */
  channelThreads?: number;
  /** Threads of the gossip actor's pool for BOLT 7 signature checks (0: in its own thread). Default 2. */
  gossipVerifyThreads?: number;
  /**
   * Our relay policy for forwarded HTLCs, every channel (BOLT 7 channel_update fields); what is
   * not given is LDK 0.1.0's default (@lnkit/manager DEFAULT_FORWARD_POLICY: 1000 msat base,
   * 0 ppm, cltv_expiry_delta 72, htlc_minimum_msat 1).
   */
  forwardPolicy?: Partial<ForwardPolicy>;
  /**
   * What one upstream peer may have this node forward (a defence against channel jamming):
   * `maxInFlight` HTLCs at once over all its channels (default 483), `perSecond` on average
   * (default 0: no rate limit) in bursts of `burst`. Beyond either: temporary_channel_failure.
   */
  forwardPeerLimits?: Partial<PeerForwardLimits>;
  /**
   * The HTLC interceptor: every forward held until resolveIntercepted answers it (resume, fail,
   * settle), or failed back after `timeoutMs` (default 30 s). Each held HTLC is an
   * `HtlcIntercepted` event in the event log. Off when absent.
   */
  interceptForwards?: { timeoutMs?: number };
  /**
   * How long parts of a multi-part payment to us are held for the rest of its total before all
   * are failed back with mpp_timeout (BOLT 4 recommends 60 s, the default).
   */
  mppTimeoutMs?: number;
  /** How a write the disk refused is tried again (storage-status.ts); the defaults suit a node. */
  storageRetry?: StorageRetryOptions;
  peerTimers?: {
    pingIntervalMs?: number;
    pongTimeoutMs?: number;
    reconnectInitialDelayMs?: number;
    reconnectMaxDelayMs?: number;
  };
}

/** The peer manager's limits a node config may set. */
export type PeerLimitName =
  | 'maxInboundConnections'
  | 'maxInboundPerIp'
  | 'maxInboundHandshakes'
  | 'maxDialsInFlight'
  | 'maxQueueBytes'
  | 'maxQueueLength'
  | 'sendStallTimeoutMs'
  | 'misbehaviourLogIntervalMs';

/** The defaults of the limits an operator most often sets (peer-net's, in one place for the daemon's options). */
export const DEFAULT_PEER_LIMITS = Object.freeze({
  maxInboundConnections: DEFAULT_INBOUND_LIMITS.maxConnections,
  maxInboundPerIp: DEFAULT_INBOUND_LIMITS.maxPerIp,
  maxInboundHandshakes: DEFAULT_INBOUND_LIMITS.maxHandshakes,
  maxQueueBytes: DEFAULT_MAX_QUEUE_BYTES,
});
