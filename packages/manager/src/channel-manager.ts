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
import type { ChannelSigner } from '@lnkit/keys';
import { type ActorHandle, type ApiOf, type Logger, spawnLocal } from '@lnkit/runtime';
import { Transaction } from '@lnkit/tx';
import { decodeMessage, encodeMessage, Features, type Message, type OpenChannel } from '@lnkit/wire';
import { type Observable, Subject, type Subscription } from 'rxjs';
import type { Broadcaster } from './broadcaster.ts';
import { type ChannelServices, channelActor } from './channel.actor.ts';
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
import type { PeerFeatures } from './checks.ts';
import { type ChannelConfig, DEFAULT_CHANNEL_CONFIG, LARGE_CHANNEL_SAT } from './config.ts';
import { ChannelDirectory } from './directory.ts';
import { ManagerError } from './errors.ts';
import { acceptChannel, openChannel } from './establish.ts';
import { MANAGER_INIT_FEATURES, peerFeatures } from './features.ts';
import { FEERATE_FLOOR_PER_KW, type FeeEstimator } from './fee-estimator.ts';
import type { FundingWallet } from './funding-wallet.ts';
import type { MonitorPersister } from './monitor-persister.ts';
import type { PeerLink, PeerLinkEvent } from './peer-link.ts';

/** The keys a manager needs: KeysManager, or the signer pool behind the same three members. */
export interface ChannelKeysSource {
  readonly nodeId: Uint8Array;
  getSecureRandomBytes(): Uint8Array;
  createChannelSigner(channelIndex: bigint): ChannelSigner | Promise<ChannelSigner>;
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

/** The BOLT 2 messages the manager takes from peers. */
export const CHANNEL_MESSAGE_TYPES = [1, 17, 32, 33, 34, 35, 36, 38, 39, 136];

interface PendingOpen {
  resolve(v: OpenedChannel): void;
  reject(e: Error): void;
}

interface Channel {
  handle: ActorHandle<ApiOf<typeof channelActor>>;
  state: ChannelState;
  /** The wallet's reservation of the funding coins (funder). */
  reservation?: unknown;
  /** The user's openChannel() call, settled at ChannelPending or ChannelClosed. */
  pendingOpen?: PendingOpen | undefined;
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
  /** Display-order closing txid → the channel that broadcast it. */
  readonly #watchedClosings = new Map<string, number>();
  readonly #closed: ChannelSummary[] = [];
  readonly #events = new Subject<ChannelEvent>();
  readonly #subscriptions: Subscription[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #bestHeight: number;
  #stopped = false;

  /** ChannelPending, ChannelReady, ChannelClosed, for every channel. */
  readonly events$: Observable<ChannelEvent> = this.#events.asObservable();

  constructor(options: ChannelManagerOptions) {
    this.#o = options;
    this.#config = options.config ?? DEFAULT_CHANNEL_CONFIG;
    this.#localFeatures = options.localFeatures ?? MANAGER_INIT_FEATURES;
    this.#bestHeight = options.bestHeight;
  }

  /** Subscribes to peers and persist completions. Call once, after the chain is synced (DESIGN.md). */
  async start(): Promise<void> {
    const { peers, persister } = this.#o;
    this.#subscriptions.push(
      peers.events$().subscribe((e) => this.#enqueue(() => this.#onPeerEvent(e))),
      peers
        .messages$(CHANNEL_MESSAGE_TYPES)
        .subscribe((m) => this.#enqueue(() => this.#onPeerMessage(m.nodeId, m.raw))),
    );
    if (persister.completed$)
      this.#subscriptions.push(
        persister.completed$.subscribe((c) =>
          this.#enqueue(async () => {
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
    for (const p of await peers.listPeers()) this.#peerConnected(p.nodeId, p.features.hex);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const s of this.#subscriptions) s.unsubscribe();
    await this.#queue;
    for (const { handle } of this.#directory.all()) {
      handle.pendingOpen?.reject(new ManagerError('closed', 'the channel manager stopped'));
      await handle.handle.stop();
    }
    this.#events.complete();
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
   * Starts a cooperative close (BOLT 2 shutdown, then closing_signed). Resolves once the
   * shutdown is sent; the closing transaction shows in listChannels() (`closingTxid`) once
   * agreed, and ChannelClosed comes when it confirms.
   */
  closeChannel(
    channelIdHex: string,
    options: { feeratePerKw?: number; scriptPubKey?: Uint8Array } = {},
  ): Promise<void> {
    return this.#enqueue(async () => {
      const found = /^[0-9a-f]{64}$/.test(channelIdHex)
        ? this.#directory.byChannelId(Buffer.from(channelIdHex, 'hex'))
        : undefined;
      if (!found) throw new ManagerError('unknown-channel', `no open channel ${channelIdHex}`);
      const state = found.handle.state;
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
      await found.handle.handle.ref.handle({
        kind: 'close',
        feeratePerKw,
        scriptPubKey: options.scriptPubKey,
      });
    });
  }

  /** A block connected to the tip (chain-sync's ChainListener). */
  blockConnected(block: { txdata: readonly Transaction[] }, height: number): Promise<void> {
    return this.#enqueue(async () => {
      this.#bestHeight = height;
      const found = new Map<number, ChannelInput>();
      const closings: number[] = [];
      block.txdata.forEach((tx, txIndex) => {
        const txid = tx.getId();
        const closing = this.#watchedClosings.get(txid);
        if (closing !== undefined) closings.push(closing);
        const w = this.#watched.get(txid);
        const out = w && tx.outs[w.vout];
        if (w && out)
          found.set(w.id, {
            kind: 'block-connected',
            height,
            funding: { txIndex, valueSat: BigInt(out.value), scriptPubKey: new Uint8Array(out.script) },
          });
      });
      for (const { id } of this.#directory.all())
        this.#dispatch(id, found.get(id) ?? { kind: 'block-connected', height });
      for (const id of closings) this.#dispatch(id, { kind: 'closing-confirmed', height });
    });
  }

  /** The tip block at `height` was disconnected (chain-sync's ChainListener). */
  blockDisconnected(_header: unknown, height: number): Promise<void> {
    return this.#enqueue(async () => {
      this.#bestHeight = height - 1;
      for (const { id } of this.#directory.all()) this.#dispatch(id, { kind: 'block-disconnected', height });
    });
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

  #dispatch(id: number, input: ChannelInput): void {
    const channel = this.#directory.get(id);
    if (!channel) return;
    void channel.handle.ref
      .handle(input)
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
      for (const { id } of this.#directory.byNodeId(e.nodeId)) this.#dispatch(id, { kind: 'peer-connected' });
      return;
    }
    this.#peers.delete(e.nodeId);
    for (const { id } of this.#directory.byNodeId(e.nodeId))
      this.#dispatch(id, { kind: 'peer-disconnected' });
  }

  async #onPeerMessage(nodeId: string, raw: Uint8Array): Promise<void> {
    let m: ReturnType<typeof decodeMessage>;
    try {
      m = decodeMessage(raw);
    } catch {
      return; // the PeerManager already warned and dropped a peer whose message does not decode
    }
    if (m.kind === 'open_channel') return this.#onOpenChannel(nodeId, m);
    const route = this.#route(nodeId, m as Message);
    if (route === 'all') {
      for (const { id } of this.#directory.byNodeId(nodeId))
        this.#dispatch(id, { kind: 'message', message: m as ChannelMessage });
      return;
    }
    if (route === undefined) {
      if (m.kind !== 'error' && m.kind !== 'warning')
        this.#o.logger.info({ peer: nodeId, message: m.kind }, 'message for a channel we do not have');
      return;
    }
    this.#dispatch(route, { kind: 'message', message: m as ChannelMessage });
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
  ): Promise<void> {
    const channel = { state, pendingOpen } as Channel;
    const id = this.#directory.add(channel, state);
    const features =
      this.#peers.get(state.counterpartyNodeId) ?? peerFeatures(this.#localFeatures, Features.empty());
    channel.handle = await spawnLocal(channelActor, {
      name: `channel-${hex(state.temporaryChannelId).slice(0, 16)}`,
      logger: this.#o.logger,
      config: {
        state,
        ctx: this.#channelContext(features),
        services: this.#services(id, channel, signer),
        initialEffects: effects,
      },
    });
    await channel.handle.ref.start();
  }

  #channelContext(features: PeerFeatures): ChannelContext {
    const fees = this.#o.feeEstimator;
    return {
      config: this.#config,
      features,
      get closeFeeratePerKw() {
        return Number(fees.feeratePerKw('background'));
      },
    };
  }

  #services(id: number, channel: Channel, signer: ChannelSigner): ChannelServices {
    const o = this.#o;
    const nodeId = channel.state.counterpartyNodeId;
    const logger = o.logger.child({ peer: nodeId, channel: hex(channel.state.temporaryChannelId) });
    return {
      send: (message) => this.#send(nodeId, message),
      signer,
      persist: async (update) => o.persister.persist(update),
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
        if (what === 'closing')
          this.#watchedClosings.set(Transaction.fromBuffer(Buffer.from(tx)).getId(), id);
        const results = await o.broadcaster.broadcastTransactions([tx]).catch((err: unknown) => {
          logger.error({ err }, 'broadcast failed');
          return [];
        });
        for (const r of results)
          if (!r.accepted)
            logger.warn(
              { txid: r.txid, reason: r.reason },
              'funding transaction not accepted (it is rebroadcast)',
            );
      },
      watchFunding: (outpoint) => {
        this.#watched.set(hex(Uint8Array.from(outpoint.txid).reverse()), { id, vout: outpoint.vout });
      },
      emit: (event) => {
        this.#settleOpen(channel, event);
        this.#events.next(event);
      },
      changed: (state) => {
        channel.state = state;
        if (state.phase === 'closed') this.#forget(id, state);
        else this.#directory.index(id, state);
      },
      logger,
    };
  }

  #forget(id: number, state: ChannelState): void {
    this.#directory.remove(id);
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

  async #send(nodeId: string, message: Message): Promise<void> {
    await this.#o.peers.send(nodeId, encodeMessage(message));
  }

  async #sendError(nodeId: string, channelId: Uint8Array, text: string): Promise<void> {
    await this.#send(nodeId, {
      type: 17,
      kind: 'error',
      channelId,
      data: new TextEncoder().encode(text),
    }).catch(() => {});
  }

  async #localKeys(channelKeyIndex: bigint, signer: ChannelSigner) {
    return {
      channelKeyIndex,
      pubkeys: signer.pubkeys,
      perCommitmentPoints: [
        await signer.getPerCommitmentPoint(0n),
        await signer.getPerCommitmentPoint(1n),
      ] as const,
    };
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
