/**
 * ChannelManager (guide step 9): the thin shell around the channels. Each channel is a core
 * (channel.ts) in an in-thread actor (channel.actor.ts) found through the directory
 * (directory.ts). The manager takes peer messages and peer events (PeerLink), blocks (it is a
 * chain listener), persist completions (MonitorPersister.completed$) and user calls, routes
 * each to its channel, and performs what the channels ask through the interfaces it is given:
 * signer (keys), MonitorPersister, FundingWallet, Broadcaster, the peer's `send`.
 *
 * Routing runs one input at a time, in arrival order (a serial queue); each channel's own
 * mailbox then keeps that order for its inputs, so a slow persist of one channel does not
 * hold up the others.
 */
import type { RouteHint } from '@lnkit/invoice';
import type { ChannelSigner, SignerState } from '@lnkit/keys';
import { type ChannelMonitor, signerStateOf } from '@lnkit/monitor';
import { type Logger, spawnLocal } from '@lnkit/runtime';
import { Transaction } from '@lnkit/tx';
import {
  decodeMessage,
  encodeMessage,
  Features,
  formatShortChannelId,
  type Message,
  type OpenChannel,
} from '@lnkit/wire';
import { Observable, Subject, type Subscription } from 'rxjs';
import { unsignedChannelAnnouncement } from './announcement.ts';
import type { Broadcaster } from './broadcaster.ts';
import { channelActor } from './channel.actor.ts';
import type { ChannelContext } from './channel.ts';
import { describeClosure } from './channel-effects.ts';
import type {
  ChannelEffect,
  ChannelEvent,
  ChannelInput,
  ChannelMessage,
  ChannelState,
} from './channel-state.ts';
import { type ChannelSummary, summarize } from './channel-summary.ts';
import type { NegotiatedChannelType } from './channel-type.ts';
import type { PeerFeatures, Refusal } from './checks.ts';
import { type ChannelConfig, DEFAULT_CHANNEL_CONFIG, LARGE_CHANNEL_SAT } from './config.ts';
import { crashPoint } from './crash-point.ts';
import { ChannelDirectory } from './directory.ts';
import { ManagerError } from './errors.ts';
import { acceptChannel, openChannel } from './establish.ts';
import { MANAGER_INIT_FEATURES, peerFeatures } from './features.ts';
import { FEERATE_FLOOR_PER_KW, type FeeEstimator } from './fee-estimator.ts';
import { Forwarder, type InterceptOptions } from './forward/forwarder.ts';
import type { PeerForwardLimits } from './forward/peer-limits.ts';
import type { ForwardPolicy, PolicyChange } from './forward/policy.ts';
import type { ForwardsStore } from './forward/store.ts';
import type { FundingWallet } from './funding-wallet.ts';
import type { MonitorPersister } from './monitor-persister.ts';
import { tolerantFeeBounds } from './normal-operation.ts';
import { inFlightView } from './payments/in-flight.ts';
import type { PaymentEvent, PaymentRetry, PaymentRouter, Payments } from './payments/payments.ts';
import { createPayments } from './payments/shell.ts';
import type { PaymentsStore } from './payments/store.ts';
import type { PeerLink, PeerLinkEvent } from './peer-link.ts';
import { checkPeerUpdate, type PeerPolicy, routeHintsOf } from './private-channels.ts';
import type { ChannelHandle, ChannelHosts, HostedServices } from './remote-channel.ts';
import { restoreChannel } from './restore.ts';
import {
  type ChannelSnapshot,
  type ChannelSnapshotStore,
  encodeChannelSnapshot,
  snapshotOf,
} from './snapshot.ts';

/** The keys a manager needs: KeysManager, or the signer pool behind the same three members. */
export interface ChannelKeysSource {
  readonly nodeId: Uint8Array;
  getSecureRandomBytes(): Uint8Array;
  /** `state`: the signer state a channel's monitor implies (signerStateOf), for a channel rebuilt at start. */
  createChannelSigner(channelIndex: bigint, state?: SignerState): ChannelSigner | Promise<ChannelSigner>;
  /** The node key, to sign our invoices and peel the onions of payments to us (KeysManager has both). */
  signWithNodeKey?(digest: Uint8Array): Promise<Uint8Array>;
  ecdhWithNodeKey?(publicKey: Uint8Array): Promise<Uint8Array>;
}

export interface ChannelManagerOptions {
  keys: ChannelKeysSource;
  peers: PeerLink;
  persister: MonitorPersister;
  broadcaster: Broadcaster;
  feeEstimator: FeeEstimator;
  /** Needed to open channels (not to accept them). */
  wallet?: FundingWallet | undefined;
  /** The chain's genesis hash as open_channel carries it (internal byte order). */
  chainHash: Uint8Array;
  /** The chain tip's height at start (the manager follows blocks from there). */
  bestHeight: number;
  /** The init features this node advertises (MANAGER_INIT_FEATURES must be among them). */
  localFeatures?: Features;
  config?: ChannelConfig;
  /** Where our side of a mutual close goes (a wallet address's script). */
  shutdownScript?: () => Uint8Array;
  logger: Logger;
  /**
   * Where the channels' snapshot is written (guide step 17; `LmdbChannelSnapshotStore` on the
   * node's Store). Without it the channels live in memory only and nothing is restored.
   */
  snapshot?: ChannelSnapshotStore | undefined;
  /** Where payments and invoices are kept (payments/store.ts); default in memory. */
  paymentsStore?: PaymentsStore | undefined;
  /** Where forwards are kept (forward/store.ts); default in memory. */
  forwardsStore?: ForwardsStore | undefined;
  /** Our relay policy for every channel (forward/policy.ts); LDK 0.1.0's defaults otherwise. */
  forwardPolicy?: ForwardPolicy | undefined;
  /** What one upstream peer may have us forward at once and per second (forward/peer-limits.ts). */
  forwardPeerLimits?: PeerForwardLimits | undefined;
  /**
   * Where events are made durable (guide step 16; the node's event log). Each event of a
   * channel's step is issued here before that step's snapshot is written, so a crash never
   * loses an event (at worst the next start repeats it). `events$` still tells live
   * subscribers, in effect order. A sink that throws is logged and the channel goes on.
   */
  eventSink?: ((event: ChannelEvent) => Promise<void>) | undefined;
  /**
   * True when the snapshot, the event sink and the persister all write to one store that
   * commits writes in the order they were issued (the node's lmdb Store with its MonitorStore):
   * then a step's snapshot and its monitor update share one commit. Default false: the snapshot
   * is durable before the monitor update is handed to the persister.
   */
  writesInIssueOrder?: boolean | undefined;
  /**
   * The same for the payment layer's events (payments/payments.ts): each awaited before what
   * follows from it (the fulfil, the caller's outcome); what a crash left untold is told at start.
   */
  paymentEventSink?: ((event: PaymentEvent) => Promise<void>) | undefined;
  /** Payments to nodes we have no channel with go over the graph through it (the node's router). */
  router?: PaymentRouter | undefined;
  /** How long such a payment keeps trying other routes (payments.ts DEFAULT_PAYMENT_RETRY). */
  paymentRetry?: PaymentRetry | undefined;
  /** The HTLC interceptor (forward/forwarder.ts): forwards held until resolved. Off without it. */
  interceptForwards?: InterceptOptions | undefined;
  /**
   * A public channel whose peer has been away this long gets a channel_update with the disable
   * bit (BOLT 7), on `channelUpdates$`; one that comes back, an enabled one. Default 5 minutes.
   */
  disableAfterMs?: number | undefined;
  /** How long the parts of a multi-part payment to us may take to reach its total (payments.ts, 60 s). */
  mppTimeoutMs?: number | undefined;
  /**
   * The monitors read at start (steps 8, 10, 11: synced to the tip and watched), or a lookup of
   * them: `start()` rebuilds a channel from each open monitor and its snapshot, checked against
   * the monitor. A snapshot without a monitor is not resurrected.
   */
  monitors?:
    | readonly ChannelMonitor[]
    | (() => readonly ChannelMonitor[] | Promise<readonly ChannelMonitor[]>);
  /** The hash of the block at `bestHeight` (display order), kept in the snapshot with it. */
  bestBlockHash?: string | undefined;
  /**
   * Worker threads to place the channels in (remote-channel.ts), stopped with the manager;
   * without them every channel steps in the manager's own thread.
   */
  channelHosts?: ChannelHosts | undefined;
}

/** What closeChannel() answers: `closingTxid` (display order) is null until the closing transaction is known. */
export interface ClosingChannel {
  channelId: string;
  closingTxid: string | null;
}

export interface CloseChannelOptions {
  /** Force close: our latest commitment, signed by both sides, broadcast now. */
  force?: boolean;
  /** Cooperative close only: the closing feerate we aim at. */
  feeratePerKw?: number;
  /** Cooperative close only: where our output goes. */
  scriptPubKey?: Uint8Array;
}

export interface OpenChannelOptions {
  pushMsat?: bigint;
  type?: 'anchors' | 'static-remotekey';
  public?: boolean;
}

export interface OpenedChannel {
  channelId: string;
  temporaryChannelId: string;
  /** Display order. */
  fundingTxid: string;
}

/** A public channel's gossip as we give it: its channel_announcement and our channel_update (type and payload). */
export interface OwnChannelGossip {
  channelId: string;
  /** BLOCKxTXxOUTPUT. */
  shortChannelId: string;
  channelAnnouncement: Uint8Array;
  channelUpdate: Uint8Array;
}

/**
 * The BOLT 2 messages the manager takes from peers, BOLT 7 announcement_signatures (259), and
 * channel_update (258: a peer's policy for a private channel of ours; gossip has the rest).
 */
export const CHANNEL_MESSAGE_TYPES = [
  1, 17, 32, 33, 34, 35, 36, 38, 39, 128, 130, 131, 132, 133, 134, 135, 136, 258, 259,
];
/** Where a channel_update's short_channel_id is: after the type, the signature and the chain hash. */
const UPDATE_SCID_AT = 2 + 64 + 32;

interface PendingOpen {
  resolve(v: OpenedChannel): void;
  reject(e: Error): void;
}

interface Channel {
  handle: ChannelHandle;
  state: ChannelState;
  /** The encoded snapshot last written, so an unchanged one is not written again. */
  savedSnapshot?: Uint8Array | undefined;
  /** The wallet's reservation of the funding coins (funder). */
  reservation?: unknown;
  /** The user's openChannel() call, settled at ChannelPending or ChannelClosed. */
  pendingOpen?: PendingOpen | undefined;
  /**
   * The peer went away and this channel has not sent channel_reestablish since: what a step
   * under way still sends is dropped (see `send` in #services).
   */
  linkStale?: boolean | undefined;
  /** The core's refusal of the last command handed to it (payments/shell.ts reads and clears it). */
  refused?: Refusal | undefined;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Inbound channels one peer may have waiting for funding_created at once. */
export const MAX_UNFUNDED_CHANNELS_PER_PEER = 4;
/** Closed channels listChannels() still shows. */
const MAX_CLOSED_KEPT = 1000;
/** Aliases live at block heights from 16,000,000: no real short_channel_id reaches them for centuries. */
const ALIAS_BLOCK_BASE = 16_000_000n;

export class ChannelManager {
  readonly #o: ChannelManagerOptions;
  readonly #config: ChannelConfig;
  readonly #localFeatures: Features;
  readonly #directory = new ChannelDirectory<Channel>();
  readonly #peers = new Map<string, PeerFeatures>();
  /** Display-order funding txid → the channel watching it. */
  readonly #watched = new Map<string, { id: number; vout: number }>();
  /** Funding outpoint (`<display-order txid>:<vout>`) → the channel: a block's inputs spending it. */
  readonly #fundingOutpoints = new Map<string, number>();
  /** Display-order closing txid → the channel that broadcast it. */
  readonly #watchedClosings = new Map<string, number>();
  readonly #closed: ChannelSummary[] = [];
  /** The channel ids of channels closed in this process, by their number: a late fulfil still finds the monitor. */
  readonly #forgotten = new Map<number, Uint8Array>();
  readonly #events = new Subject<ChannelEvent>();
  readonly #announced = new Subject<OwnChannelGossip>();
  readonly #updates = new Subject<OwnChannelGossip>();
  /** Public channels whose peer is away: the timer that disables them, or `disabled` once it ran. */
  readonly #away = new Map<number, NodeJS.Timeout | 'disabled'>();
  /**
   * A public channel's channel_update changed on its own (disabled while the peer is away,
   * enabled when it is back): the update, for the node to broadcast.
   */
  readonly channelUpdates$: Observable<OwnChannelGossip> = this.#updates.asObservable();
  /** Each peer's policy on our private channels with it (its channel_update to us), by channel id hex. */
  readonly #peerPolicies = new Map<string, PeerPolicy>();
  /**
   * A public channel announced now (both sides' signatures in): its gossip, for the node to
   * broadcast. Those announced before a restart are in `ownGossip()`.
   */
  readonly announcements$: Observable<OwnChannelGossip> = this.#announced.asObservable();
  /** Events said before anyone subscribed (those of start(): restored channels), for the first subscriber. */
  readonly #unheard: ChannelEvent[] = [];
  readonly #subscriptions: Subscription[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #bestHeight: number;
  #bestBlockHash: string | undefined;
  #stopped = false;

  /**
   * ChannelPending, ChannelReady, ChannelClosed, for every channel. Those said before the first
   * subscription (by start(), about restored channels) are given to the first subscriber.
   */
  readonly events$: Observable<ChannelEvent> = new Observable<ChannelEvent>((subscriber) => {
    for (const e of this.#unheard.splice(0)) subscriber.next(e);
    return this.#events.subscribe(subscriber);
  });

  constructor(options: ChannelManagerOptions) {
    this.#o = options;
    this.#config = options.config ?? DEFAULT_CHANNEL_CONFIG;
    this.#localFeatures = options.localFeatures ?? MANAGER_INIT_FEATURES;
    this.#bestHeight = options.bestHeight;
    this.#bestBlockHash = options.bestBlockHash;
    this.payments = createPayments({
      store: options.paymentsStore,
      eventSink: options.paymentEventSink,
      router: options.router,
      retry: options.paymentRetry,
      mppTimeoutMs: options.mppTimeoutMs,
      routeHints: () => this.#routeHints(),
      keys: options.keys,
      chainHash: options.chainHash,
      logger: options.logger,
      channels: {
        channelsWith: (nodeId) =>
          this.#directory.byNodeId(nodeId).map(({ id, handle }) => ({ id, state: handle.state })),
        all: () => this.#directory.all().map(({ id, handle }) => ({ id, state: handle.state })),
        channelIdOf: (id) => {
          const channelId = this.#directory.get(id)?.state.channelId;
          return channelId ? hex(channelId) : undefined;
        },
        command: (id, input) =>
          this.#enqueue(async () => {
            const channel = this.#directory.get(id);
            if (!channel)
              return this.#onChain(id, input, { field: 'channel', reason: 'the channel is gone' });
            channel.refused = undefined;
            await this.#dispatch(id, input);
            const refused = channel.refused;
            channel.refused = undefined;
            return this.#onChain(id, input, refused);
          }),
        bestHeight: () => this.#bestHeight,
      },
    });
    const stateOf = (found: { id: number; handle: Channel } | undefined) =>
      found && { id: found.id, state: found.handle.state };
    this.forwards = new Forwarder({
      nodeId: options.keys.nodeId,
      chainHash: options.chainHash,
      signWithNodeKey: options.keys.signWithNodeKey?.bind(options.keys),
      store: options.forwardsStore,
      policy: options.forwardPolicy,
      peerLimits: options.forwardPeerLimits,
      intercept: options.interceptForwards,
      logger: options.logger.child({ component: 'forwards' }),
      channels: {
        byShortChannelId: (scid) => stateOf(this.#directory.byShortChannelId(scid)),
        byChannelId: (channelId) => stateOf(this.#directory.byChannelId(channelId)),
        channelsWith: (nodeId) =>
          this.#directory.byNodeId(nodeId).map(({ id, handle }) => ({ id, state: handle.state })),
        stateOf: (id) => this.#directory.get(id)?.state,
        command: (id, input) => this.#command(id, input),
        offer: (id, input, before) => this.#command(id, input, before),
        providePreimage: (channelId, preimage) => this.#preimageToMonitor(channelId, preimage),
        bestHeight: () => this.#bestHeight,
      },
    });
    this.payments.setForwarder((channel, e, peeled) => this.forwards.forward(channel, e, peeled));
    this.payments.setRouteSender((route, hash, recipient) =>
      this.forwards.sendToRoute(route, hash, recipient),
    );
  }

  /**
   * A command to a channel, in the manager's queue; resolves with what the core refused. An
   * add-htlc's `before(htlcId)` is awaited first, in the same turn, with the id the add takes
   * (forward/: the pairing durable before the HTLC is offered).
   */
  #command(
    id: number,
    input: ChannelInput,
    before?: (htlcId: bigint) => Promise<void>,
  ): Promise<Refusal | undefined> {
    return this.#enqueue(async () => {
      const channel = this.#directory.get(id);
      if (!channel) return this.#onChain(id, input, { field: 'channel', reason: 'the channel is gone' });
      if (before) {
        const state = await channel.handle.ref.state();
        await before(state.normal?.ledger.nextOfferedId ?? 0n);
      }
      channel.refused = undefined;
      await this.#dispatch(id, input);
      const refused = channel.refused;
      channel.refused = undefined;
      return this.#onChain(id, input, refused);
    });
  }

  /**
   * A fulfil the channel no longer takes (it is going on chain, or gone): the preimage goes to
   * its monitor, which claims the HTLC on chain with it (BOLT 5). Without this a forward
   * fulfilled downstream after its upstream channel went on chain would lose the upstream HTLC.
   */
  #onChain(id: number, input: ChannelInput, refused: Refusal | undefined): Refusal | undefined {
    if (input.kind !== 'fulfill-htlc' || (refused?.field !== 'phase' && refused?.field !== 'channel'))
      return refused;
    const channelId = this.#directory.get(id)?.state.channelId ?? this.#forgotten.get(id);
    if (channelId) this.#preimageToMonitor(channelId, input.paymentPreimage);
    return refused;
  }

  /**
   * The ChainMonitor's HtlcFailedOnChain (or, at start, what it still holds as such): our HTLC
   * on that channel can never be claimed by its payee, so what it carried fails — our payment,
   * or the forward's incoming HTLC.
   */
  htlcFailedOnChain(channelId: Uint8Array, htlcId: bigint, paymentHash: Uint8Array): void {
    this.forwards.htlcFailedOnChain(channelId, htlcId);
    const id =
      this.#directory.byChannelId(channelId)?.id ??
      [...this.#forgotten].find(([, c]) => Buffer.from(c).equals(Buffer.from(channelId)))?.[0];
    this.payments.htlcFailedOnChain(id, paymentHash);
  }

  /** The ChainMonitor's HtlcClaimedOnChain: an HTLC to us we were claiming is received. */
  htlcClaimedOnChain(channelId: Uint8Array, htlcId: bigint): void {
    this.payments.htlcClaimedOnChain(channelId, htlcId);
  }

  #preimageToMonitor(channelId: Uint8Array, preimage: Uint8Array): void {
    const { persister, logger } = this.#o;
    if (!persister.providePaymentPreimage) {
      logger.error(
        { channel: hex(channelId) },
        'a preimage for a channel on chain, and no monitor to claim its HTLC with it',
      );
      return;
    }
    void persister.providePaymentPreimage(channelId, preimage).then(
      (added) => {
        if (added)
          logger.info({ channel: hex(channelId) }, 'its monitor claims the HTLC on chain with the preimage');
      },
      (err: unknown) =>
        logger.error({ err, channel: hex(channelId) }, 'the preimage could not be given to the monitor'),
    );
  }

  /**
   * Forwarding (forward/): HTLCs whose onion names a next channel are checked against our
   * policy and offered on it; `forwards.events$` says PaymentForwarded and ForwardFailed.
   */
  readonly forwards: Forwarder;

  /**
   * Payments over direct channels (payments/): sendPayment, keysend, createInvoice, and their
   * events (PaymentSent, PaymentFailed, PaymentClaimable, PaymentClaimed) on `payments.events$`.
   */
  readonly payments: Payments;

  /**
   * The last block the manager handled: after start() with a snapshot, the snapshot's. The
   * node's chain sync (step 10) brings the manager from here to the tip (a ListenerAtBlock).
   */
  get bestBlock(): { height: number; hashHex: string | undefined } {
    return { height: this.#bestHeight, hashHex: this.#bestBlockHash };
  }

  /** Subscribes to peers and persist completions. Call once, after the chain is synced (DESIGN.md). */
  async start(): Promise<void> {
    const { peers, persister } = this.#o;
    // What a crash left between the payments' books and their sink, told before any channel runs.
    await this.payments.start();
    await this.#restore();
    // A forward paired before a stop whose downstream HTLC never entered its channel is failed back.
    this.forwards.reconcile();
    // What a crash cut between a channel's step and the payments' books (payments/in-flight.ts).
    const given = this.#o.monitors;
    await this.payments.reconcile(
      inFlightView(
        typeof given === 'function' ? await given() : (given ?? []),
        this.#directory.all().map(({ handle }) => handle.state),
      ),
    );
    this.#subscriptions.push(
      peers.events$().subscribe((e) => {
        // Marked at once, not in the queue: a step under way must send nothing more to this peer.
        if (e.type !== 'connected')
          for (const { handle } of this.#directory.byNodeId(e.nodeId)) handle.linkStale = true;
        this.#enqueue(() => this.#onPeerEvent(e));
      }),
      peers
        .messages$(CHANNEL_MESSAGE_TYPES)
        .subscribe((m) => this.#enqueue(() => this.#onPeerMessage(m.nodeId, m.raw))),
    );
    if (persister.completed$)
      this.#subscriptions.push(
        persister.completed$.subscribe((c) =>
          this.#enqueue(async () => {
            crashPoint('monitor-persisted');
            const found = this.#directory.byChannelId(Buffer.from(c.channelId, 'hex'));
            if (found)
              this.#dispatch(found.id, {
                kind: 'persisted',
                updateId: c.updateId,
                status: { status: 'completed' },
              });
          }),
        ),
      );
    for (const p of await peers.listPeers()) {
      this.#peerConnected(p.nodeId, p.features.hex);
      // A restored channel whose peer is already connected reestablishes now.
      for (const { id } of this.#directory.byNodeId(p.nodeId)) this.#dispatch(id, { kind: 'peer-connected' });
    }
  }

  /**
   * Rebuilds the channels from the monitors and the snapshot (restore.ts): each open monitor
   * with its snapshot, checked against it; a channel that cannot be resumed safely is said (a
   * warning, and ChannelClosed with reason not-resumed) and left to its monitor, with nothing
   * broadcast. Snapshots without a monitor and tombstones of closed channels are removed.
   */
  async #restore(): Promise<void> {
    const store = this.#o.snapshot;
    const given = this.#o.monitors;
    const monitors = typeof given === 'function' ? await given() : (given ?? []);
    const loaded = store ? await store.load() : { channels: [] };
    if (loaded.bestBlock) {
      this.#bestHeight = loaded.bestBlock.height;
      this.#bestBlockHash = loaded.bestBlock.hashHex;
    }
    const snapshots = new Map(loaded.channels.map((c) => [hex(c.channelId), c]));
    const log = this.#o.logger;
    // Started once every channel is in the directory: what a restored channel tells again at
    // its start (a downstream fulfil its forward had not passed upstream) finds the upstream one.
    const restored: Channel[] = [];
    for (const monitor of monitors) {
      const idHex = hex(monitor.info.channelId);
      const snapshot = snapshots.get(idHex);
      snapshots.delete(idHex);
      // Closed before (every monitor of every channel ever stays watched): no signer needed.
      if (monitor.closed && !snapshot?.forceClose) {
        if (snapshot) await store?.removeChannel(idHex);
        continue;
      }
      const channelKeyIndex = monitor.info.channelKeyIndex;
      const signer = await this.#o.keys.createChannelSigner(channelKeyIndex, signerStateOf(monitor));
      const holderNumber = monitor.holderCommitment.commitmentNumber;
      const keys = await this.#localKeys(channelKeyIndex, signer, holderNumber);
      const r = restoreChannel({
        monitor,
        snapshot,
        keys,
        holderRevocations: await this.#holderRevocations(signer, holderNumber, keys.perCommitmentPoints[1]),
        chainHash: this.#o.chainHash,
        bestHeight: this.#bestHeight,
        newAlias: this.#newAlias(),
      });
      const clog = log.child({ peer: monitor.info.counterpartyNodeId, channel: idHex });
      if (!r.ok) {
        // A closed channel's tombstone goes; a channel not resumed keeps its snapshot (what the
        // manager knew of it stays for a later version, or a person, to resume it from).
        if (r.quiet) {
          if (snapshot) await store?.removeChannel(idHex);
          continue;
        }
        clog.warn({ reason: r.reason }, `channel not resumed: ${describeClosure(r.reason)}`);
        const event: ChannelEvent = {
          type: 'ChannelClosed',
          channelId: monitor.info.channelId,
          counterpartyNodeId: monitor.info.counterpartyNodeId,
          reason: r.reason,
        };
        await this.#record(event);
        this.#emit(event);
        continue;
      }
      for (const note of r.notes) clog.warn({}, `channel restored: ${note}`);
      clog.info({ phase: r.state.phase }, 'channel restored');
      restored.push(await this.#spawn(r.state, r.effects, signer, undefined, false));
    }
    for (const channel of restored) await channel.handle.ref.start();
    // A snapshot whose monitor is gone is not resurrected (the monitor is the channel).
    for (const [idHex, s] of snapshots) {
      if (s.phase !== 'closed')
        log.warn({ channel: idHex, phase: s.phase }, 'a channel snapshot without a monitor: not restored');
      await store?.removeChannel(idHex);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const s of this.#subscriptions) s.unsubscribe();
    await this.#queue;
    for (const { handle } of this.#directory.all()) {
      handle.pendingOpen?.reject(new ManagerError('closed', 'the channel manager stopped'));
      // The step under way ends first (its persists, its messages): an actor's stop does not
      // wait for it, and a persist it made after the store closed failed the channel, which
      // then force-closed and broadcast its commitment at every shutdown in the middle of a payment.
      await handle.handle.ref.flush().catch(() => undefined);
      await handle.handle.stop();
    }
    await this.#o.channelHosts?.stop();
    this.payments.stop();
    this.forwards.stop();
    for (const t of this.#away.values()) if (t !== 'disabled') clearTimeout(t);
    this.#events.complete();
    this.#announced.complete();
    this.#updates.complete();
  }

  /**
   * Every public channel announced and still open: its channel_announcement and our
   * channel_update, signed now (`nowSeconds`), for the node to broadcast and refresh.
   */
  async ownGossip(nowSeconds = Math.floor(Date.now() / 1000)): Promise<OwnChannelGossip[]> {
    const out: OwnChannelGossip[] = [];
    for (const { id, handle } of this.#directory.all()) {
      const s = handle.state;
      const a = s.announcement;
      if (!a?.announced || !a.local || !a.remote || s.phase !== 'ready') continue;
      const raw = unsignedChannelAnnouncement(s, this.#o.keys.nodeId, a.shortChannelId, {
        local: a.local,
        remote: a.remote,
      });
      // A channel disabled while its peer is away stays disabled in a refresh.
      const g = await this.#gossipOf(s, raw, nowSeconds, this.#away.get(id) === 'disabled');
      if (g) out.push(g);
    }
    return out;
  }

  async #gossipOf(
    s: ChannelState,
    channelAnnouncement: Uint8Array,
    nowSeconds: number,
    disabled = false,
  ): Promise<OwnChannelGossip | undefined> {
    const update = await this.forwards.gossipChannelUpdate(s, nowSeconds, { disabled });
    if (!update || !s.channelId || s.shortChannelId === undefined) return undefined;
    return {
      channelId: hex(s.channelId),
      shortChannelId: formatShortChannelId(s.shortChannelId),
      channelAnnouncement,
      channelUpdate: update,
    };
  }

  /** The channel host threads and how many channels each holds; none when every channel steps here. */
  channelThreads(): { threadId: number; channels: number }[] {
    return this.#o.channelHosts?.threads() ?? [];
  }

  /** Every channel the manager holds, and those closed since it started. */
  listChannels(): ChannelSummary[] {
    return [...this.#directory.all().map(({ handle }) => summarize(handle.state)), ...this.#closed];
  }

  /**
   * Opens a channel to a connected peer. Resolves once the funding transaction is broadcast
   * (ChannelPending), rejects with ManagerError if the peer refuses or the channel fails first.
   */
  openChannel(nodeId: string, amountSat: bigint, options: OpenChannelOptions = {}): Promise<OpenedChannel> {
    return new Promise<OpenedChannel>((resolve, reject) => {
      this.#enqueue(() => this.#startOpen(nodeId, amountSat, options, { resolve, reject })).catch(reject);
    });
  }

  /**
   * Closes a channel. Cooperative (default): BOLT 2 shutdown, then closing_signed; resolves
   * once the shutdown is sent, with `closingTxid` null until a closing transaction is agreed
   * (listChannels() shows it then), and ChannelClosed comes when it confirms. `force`: our
   * latest commitment, signed by both sides, is broadcast (then an `error` tells the peer);
   * resolves with its txid, the channel is `closing` until a block spends the funding, then
   * `closed` (ChannelClosed, reason holder-force-closed). A channel whose funding is not out
   * yet has nothing to broadcast: it fails at once and `closingTxid` is null.
   */
  closeChannel(channelIdHex: string, options: CloseChannelOptions = {}): Promise<ClosingChannel> {
    return this.#enqueue(async () => {
      const found = /^[0-9a-f]{64}$/.test(channelIdHex)
        ? this.#directory.byChannelId(Buffer.from(channelIdHex, 'hex'))
        : undefined;
      if (!found) throw new ManagerError('unknown-channel', `no open channel ${channelIdHex}`);
      const state = found.handle.state;
      if (options.force) {
        const after = await found.handle.handle.ref.handle({ kind: 'force-close' });
        return { channelId: channelIdHex, closingTxid: after.forceClose?.commitmentTxid ?? null };
      }
      if (state.phase !== 'ready' && state.phase !== 'awaiting-confirmation')
        throw new ManagerError(
          'invalid-argument',
          `channel ${channelIdHex} cannot be closed cooperatively in phase ${state.phase}`,
        );
      if (!options.scriptPubKey && !state.localShutdownScript && !state.local.upfrontShutdownScript)
        throw new ManagerError(
          'invalid-argument',
          'no script to close to: give the manager a shutdownScript, or pass one',
        );
      const feeratePerKw = options.feeratePerKw ?? Number(this.#o.feeEstimator.feeratePerKw('background'));
      const after = await found.handle.handle.ref.handle({
        kind: 'close',
        feeratePerKw,
        scriptPubKey: options.scriptPubKey,
      });
      return { channelId: channelIdHex, closingTxid: after.close?.closingTxid ?? null };
    });
  }

  /**
   * A block connected to the tip (chain-sync's ChainListener). Every channel sees it before
   * the next input, and the manager's best block is written only once they all have (so a
   * restart never skips a block a channel had not handled).
   */
  blockConnected(
    block: { txdata: readonly Transaction[]; header?: { hashHex: string } | undefined },
    height: number,
  ): Promise<void> {
    return this.#enqueue(async () => {
      this.#bestHeight = height;
      this.#bestBlockHash = block.header?.hashHex;
      const found = new Map<number, ChannelInput>();
      const closings: number[] = [];
      const spends: { id: number; txid: string }[] = [];
      block.txdata.forEach((tx, txIndex) => {
        const txid = tx.getId();
        const closing = this.#watchedClosings.get(txid);
        if (closing !== undefined) closings.push(closing);
        for (const input of tx.ins) {
          const spent = this.#fundingOutpoints.get(
            `${hex(Uint8Array.from(input.hash).reverse())}:${input.index}`,
          );
          if (spent !== undefined) spends.push({ id: spent, txid });
        }
        const w = this.#watched.get(txid);
        const out = w && tx.outs[w.vout];
        if (w && out)
          found.set(w.id, {
            kind: 'block-connected',
            height,
            funding: { txIndex, valueSat: BigInt(out.value), scriptPubKey: new Uint8Array(out.script) },
          });
      });
      const handled: Promise<unknown>[] = [];
      for (const { id } of this.#directory.all())
        handled.push(this.#dispatch(id, found.get(id) ?? { kind: 'block-connected', height }));
      for (const id of closings) handled.push(this.#dispatch(id, { kind: 'closing-confirmed', height }));
      for (const { id, txid } of spends)
        handled.push(this.#dispatch(id, { kind: 'funding-spent', height, txid }));
      await Promise.all(handled);
      await this.#saveBestBlock();
    });
  }

  /** The tip block at `height` was disconnected (chain-sync's ChainListener). */
  blockDisconnected(header: { prevHashHex?: string } | unknown, height: number): Promise<void> {
    return this.#enqueue(async () => {
      this.#bestHeight = height - 1;
      const prev = (header as { prevHashHex?: unknown } | undefined)?.prevHashHex;
      this.#bestBlockHash = typeof prev === 'string' ? prev : undefined;
      await Promise.all(
        this.#directory.all().map(({ id }) => this.#dispatch(id, { kind: 'block-disconnected', height })),
      );
      await this.#saveBestBlock();
    });
  }

  async #saveBestBlock(): Promise<void> {
    const store = this.#o.snapshot;
    const hashHex = this.#bestBlockHash;
    if (!store || hashHex === undefined) return;
    await store
      .saveBestBlock({ hashHex, height: this.#bestHeight })
      .catch((err: unknown) => this.#o.logger.error({ err }, 'the manager best block could not be written'));
  }

  /** Resolves when every input received so far has been routed and handled by its channel. */
  async idle(): Promise<void> {
    await this.#queue;
    await Promise.all(this.#directory.all().map(({ handle }) => handle.handle.ref.state()));
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => (this.#stopped ? (undefined as T) : fn()));
    // A caller's mistake (ManagerError) is the caller's to hear; anything else is ours to log.
    this.#queue = run.catch((err: unknown) => {
      if (!(err instanceof ManagerError)) this.#o.logger.error({ err }, 'channel manager input failed');
    });
    return run;
  }

  /** Hands a channel an input; resolves once the channel has handled it (never rejects). */
  #dispatch(id: number, input: ChannelInput, raw?: Uint8Array): Promise<unknown> {
    const channel = this.#directory.get(id);
    if (!channel) return Promise.resolve();
    return channel.handle.ref
      .handle(input, raw)
      .catch((err: unknown) => this.#o.logger.error({ err }, 'channel input failed'));
  }

  #peerConnected(nodeId: string, featuresHex: string): void {
    this.#peers.set(
      nodeId,
      peerFeatures(this.#localFeatures, Features.fromBytes(Buffer.from(featuresHex, 'hex'))),
    );
  }

  async #onPeerEvent(e: PeerLinkEvent): Promise<void> {
    if (e.type === 'connected') {
      this.#peerConnected(e.nodeId, e.features.hex);
      for (const { id } of this.#directory.byNodeId(e.nodeId)) {
        this.#dispatch(id, { kind: 'peer-connected' });
        this.#peerBack(id);
      }
      return;
    }
    this.#peers.delete(e.nodeId);
    for (const { id } of this.#directory.byNodeId(e.nodeId)) {
      this.#dispatch(id, { kind: 'peer-disconnected' });
      this.#peerAway(id);
    }
  }

  /** DEFAULT: a peer away for a restart or a network blip is not worth telling the network. */
  static readonly DISABLE_AFTER_MS = 5 * 60_000;

  /** An announced channel's peer went away: disabled for gossip if it stays away (BOLT 7). */
  #peerAway(id: number): void {
    const state = this.#directory.get(id)?.state;
    if (!state?.announcement?.announced || this.#away.has(id)) return;
    const timer = setTimeout(() => {
      this.#away.set(id, 'disabled');
      void this.#updateOf(id, true);
    }, this.#o.disableAfterMs ?? ChannelManager.DISABLE_AFTER_MS);
    timer.unref();
    this.#away.set(id, timer);
  }

  #peerBack(id: number): void {
    const away = this.#away.get(id);
    if (away === undefined) return;
    this.#away.delete(id);
    if (away === 'disabled') void this.#updateOf(id, false);
    else clearTimeout(away);
  }

  async #updateOf(id: number, disabled: boolean): Promise<void> {
    const state = this.#directory.get(id)?.state;
    const a = state?.announcement;
    if (!state || !a?.announced || !a.local || !a.remote || state.phase !== 'ready') return;
    const raw = unsignedChannelAnnouncement(state, this.#o.keys.nodeId, a.shortChannelId, {
      local: a.local,
      remote: a.remote,
    });
    const g = await this.#gossipOf(state, raw, Math.floor(Date.now() / 1000), disabled);
    if (!g) return;
    this.#o.logger.info(
      { scid: formatShortChannelId(a.shortChannelId), disabled },
      `our channel_update: the peer is ${disabled ? 'away' : 'back'}`,
    );
    this.#updates.next(g);
  }

  async #onPeerMessage(nodeId: string, raw: Uint8Array): Promise<void> {
    if (raw.length >= UPDATE_SCID_AT + 8 && raw[0] === 0x01 && raw[1] === 0x02)
      return this.#onChannelUpdate(nodeId, raw);
    let m: ReturnType<typeof decodeMessage>;
    try {
      m = decodeMessage(raw);
    } catch {
      return; // the PeerManager already warned and dropped a peer whose message does not decode
    }
    crashPoint('received', m.kind);
    if (m.kind === 'open_channel') return this.#onOpenChannel(nodeId, m);
    const route = this.#route(nodeId, m as Message);
    if (route === 'all') {
      for (const { id } of this.#directory.byNodeId(nodeId))
        this.#dispatch(id, { kind: 'message', message: m as ChannelMessage }, raw);
      return;
    }
    if (route === undefined) {
      if (m.kind !== 'error' && m.kind !== 'warning')
        this.#o.logger.info({ peer: nodeId, message: m.kind }, 'message for a channel we do not have');
      return;
    }
    this.#dispatch(route, { kind: 'message', message: m as ChannelMessage }, raw).then(() =>
      crashPoint('handled', m.kind),
    );
  }

  /**
   * A channel_update from a peer: most are gossip (the gossip actor's), read no further than
   * their short_channel_id; one for a private channel of ours with that peer is its policy
   * towards us, kept for our invoices' route hints.
   */
  #onChannelUpdate(nodeId: string, raw: Uint8Array): void {
    const scid = Buffer.from(raw.buffer, raw.byteOffset + UPDATE_SCID_AT, 8).readBigUInt64BE();
    const found = this.#directory.byShortChannelId(scid);
    const state = found?.handle.state;
    if (!state || state.counterpartyNodeId !== nodeId || state.announce || !state.channelId) return;
    const key = hex(state.channelId);
    let r: ReturnType<typeof checkPeerUpdate>;
    try {
      r = checkPeerUpdate(raw, nodeId, this.#o.keys.nodeId, state, this.#peerPolicies.get(key));
    } catch (err) {
      this.#o.logger.info(
        { peer: nodeId, err: (err as Error).message },
        'a channel_update that does not decode',
      );
      return;
    }
    if ('refused' in r) {
      this.#o.logger.debug(
        { peer: nodeId, channel: key, why: r.refused },
        'the peer’s channel_update not taken',
      );
      return;
    }
    this.#peerPolicies.set(key, r.policy);
  }

  /** The `r` fields for our invoices: our private channels the peer told us its policy for. */
  #routeHints(): RouteHint[] {
    return routeHintsOf(
      this.#directory.all().map(({ handle }) => ({
        state: handle.state,
        inboundMsat: handle.state.commitments?.toRemoteMsat ?? 0n,
      })),
      this.#peerPolicies,
    );
  }

  /**
   * setfees: the policy durable in the forwards' books, then our private channels' peers told
   * at once (public channels: the node re-announces them, step 19).
   */
  async setPolicy(channel: string, change: PolicyChange): Promise<ForwardPolicy> {
    const policy = await this.forwards.setPolicy(channel, change);
    for (const { handle } of this.#directory.all()) {
      const s = handle.state;
      if (s.announce || s.phase !== 'ready' || !s.channelId) continue;
      if (channel !== 'all' && hex(s.channelId) !== channel) continue;
      await this.#sendPrivateUpdate(s);
    }
    return policy;
  }

  async #sendPrivateUpdate(s: ChannelState): Promise<void> {
    const update = await this.forwards.gossipChannelUpdate(s, Math.floor(Date.now() / 1000));
    if (!update) return;
    await this.#o.peers
      .send(s.counterpartyNodeId, update)
      .catch((err: unknown) => this.#o.logger.debug({ err }, 'our channel_update could not be sent'));
  }

  /** Which channel a message is for: by temporary id before funding_created, by channel id after; errors of channel 0 are for all. */
  #route(nodeId: string, m: Message): number | 'all' | undefined {
    const own = (found: { id: number; handle: Channel } | undefined) =>
      found && found.handle.state.counterpartyNodeId === nodeId ? found.id : undefined;
    switch (m.kind) {
      case 'accept_channel':
        return own(this.#directory.byTemporaryId(nodeId, m.temporaryChannelId));
      case 'funding_created':
        return own(this.#directory.byTemporaryId(nodeId, m.temporaryChannelId));
      case 'error':
      case 'warning':
        // BOLT 1: an all-zero channel_id refers to every channel with the sending node.
        if (m.channelId.every((b) => b === 0)) return m.kind === 'error' ? 'all' : undefined;
        return (
          own(this.#directory.byChannelId(m.channelId)) ??
          own(this.#directory.byTemporaryId(nodeId, m.channelId))
        );
      case 'funding_signed':
      case 'channel_ready':
      case 'shutdown':
      case 'closing_signed':
      case 'channel_reestablish':
      case 'update_add_htlc':
      case 'update_fulfill_htlc':
      case 'update_fail_htlc':
      case 'update_fail_malformed_htlc':
      case 'commitment_signed':
      case 'revoke_and_ack':
      case 'update_fee':
      case 'announcement_signatures':
        return own(this.#directory.byChannelId(m.channelId));
      default:
        return undefined;
    }
  }

  async #onOpenChannel(nodeId: string, m: OpenChannel): Promise<void> {
    const log = this.#o.logger.child({ peer: nodeId });
    if (this.#directory.byTemporaryId(nodeId, m.temporaryChannelId)) {
      await this.#sendError(
        nodeId,
        m.temporaryChannelId,
        'open_channel refused: temporary_channel_id is already in use',
      );
      return;
    }
    // Each unfunded channel holds a signer and an actor until the peer funds it or goes away:
    // a peer gets a few at a time, as LDK allows (MAX_UNFUNDED_CHANNELS_PER_PEER), not a flood.
    const unfunded = this.#directory
      .byNodeId(nodeId)
      .filter(
        ({ handle }) => handle.state.role === 'fundee' && handle.state.phase === 'awaiting-funding-created',
      );
    if (unfunded.length >= MAX_UNFUNDED_CHANNELS_PER_PEER) {
      log.warn({ unfunded: unfunded.length }, 'open_channel refused: too many unfunded channels');
      await this.#sendError(
        nodeId,
        m.temporaryChannelId,
        `open_channel refused: ${unfunded.length} channels from this peer wait for funding_created`,
      );
      return;
    }
    const channelIndex = this.#newChannelIndex();
    const signer = await this.#o.keys.createChannelSigner(channelIndex);
    const r = acceptChannel(m, {
      counterpartyNodeId: nodeId,
      chainHash: this.#o.chainHash,
      keys: await this.#localKeys(channelIndex, signer),
      config: this.#config,
      features: this.#peers.get(nodeId) ?? peerFeatures(this.#localFeatures, Features.empty()),
      currentHeight: this.#bestHeight,
      localAlias: this.#newAlias(),
      shutdownScript: this.#o.shutdownScript?.(),
      feerate: this.#feerateBounds(),
    });
    if (!r.ok) {
      log.warn({ refusal: r.refusal }, 'open_channel refused');
      for (const e of r.effects) if (e.kind === 'send') await this.#send(nodeId, e.message);
      return;
    }
    await this.#spawn(r.step.state, r.step.effects, signer);
  }

  async #startOpen(
    nodeId: string,
    amountSat: bigint,
    options: OpenChannelOptions,
    pending: PendingOpen,
  ): Promise<void> {
    const features = this.#peers.get(nodeId);
    if (!features) throw new ManagerError('peer-not-connected', `peer ${nodeId} is not connected`);
    if (!this.#o.wallet) throw new ManagerError('funding-failed', 'this node has no wallet to fund channels');
    const limits = this.#config.limits;
    if (typeof amountSat !== 'bigint' || amountSat < limits.minFundingSat)
      throw new ManagerError('invalid-argument', `a channel needs at least ${limits.minFundingSat} sat`);
    if (amountSat >= LARGE_CHANNEL_SAT && !(features.largeChannel && this.#config.largeChannels))
      throw new ManagerError(
        'feature-not-negotiated',
        `${amountSat} sat needs option_support_large_channel, which ${nodeId} did not offer (the limit is ${LARGE_CHANNEL_SAT - 1n} sat)`,
      );
    const pushMsat = options.pushMsat ?? 0n;
    if (pushMsat < 0n || pushMsat > amountSat * 1000n)
      throw new ManagerError('invalid-argument', 'push_msat must be between 0 and the channel amount');
    const anchorsPossible = features.anchors && this.#config.anchors;
    if (options.type === 'anchors' && !anchorsPossible)
      throw new ManagerError('feature-not-negotiated', `peer ${nodeId} does not support anchors channels`);
    const channelType: NegotiatedChannelType = {
      type:
        (options.type ?? (anchorsPossible ? 'anchors' : 'static-remotekey')) === 'anchors'
          ? 'anchors_zero_fee_htlc_tx'
          : 'static_remotekey',
      scidAlias: false,
    };
    const channelIndex = this.#newChannelIndex();
    const signer = await this.#o.keys.createChannelSigner(channelIndex);
    const temporaryChannelId = this.#o.keys.getSecureRandomBytes();
    const fees = this.#o.feeEstimator;
    const step = openChannel({
      counterpartyNodeId: nodeId,
      chainHash: this.#o.chainHash,
      keys: await this.#localKeys(channelIndex, signer),
      config: this.#config,
      features,
      currentHeight: this.#bestHeight,
      localAlias: this.#newAlias(),
      shutdownScript: this.#o.shutdownScript?.(),
      temporaryChannelId,
      fundingSat: amountSat,
      pushMsat,
      channelType,
      announce: options.public ?? false,
      // Anchors: the commitment need not pay for itself at once (CPFP through the anchor).
      commitmentFeeratePerKw: Number(
        fees.feeratePerKw(channelType.type === 'static_remotekey' ? 'normal' : 'background'),
      ),
      fundingFeeratePerKw: Number(fees.feeratePerKw('normal')),
    });
    await this.#spawn(step.state, step.effects, signer, pending);
  }

  async #spawn(
    state: ChannelState,
    effects: ChannelEffect[],
    signer: ChannelSigner,
    pendingOpen?: PendingOpen,
    start = true,
  ): Promise<Channel> {
    const channel = { state, pendingOpen } as Channel;
    const id = this.#directory.add(channel, state);
    const features =
      this.#peers.get(state.counterpartyNodeId) ?? peerFeatures(this.#localFeatures, Features.empty());
    const name = `channel-${hex(state.temporaryChannelId).slice(0, 16)}`;
    const ctx = this.#channelContext(features);
    const services = this.#services(id, channel, signer);
    const hosts = this.#o.channelHosts;
    channel.handle = hosts
      ? await hosts.open({
          name,
          state,
          ctx,
          services,
          initialEffects: effects,
          current: () => channel.state,
        })
      : await spawnLocal(channelActor, {
          name,
          logger: this.#o.logger,
          config: { state, ctx, services, initialEffects: effects },
        });
    if (start) await channel.handle.ref.start();
    return channel;
  }

  #channelContext(features: PeerFeatures): ChannelContext {
    const fees = this.#o.feeEstimator;
    const bounds = () => this.#feerateBounds();
    const keys = this.#o.keys;
    return {
      config: this.#config,
      features,
      localNodeId: keys.signWithNodeKey ? keys.nodeId : undefined,
      // Read at each use (estimates move); the floor a little tolerant (normal-operation.ts).
      get normal() {
        return { feeBounds: tolerantFeeBounds(bounds()) };
      },
      get closeFeeratePerKw() {
        return Number(fees.feeratePerKw('background'));
      },
    };
  }

  #services(id: number, channel: Channel, signer: ChannelSigner): HostedServices {
    const o = this.#o;
    const nodeId = channel.state.counterpartyNodeId;
    const logger = o.logger.child({ peer: nodeId, channel: hex(channel.state.temporaryChannelId) });
    // After a disconnect, a step that was under way would send the rest of its messages on
    // the next connection, ahead of channel_reestablish (BOLT 2: the first message after a
    // reconnection; LDK force-closes on a commitment_signed before it). The core gives the
    // peer what it still needs after channel_reestablish, so these are dropped.
    const stale = (kind: string): boolean => {
      if (!channel.linkStale) return false;
      if (kind === 'channel_reestablish') channel.linkStale = false;
      else if (kind !== 'error' && kind !== 'warning') {
        logger.debug({ message: kind }, 'not sent: the connection it was for is gone');
        return true;
      }
      return false;
    };
    const changed = (state: ChannelState, encoded?: { snapshot: ChannelSnapshot; bytes: Uint8Array }) => {
      channel.state = state;
      this.payments.channelChanged(id, state);
      this.forwards.channelChanged(id, state);
      if (state.phase === 'closed') this.#forget(id, state);
      else this.#directory.index(id, state);
      return this.#saveSnapshot(channel, state, logger, encoded);
    };
    return {
      send: (message) => (stale(message.kind) ? Promise.resolve() : this.#send(nodeId, message)),
      sendEncoded: (kind, bytes) => (stale(kind) ? Promise.resolve() : this.#sendBytes(nodeId, kind, bytes)),
      signer,
      writesInIssueOrder: o.writesInIssueOrder === true,
      persist: async (update) => {
        const status = await o.persister.persist(update);
        if (status.status === 'completed') crashPoint('monitor-persisted');
        return status;
      },
      requestFunding: async (req) => {
        if (!o.wallet) return { ok: false, message: 'no wallet' };
        try {
          const built = await o.wallet.fundingTransaction({
            ...req,
            feerateSatPerKw: BigInt(req.feerateSatPerKw),
          });
          channel.reservation = built.reservation;
          return { ok: true, tx: new Uint8Array(built.tx.toBuffer()) };
        } catch (err) {
          return { ok: false, message: err instanceof Error ? err.message : String(err) };
        }
      },
      releaseFunding: async () => {
        if (channel.reservation === undefined || !o.wallet) return;
        const r = channel.reservation;
        channel.reservation = undefined;
        await o.wallet
          .release(r)
          .catch((err: unknown) => logger.error({ err }, 'could not release the funding coins'));
      },
      broadcast: async (tx, what) => {
        // A rebroadcast (after a restart) of a transaction already in the chain is refused; harmless.
        if (what === 'closing')
          this.#watchedClosings.set(Transaction.fromBuffer(Buffer.from(tx)).getId(), id);
        const results = await o.broadcaster.broadcastTransactions([tx]).catch((err: unknown) => {
          logger.error({ err }, 'broadcast failed');
          return [];
        });
        for (const r of results)
          if (!r.accepted)
            logger.warn({ txid: r.txid, reason: r.reason }, `${what} transaction not accepted`);
      },
      watchFunding: (outpoint) => {
        const txid = hex(Uint8Array.from(outpoint.txid).reverse());
        this.#watched.set(txid, { id, vout: outpoint.vout });
        this.#fundingOutpoints.set(`${txid}:${outpoint.vout}`, id);
      },
      htlcEvent: (event) => {
        this.payments.onHtlcEvent(id, event);
        this.forwards.onHtlcEvent(id, event);
      },
      commandRefused: (_command, refusal) => {
        channel.refused = refusal;
      },
      signWithNodeKey: o.keys.signWithNodeKey?.bind(o.keys),
      sendChannelUpdate: () => this.#sendPrivateUpdate(channel.state),
      announce: (_scid, channelAnnouncement) => {
        void this.#gossipOf(channel.state, channelAnnouncement, Math.floor(Date.now() / 1000))
          .then((g) => {
            if (!g) return;
            logger.info({ scid: g.shortChannelId }, 'channel announced');
            this.#announced.next(g);
          })
          .catch((err: unknown) => logger.error({ err }, 'our channel_update could not be signed'));
      },
      record: (event) => this.#record(event),
      emit: (event) => {
        this.#settleOpen(channel, event);
        this.#emit(event);
      },
      changed: (state) => changed(state),
      changedEncoded: changed,
      logger,
    };
  }

  async #record(event: ChannelEvent): Promise<void> {
    const sink = this.#o.eventSink;
    if (!sink) return;
    try {
      await sink(event);
    } catch (err) {
      this.#o.logger.error({ err, event: event.type }, `a ${event.type} event could not be made durable`);
    }
  }

  #emit(event: ChannelEvent): void {
    if (this.#events.observed) this.#events.next(event);
    else this.#unheard.push(event);
  }

  /**
   * Writes the channel's snapshot when it changed (the actor awaits it before the step's
   * effects). A failed write is logged, not fatal: the monitor is the source of truth, and a
   * stale snapshot is checked against it at start.
   */
  async #saveSnapshot(
    channel: Channel,
    state: ChannelState,
    logger: Logger,
    encoded?: { snapshot: ChannelSnapshot; bytes: Uint8Array },
  ): Promise<void> {
    const store = this.#o.snapshot;
    if (!store) return;
    // A hosted channel's snapshot comes encoded (its host did it, with the step).
    const snapshot = encoded ? encoded.snapshot : snapshotOf(state);
    if (!snapshot) return;
    const bytes = encoded ? encoded.bytes : encodeChannelSnapshot(snapshot);
    const last = channel.savedSnapshot;
    if (last && Buffer.from(last).equals(bytes)) return;
    try {
      // Taken as written before the write is durable: the next step's snapshot, if the same, is
      // not issued again (the actor waits for this one before anything leaves the channel).
      channel.savedSnapshot = bytes;
      await store.saveChannel(snapshot, bytes);
      crashPoint('snapshot-written');
    } catch (err) {
      if (channel.savedSnapshot === bytes) channel.savedSnapshot = undefined;
      logger.error({ err }, 'the channel snapshot could not be written');
    }
  }

  #forget(id: number, state: ChannelState): void {
    this.#directory.remove(id);
    if (state.channelId) this.#forgotten.set(id, state.channelId);
    if (state.channelId) this.#peerPolicies.delete(hex(state.channelId));
    for (const [key, w] of this.#fundingOutpoints) if (w === id) this.#fundingOutpoints.delete(key);
    for (const [txid, w] of this.#watched) if (w.id === id) this.#watched.delete(txid);
    for (const [txid, w] of this.#watchedClosings) if (w === id) this.#watchedClosings.delete(txid);
    this.#closed.push(summarize(state, state.closure ? describeClosure(state.closure) : undefined));
    // Kept for listChannels() only; the monitor and the events are the record.
    if (this.#closed.length > MAX_CLOSED_KEPT) this.#closed.shift();
  }

  /** The user's openChannel() resolves when the funding is out, and rejects if the channel fails before. */
  #settleOpen(channel: Channel, event: ChannelEvent): void {
    const pending = channel.pendingOpen;
    if (!pending) return;
    if (event.type === 'ChannelPending') {
      channel.pendingOpen = undefined;
      pending.resolve({
        channelId: hex(event.channelId),
        temporaryChannelId: hex(event.temporaryChannelId),
        fundingTxid: event.fundingTxid,
      });
    } else if (event.type === 'ChannelClosed') {
      channel.pendingOpen = undefined;
      pending.reject(
        new ManagerError('channel-failed', `the channel failed: ${describeClosure(event.reason)}`),
      );
    }
  }

  #send(nodeId: string, message: Message): Promise<void> {
    return this.#sendBytes(nodeId, message.kind, encodeMessage(message));
  }

  async #sendBytes(nodeId: string, kind: string, bytes: Uint8Array): Promise<void> {
    await this.#o.peers.send(nodeId, bytes);
    crashPoint('sent', kind);
  }

  async #sendError(nodeId: string, channelId: Uint8Array, text: string): Promise<void> {
    await this.#send(nodeId, {
      type: 17,
      kind: 'error',
      channelId,
      data: new TextEncoder().encode(text),
    }).catch(() => {});
  }

  /** Our keys, with the points of holder commitment `current` (0 for a new channel) and the next. */
  async #localKeys(channelKeyIndex: bigint, signer: ChannelSigner, current = 0n) {
    return {
      channelKeyIndex,
      pubkeys: signer.pubkeys,
      perCommitmentPoints: [
        await signer.getPerCommitmentPoint(current),
        await signer.getPerCommitmentPoint(current + 1n),
      ] as const,
    };
  }

  /**
   * For a channel restored at holder commitment `current` > 0: the points of the two before it
   * (revoked), and our revoke_and_ack of the one before, as the signer makes it again.
   */
  async #holderRevocations(signer: ChannelSigner, current: bigint, nextPoint: Uint8Array) {
    if (current === 0n) return undefined;
    const revokedPoints: Uint8Array[] = [];
    for (const n of [current - 2n, current - 1n])
      if (n >= 0n) revokedPoints.push(await signer.getPerCommitmentPoint(n));
    const revokedNumber = current - 1n;
    const secret = await signer.releaseCommitmentSecret(revokedNumber);
    return { revokedPoints, last: { revokedNumber, secret, nextPerCommitmentPoint: nextPoint } };
  }

  /**
   * A fresh channel key index: 62 random bits. Drawing it needs no counter to persist, and the
   * monitor keeps it (channelKeyIndex), which is all a restart needs to find the keys again.
   */
  #newChannelIndex(): bigint {
    const b = this.#o.keys.getSecureRandomBytes();
    return Buffer.from(b.subarray(0, 8)).readBigUInt64BE() >> 2n;
  }

  /** A short_channel_id alias no other channel of this node uses (BOLT 2: "MUST NOT send the same alias for multiple peers"). */
  #newAlias(): bigint {
    for (;;) {
      const b = Buffer.from(this.#o.keys.getSecureRandomBytes());
      const block = ALIAS_BLOCK_BASE + (BigInt(b.readUIntBE(0, 3)) % (0xffffffn - ALIAS_BLOCK_BASE));
      const alias = (block << 40n) | (BigInt(b.readUIntBE(3, 3)) << 16n) | BigInt(b.readUInt16BE(6));
      if (!this.#directory.hasShortChannelId(alias)) return alias;
    }
  }

  /**
   * The commitment feerates we accept from a funder: at least the relay floor (a higher,
   * moving floor is what makes peers force-close each other when fees rise), at most ten
   * times the high-priority estimate (and never below 10,000 sat/kw, so a quiet mempool does
   * not refuse every peer).
   */
  #feerateBounds(): { minPerKw: number; maxPerKw: number } {
    const high = Number(this.#o.feeEstimator.feeratePerKw('highPriority'));
    return { minPerKw: FEERATE_FLOOR_PER_KW, maxPerKw: Math.max(10 * high, 10_000) };
  }
}
