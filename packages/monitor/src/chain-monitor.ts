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
import type { Transaction } from '@lnkit/tx';
import { filter, map, type Observable, Subject, type Subscription } from 'rxjs';
import { monitorBlockConnected, monitorBlockDisconnected } from './chain.ts';
import { Claimer, type EnforcementOptions } from './claim-broadcast.ts';
import {
  type ClaimableBalance,
  claimableBalance,
  htlcsClaimedOnChain,
  htlcsFailedOnChain,
  resolveBlock,
  trackDisconnect,
} from './claim-tracker.ts';
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

/** With on-chain enforcement (claim-broadcast.ts): its claims are made with these. */
export interface ChainMonitorOptions extends EnforcementOptions {
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
   * A closed channel's monitor whose resolution is done (every output resolved, 6 deep) is
   * archived this many blocks after (default 4032, four weeks, as LDK): no longer watched nor
   * read at start, which otherwise grow with every channel the node ever closed.
   */
  archiveAfterBlocks?: number;
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

export type { ClaimBroadcaster } from './claim-broadcast.ts';

export class ChainMonitor {
  readonly #persister: MonitorPersister;
  readonly #log: Logger | undefined;
  readonly #interval: number;
  readonly #archiveAfter: number;
  readonly #watched = new Map<FundingKey, Watched>();
  readonly #byChannelId = new Map<string, FundingKey>();
  /** Funding outpoints in internal-order hex with the vout: what a block's inputs are looked up by. */
  readonly #byOutpoint = new Map<string, FundingKey>();
  readonly #events = new Subject<MonitorEvent>();
  readonly #completions: Subscription | undefined;
  readonly #claims: Claimer;
  #bestBlock: BestBlock;
  #queue: Promise<unknown> = Promise.resolve();

  /** Hot: subscribe before watching channels or feeding blocks. */
  readonly events$: Observable<MonitorEvent> = this.#events.asObservable();

  constructor(options: ChainMonitorOptions) {
    this.#persister = options.persister;
    this.#claims = new Claimer(options, options.logger, (e) => this.#events.next(e));
    this.#log = options.logger;
    this.#interval = options.chainPersistIntervalBlocks ?? 144;
    this.#archiveAfter = options.archiveAfterBlocks ?? 4032;
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
      if ((monitor.resolution || monitor.closed) && !isFailed(status)) {
        this.#claims.claim((this.#watched.get(monitor.fundingKey) as Watched).monitor);
        this.#claims.sweepDue(monitor.bestBlock.height);
      }
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
   * A preimage for an HTLC of a channel the manager no longer drives (closed, or closing on
   * chain): added to its monitor and written before anything is claimed with it, then the claims
   * due at once are made (LDK's provide_payment_preimage). It is how a forward's upstream HTLC,
   * fulfilled downstream after its channel went on chain, is still claimed. False: no monitor
   * for that channel, or the preimage was known.
   */
  providePaymentPreimage(channelId: Uint8Array, preimage: Uint8Array): Promise<boolean> {
    return this.#serial(async () => {
      const key = this.#byChannelId.get(hex(channelId));
      const w = key ? this.#watched.get(key) : undefined;
      if (!w) return false;
      if (preimage.length !== 32)
        throw new MonitorError('invalid-argument', 'a payment preimage is 32 bytes');
      if (w.monitor.preimages.some((p) => Buffer.from(p).equals(Buffer.from(preimage)))) return false;
      w.monitor = { ...w.monitor, preimages: [...w.monitor.preimages, new Uint8Array(preimage)] };
      w.dirty = true;
      await this.#persistChainState(w);
      if (w.dirty) return true; // not written: claimed at a later block, once it is
      this.#log?.info(
        { channel: w.monitor.fundingKey },
        'a payment preimage given to a closed channel’s monitor',
      );
      if (w.monitor.resolution) {
        this.#claims.claim(w.monitor);
        this.#claims.sweepDue(w.monitor.bestBlock.height);
      }
      return true;
    });
  }

  /**
   * Every HTLC we offered that the chain has settled against its payee, ANTI_REORG_DELAY deep or
   * more, in the resolutions still watched: what a node says again to its manager at start, since
   * HtlcFailedOnChain is said once, at the block it became final.
   */
  htlcsFailedOnChain(): { channelId: Uint8Array; htlcId: bigint; paymentHash: Uint8Array }[] {
    return [...this.#watched.values()].flatMap(({ monitor }) =>
      monitor.resolution
        ? htlcsFailedOnChain(monitor, monitor.resolution.resolution, monitor.bestBlock.height, 'since').map(
            (h) => ({
              channelId: monitor.channel.channelId,
              htlcId: h.id,
              paymentHash: h.paymentHash,
            }),
          )
        : [],
    );
  }
  /** Likewise, the HTLCs to us our claims took on chain (HtlcClaimedOnChain), final. */
  htlcsClaimedOnChain(): { channelId: Uint8Array; htlcId: bigint; paymentHash: Uint8Array }[] {
    return [...this.#watched.values()].flatMap(({ monitor }) =>
      monitor.resolution
        ? htlcsClaimedOnChain(monitor.resolution.resolution, monitor.bestBlock.height, 'since').map((h) => ({
            channelId: monitor.channel.channelId,
            htlcId: h.id,
            paymentHash: h.paymentHash,
          }))
        : [],
    );
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
        const claimEvents = fresh ? await this.#resolveGuarded(w, r.events, txs, height) : [];
        if (w.dirty || height - w.persistedHeight >= this.#interval) await this.#persistChainState(w);
        for (const e of r.events) this.#events.next(e);
        for (const e of claimEvents) this.#events.next(e);
        for (const e of this.#conflicts(w, [...r.events, ...claimEvents], height)) this.#events.next(e);
        // Persisted first: a claim never leaves before the resolution that knows of it is on disk.
        // (and our anchors commitment, broadcast and unconfirmed, bumped if it pays too little).
        if (fresh && (w.monitor.resolution || w.monitor.closed) && !w.dirty) this.#claims.claim(w.monitor);
      }
      // Every channel's outputs due at this block, swept together.
      this.#claims.sweepDue(height);
      if (height > this.#bestBlock.height) this.#bestBlock = { hashHex: header.hashHex, height };
      await this.#archiveDone(height);
    });
  }

  /** Our claims a block made void (ClaimConflicted): their outputs, or the funding, spent by something else. */
  #conflicts(w: Watched, events: readonly MonitorEvent[], height: number): MonitorEvent[] {
    const ids = { fundingKey: w.monitor.fundingKey, channelId: w.monitor.channel.channelId };
    const txids: string[] = [];
    for (const e of events) {
      if (e.type === 'ClaimConfirmed') txids.push(...this.#claims.conflicted(e.outputId, e.spentByTxidHex));
      else if (e.type === 'FundingSpent') txids.push(...this.#claims.fundingSpent(ids.fundingKey, e.txidHex));
    }
    return txids.map((txidHex) => ({ type: 'ClaimConflicted', ...ids, txidHex, height }));
  }

  /** The monitors done on chain `archiveAfterBlocks` ago leave: archived by the persister, then unwatched. */
  async #archiveDone(height: number): Promise<void> {
    const archive = this.#persister.archivePersistedChannel?.bind(this.#persister);
    if (!archive) return;
    for (const w of [...this.#watched.values()]) {
      const done = w.monitor.resolution?.doneAtHeight;
      if (done === undefined || height < done + this.#archiveAfter || w.pending.length > 0) continue;
      const status = await archive(w.monitor);
      if (!isCompleted(status)) {
        this.#log?.warn(
          { channel: w.monitor.fundingKey, status },
          'a done monitor could not be archived; tried again next block',
        );
        continue;
      }
      const { fundingKey, channel } = w.monitor;
      this.#watched.delete(fundingKey);
      this.#byChannelId.delete(hex(channel.channelId));
      this.#byOutpoint.delete(`${hex(channel.fundingOutpoint.txid)}:${channel.fundingOutpoint.vout}`);
      this.#log?.info({ channel: fundingKey, doneAt: done, height }, 'a closed channel’s monitor archived');
      this.#events.next({ type: 'MonitorArchived', fundingKey, channelId: channel.channelId, height });
    }
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
    await this.#claims.settled();
  }

  /** Updates waiting for an in-progress persist, per channel. */
  pendingUpdates(fundingKey: FundingKey): bigint[] {
    return [...(this.#watched.get(fundingKey)?.pending ?? [])];
  }

  /** Waits for what is running, then stops taking completions and ends the event stream. */
  async stop(): Promise<void> {
    await this.#serial(async () => undefined);
    await this.#claims.settled();
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

  /** One channel's resolution failing (a monitor that does not rebuild its commitment) never stops the block for the others. */
  async #resolveGuarded(
    w: Watched,
    events: readonly MonitorEvent[],
    txs: readonly Transaction[],
    height: number,
  ): Promise<MonitorEvent[]> {
    try {
      return await this.#resolve(w, events, txs, height);
    } catch (e) {
      this.#log?.error(
        { channel: w.monitor.fundingKey, height, err: (e as Error).message },
        `the on-chain resolution of channel ${w.monitor.fundingKey} failed at block ${height}: ${(e as Error).message}; its outputs must be claimed by hand`,
      );
      return [];
    }
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
    const spent = events.find((e) => e.type === 'FundingSpent');
    const spender = spent ? txs.find((t) => t.getId() === spent.txidHex) : undefined;
    if (!spender && !w.monitor.resolution) return [];
    const needsDestination = spender !== undefined || w.monitor.resolution?.destinationScript.length === 0;
    const destination = needsDestination ? await this.#claims.destination() : undefined;
    const step = resolveBlock(w.monitor, spender, txs, height, destination);
    for (const note of step.notes) this.#log?.warn({ channel: w.monitor.fundingKey }, note);
    if (!step.changed) return step.events;
    w.monitor = step.monitor;
    w.dirty = true;
    if (step.events.some((e) => e.type === 'ChannelResolved'))
      this.#log?.info(
        { channel: w.monitor.fundingKey, height },
        `channel ${w.monitor.fundingKey} is resolved on chain: every output is ${ANTI_REORG_DELAY} blocks deep`,
      );
    return step.events;
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
