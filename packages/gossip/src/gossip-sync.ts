/**
 * GossipSync: the LDK guide's step 12 gossip handler, the thin shell around the pure cores.
 * It takes every gossip and query message from the peers, validates gossip in batches
 * (validate.ts) with the signatures checked through a CryptoService (the crypto pool), answers
 * queries (queries.ts), syncs from peers (query-sync.ts), relays with the staggered broadcast
 * (broadcast.ts), prunes (prune.ts) and persists (graph-store.ts). It does its I/O through a
 * `GossipTransport` and is fed the time, so it runs the same in an actor, in a test, in a bench.
 *
 * Batches: messages wait in one inbox; a batch (up to `batchSize`) is prepared while the one
 * before it verifies, so the crypto pool always has work; batches are applied in arrival order.
 *
 * Start-up: on a first start (an empty graph, or one not updated for two weeks) the first
 * `initialSyncPeers` peers offering `gossip_queries` are asked for their whole graph
 * (query_channel_range, then query_short_channel_ids); after a restart the first peer's
 * gossip_timestamp_filter starts a little before the time the graph was last taken in
 * (`lastActiveAt`), the catch-up; later peers' filters start at the present. Peers past
 * `gossipPeers` get a filter that admits nothing (BOLT 7 "Rationale": "setting first_timestamp
 * to 0xFFFFFFFF after the first few peers").
 */
import { type CryptoService, inThreadCrypto } from '@lnkit/crypto';
import type { Logger } from '@lnkit/runtime';
import {
  bytesEqual,
  decodeMessage,
  encodeMessage,
  Features,
  type GossipTimestampFilter,
  type Message,
  type QueryChannelRange,
  type QueryShortChannelIds,
} from '@lnkit/wire';
import { StaggeredBroadcast, type TimestampFilter } from './broadcast.ts';
import type { NetworkGraph } from './graph.ts';
import type { LmdbGraphStore } from './graph-store.ts';
import { messageType } from './layout.ts';
import { GOSSIP_KINDS, GossipCounters, kindIndex, reactionTo } from './outcomes.ts';
import { pruneStale } from './prune.ts';
import { answerShortChannelIds, gossipInTimestampRange, replyChannelRanges } from './queries.ts';
import { RangeSync, type SyncStep } from './query-sync.ts';
import { GossipRateLimiter, type RateLimitOptions } from './rate-limit.ts';
import type { UtxoLookup, UtxoResult } from './utxo.ts';
import {
  type BatchResult,
  GossipValidator,
  type InboundGossip,
  type PreparedBatch,
  type ValidatorOptions,
} from './validate.ts';

/** How the gossip reaches peers. `send` resolves once the messages are taken (its flow control). */
export interface GossipTransport {
  send(peer: string, messages: readonly Uint8Array[]): Promise<void>;
  disconnect(peer: string, reason: string): void;
}

/** The message types a GossipSync takes: the three gossip messages and the five queries. */
export const GOSSIP_MESSAGE_TYPES: readonly number[] = Object.freeze([
  256, 257, 258, 261, 262, 263, 264, 265,
]);

export interface GossipSyncOptions {
  graph: NetworkGraph;
  transport: GossipTransport;
  /** Persistence; without it the graph lives in memory only. */
  store?: LmdbGraphStore;
  /** Where signatures are checked (a CryptoPool for batches); default in-thread. */
  crypto?: CryptoService;
  /** The funding output check; without it channels are accepted without one, and without a capacity. */
  utxo?: UtxoLookup;
  logger?: Logger;
  /** Milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Unix seconds the graph was last taken in (the store's meta), for the catch-up after a restart. */
  lastActiveAt?: number;
  /** Messages per verification batch. Default 1,024. */
  batchSize?: number;
  /** Batches prepared or verifying at once. Default 2. */
  pipelineDepth?: number;
  /** BOLT 7: "SHOULD flush outgoing gossip messages once every 60 seconds". Default 60 s. */
  broadcastIntervalMs?: number;
  /** Peers asked for the whole graph on a first start. Default 2. */
  initialSyncPeers?: number;
  /** Peers whose gossip we take (a real gossip_timestamp_filter). Default 5. */
  gossipPeers?: number;
  /** The catch-up filter starts this long before `lastActiveAt`. Default 1 hour. */
  catchUpMarginSec?: number;
  /** A range sync that hears nothing from its peer for this long has failed. Default 2 minutes. */
  syncTimeoutMs?: number;
  /**
   * Messages from one peer waiting in the inbox beyond this are dropped (counted as rate-limited).
   * Only messages that need a check wait (copies and older versions of what the graph has are
   * dropped on arrival), so this is about one and a half mainnet graphs. Default 200,000.
   */
  maxInboxPerPeer?: number;
  /** Messages per transport.send. Default 256. */
  sendChunk?: number;
  /** A snapshot is written once the journal holds this many entries. Default 50,000. */
  snapshotAfterWrites?: number;
  /** pruneStale runs this often. Default 1 hour. */
  pruneIntervalMs?: number;
  rateLimit?: RateLimitOptions;
  validator?: Omit<ValidatorOptions, 'rateLimiter' | 'counters'>;
}

interface Outgoing {
  readonly messages: Iterator<Uint8Array>;
  readonly kind: 'dump' | 'answer' | 'other';
  readonly onDone?: () => void;
}

interface PeerState {
  readonly id: string;
  /** peerConnected was called (a state may exist before, made by an early message). */
  connected: boolean;
  gossipQueries: boolean;
  extended: boolean;
  /** Their gossip_timestamp_filter: what they want from us. */
  filter: TimestampFilter | undefined;
  /** Whether we take their gossip (we sent them a real filter). */
  source: boolean;
  sync: RangeSync | undefined;
  syncHeardAt: number;
  answering: boolean;
  queued: number;
  outbox: Outgoing[];
  sending: boolean;
  lastWarningAt: number;
}

export interface GossipSyncStats {
  counters: ReturnType<GossipCounters['snapshot']>;
  inbox: number;
  batchesInFlight: number;
  broadcastQueued: number;
  peers: number;
  syncingWith: string[];
  initialSyncNeeded: boolean;
  /** Unix ms of the last range sync that completed. */
  lastSyncAt: number | undefined;
  store: { pendingWrites: number; journal: number; snapshots: number } | undefined;
}

const U32_MAX = 0xffff_ffff;
const TWO_WEEKS_SEC = 1_209_600;

export class GossipSync {
  readonly graph: NetworkGraph;
  readonly counters = new GossipCounters();
  readonly validator: GossipValidator;
  private readonly transport: GossipTransport;
  private readonly store: LmdbGraphStore | undefined;
  private readonly crypto: CryptoService;
  private readonly utxo: UtxoLookup | undefined;
  private readonly log: Logger | undefined;
  private readonly now: () => number;
  private readonly rateLimiter: GossipRateLimiter;
  private readonly broadcast = new StaggeredBroadcast();
  private readonly peers = new Map<string, PeerState>();
  private readonly o: Required<
    Pick<
      GossipSyncOptions,
      | 'batchSize'
      | 'pipelineDepth'
      | 'broadcastIntervalMs'
      | 'initialSyncPeers'
      | 'gossipPeers'
      | 'catchUpMarginSec'
      | 'syncTimeoutMs'
      | 'maxInboxPerPeer'
      | 'sendChunk'
      | 'snapshotAfterWrites'
      | 'pruneIntervalMs'
    >
  >;
  private inbox: InboundGossip[] = [];
  /** First signature → the queued message carrying it: exact copies are dropped on arrival. */
  private readonly queuedCopies = new Map<string, Uint8Array>();
  private inboxHead = 0;
  private inFlight = 0;
  private nextSeq = 0;
  private appliedSeq = 0;
  private readonly turnWaiters = new Map<number, () => void>();
  private idleWaiters: (() => void)[] = [];
  private batchWaiters: (() => void)[] = [];
  private initialSyncNeeded: boolean;
  private readonly triedSync = new Set<string>();
  private catchUpFrom: number | undefined;
  private nextBroadcastAt: number;
  private nextMetaAt = 0;
  private nextPruneAt: number;
  private lastSyncAt: number | undefined;
  private closed = false;

  constructor(options: GossipSyncOptions) {
    this.graph = options.graph;
    this.transport = options.transport;
    this.store = options.store;
    this.crypto = options.crypto ?? inThreadCrypto;
    this.utxo = options.utxo;
    this.log = options.logger?.child({ component: 'gossip' });
    this.now = options.now ?? Date.now;
    this.rateLimiter = new GossipRateLimiter(options.rateLimit);
    this.validator = new GossipValidator(this.graph, {
      ...options.validator,
      rateLimiter: this.rateLimiter,
      counters: this.counters,
    });
    this.o = {
      batchSize: options.batchSize ?? 1024,
      pipelineDepth: options.pipelineDepth ?? 2,
      broadcastIntervalMs: options.broadcastIntervalMs ?? 60_000,
      initialSyncPeers: options.initialSyncPeers ?? 2,
      gossipPeers: options.gossipPeers ?? 5,
      catchUpMarginSec: options.catchUpMarginSec ?? 3600,
      syncTimeoutMs: options.syncTimeoutMs ?? 120_000,
      maxInboxPerPeer: options.maxInboxPerPeer ?? 200_000,
      sendChunk: options.sendChunk ?? 256,
      snapshotAfterWrites: options.snapshotAfterWrites ?? 50_000,
      pruneIntervalMs: options.pruneIntervalMs ?? 3_600_000,
    };
    const nowSec = Math.floor(this.now() / 1000);
    const last = options.lastActiveAt;
    this.initialSyncNeeded =
      this.graph.stats().channels === 0 || last === undefined || last < nowSec - TWO_WEEKS_SEC;
    if (!this.initialSyncNeeded && last !== undefined)
      this.catchUpFrom = Math.max(0, last - this.o.catchUpMarginSec);
    this.nextBroadcastAt = this.now() + this.o.broadcastIntervalMs;
    this.nextPruneAt = this.now() + this.o.pruneIntervalMs;
  }

  // ================================================================ peers

  /** A peer finished init; `features` are its init features (BOLT 9 bytes). */
  peerConnected(peer: string, features: Uint8Array | Features): void {
    if (this.closed) return;
    const f = features instanceof Features ? features : Features.fromBytes(features);
    // Its messages may have come before the news of its connection (two streams): keep what
    // they set (its filter, an answer being sent).
    const state = this.peerOf(peer);
    // Told twice (a listing and an event): once is enough.
    if (state.connected) return;
    state.connected = true;
    state.gossipQueries = f.supports('gossip_queries');
    state.extended = f.supports('gossip_queries_ex');
    const nowSec = Math.floor(this.now() / 1000);
    // BOLT 7: a node that wants gossip "has to send this, otherwise no gossip messages would be
    // received"; "If the receiver does not offer gossip_queries: SHOULD set first_timestamp to
    // 0xFFFFFFFF and timestamp_range to 0".
    const sources = [...this.peers.values()].filter((p) => p.source).length;
    let first = U32_MAX;
    let range = 0;
    if (state.gossipQueries && sources < this.o.gossipPeers) {
      first = this.catchUpFrom ?? Math.max(0, nowSec - 60);
      this.catchUpFrom = undefined;
      range = U32_MAX - first;
      state.source = true;
      if (first < nowSec - 600) this.rateLimiter.solicited(peer, this.now());
    }
    this.enqueue(state, [this.filterMessage(first, range)], 'other');
    this.startSyncs();
  }

  /** The state of a peer, made on its first message if the news of its connection has not come yet. */
  private peerOf(id: string): PeerState {
    let state = this.peers.get(id);
    if (!state) {
      state = {
        id,
        connected: false,
        gossipQueries: false,
        extended: false,
        filter: undefined,
        source: false,
        sync: undefined,
        syncHeardAt: 0,
        answering: false,
        queued: 0,
        outbox: [],
        sending: false,
        lastWarningAt: 0,
      };
      this.peers.set(id, state);
    }
    return state;
  }

  peerDisconnected(peer: string): void {
    const state = this.peers.get(peer);
    if (!state) return;
    this.peers.delete(peer);
    this.rateLimiter.forget(peer);
    for (const o of state.outbox) o.onDone?.();
    state.outbox = [];
    if (state.sync) this.startSyncs();
  }

  private filterMessage(firstTimestamp: number, timestampRange: number): Uint8Array {
    return encodeMessage({
      type: 265,
      kind: 'gossip_timestamp_filter',
      chainHash: this.graph.chainHash,
      firstTimestamp,
      timestampRange,
    });
  }

  // ================================================================ incoming

  /** A message from a peer (type + payload as received): gossip, or a query. Anything else is ignored. */
  receive(peer: string, raw: Uint8Array): void {
    if (this.closed) return;
    const type = messageType(raw);
    if (type >= 256 && type <= 258) {
      const state = this.peerOf(peer);
      if (state.sync) state.syncHeardAt = this.now();
      const screened = this.validator.screen(raw, Math.floor(this.now() / 1000));
      if (screened) {
        this.validator.count(type, screened);
        if (reactionTo(GOSSIP_KINDS[kindIndex(type)]!, screened) !== 'none')
          this.warn(state, `gossip: ${screened}`);
        return;
      }
      // An exact copy of a message still queued (keyed by its first signature, compared whole).
      const key = raw.length >= 66 ? Buffer.from(raw.buffer, raw.byteOffset + 2, 64).toString('latin1') : '';
      const queued = this.queuedCopies.get(key);
      if (queued && queued.length === raw.length && Buffer.compare(queued, raw) === 0) {
        this.validator.count(type, 'duplicate');
        return;
      }
      if (state.queued >= this.o.maxInboxPerPeer) {
        this.validator.count(type, 'rate-limited');
        return;
      }
      // A node_announcement of a node the graph does not have yet may be ahead of its channel
      // (a peer's answer to a filter sends the nodes in its range whatever their channels'
      // timestamps), and be refused as unknown-node in its turn: a copy coming after the
      // channel (a range sync's answer) must not be dropped as its copy. So such ones are not
      // kept as copies; refusing one again costs a map lookup, no signature.
      if (!queued && (type !== 257 || this.validator.knowsNodeOf(raw))) this.queuedCopies.set(key, raw);
      state.queued++;
      this.inbox.push({ peer, raw });
      this.pump();
      return;
    }
    if (type < 261 || type > 265) return;
    const state = this.peerOf(peer);
    let m: Message;
    try {
      m = decodeMessage(raw) as Message;
    } catch (e) {
      this.warn(state, `malformed ${type}: ${(e as Error).message}`);
      return;
    }
    switch (m.kind) {
      case 'query_channel_range':
        this.onQueryChannelRange(state, m);
        return;
      case 'reply_channel_range':
        this.onSyncSteps(state, state.sync?.onReplyChannelRange(m));
        return;
      case 'query_short_channel_ids':
        this.onQueryShortChannelIds(state, m);
        return;
      case 'reply_short_channel_ids_end':
        this.onSyncSteps(state, state.sync?.onReplyShortChannelIdsEnd(m));
        return;
      case 'gossip_timestamp_filter':
        this.onFilter(state, m);
        return;
    }
  }

  private onQueryChannelRange(peer: PeerState, m: QueryChannelRange): void {
    this.enqueue(peer, replyChannelRanges(this.graph, m), 'other');
  }

  private onQueryShortChannelIds(peer: PeerState, m: QueryShortChannelIds): void {
    // "if it has not sent reply_short_channel_ids_end to a previously received
    // query_short_channel_ids from this sender: MAY send a warning".
    if (peer.answering) {
      this.warn(peer, 'query_short_channel_ids before the previous one was answered');
      return;
    }
    const answer = answerShortChannelIds(this.graph, m);
    if (answer.problem) this.warn(peer, `query_short_channel_ids: ${answer.problem}`);
    peer.answering = true;
    this.enqueue(peer, answer.messages, 'answer', () => {
      peer.answering = false;
    });
  }

  private onFilter(peer: PeerState, m: GossipTimestampFilter): void {
    if (!bytesEqual(m.chainHash, this.graph.chainHash)) return;
    // "this filter replaces any previous one": so does the dump it asks for.
    peer.filter = { firstTimestamp: m.firstTimestamp, timestampRange: m.timestampRange };
    peer.outbox = peer.outbox.filter((o) => o.kind !== 'dump');
    this.enqueue(peer, gossipInTimestampRange(this.graph, m.firstTimestamp, m.timestampRange), 'dump');
  }

  // ================================================================ range syncs

  private startSyncs(): void {
    if (!this.initialSyncNeeded || this.closed) return;
    let active = [...this.peers.values()].filter((p) => p.sync).length;
    for (const p of this.peers.values()) {
      if (active >= this.o.initialSyncPeers) return;
      if (p.sync || !p.gossipQueries || this.triedSync.has(p.id)) continue;
      this.triedSync.add(p.id);
      p.sync = new RangeSync(this.graph, { extended: p.extended, nowSec: Math.floor(this.now() / 1000) });
      p.syncHeardAt = this.now();
      this.rateLimiter.solicited(p.id, this.now());
      this.log?.info({ peer: p.id, extended: p.extended }, 'gossip: asking the peer for its whole graph');
      this.enqueue(p, [p.sync.start()], 'other');
      active++;
    }
  }

  private onSyncSteps(peer: PeerState, steps: SyncStep[] | undefined): void {
    if (!steps) {
      this.warn(peer, 'a gossip query reply nobody asked for');
      return;
    }
    peer.syncHeardAt = this.now();
    for (const s of steps) {
      if (s.kind === 'send') {
        this.rateLimiter.solicited(peer.id, this.now());
        this.enqueue(peer, [s.message], 'other');
      } else if (s.kind === 'done') {
        peer.sync = undefined;
        this.initialSyncNeeded = false;
        this.lastSyncAt = this.now();
        this.log?.info({ peer: peer.id, requested: s.requested }, 'gossip: range sync done');
      } else {
        peer.sync = undefined;
        this.log?.info({ peer: peer.id, reason: s.reason }, 'gossip: range sync failed');
        if (s.warn) this.warn(peer, s.reason);
        this.startSyncs();
      }
    }
  }

  // ================================================================ validation pipeline

  private pump(): void {
    while (this.inFlight < this.o.pipelineDepth && this.inboxHead < this.inbox.length && !this.closed) {
      const end = Math.min(this.inbox.length, this.inboxHead + this.o.batchSize);
      const items = this.inbox.slice(this.inboxHead, end);
      this.inboxHead = end;
      if (this.inboxHead > 65_536 || this.inboxHead === this.inbox.length) {
        this.inbox = this.inbox.slice(this.inboxHead);
        this.inboxHead = 0;
      }
      for (const it of items) {
        const p = this.peers.get(it.peer);
        if (p) p.queued--;
        const key =
          it.raw.length >= 66 ? Buffer.from(it.raw.buffer, it.raw.byteOffset + 2, 64).toString('latin1') : '';
        if (this.queuedCopies.get(key) === it.raw) this.queuedCopies.delete(key);
      }
      this.inFlight++;
      void this.process(items, this.nextSeq++);
    }
  }

  private async turn(seq: number): Promise<void> {
    if (this.appliedSeq === seq) return;
    await new Promise<void>((resolve) => this.turnWaiters.set(seq, resolve));
  }

  private async process(items: InboundGossip[], seq: number): Promise<void> {
    const batch = this.validator.prepare(items, this.now());
    try {
      const { sigOk, utxo } = await this.check(batch);
      await this.turn(seq);
      this.afterApply(this.validator.apply(batch, sigOk, utxo, this.now()));
    } catch (e) {
      // The crypto pool closed, say: these messages are dropped (they come again); never a crash.
      this.validator.abandon(batch);
      this.log?.warn(
        { err: (e as Error).message, messages: items.length },
        'gossip: a batch could not be checked',
      );
      await this.turn(seq);
    } finally {
      this.appliedSeq = seq + 1;
      this.turnWaiters.get(seq + 1)?.();
      this.turnWaiters.delete(seq + 1);
      this.inFlight--;
      for (const w of this.batchWaiters.splice(0)) w();
      this.pump();
      this.checkIdle();
    }
  }

  /** The signatures of a prepared batch, then the funding outputs of the announcements whose signatures hold. */
  private async check(
    batch: PreparedBatch,
  ): Promise<{ sigOk: Uint8Array; utxo: Map<bigint, UtxoResult> | undefined }> {
    const sigOk = await batch.signatures.verify(this.crypto);
    if (!this.utxo) return { sigOk, utxo: undefined };
    const lookup = this.utxo;
    const scids = this.validator.utxoQueries(batch, sigOk);
    const answers = await Promise.all(scids.map((s) => lookup.lookup(s)));
    return { sigOk, utxo: new Map(scids.map((s, k) => [s, answers[k]!])) };
  }

  private afterApply(result: BatchResult): void {
    this.broadcast.queue(result.relay);
    const told = new Set<string>();
    for (const r of result.reactions) {
      const peer = this.peers.get(r.peer);
      if (!peer || told.has(r.peer)) continue;
      told.add(r.peer);
      this.warn(peer, `${r.kind}: ${r.outcome}`);
      if (r.reaction === 'warn-and-close')
        this.transport.disconnect(r.peer, `bad gossip: ${r.kind} ${r.outcome}`);
    }
    if (this.store) {
      const snapshot = this.store.journalLength >= this.o.snapshotAfterWrites;
      this.persist(snapshot);
    }
  }

  private persist(snapshot: boolean): Promise<void> {
    const store = this.store;
    if (!store) return Promise.resolve();
    return store
      .flush(
        snapshot ? { snapshot: () => this.graph.toSnapshot(), nowSec: Math.floor(this.now() / 1000) } : {},
      )
      .catch((e: unknown) =>
        this.log?.error({ err: (e as Error).message }, 'gossip: the graph could not be written'),
      );
  }

  // ================================================================ outgoing

  private enqueue(
    peer: PeerState,
    messages: Iterable<Uint8Array>,
    kind: Outgoing['kind'],
    onDone?: () => void,
  ): void {
    peer.outbox.push({ messages: messages[Symbol.iterator](), kind, ...(onDone ? { onDone } : {}) });
    if (!peer.sending) void this.drain(peer);
  }

  /** Sends a peer's outbox in chunks, each after the previous was taken (the transport's flow control). */
  private async drain(peer: PeerState): Promise<void> {
    peer.sending = true;
    try {
      while (peer.outbox.length > 0 && this.peers.get(peer.id) === peer) {
        const head = peer.outbox[0]!;
        const chunk: Uint8Array[] = [];
        let done = false;
        while (chunk.length < this.o.sendChunk) {
          const n = head.messages.next();
          if (n.done) {
            done = true;
            break;
          }
          chunk.push(n.value);
        }
        if (chunk.length > 0) await this.transport.send(peer.id, chunk);
        if (done && peer.outbox[0] === head) {
          peer.outbox.shift();
          head.onDone?.();
        }
      }
    } catch (e) {
      this.log?.debug({ peer: peer.id, err: (e as Error).message }, 'gossip: sending to the peer failed');
      for (const o of peer.outbox) o.onDone?.();
      peer.outbox = [];
    } finally {
      peer.sending = false;
      this.checkIdle();
    }
  }

  private warn(peer: PeerState, text: string): void {
    const now = this.now();
    // One warning a second per peer at most: a flood of bad gossip is not answered with a flood.
    if (now - peer.lastWarningAt < 1000) return;
    peer.lastWarningAt = now;
    this.log?.info({ peer: peer.id, warning: text }, 'gossip: warning the peer');
    this.enqueue(
      peer,
      [
        encodeMessage({
          type: 1,
          kind: 'warning',
          channelId: new Uint8Array(32),
          data: new TextEncoder().encode(text),
        }),
      ],
      'other',
    );
  }

  /** Our own gossip (a node_announcement, our channels' updates): applied, then sent to every peer now, whatever its filter. */
  async broadcastLocal(messages: readonly Uint8Array[]): Promise<BatchResult> {
    const batch = this.validator.prepare(
      messages.map((raw) => ({ peer: '', raw })),
      this.now(),
    );
    let checked: Awaited<ReturnType<GossipSync['check']>>;
    try {
      checked = await this.check(batch);
    } catch (e) {
      this.validator.abandon(batch);
      throw e;
    }
    const result = this.validator.apply(batch, checked.sigOk, checked.utxo, this.now());
    // "SHOULD send gossip messages as it generates them regardless of timestamp".
    const raws = result.relay.map((r) => r.raw);
    if (raws.length > 0) for (const p of this.peers.values()) this.enqueue(p, raws, 'other');
    void this.persist(false);
    return result;
  }

  /**
   * A channel_update a payment failure carried (BOLT 4: the origin node SHOULD apply it; it is
   * gossip like any other): screened, checked and applied as a peer's would be, then relayed by
   * the staggered broadcast. It comes from no peer, so no one is warned of a bad one. Resolves
   * with whether the graph took it (not when stale, a copy, or badly signed).
   */
  async applyFailureUpdate(raw: Uint8Array): Promise<boolean> {
    if (this.closed || raw.length < 2 || messageType(raw) !== 258) return false;
    const screened = this.validator.screen(raw, Math.floor(this.now() / 1000));
    if (screened) {
      this.validator.count(258, screened);
      return false;
    }
    const batch = this.validator.prepare([{ peer: '', raw }], this.now());
    let checked: Awaited<ReturnType<GossipSync['check']>>;
    try {
      checked = await this.check(batch);
    } catch {
      this.validator.abandon(batch);
      return false;
    }
    const result = this.validator.apply(batch, checked.sigOk, checked.utxo, this.now());
    this.broadcast.queue(result.relay);
    void this.persist(false);
    return result.accepted > 0;
  }

  // ================================================================ timers

  /** Runs what is due: the broadcast flush, sync timeouts, the meta record, pruning. Call about once a second. */
  tick(): void {
    if (this.closed) return;
    const now = this.now();
    if (now >= this.nextBroadcastAt) {
      this.nextBroadcastAt = now + this.o.broadcastIntervalMs;
      const out = this.broadcast.flush(
        this.graph,
        [...this.peers.values()].map((p) => ({ id: p.id, filter: p.filter })),
      );
      for (const [id, list] of out) {
        const p = this.peers.get(id);
        if (p) this.enqueue(p, list, 'other');
      }
    }
    for (const p of this.peers.values()) {
      if (p.sync && now - p.syncHeardAt > this.o.syncTimeoutMs) {
        this.log?.info({ peer: p.id }, 'gossip: range sync timed out');
        p.sync = undefined;
        this.startSyncs();
      }
    }
    if (now >= this.nextPruneAt) {
      this.nextPruneAt = now + this.o.pruneIntervalMs;
      const r = pruneStale(this.graph, Math.floor(now / 1000));
      if (r.channels + r.directions > 0) this.log?.info(r, 'gossip: pruned stale channels');
    }
    if (this.store && now >= this.nextMetaAt && [...this.peers.values()].some((p) => p.source)) {
      this.nextMetaAt = now + 60_000;
      this.store.putMeta(Math.floor(now / 1000));
      void this.persist(false);
    }
  }

  // ================================================================ state

  /** Resolves once nothing is waiting: inbox empty, no batch in flight, every outbox sent. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    if (this.inFlight > 0 || this.inboxHead < this.inbox.length) return false;
    for (const p of this.peers.values()) if (p.sending || p.outbox.length > 0) return false;
    return true;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  stats(): GossipSyncStats {
    return {
      counters: this.counters.snapshot(),
      inbox: this.inbox.length - this.inboxHead,
      batchesInFlight: this.inFlight,
      broadcastQueued: this.broadcast.size,
      peers: this.peers.size,
      syncingWith: [...this.peers.values()].filter((p) => p.sync).map((p) => p.id),
      initialSyncNeeded: this.initialSyncNeeded,
      lastSyncAt: this.lastSyncAt,
      store: this.store
        ? {
            pendingWrites: this.store.pendingWrites,
            journal: this.store.journalLength,
            snapshots: this.store.snapshots,
          }
        : undefined,
    };
  }

  /** Stops taking messages, lets the batches in flight finish, and writes the graph (with a snapshot). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.batchWaiters.push(resolve));
    this.inbox = [];
    this.inboxHead = 0;
    this.queuedCopies.clear();
    if (this.store) {
      this.store.putMeta(Math.floor(this.now() / 1000));
      await this.persist(true);
    }
  }
}
