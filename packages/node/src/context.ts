/**
 * What the node's components share: the config, the logger, the pieces the user supplied, the
 * supervisor of the actors, and the parts each step provides to the steps after it. A step reads
 * a part with `get`, which names the missing part when the step providing it has not run: the
 * order of the list in steps/index.ts, not luck, decides what is there.
 */
import {
  type BestBlock,
  BitcoindRpcClient,
  type BlockSource,
  type Broadcaster,
  type ChainListener,
  type chainSyncActor,
  type FeeEstimator,
  type Filter,
  type JsonRpc,
  type ListenerAtBlock,
} from '@lnkit/chain-sync';
import type { GraphView, gossipActor, Route, RouteQuery, Router, ScoredPath, Scorer } from '@lnkit/gossip';
import type { ChannelKeysSource, channelManagerActor } from '@lnkit/manager';
import type {
  ChannelMonitor,
  chainMonitorActor,
  EnforcementOptions,
  MonitorPersister,
  MonitorSyncListener,
} from '@lnkit/monitor';
import type { peerManagerActor } from '@lnkit/peer-net';
import {
  type ActorHandle,
  type ActorModule,
  type ApiOf,
  actorLogger,
  type Logger,
  type LogLevel,
  Supervisor,
} from '@lnkit/runtime';
import type { Store } from '@lnkit/store';
import type { ClaimSigner } from '@lnkit/tx';
import type { Wallet } from '@lnkit/wallet';
import type { Features } from '@lnkit/wire';
import { Subject, type Subscription } from 'rxjs';
import type { ChainStatus } from './chain-status.ts';
import type { NodeConfig } from './config.ts';
import { NodeError } from './errors.ts';
import type { NodeEventLog } from './event-log.ts';
import type { NodeEvent } from './events.ts';
import { NodeFaults } from './faults.ts';
import type { PersistentPeers } from './persistent-peers.ts';
import type { StorageStatus } from './storage-status.ts';
import type { TipListener } from './tip-listener.ts';

/** The handle supervisor.spawn(descriptor) gives, from the descriptor's type. */
type HandleOf<M> = M extends ActorModule<infer D> ? ActorHandle<ApiOf<D>> : never;
export type PeerActor = HandleOf<typeof peerManagerActor>;
export type ChainActor = HandleOf<typeof chainSyncActor>;
export type ChainMonitorActor = HandleOf<typeof chainMonitorActor>;
export type GossipActor = HandleOf<typeof gossipActor>;
/** Step 9's ChannelManager, an in-thread actor (spawnLocal: its options are live objects). */
export type ChannelManagerActor = ActorHandle<ApiOf<typeof channelManagerActor>>;

/** Step 12: makes the router from the node's graph and scorer (it then runs in the gossip actor's thread). */
export type RouterFactory = (graph: GraphView, scorer: Scorer) => Router;

/**
 * Routes over the graph, wherever the router runs (the gossip actor, or the node's thread for a
 * user's Router), and what payments teach its scorer (LDK's ScoreUpdate; the scorer lives in the
 * gossip actor, the user's or the default one).
 */
export interface NodeRouter {
  /** One path, or a multi-part split when no one path carries the amount (Router.findRoutes). */
  findRoutes(query: RouteQuery): Promise<Route[]>;
  findRoute(query: RouteQuery): Promise<Route>;
  /** An HTLC over `path` failed at `failedShortChannelId` for want of liquidity there. */
  pathFailed(path: ScoredPath, failedShortChannelId: bigint): Promise<void>;
  pathSucceeded(path: ScoredPath): Promise<void>;
  probeSucceeded(path: ScoredPath): Promise<void>;
  /** A channel_update a payment failure carried (type first): into the graph if valid and newer. */
  applyChannelUpdate(raw: Uint8Array): Promise<boolean>;
}

/**
 * A message handler step 13 wires to the PeerManager before step 14 lets any peer in, as LDK's
 * PeerManager is given its MessageHandler (step 12's gossip sync is one).
 */
export interface PeerMessageHandler {
  name: string;
  /** BOLT 9 init features the handler needs advertised, added to the PeerManager's. */
  initFeatures?: Features;
  /** Wires it to the peer actor; the subscription ends when step 13 stops. */
  attach(peers: PeerActor): Subscription;
}

/**
 * Step 9's signer provider (LDK's SignerProvider): the manager's ChannelKeysSource (`nodeId`,
 * `getSecureRandomBytes`, `createChannelSigner(channelIndex)`, and the node key's signatures),
 * and the signer of the channels' on-chain claims.
 */
export interface NodeSignerProvider extends ChannelKeysSource {
  /**
   * The signer of a closed channel's claims (BOLT 5: its sweeps and our HTLC transactions),
   * with the keys of the channel signer `createChannelSigner(channelKeyIndex)` gave (ClaimSigner
   * in @lnkit/tx; the signer pool's `claimSigner` is one). `walletPathOf` names the BIP 32 path
   * of the wallet key a script pays, for a signer that checks every claim pays the node's wallet
   * before it signs, as the pool's workers do. Asked each time a claim is made.
   *
   * A provider without it signs no claim, so the node claims nothing on chain: it warns at start,
   * and for each closed channel with outputs to claim. Those outputs stay on chain, and the
   * counterparty can take an HTLC, or a revoked commitment's, once its timelock allows.
   */
  claimSigner?(
    channelKeyIndex: bigint,
    walletPathOf: (scriptPubKey: Uint8Array) => string | undefined,
  ): ClaimSigner;
}

/** The pieces a user can give the builder in place of the defaults (`with...` methods). */
export interface SuppliedPieces {
  logger?: Logger;
  feeEstimator?: FeeEstimator;
  broadcaster?: Broadcaster;
  store?: Store;
  blockSource?: BlockSource;
  /** Step 4: where channel monitors are made durable, in place of the MonitorStore on the node's store. */
  monitorPersister?: MonitorPersister;
  /** Step 12: the router, in place of DefaultRouter over the node's graph (a Router of its own, or made from the graph). */
  router?: Router | RouterFactory;
  /** Step 12: the scorer the default router weighs channels with, in place of the ProbabilisticScorer in the store. */
  scorer?: Scorer;
  /**
   * Step 9: where the channels' keys and signatures come from (LDK's SignerProvider), in place of
   * the signer pool over the node's seed. Its nodeId must be the node's.
   */
  signerProvider?: NodeSignerProvider;
}

/** Parts provided by the steps, by the step that provides each. */
export interface NodeParts {
  /** step 0 */
  blockSource: BlockSource;
  /** step 1 */
  feeEstimator: FeeEstimator;
  /** step 3; from the wallet (step 7) on, wrapped so the wallet sees what leaves (trackBroadcasts) */
  broadcaster: Broadcaster;
  /** step 4 */
  store: Store;
  /** step 4: whether the store takes writes; what needs a durable write checks or waits on it */
  storage: StorageStatus;
  /** step 4: where channel monitors are made durable (the user's, or a MonitorStore on `store`) */
  monitorPersister: MonitorPersister;
  /** step 5: null with full blocks */
  filter: Filter | null;
  /** step 6: the ChainMonitor actor, owner of every ChannelMonitor once step 11 has run */
  chainMonitor: ChainMonitorActor;
  /** step 6: what the ChainMonitor makes and signs claims with (each piece read when a claim is made) */
  enforcement: EnforcementOptions;
  /** step 7: hex of the 33-byte node public key */
  nodeId: string;
  /** step 7 (after the keys): the on-chain wallet of the node's seed */
  wallet: Wallet;
  /** step 8: each monitor read from the persister, as the listener step 10 brings to the tip */
  channelMonitors: MonitorSyncListener[];
  /**
   * step 9: a channel's claim signer for step 6: the signer pool's (checking each claim pays the
   * wallet), or the user's signer provider's; not set when that provider has no claimSigner
   */
  claimSigner: (monitor: ChannelMonitor) => ClaimSigner;
  /** step 9: the ChannelManager actor (started after steps 10 and 11) */
  channelManager: ChannelManagerActor;
  /** step 9: the node key's signature of a digest (undefined: the signer provider gives none) */
  signWithNodeKey: ((digest: Uint8Array) => Promise<Uint8Array>) | undefined;
  /** step 10: the node's own chain listener (the durable chain tip) */
  tip: TipListener;
  /** step 10: where every listener is after synchronizing */
  syncedTo: BestBlock;
  /** step 16: the durable event log (opened before the manager, which writes to it) */
  eventLog: NodeEventLog;
  /** step 12: the GossipSync actor, holder of the network graph */
  gossip: GossipActor;
  /** step 12: routes over the graph (the gossip actor's router, or the user's) */
  router: NodeRouter;
  /** step 13 */
  peers: PeerActor;
  /** step 19: sends our public channels' gossip and our node_announcement again now (after setfees, say) */
  announcer: { refresh(): Promise<void> };
  /** step 14 */
  listening: { host: string; port: number } | null;
  /** step 14 */
  persistentPeers: PersistentPeers;
  /** step 15 */
  chain: ChainActor;
  /** step 15 */
  chainStatus: ChainStatus;
}

/** A periodic task of the background processor (step 18). */
export interface BackgroundTask {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

export class NodeContext {
  /** The node's own logger (`actor: node`); components make children of `root` for their own. */
  readonly log: Logger;
  readonly supervisor: Supervisor;
  readonly events = new Subject<NodeEvent>();
  /** What is wrong with the machine now (info().faults); each change is a `fault` event. */
  readonly faults = new NodeFaults((kind, fault) => this.events.next({ type: 'fault', kind, fault }));
  /**
   * Listeners step 10 brings to the chain tip, besides the node's own chain tip: each says where
   * it got to when step 10 asks (`at`), since it may have moved since it was pushed.
   */
  readonly syncListeners: { name: string; at(): ListenerAtBlock | Promise<ListenerAtBlock> }[] = [];
  /** Listeners step 15 feeds the block stream to, besides the node's own chain tip. */
  readonly chainListeners: { name: string; listener: ChainListener }[] = [];
  /** Periodic tasks the components ask for; step 18 runs them. */
  readonly background: BackgroundTask[] = [];
  /** Message handlers step 13 wires to the PeerManager (step 12's gossip). */
  readonly peerHandlers: PeerMessageHandler[] = [];
  private readonly parts: Partial<NodeParts> = {};
  private rpc: JsonRpc | undefined;

  constructor(
    readonly config: NodeConfig,
    readonly root: Logger,
    readonly supplied: SuppliedPieces,
  ) {
    this.log = actorLogger(root, 'node');
    this.supervisor = new Supervisor(root);
  }

  get<K extends keyof NodeParts>(key: K): NodeParts[K] {
    if (!(key in this.parts)) {
      throw new NodeError('not-running', `the node has no ${key} yet: the step that provides it has not run`);
    }
    return this.parts[key] as NodeParts[K];
  }

  set<K extends keyof NodeParts>(key: K, value: NodeParts[K]): void {
    this.parts[key] = value;
  }

  /**
   * bitcoind JSON-RPC from the config, made when a default first needs it: a node given its own
   * block source, fee estimator and broadcaster never makes it.
   */
  bitcoindRpc(): JsonRpc {
    this.rpc ??= new BitcoindRpcClient({ url: this.config.chain.url, auth: this.config.chain.auth });
    return this.rpc;
  }

  /** Where actors run and where worker actors log, from the config. */
  actorOptions(): { placement: 'worker' | 'in-process'; logFile?: string; logLevel?: LogLevel } {
    return {
      placement: this.config.placement ?? 'worker',
      ...(this.config.logFile ? { logFile: this.config.logFile } : {}),
      ...(this.config.logLevel ? { logLevel: this.config.logLevel as LogLevel } : {}),
    };
  }
}
