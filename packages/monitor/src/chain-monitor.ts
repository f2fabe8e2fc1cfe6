/**
 * ChainMonitor (LDK guide step 6): owns every ChannelMonitor, applies the channels' updates to
 * them and persists each (the durability rule), and shows every monitor every block (step 15).
 * The decisions are the pure monitor functions; this class sequences them with the persister,
 * one operation at a time, so a block never lands in the middle of an update's persist. The
 * actor (chain-monitor.actor.ts) is a thin shell around it.
 */
import type { BlockHeaderData } from '@lnkit/chain-sync';
import type { Logger } from '@lnkit/runtime';
import { isCompleted, isFailed, isInProgress, PersistStatus } from '@lnkit/store';
import type { ClaimSigner, FeeInput, Transaction } from '@lnkit/tx';
import { filter, map, type Observable, Subject, type Subscription } from 'rxjs';
import { monitorBlockConnected, monitorBlockDisconnected } from './chain.ts';
import {
  type ClaimableBalance,
  claimableBalance,
  startResolution,
  trackBlock,
  trackDisconnect,
} from './claim-tracker.ts';
import { claimsToBroadcast } from './claims/plan.ts';
import { type FeeInputSigner, signClaim } from './claims/sign.ts';
import type { ClaimToSign } from './claims/types.ts';
import { MonitorError } from './errors.ts';
import { applyMonitorUpdate, createMonitor } from './monitor.ts';
import type { MonitorPersister, PersistCompletion } from './persister.ts';
import {
  ANTI_REORG_DELAY,
  type BestBlock,
  type ChannelMonitor,
  type ChannelMonitorUpdate,
  type FundingKey,
  type MonitorEvent,
} from './types.ts';

export interface ChainMonitorOptions {
  persister: MonitorPersister;
  /** Where the block stream feeding this ChainMonitor starts (what synchronizeListeners returned). */
  bestBlock: BestBlock;
  logger?: Logger;
  /**
   * A monitor whose best block is this many blocks past its last write is written again, so a
   * restart replays few blocks to it (default 144, about a day).
   */
  chainPersistIntervalBlocks?: number;
  /**
   * On-chain enforcement (BOLT 5): with all four, the claims of a closed channel are signed and
   * broadcast each block until they confirm. Without them the resolutions are still made,
   * persisted and followed (claimableBalances), and nothing is broadcast.
   */
  broadcaster?: ClaimBroadcaster;
  /** The claims' feerate: its `normal` target. */
  feeEstimator?: { feeratePerKw(target: 'background' | 'normal' | 'highPriority'): bigint };
  /** A wallet script every claim pays (the wallet watches it); asked once per resolution and kept with it. */
  destinationScript?: () => Uint8Array | Promise<Uint8Array>;
  /** The signer of a channel's claims (a ChannelKeysClaimSigner over its channel keys). */
  claimSigner?: (monitor: ChannelMonitor) => ClaimSigner;
  /** Wallet outputs paying the fees of zero-fee anchors HTLC transactions, and their signer. */
  feeInputs?: () => readonly FeeInput[];
  feeInputSigner?: FeeInputSigner;
}

/** The shape of @lnkit/chain-sync's Broadcaster (and @lnkit/manager's). */
export interface ClaimBroadcaster {
  broadcastTransactions(
    txs: Uint8Array[],
  ): Promise<({ txid: string; accepted: true } | { txid: string; accepted: false; reason: string })[]>;
}

type HeaderRef = Pick<BlockHeaderData, 'hashHex' | 'prevHashHex'>;

interface Watched {
  monitor: ChannelMonitor;
  /** The best block height at its last completed write. */
  persistedHeight: number;
  /** Updates answered in-progress and not yet reported complete. */
  pending: bigint[];
  /** A funding spend change not yet written (its write failed): written at the next block. */
  dirty: boolean;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class ChainMonitor {
  readonly #persister: MonitorPersister;
  readonly #log: Logger | undefined;
  readonly #interval: number;
  readonly #watched = new Map<FundingKey, Watched>();
  readonly #byChannelId = new Map<string, FundingKey>();
  /** Funding outpoints in internal-order hex with the vout: what a block's inputs are looked up by. */
  readonly #byOutpoint = new Map<string, FundingKey>();
  readonly #events = new Subject<MonitorEvent>();
  readonly #completions: Subscription | undefined;
  readonly #options: ChainMonitorOptions;
  /** Claims this process has broadcast, by txid: the event is said once, the rebroadcasts are quiet. */
  readonly #broadcast = new Set<string>();
  /** Channels with claims due and no means to make them (warned once). */
  readonly #unclaimed = new Set<FundingKey>();
  #bestBlock: BestBlock;
  #queue: Promise<unknown> = Promise.resolve();
  /** Signing and broadcasting run behind the main queue, so a slow bitcoind never holds a persist. */
  #broadcasting: Promise<unknown> = Promise.resolve();

  /** Hot: subscribe before watching channels or feeding blocks. */
  readonly events$: Observable<MonitorEvent> = this.#events.asObservable();

  constructor(options: ChainMonitorOptions) {
    this.#persister = options.persister;
    this.#options = options;
    this.#log = options.logger;
    this.#interval = options.chainPersistIntervalBlocks ?? 144;
    this.#bestBlock = { ...options.bestBlock };
    this.#completions = options.persister.completions$?.subscribe((c) => {
      void this.#serial(async () => this.#completed(c));
    });
  }

  get bestBlock(): BestBlock {
    return { ...this.#bestBlock };
  }

  /** One operation at a time, in call order, whatever calls it (the actor's mailbox, a stream). */
  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Guide step 11: hands a monitor to the ChainMonitor, and persists it whole (a new channel's,
   * or one read at start and brought to the tip, whose best block moved). A second monitor
   * for the same funding outpoint is refused. A monitor that already saw its funding spent
   * says so again (`FundingSpent`), so a restarted node learns it as a running one did.
   */
  watchChannel(monitor: ChannelMonitor): Promise<PersistStatus> {
    return this.#serial(async () => {
      if (this.#watched.has(monitor.fundingKey))
        throw new MonitorError(
          'duplicate-channel',
          `a monitor for funding outpoint ${monitor.fundingKey} is already watched`,
        );
      const status = await this.#persister.persistNewChannel(monitor);
      this.#add(monitor);
      const ids = { fundingKey: monitor.fundingKey, channelId: monitor.channel.channelId };
      if (isCompleted(status)) this.#persisted(monitor.fundingKey);
      else this.#answered(monitor.fundingKey, monitor.latestUpdateId, status);
      if (monitor.fundingSpend) this.#events.next({ type: 'FundingSpent', ...ids, ...monitor.fundingSpend });
      // A restart in the middle of a resolution: what is due is broadcast again now, not at the next block.
      if (monitor.resolution && !isFailed(status))
        this.#claim(this.#watched.get(monitor.fundingKey) as Watched);
      return status;
    });
  }

  /**
   * Applies a channel's update and persists it. The first update (`channel-opened`) makes the
   * channel's monitor, at this ChainMonitor's best block. An update the monitor refuses (out of
   * order, for a closed channel, …) throws its MonitorError and changes nothing; a persist that
   * fails answers `failed` and says `MonitorUpdateFailed`, and the monitor keeps the update in
   * memory (the chain is watched with the most the channel told it).
   */
  updateChannel(update: ChannelMonitorUpdate): Promise<PersistStatus> {
    return this.#serial(async () => {
      const known = this.#byChannelId.get(hex(update.channelId));
      if (!known && update.steps[0]?.kind === 'channel-opened') {
        const monitor = createMonitor(update, this.#bestBlock);
        if (this.#watched.has(monitor.fundingKey))
          throw new MonitorError(
            'duplicate-channel',
            `a monitor for funding outpoint ${monitor.fundingKey} is already watched`,
          );
        const status = await this.#persister.persistNewChannel(monitor);
        this.#add(monitor);
        if (isCompleted(status)) this.#persisted(monitor.fundingKey);
        this.#answered(monitor.fundingKey, update.updateId, status);
        return status;
      }
      const w = known ? this.#watched.get(known) : undefined;
      if (!w) throw new MonitorError('unknown-channel', `no monitor for channel ${hex(update.channelId)}`);
      const monitor = applyMonitorUpdate(w.monitor, update);
      w.monitor = monitor;
      const status = await this.#persister.updatePersistedChannel(monitor, update);
      this.#answered(monitor.fundingKey, update.updateId, status);
      return status;
    });
  }

  /**
   * The channel manager's side (its MonitorPersister, LDK's chain::Watch): `updateChannel` with
   * a refused update answered `failed` (the channel stops, saying why) instead of thrown.
   */
  async persist(update: ChannelMonitorUpdate): Promise<PersistStatus> {
    try {
      return await this.updateChannel(update);
    } catch (e) {
      if (e instanceof MonitorError) return PersistStatus.failed(`${e.code}: ${e.message}`);
      throw e;
    }
  }

  /** For the manager: each in-progress persist that completed, by channel id (hex). */
  readonly completed$: Observable<{ channelId: string; updateId: bigint }> = this.events$.pipe(
    filter((e) => e.type === 'MonitorUpdateCompleted'),
    map((e) => ({ channelId: hex(e.channelId), updateId: (e as { updateId: bigint }).updateId })),
  );

  /** An in-progress persist completed (LDK's channel_monitor_updated): every update up to `updateId` is durable. */
  channelMonitorUpdated(fundingKey: FundingKey, updateId: bigint): Promise<void> {
    return this.#serial(async () =>
      this.#completed({ fundingKey, updateId, status: PersistStatus.completed() }),
    );
  }

  /** Block `height` connected: every monitor sees it; those whose funding spend changed are written. */
  blockConnected(header: HeaderRef, height: number, txs: readonly Transaction[]): Promise<void> {
    return this.#serial(async () => {
      const spending = new Map<FundingKey, Transaction[]>();
      for (const tx of txs) {
        for (const input of tx.ins) {
          const key = this.#byOutpoint.get(`${hex(input.hash)}:${input.index}`);
          if (key) spending.set(key, [...(spending.get(key) ?? []), tx]);
        }
      }
      for (const w of this.#watched.values()) {
        const fresh = height > w.monitor.bestBlock.height;
        const r = monitorBlockConnected(w.monitor, header, height, spending.get(w.monitor.fundingKey) ?? []);
        w.monitor = r.monitor;
        if (r.spendChanged) w.dirty = true;
        const claimEvents = fresh ? await this.#resolve(w, r.events, txs, height) : [];
        if (w.dirty || height - w.persistedHeight >= this.#interval) await this.#persistChainState(w);
        for (const e of r.events) this.#events.next(e);
        for (const e of claimEvents) this.#events.next(e);
        // Persisted first: a claim never leaves before the resolution that knows of it is on disk.
        if (fresh && w.monitor.resolution && !w.dirty) this.#claim(w);
      }
      if (height > this.#bestBlock.height) this.#bestBlock = { hashHex: header.hashHex, height };
    });
  }

  /** Block `height` disconnected (a reorg): every monitor steps back; a recent funding spend in it is undone. */
  blockDisconnected(header: HeaderRef, height: number): Promise<void> {
    return this.#serial(async () => {
      for (const w of this.#watched.values()) {
        const r = monitorBlockDisconnected(w.monitor, header, height);
        w.monitor = r.monitor;
        if (r.spendChanged) w.dirty = true;
        const before = w.monitor.resolution;
        if (before) {
          // The funding spend undone with its block: the resolution goes with it.
          // A reorg deeper than the spend's irrevocability is not handled (BOLT 5, as LDK): kept.
          const after = w.monitor.fundingSpend ? (trackDisconnect(before, height) ?? before) : undefined;
          if (after !== before) {
            const { resolution: _gone, ...rest } = w.monitor;
            w.monitor = after ? { ...rest, resolution: after } : rest;
            w.dirty = true;
          }
        }
        if (w.dirty) await this.#persistChainState(w);
        for (const e of r.events) this.#events.next(e);
      }
      if (height <= this.#bestBlock.height)
        this.#bestBlock = { hashHex: header.prevHashHex, height: height - 1 };
    });
  }

  /** The monitor of a funding outpoint, or of a channel id (hex). */
  monitor(fundingKeyOrChannelId: string): ChannelMonitor | undefined {
    const key = this.#byChannelId.get(fundingKeyOrChannelId) ?? fundingKeyOrChannelId;
    return this.#watched.get(key)?.monitor;
  }

  monitors(): ChannelMonitor[] {
    return [...this.#watched.values()].map((w) => w.monitor);
  }

  /**
   * What closed channels still have on chain: each resolution's pending outputs (with the
   * height from which each is claimable) and what was claimed, until it is done.
   */
  claimableBalances(): ClaimableBalance[] {
    return [...this.#watched.values()].flatMap((w) =>
      w.monitor.resolution ? [claimableBalance(w.monitor, w.monitor.resolution)] : [],
    );
  }

  /** Waits for what is queued, the claims' signing and broadcasting included. */
  async settled(): Promise<void> {
    await this.#serial(async () => undefined);
    await this.#broadcasting;
  }

  /** Updates waiting for an in-progress persist, per channel. */
  pendingUpdates(fundingKey: FundingKey): bigint[] {
    return [...(this.#watched.get(fundingKey)?.pending ?? [])];
  }

  /** Waits for what is running, then stops taking completions and ends the event stream. */
  async stop(): Promise<void> {
    await this.#serial(async () => undefined);
    await this.#broadcasting;
    this.#completions?.unsubscribe();
    this.#events.complete();
  }

  #add(monitor: ChannelMonitor): void {
    const { txid, vout } = monitor.channel.fundingOutpoint;
    this.#watched.set(monitor.fundingKey, {
      monitor,
      persistedHeight: monitor.bestBlock.height,
      pending: [],
      dirty: false,
    });
    this.#byChannelId.set(hex(monitor.channel.channelId), monitor.fundingKey);
    this.#byOutpoint.set(`${hex(txid)}:${vout}`, monitor.fundingKey);
  }

  /**
   * The block's transactions through the channel's resolution, made first if this block spent
   * the funding output. Returns what to say once the state is written.
   */
  async #resolve(
    w: Watched,
    events: readonly MonitorEvent[],
    txs: readonly Transaction[],
    height: number,
  ): Promise<MonitorEvent[]> {
    const ids = { fundingKey: w.monitor.fundingKey, channelId: w.monitor.channel.channelId };
    let state = w.monitor.resolution;
    const spent = events.find((e) => e.type === 'FundingSpent');
    if (spent && spent.type === 'FundingSpent') {
      const tx = txs.find((t) => t.getId() === spent.txidHex) as Transaction;
      state = startResolution(w.monitor, tx, height, await this.#destination());
      w.dirty = true;
      for (const note of state.resolution.notes) this.#log?.warn({ channel: ids.fundingKey }, note);
    }
    if (!state) return [];
    if (state.destinationScript.length === 0 && this.#options.destinationScript) {
      state = { ...state, destinationScript: await this.#destination() };
      w.dirty = true;
    }
    const step = trackBlock(state, w.monitor, txs, height);
    if (!step.changed && state === w.monitor.resolution) return [];
    const learnt = step.preimages.map((p) => p.paymentPreimage);
    w.monitor = {
      ...w.monitor,
      resolution: step.state,
      ...(learnt.length > 0 ? { preimages: [...w.monitor.preimages, ...learnt] } : {}),
    };
    w.dirty = true;
    const out: MonitorEvent[] = [];
    for (const x of step.resolved)
      out.push({
        type: 'ClaimConfirmed',
        ...ids,
        outputId: x.id,
        spentByTxidHex: x.spentByTxidHex,
        height: x.height,
        byHolder: x.byHolder,
        valueSat: x.output.valueSat,
      });
    for (const p of step.preimages) out.push({ type: 'PaymentPreimageLearnt', ...ids, ...p, height });
    if (step.done) {
      this.#log?.info(
        { channel: ids.fundingKey, height },
        `channel ${ids.fundingKey} is resolved on chain: every output is ${ANTI_REORG_DELAY} blocks deep`,
      );
      out.push({
        type: 'ChannelResolved',
        ...ids,
        commitmentTxidHex: step.state.resolution.commitmentTxidHex,
        height,
      });
    }
    return out;
  }

  /** The wallet's script for a new resolution; none (nothing claimed until one is given) if the wallet fails. */
  async #destination(): Promise<Uint8Array> {
    try {
      return (await this.#options.destinationScript?.()) ?? new Uint8Array(0);
    } catch (e) {
      this.#log?.error(
        { err: (e as Error).message },
        `no destination script for claims: ${(e as Error).message}`,
      );
      return new Uint8Array(0);
    }
  }

  /**
   * Every claim due at the monitor's best block, signed and broadcast (again: a claim not yet
   * confirmed is the same transaction each time, RFC 6979). Queued behind what is already being
   * broadcast; a failure is logged and the claim is made again at the next block.
   */
  #claim(w: Watched): void {
    const { broadcaster, feeEstimator, claimSigner } = this.#options;
    const monitor = w.monitor;
    const state = monitor.resolution;
    if (!state || state.doneAtHeight !== undefined || state.resolution.pending.length === 0) return;
    if (!broadcaster || !feeEstimator || !claimSigner || state.destinationScript.length === 0) {
      // Said once per channel and process, not at every block.
      if (this.#unclaimed.has(monitor.fundingKey)) return;
      this.#unclaimed.add(monitor.fundingKey);
      this.#log?.warn(
        { channel: monitor.fundingKey },
        `channel ${monitor.fundingKey} has outputs to claim on chain, but no broadcaster, fee estimator, claim signer or destination`,
      );
      return;
    }
    const height = monitor.bestBlock.height;
    const plan = claimsToBroadcast(state.resolution, monitor, height, {
      feeratePerKw: feeEstimator.feeratePerKw('normal'),
      destinationScript: state.destinationScript,
      ...(this.#options.feeInputs ? { feeInputs: this.#options.feeInputs() } : {}),
    });
    for (const s of plan.skipped)
      this.#log?.debug({ channel: monitor.fundingKey, outputs: s.outputIds }, `not claimed yet: ${s.reason}`);
    if (plan.claims.length === 0) return;
    const run = this.#broadcasting.then(() =>
      this.#signAndSend(monitor, plan.claims, claimSigner(monitor), height),
    );
    this.#broadcasting = run.catch((e: Error) => {
      this.#log?.error(
        { channel: monitor.fundingKey, err: e.message },
        `the claims of channel ${monitor.fundingKey} could not be broadcast: ${e.message}; again at the next block`,
      );
    });
  }

  async #signAndSend(
    monitor: ChannelMonitor,
    claims: ClaimToSign[],
    signer: ClaimSigner,
    height: number,
  ): Promise<void> {
    const broadcaster = this.#options.broadcaster as ClaimBroadcaster;
    const signed = [];
    for (const c of claims) signed.push(await signClaim(c, signer, this.#options.feeInputSigner));
    const results = await broadcaster.broadcastTransactions(signed.map((s) => s.tx));
    const ids = { fundingKey: monitor.fundingKey, channelId: monitor.channel.channelId };
    signed.forEach((s, i) => {
      const r = results[i];
      if (r && !r.accepted)
        // Already in the mempool or spent by a confirmed claim is normal for a rebroadcast.
        this.#log?.debug(
          { channel: ids.fundingKey, txid: s.txidHex, reason: r.reason },
          'claim not accepted',
        );
      if (this.#broadcast.has(s.txidHex)) return;
      this.#broadcast.add(s.txidHex);
      this.#log?.info(
        { channel: ids.fundingKey, txid: s.txidHex, outputs: s.outputIds, feeSat: s.feeSat.toString() },
        `claim ${s.txidHex} broadcast (${s.source}: ${s.outputIds.length} outputs)`,
      );
      this.#events.next({
        type: 'ClaimBroadcast',
        ...ids,
        txidHex: s.txidHex,
        outputIds: s.outputIds,
        source: s.source,
        feeSat: s.feeSat,
        height,
      });
    });
  }

  #persisted(fundingKey: FundingKey): void {
    const w = this.#watched.get(fundingKey);
    if (w) w.persistedHeight = w.monitor.bestBlock.height;
  }

  /** What a persister's answer means for the channel: pause (in-progress) or stop (failed). */
  #answered(fundingKey: FundingKey, updateId: bigint, status: PersistStatus): void {
    const w = this.#watched.get(fundingKey);
    if (!w) return;
    const ids = { fundingKey, channelId: w.monitor.channel.channelId };
    if (isInProgress(status)) w.pending.push(updateId);
    else if (isFailed(status)) {
      this.#log?.error(
        { channel: fundingKey, updateId: updateId.toString(), reason: status.reason },
        `monitor update ${updateId} could not be persisted: ${status.reason}; the channel must stop`,
      );
      this.#events.next({ type: 'MonitorUpdateFailed', ...ids, updateId, reason: status.reason });
    }
  }

  #completed(c: PersistCompletion): void {
    const w = this.#watched.get(c.fundingKey);
    if (!w) return;
    const ids = { fundingKey: c.fundingKey, channelId: w.monitor.channel.channelId };
    if (isFailed(c.status)) {
      this.#answered(c.fundingKey, c.updateId, c.status);
      return;
    }
    w.pending = w.pending.filter((id) => id > c.updateId);
    // The channel resumes only when nothing before it is still pending.
    if (w.pending.length === 0) this.#persisted(c.fundingKey);
    this.#events.next({ type: 'MonitorUpdateCompleted', ...ids, updateId: c.updateId });
  }

  /**
   * Chain state (a funding spend, the best block) written whole. It is not an update: a failure
   * is logged and the write is due again at the next block; until then a restart replays the
   * blocks since the last write, which finds the same spend again.
   */
  async #persistChainState(w: Watched): Promise<void> {
    const status = await this.#persister.updatePersistedChannel(w.monitor);
    // In progress is as good as written here: nothing waits on chain state.
    if (!isFailed(status)) {
      w.persistedHeight = w.monitor.bestBlock.height;
      w.dirty = false;
    } else if (isFailed(status))
      this.#log?.error(
        { channel: w.monitor.fundingKey, reason: status.reason },
        `monitor chain state could not be persisted: ${status.reason}; retrying at the next block`,
      );
  }
}
