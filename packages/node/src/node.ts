/**
 * A running lnkit node: what NodeBuilder returns. It holds the context the steps filled and
 * the components they started, answers the node's API from them, and stops the components
 * in reverse order.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BroadcastResult, ConfirmationTarget } from '@lnkit/chain-sync';
import type { Route } from '@lnkit/gossip';
import type { ForwardChannelMetrics } from '@lnkit/manager';
import type { PeerInfo, PeerNetStats } from '@lnkit/peer-net';
import type { ActorMetricsSnapshot } from '@lnkit/runtime';
import type { Wallet } from '@lnkit/wallet';
import type { Observable } from 'rxjs';
import {
  type ChannelView,
  type ClosedChannel,
  closeChannel,
  lightningBalanceMsat,
  listChannels as listNodeChannels,
  type OpenChannelOptions,
  type OpenedChannel,
  openChannel,
  pendingSweepSat,
} from './channel-api.ts';
import { type NodeComponent, stopComponents } from './component.ts';
import type { NodeConfig } from './config.ts';
import type { ChainMonitorActor, NodeContext, NodeRouter } from './context.ts';
import { NodeError } from './errors.ts';
import type { NodeEvents } from './event-log.ts';
import type { NodeEvent } from './events.ts';
import type { NodeFault, NodeFaultKind } from './faults.ts';
import {
  type ForwardPolicy,
  type ForwardView,
  forwardingHistory,
  type InterceptAnswer,
  type InterceptedHtlc,
  listIntercepted,
  type PolicyChange,
  resolveIntercepted,
  setFees,
} from './forward-api.ts';
import {
  type GraphChannel,
  type GraphInfo,
  type GraphNode,
  type GraphPage,
  type GraphPageOptions,
  getNode,
  graphInfo,
  listChannels,
  listNodes,
  type QueryRoutesOptions,
  queryRoutes,
} from './graph-api.ts';
import type { Network } from './network.ts';
import {
  type CreatedInvoice,
  createInvoice,
  type InvoiceView,
  keysend,
  listInvoices,
  listPayments,
  type PaymentOutcome,
  type PaymentView,
  pay,
} from './payment-api.ts';

export const LNKIT_VERSION = '0.1.0';

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
  /** Why the node no longer follows the chain (its chain tip could not be stored), or null. */
  chainError: string | null;
  /**
   * What is wrong with the machine now, each with when it began: `storage-unavailable` while
   * the data dir refuses writes (the chain tip waits at blockHeight), `log-unwritable` while
   * the log file does. Empty when all is well.
   */
  faults: NodeFault[];
}

/** What the node holds: on chain (its wallet) and in its channels. Amounts are bigints (strings in JSON). */
export interface NodeBalance {
  onchain: {
    /** Confirmed, mature and unspent (coins reserved for a pending funding included). */
    confirmedSat: bigint;
    /** Outputs of transactions not in a block yet: payments seen unconfirmed, our own change. */
    unconfirmedSat: bigint;
    /** Closed channels' outputs still to be swept into the wallet (listChannels' `onchain` says which). */
    pendingSweepSat: bigint;
  };
  lightning: {
    /** Our side of every channel not closed (opening ones included), in msat. */
    localMsat: bigint;
  };
}

/** One snapshot of the node's metrics: every actor's, and the peer manager's limits. */
export interface NodeMetrics {
  actors: ActorMetricsSnapshot[];
  /** The peer limits in force, what they hold now, and each hit counted; null if the peer actor did not answer. */
  peers: PeerNetStats | null;
  faults: NodeFault[];
  /** Forwards by outgoing channel (settled, failed by reason, in flight, fees earned). */
  forwards: ForwardChannelMetrics[];
  /** The threads the channels step in (NodeConfig.channelThreads), each with its channels; none by default. */
  channelThreads: { threadId: number; channels: number }[];
}

export class LnkitNode {
  private stopped = false;
  readonly events$: Observable<NodeEvent>;

  /** @internal made by NodeBuilder.build() once every step has started. */
  constructor(
    private readonly ctx: NodeContext,
    private readonly started: readonly NodeComponent[],
  ) {
    this.events$ = ctx.events.asObservable();
  }

  get config(): NodeConfig {
    return this.ctx.config;
  }

  /** Hex of the node's 33-byte public key. */
  get nodeId(): string {
    return this.ctx.get('nodeId');
  }

  private assertRunning(): void {
    if (this.stopped) throw new NodeError('not-running', 'the node is stopping');
  }

  async info(): Promise<NodeInfo> {
    this.assertRunning();
    const best = this.ctx.get('tip').best;
    const chain = this.ctx.get('chainStatus');
    return {
      nodeId: this.nodeId,
      alias: this.config.alias ?? '',
      network: this.config.network,
      blockHeight: best.height,
      blockHash: best.hashHex,
      synced: chain.synced,
      numPeers: (await this.ctx.get('peers').ref.listPeers()).length,
      listening: this.ctx.get('listening'),
      version: LNKIT_VERSION,
      chainError: chain.error?.message ?? null,
      faults: this.ctx.faults.list(),
    };
  }

  /**
   * A fault of a piece the embedder runs beside the node (lnkitd: its log file), shown in
   * info().faults; `null` ends it.
   */
  reportFault(kind: Exclude<NodeFaultKind, 'storage-unavailable'>, message: string | null): void {
    if (message === null) this.ctx.faults.clear(kind);
    else this.ctx.faults.raise(kind, message);
  }

  /**
   * The on-chain wallet (BIP 84 from the node's seed), for an embedder's own use: fundings,
   * sends, its UTXOs. It follows the chain with the node's other listeners.
   */
  get wallet(): Wallet {
    return this.ctx.get('wallet');
  }

  /** The ChainMonitor actor, which watches every channel's monitor (`monitors()`, `events$()`). */
  get chainMonitor(): ChainMonitorActor['ref'] {
    return this.ctx.get('chainMonitor').ref;
  }

  /**
   * The node's router (step 12): routes over the graph, and what payments teach its scorer
   * (`pathFailed`, `pathSucceeded`, `probeSucceeded`).
   */
  get router(): NodeRouter {
    return this.ctx.get('router');
  }

  /** A new receive address of the wallet (BIP 84, bech32), durably given out. */
  newAddress(): Promise<string> {
    this.assertRunning();
    this.ctx.get('storage').assertAvailable('giving out an address');
    return this.ctx.get('wallet').newAddress();
  }

  /** A receive scriptPubKey of the wallet, durably given out: what the embedded chain's `mine` pays. */
  coinbaseScript(): Promise<Uint8Array> {
    this.assertRunning();
    this.ctx.get('storage').assertAvailable('giving out an address');
    return this.ctx.get('wallet').coinbaseScript();
  }

  /** What the node holds, as its wallet and channels know it now (the chain up to the wallet's last block). */
  async balance(): Promise<NodeBalance> {
    this.assertRunning();
    const { confirmedSat, unconfirmedSat } = this.ctx.get('wallet').balance();
    const localMsat = await lightningBalanceMsat(this.ctx);
    return {
      onchain: { confirmedSat, unconfirmedSat, pendingSweepSat: await pendingSweepSat(this.ctx) },
      lightning: { localMsat },
    };
  }

  /**
   * Opens a channel of `amountSat` to a connected peer, funded by the node's wallet; resolves
   * once the funding transaction is broadcast (ChannelPending). Refused before anything is sent,
   * with a NodeError: `invalid-argument` (a bad node id, an amount outside the limits it names,
   * a push above the amount, anchors the peer does not offer), `peer-not-connected`,
   * `insufficient-funds` (what the wallet can spend and what the channel needs),
   * `storage-unavailable`; after the open started: `channel-failed` (the peer refused, or the
   * channel failed before its funding went out), `insufficient-funds`.
   */
  openChannel(nodeId: string, amountSat: bigint, opts?: OpenChannelOptions): Promise<OpenedChannel> {
    this.assertRunning();
    return openChannel(this.ctx, nodeId, amountSat, opts);
  }

  /** Every channel the manager holds, and those closed since the node started. */
  listChannels(): Promise<ChannelView[]> {
    this.assertRunning();
    return listNodeChannels(this.ctx);
  }

  /**
   * Starts closing a channel: cooperatively (BOLT 2 shutdown, then closing_signed), or with
   * `force` by broadcasting our latest commitment. Resolves once the close has started;
   * `closingTxid` is null until the closing transaction is known (listChannels shows it then),
   * and ChannelClosed comes on `events` when it confirms. `unknown-channel` for an id the node
   * has no open channel with.
   */
  closeChannel(channelId: string, opts?: { force?: boolean }): Promise<ClosedChannel> {
    this.assertRunning();
    return closeChannel(this.ctx, channelId, opts);
  }

  /**
   * A BOLT 11 invoice of this node (`amountMsat` null: any amount), durably kept before it is
   * answered, so a payment to it is claimed after a restart too. Default expiry 3600 s.
   */
  createInvoice(
    amountMsat: bigint | null,
    opts?: { description?: string; expirySeconds?: number },
  ): Promise<CreatedInvoice> {
    this.assertRunning();
    return createInvoice(this.ctx, amountMsat, opts);
  }

  /**
   * Pays a BOLT 11 invoice over a direct channel to its payee; resolves with the outcome
   * (`succeeded` with the preimage, or `failed` with the reason). The payment id is the
   * payment hash unless given: paying it again answers the stored outcome, after a restart
   * too, and never pays twice. Refused before anything is sent, with `invalid-argument`
   * naming the problem: an expired invoice, another network, no ready channel to the payee,
   * more than the channel can send, a payment id used by another payment.
   */
  pay(bolt11: string, opts?: { amountMsat?: bigint; paymentId?: string }): Promise<PaymentOutcome> {
    this.assertRunning();
    return pay(this.ctx, bolt11, opts);
  }

  /** A spontaneous payment (keysend) to a channel peer; the same outcome and refusals as `pay`. */
  keysend(nodeId: string, amountMsat: bigint, opts?: { paymentId?: string }): Promise<PaymentOutcome> {
    this.assertRunning();
    return keysend(this.ctx, nodeId, amountMsat, opts);
  }

  /** Every payment of this node, oldest first (`pending` while in flight). */
  listPayments(): Promise<PaymentView[]> {
    this.assertRunning();
    return listPayments(this.ctx);
  }

  /**
   * The HTLCs this node forwarded (issue 17's forwardinghistory): in and out channel, amounts,
   * the fee earned once settled, status, when it was resolved; `since` in seconds since 1970.
   */
  forwardingHistory(opts?: { since?: number }): Promise<{ forwards: ForwardView[] }> {
    this.assertRunning();
    return forwardingHistory(this.ctx, opts);
  }

  /**
   * setfees: the fees, cltv_expiry_delta or HTLC limits of one channel (id in hex) or of
   * `all`; durable, so they outlive a restart. Answers the policy now in force.
   */
  /** The HTLCs the interceptor holds now (NodeConfig.interceptForwards), oldest first. */
  listIntercepted(): Promise<InterceptedHtlc[]> {
    this.assertRunning();
    return listIntercepted(this.ctx);
  }

  /**
   * The operator's answer for a held HTLC: resume it (our checks, then forwarded), fail it back
   * with a BOLT 4 failure (INTERCEPT_FAILURES), or settle it with its preimage (hex).
   */
  resolveIntercepted(id: string, answer: InterceptAnswer): Promise<void> {
    this.assertRunning();
    return resolveIntercepted(this.ctx, id, answer);
  }

  setFees(channel: string, change: PolicyChange): Promise<{ channel: string } & ForwardPolicy> {
    this.assertRunning();
    return setFees(this.ctx, channel, change);
  }

  /** Every invoice of this node: unpaid, paid (with when), or expired. */
  listInvoices(): Promise<InvoiceView[]> {
    this.assertRunning();
    return listInvoices(this.ctx);
  }

  /**
   * The durable event log (guide step 16): every channel event, written before anything hears
   * of it, `pending` until handled (the node's own handler handles each), the last handled ones
   * kept for `since` (a replay from the last seq a client saw), new ones on `stream$`.
   */
  get events(): NodeEvents {
    return this.ctx.get('eventLog');
  }

  /** Connects and remembers the peer, so it is redialled after a drop or a restart. */
  async connect(nodeId: string, host: string, port: number): Promise<PeerInfo> {
    this.assertRunning();
    // The peer is remembered durably before the user is told: not while the disk refuses writes.
    this.ctx.get('storage').assertAvailable('connecting to a peer');
    const peers = this.ctx.get('peers');
    // Only a peer we did reach becomes persistent: a failed connect must not leave the
    // PeerManager redialling an address the user was told did not work.
    const info = await peers.ref.connect(nodeId, host, port);
    await this.ctx.get('persistentPeers').remember(nodeId, { host, port });
    await peers.ref.connect(nodeId, host, port, { persistent: true }).catch((err: Error) => {
      // It dropped in between; being persistent now, it is redialled with backoff.
      this.ctx.log.debug({ peer: nodeId, err: err.message }, 'peer dropped right after connecting');
    });
    return info;
  }

  /** Disconnects and forgets the peer. */
  async disconnect(nodeId: string): Promise<boolean> {
    this.assertRunning();
    this.ctx.get('storage').assertAvailable('forgetting a peer');
    const peers = this.ctx.get('peers');
    const id = nodeId.toLowerCase();
    const known = (await peers.ref.listPeers()).some((p) => p.nodeId === id);
    await this.ctx.get('persistentPeers').forget(id);
    await peers.ref.disconnect(id);
    return known;
  }

  listPeers(): Promise<PeerInfo[]> {
    this.assertRunning();
    return this.ctx.get('peers').ref.listPeers();
  }

  /**
   * Hands transactions to the node's broadcaster (step 3): the user's, or bitcoind's, which
   * sends each again until a block confirms it.
   */
  broadcastTransactions(txs: Uint8Array[]): Promise<BroadcastResult[]> {
    this.assertRunning();
    return this.ctx.get('broadcaster').broadcastTransactions(txs);
  }

  /** The feerate the node's fee estimator (step 1) gives for `target`, in sat per 1000 weight. */
  feeratePerKw(target: ConfirmationTarget): bigint {
    this.assertRunning();
    return this.ctx.get('feeEstimator').feeratePerKw(target);
  }

  /** The network graph (step 12): its size, its memory, its last sync, what gossip it took in. */
  graphInfo(): Promise<GraphInfo> {
    this.assertRunning();
    return graphInfo(this.ctx.get('gossip'));
  }

  /** The graph's nodes in index order, a page at a time (`next` → `after`). */
  listNodes(options?: GraphPageOptions): Promise<GraphPage<GraphNode>> {
    this.assertRunning();
    return listNodes(this.ctx.get('gossip'), options);
  }

  /** The graph's channels with both directions' policies, a page at a time. */
  listGraphChannels(options?: GraphPageOptions): Promise<GraphPage<GraphChannel>> {
    this.assertRunning();
    return listChannels(this.ctx.get('gossip'), options);
  }

  /** A node of the graph (hex id) with its channels; undefined if the graph does not know it. */
  getNode(nodeId: string): Promise<{ node: GraphNode; channels: GraphChannel[] } | undefined> {
    this.assertRunning();
    return getNode(this.ctx.get('gossip'), nodeId);
  }

  /**
   * Routes from this node to `payee` for `amountMsat` at the current block height, through the
   * node's router (step 12): one path, or parts when no one path carries it. Rejects with the
   * router's GossipError: `no-route`, `route-fee-limit`, `route-cltv-limit`, `invalid-argument`.
   */
  queryRoutes(payee: string, amountMsat: bigint, options?: QueryRoutesOptions): Promise<Route[]> {
    this.assertRunning();
    const height = this.ctx.get('tip').best.height;
    return queryRoutes(this.ctx.get('router'), this.nodeId, height, payee, amountMsat, options);
  }

  /** Every actor's metrics, the peer limits and their hit counters, and the faults (see nodePrometheus). */
  async metrics(): Promise<NodeMetrics> {
    const [actors, peers, forwards, channelThreads] = await Promise.all([
      // The channel manager is an in-thread actor of its own (spawnLocal), not the supervisor's.
      Promise.all([
        this.ctx.supervisor.metrics(),
        this.ctx
          .get('channelManager')
          .metrics()
          .then((m) => [m])
          .catch(() => []),
      ]).then(([supervised, local]) => [...supervised, ...local]),
      // A peer actor restarting or gone must not take the other metrics with it.
      this.ctx
        .get('peers')
        .ref.stats()
        .catch(() => null),
      this.ctx
        .get('channelManager')
        .ref.forwardMetrics()
        .catch(() => []),
      this.ctx
        .get('channelManager')
        .ref.channelThreads()
        .catch(() => []),
    ]);
    return { actors, peers, faults: this.ctx.faults.list(), forwards, channelThreads };
  }

  actorNames(): string[] {
    return this.ctx.supervisor.names();
  }

  /** CPU-profiles one actor for `seconds`; the profile goes to the data dir's profiles folder. */
  async profile(actor: string, seconds: number): Promise<{ path: string; samples: number }> {
    this.assertRunning();
    const dir = join(this.config.dataDir, 'profiles');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${actor}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    return this.ctx.supervisor.profile(actor, seconds, path);
  }

  /** Stops every step, last first (actors, then the store, then the chain pieces). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const log = this.ctx.log;
    log.info('stopping');
    // A component waiting on its last write gives up if the disk still refuses it (a full disk).
    this.ctx.get('storage').stopping();
    await stopComponents(this.started, log);
    await this.ctx.supervisor.stopAll();
    this.ctx.events.complete();
    log.info('stopped');
  }
}
