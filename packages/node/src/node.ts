/**
 * NodeBuilder wires the LDK guide's steps in order, with pluggable pieces, and returns a
 * running LnkitNode. v0 covers steps 1-8 and 13-15 (no channels yet); later steps plug in
 * through the same builder.
 *
 *   1 FeeEstimator   2 Logger   3 Broadcaster   4 Persist (store)   5 Filter (full blocks: none)
 *   6 ChainMonitor, 8 read monitors: not yet   7 KeysManager (seed file)
 *   10 sync listeners to the chain tip   13 PeerManager actor   14 listen   15 block stream
 *   18 background timers (rebroadcast, fee refresh)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BestBlock,
  BitcoindBroadcaster,
  BitcoindFeeEstimator,
  BitcoindRpcClient,
  type BlockSource,
  type Broadcaster,
  type FeeEstimator,
  type JsonRpc,
  type RpcAuth,
  RpcBlockSource,
  synchronizeListeners,
} from '@lnkit/chain-sync';
import { KeysManager, loadOrCreateSeed } from '@lnkit/keys';
import type { PeerEvent, PeerInfo } from '@lnkit/peer-net';
import type peerActor from '@lnkit/peer-net/actor';
import {
  type ActorHandle,
  type ActorMetricsSnapshot,
  actorLogger,
  type Logger,
  type LogLevel,
  type Placement,
  Supervisor,
} from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { type Observable, Subject, type Subscription } from 'rxjs';
import type chainActor from './actors/chain.actor.ts';
import type { ChainStreamEvent } from './actors/chain.actor.ts';
import { NodeError } from './errors.ts';
import { chainHash, GENESIS_HASH, type Network } from './network.ts';
import { withSyncProgress } from './sync-progress.ts';
import { TipListener } from './tip-listener.ts';

export const SCHEMA_VERSION = 1;
export const LNKIT_VERSION = '0.1.0';

export interface ChainRpcConfig {
  url: string;
  auth: RpcAuth;
}

export interface NodeConfig {
  dataDir: string;
  network: Network;
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
  peerTimers?: {
    pingIntervalMs?: number;
    pongTimeoutMs?: number;
    reconnectInitialDelayMs?: number;
    reconnectMaxDelayMs?: number;
  };
}

export interface NodeInfo {
  nodeId: string;
  alias: string;
  network: Network;
  blockHeight: number;
  blockHash: string;
  synced: boolean;
  numPeers: number;
  listening: { host: string; port: number } | null;
  version: string;
}

export type NodeEvent =
  | { type: 'sync-progress'; height: number; tipHeight: number; synced: boolean }
  | ({ type: 'peer' } & { event: PeerEvent });

type PeerActor = ActorHandle<Awaited<ReturnType<(typeof peerActor)['create']>>>;
type ChainActor = ActorHandle<Awaited<ReturnType<(typeof chainActor)['create']>>>;

/** Persistent peers are remembered here so a restarted node dials them again. */
const PEERS_DB = 'peers';

export class LnkitNode {
  private readonly subscriptions: Subscription[] = [];
  private stopped = false;
  private synced = false;
  private readonly events = new Subject<NodeEvent>();
  readonly events$: Observable<NodeEvent> = this.events.asObservable();

  constructor(
    readonly config: NodeConfig,
    readonly nodeId: string,
    private readonly logger: Logger,
    private readonly store: Store,
    private readonly supervisor: Supervisor,
    private readonly peers: PeerActor,
    private readonly chain: ChainActor,
    private readonly tip: TipListener,
    readonly feeEstimator: FeeEstimator,
    readonly broadcaster: Broadcaster,
    private readonly listening: { host: string; port: number } | null,
    private readonly stopHooks: (() => Promise<void> | void)[],
  ) {}

  /** @internal wiring done by NodeBuilder once the node object exists. */
  attach(): void {
    this.subscriptions.push(
      this.chain.ref.events$().subscribe({
        next: (e) => void this.onChainEvent(e),
        error: (err) => this.logger.error({ err }, 'chain stream failed'),
      }),
      this.peers.ref.events$().subscribe({
        next: (e) => this.onPeerEvent(e),
        error: (err) => this.logger.error({ err }, 'peer event stream failed'),
      }),
    );
  }

  private async onChainEvent(e: ChainStreamEvent): Promise<void> {
    if (e.type === 'progress') {
      if (!this.synced || !e.synced) {
        this.logger.info(
          { height: e.height, tipHeight: e.tipHeight },
          e.synced
            ? `synced to the chain tip at height ${e.height}`
            : `syncing: block ${e.height} of ${e.tipHeight}`,
        );
      }
      this.synced = e.synced;
      this.events.next({ type: 'sync-progress', height: e.height, tipHeight: e.tipHeight, synced: e.synced });
      return;
    }
    if (e.type === 'blockConnected') await this.tip.connected(e.header.hashHex, e.height);
    else await this.tip.disconnected(e.header.prevHashHex, e.height - 1);
  }

  private onPeerEvent(e: PeerEvent): void {
    if (e.type === 'connected')
      this.logger.info({ peer: e.nodeId, address: e.address, inbound: e.inbound }, 'peer connected');
    else this.logger.info({ peer: e.nodeId, reason: e.reason }, 'peer disconnected');
    this.events.next({ type: 'peer', event: e });
  }

  private assertRunning(): void {
    if (this.stopped) throw new NodeError('not-running', 'the node is stopping');
  }

  async info(): Promise<NodeInfo> {
    this.assertRunning();
    const best = this.tip.best;
    return {
      nodeId: this.nodeId,
      alias: this.config.alias ?? '',
      network: this.config.network,
      blockHeight: best.height,
      blockHash: best.hashHex,
      synced: this.synced,
      numPeers: (await this.peers.ref.listPeers()).length,
      listening: this.listening,
      version: LNKIT_VERSION,
    };
  }

  /** Connects and remembers the peer, so it is redialled after a drop or a restart. */
  async connect(nodeId: string, host: string, port: number): Promise<PeerInfo> {
    this.assertRunning();
    // Only a peer we did reach becomes persistent: a failed connect must not leave the
    // PeerManager redialling an address the user was told did not work.
    const info = await this.peers.ref.connect(nodeId, host, port);
    await this.store
      .db<{ host: string; port: number }>(PEERS_DB, 'structured')
      .put(nodeId.toLowerCase(), { host, port });
    await this.peers.ref.connect(nodeId, host, port, { persistent: true }).catch((err: Error) => {
      // It dropped in between; being persistent now, it is redialled with backoff.
      this.logger.debug({ peer: nodeId, err: err.message }, 'peer dropped right after connecting');
    });
    return info;
  }

  /** Disconnects and forgets the peer. */
  async disconnect(nodeId: string): Promise<boolean> {
    this.assertRunning();
    const id = nodeId.toLowerCase();
    const known = (await this.peers.ref.listPeers()).some((p) => p.nodeId === id);
    await this.store.db(PEERS_DB, 'structured').remove(id);
    await this.peers.ref.disconnect(id);
    return known;
  }

  listPeers(): Promise<PeerInfo[]> {
    this.assertRunning();
    return this.peers.ref.listPeers();
  }

  metrics(): Promise<ActorMetricsSnapshot[]> {
    return this.supervisor.metrics();
  }

  actorNames(): string[] {
    return this.supervisor.names();
  }

  /** CPU-profiles one actor for `seconds`; the profile goes to the data dir's profiles folder. */
  async profile(actor: string, seconds: number): Promise<{ path: string; samples: number }> {
    this.assertRunning();
    const dir = join(this.config.dataDir, 'profiles');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${actor}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    return this.supervisor.profile(actor, seconds, path);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.logger.info('stopping');
    for (const s of this.subscriptions) s.unsubscribe();
    await this.supervisor.stopAll();
    for (const hook of this.stopHooks.reverse()) await hook();
    await this.store.close();
    this.events.complete();
    this.logger.info('stopped');
  }
}

export class NodeBuilder {
  private logger: Logger | undefined;
  private feeEstimator: FeeEstimator | undefined;
  private broadcaster: Broadcaster | undefined;
  private blockSource: BlockSource | undefined;
  private store: Store | undefined;

  constructor(private readonly config: NodeConfig) {}

  /** Step 2: the root logger (each actor logs through a child of it). */
  withLogger(logger: Logger): this {
    this.logger = logger;
    return this;
  }

  /** Step 1: replace the bitcoind fee estimator. */
  withFeeEstimator(feeEstimator: FeeEstimator): this {
    this.feeEstimator = feeEstimator;
    return this;
  }

  /** Step 3: replace the bitcoind broadcaster. */
  withBroadcaster(broadcaster: Broadcaster): this {
    this.broadcaster = broadcaster;
    return this;
  }

  /** Step 4: an already open store (the node closes it when it stops). */
  withStore(store: Store): this {
    this.store = store;
    return this;
  }

  /** The block source used to sync listeners at start (the chain actor polls bitcoind RPC). */
  withBlockSource(source: BlockSource): this {
    this.blockSource = source;
    return this;
  }

  async build(): Promise<LnkitNode> {
    const cfg = this.config;
    const root = this.logger ?? (await import('@lnkit/runtime')).createRootLogger();
    const log = actorLogger(root, 'node');
    const stopHooks: (() => Promise<void> | void)[] = [];
    const rpc: JsonRpc = new BitcoindRpcClient({ url: cfg.chain.url, auth: cfg.chain.auth });

    // The chain must be the network we were told, before anything is written for it.
    let genesis: string;
    try {
      genesis = await rpc.call<string>('getblockhash', [0]);
    } catch (e) {
      throw new NodeError(
        'chain-unreachable',
        `cannot reach the chain at ${rpc.url}: ${(e as Error).message}`,
      );
    }
    if (genesis !== GENESIS_HASH[cfg.network]) {
      throw new NodeError(
        'wrong-chain',
        `the chain at ${rpc.url} is not ${cfg.network} (genesis ${genesis})`,
      );
    }

    // 1. FeeEstimator
    const fees =
      this.feeEstimator ?? new BitcoindFeeEstimator(rpc, { logger: actorLogger(root, 'fee-estimator') });
    if (fees instanceof BitcoindFeeEstimator) {
      await fees.start();
      stopHooks.push(() => fees.stop());
    }
    // 3. Broadcaster
    const broadcaster =
      this.broadcaster ?? new BitcoindBroadcaster(rpc, { logger: actorLogger(root, 'broadcaster') });
    if (broadcaster instanceof BitcoindBroadcaster) {
      broadcaster.start();
      stopHooks.push(() => broadcaster.stop());
    }
    // 4. Persist: the store (monitors and the manager snapshot will live here too).
    const store =
      this.store ?? (await Store.open(cfg.dataDir, { schemaVersion: SCHEMA_VERSION, network: cfg.network }));
    let supervisor: Supervisor | undefined;
    try {
      // 7. KeysManager: the seed file, created once and reused. The data dir may not exist
      // yet when the user gave their own store (kept elsewhere).
      mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
      const seed = loadOrCreateSeed(cfg.dataDir);
      if (seed.created) log.info({ path: seed.path }, 'created a new seed file');
      const keys = new KeysManager(seed.seed);
      // Only the node id is needed here; the handshake's node secret lives in the signer pool
      // the peer actor starts, so this thread's copy of the seed is wiped at once.
      seed.seed.fill(0);
      const nodeId = Buffer.from(keys.nodeId).toString('hex');

      // 10. Sync every chain listener to the tip before anything else runs.
      const source = this.blockSource ?? new RpcBlockSource(rpc);
      const tip = await TipListener.load(store, source);
      const target = await source.getBestBlock();
      const synced: BestBlock = await synchronizeListeners(
        source,
        [withSyncProgress(tip.atBlock(), log, target.height)],
        log,
      );
      log.info({ height: synced.height, hash: synced.hashHex }, 'listeners synchronised to the chain tip');

      supervisor = new Supervisor(root);
      const placement = cfg.placement ?? 'worker';
      const actorLogs = {
        ...(cfg.logFile ? { logFile: cfg.logFile } : {}),
        ...(cfg.logLevel ? { logLevel: cfg.logLevel as LogLevel } : {}),
      };
      // 13. PeerManager actor.
      const peers = (await supervisor.spawn<typeof peerActor>(import.meta.resolve('@lnkit/peer-net/actor'), {
        name: 'peer-manager',
        placement,
        ...actorLogs,
        config: {
          // The node key stays in a signer pool the actor starts; it reads keys_seed itself, so
          // the secret is never in the thread that parses peer input.
          nodeKeyDataDir: cfg.dataDir,
          chainHashes: [chainHash(cfg.network)],
          ...(cfg.peerTimers ? { options: cfg.peerTimers } : {}),
        },
      })) as unknown as PeerActor;
      // 15. ChainSync actor: the block stream from the synced tip.
      const chain = (await supervisor.spawn<typeof chainActor>(
        new URL('./actors/chain.actor.ts', import.meta.url),
        {
          // A user's own block source is an object with methods: it stays on this thread.
          placement: this.blockSource ? 'in-process' : placement,
          ...actorLogs,
          config: {
            ...(this.blockSource
              ? { source: this.blockSource }
              : { rpc: { url: cfg.chain.url, auth: cfg.chain.auth } }),
            start: synced,
            pollIntervalMs: cfg.pollIntervalMs ?? 1000,
          },
        },
      )) as unknown as ChainActor;

      // 14. Networking.
      let listening: { host: string; port: number } | null = null;
      if (cfg.listen) {
        const { host, port } = cfg.listen;
        listening = await peers.ref.listen(host, port).catch((e: Error & { code?: string }) => {
          const why =
            e.code === 'EADDRINUSE' || /EADDRINUSE/.test(e.message)
              ? 'the address is already in use'
              : e.message;
          throw new NodeError('listen-failed', `cannot listen for peers on ${host}:${port}: ${why}`);
        });
      }

      const node = new LnkitNode(
        cfg,
        nodeId,
        log,
        store,
        supervisor,
        peers,
        chain,
        tip,
        fees,
        broadcaster,
        listening,
        stopHooks,
      );
      node.attach(); // subscribe before the chain actor starts emitting
      await chain.ref.start();
      if (listening)
        log.info({ nodeId, ...listening }, `listening for peers on ${listening.host}:${listening.port}`);

      // Persistent peers from the last run: dial them; the PeerManager retries with backoff.
      for (const { key, value } of store
        .db<{ host: string; port: number }>(PEERS_DB, 'structured')
        .entries()) {
        peers.ref.connect(String(key), value.host, value.port, { persistent: true }).catch((err: Error) => {
          log.warn({ peer: key, err: err.message }, 'persistent peer not reachable yet; will retry');
        });
      }
      return node;
    } catch (e) {
      // Actors already spawned hold worker threads and sockets: stop them, or a failed
      // build leaves a process that cannot exit.
      await supervisor?.stopAll();
      for (const hook of stopHooks.reverse()) await hook();
      await store.close();
      throw e;
    }
  }
}
