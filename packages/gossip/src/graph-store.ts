/**
 * The graph in lmdb: `LmdbGraphStore` is the GossipMessageStore of a node with a data dir, and
 * `loadGraph` builds the in-memory graph from it at start.
 *
 * Writes are behind: the graph calls `put...` synchronously while it changes, the store keeps
 * the write in `pending` (where reads find it at once) and `flush()` commits everything pending
 * in one transaction (one fsync for a whole batch of gossip, not one per message). Gossip is
 * not money: a crash loses at most what was not flushed, and peers send it again.
 *
 * Fast start. Besides a record per message (records.ts), the store keeps a snapshot — the
 * graph's columns in one record — and a journal: each flush adds, in the same transaction,
 * one journal entry per record it wrote or removed. `loadGraph` takes the snapshot and replays
 * the journal entries after it (reading those records again), so a start reads one big record
 * and a few thousand small ones instead of decoding every message. A flush with `snapshot`
 * writes a new one and drops the journal up to it, atomically. Without a snapshot (the first
 * start after a full sync, a snapshot that does not decode) the graph loads record by record,
 * and the next snapshot fixes that.
 *
 * A record that does not decode is skipped and counted, never fatal: the gossip it held comes
 * again from peers.
 */
import type { Key, NamedDb, Store } from '@lnkit/store';
import { bytesEqual } from '@lnkit/wire';
import { GossipError } from './errors.ts';
import { type GraphSnapshot, NetworkGraph } from './graph.ts';
import { NO_INDEX } from './graph-view.ts';
import { CU_CHANNEL_FLAGS, CU_TIMESTAMP, nodeAnnouncementOffsets, u32 } from './layout.ts';
import type { GossipMessageStore, StoredChannel } from './message-store.ts';
import {
  channelKey,
  GRAPH_DB,
  type GraphMetaRecord,
  graphChannelRecord,
  graphJournalRecord,
  graphMetaRecord,
  graphNodeRecord,
  graphSnapshotRecord,
  graphUpdateRecord,
  JOURNAL_END,
  JOURNAL_PREFIX,
  journalKey,
  KEY_CHANNEL,
  KEY_NODE,
  KEY_UPDATE,
  META_KEY,
  nodeKey,
  SNAPSHOT_KEY,
  updateKey,
} from './records.ts';

const isPending = (x: unknown): x is PendingWrite =>
  typeof x === 'object' && x !== null && (x as { pending?: unknown }).pending === true;
const keyString = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1');
const scidOfKey = (k: Uint8Array): bigint => new DataView(k.buffer, k.byteOffset, k.length).getBigUint64(1);

interface PendingWrite {
  readonly pending: true;
  readonly key: Uint8Array;
  /** The record bytes, or null for a removal. */
  readonly value: Uint8Array | null;
  /** What the graph handed over, so a read returns it without decoding. */
  readonly plain: StoredChannel | Uint8Array | null;
}

export interface FlushOptions {
  /** Also write a snapshot of this graph state (call only with the graph the pending writes came from). */
  snapshot?: () => GraphSnapshot;
  nowSec?: number;
}

export class LmdbGraphStore implements GossipMessageStore {
  private readonly db: NamedDb<Uint8Array>;
  private pending = new Map<string, PendingWrite>();
  private flushing: Promise<void> | undefined;
  /** Writes in the transaction a flush is committing. */
  private committing = 0;
  /** The last journal entry written, and the first one not covered by a snapshot. */
  private journalSeq = 0n;
  private journalStart = 1n;
  /** Records written since the store was opened (for tests and metrics). */
  written = 0;
  snapshots = 0;

  constructor(
    private readonly store: Store,
    readonly chainHash: Uint8Array,
    private readonly dbName = GRAPH_DB,
  ) {
    this.db = store.db(dbName);
  }

  /**
   * Writes not on disk yet: waiting for `flush()`, or in the transaction it is committing (so 0
   * means that what the graph shows would survive a crash).
   */
  get pendingWrites(): number {
    return this.pending.size + this.committing;
  }

  /** Journal entries a load would replay (those after the last snapshot). */
  get journalLength(): number {
    return Number(this.journalSeq - this.journalStart + 1n);
  }

  /** Where the journal stands (set by loadGraph from what the data dir holds). */
  setJournal(lastSeq: bigint, firstUncovered: bigint): void {
    this.journalSeq = lastSeq;
    this.journalStart = firstUncovered;
  }

  private stage(key: Uint8Array, value: Uint8Array | null, plain: StoredChannel | Uint8Array | null): void {
    this.pending.set(keyString(key), { pending: true, key, value, plain });
  }

  private read(key: Uint8Array): PendingWrite | Uint8Array | undefined {
    return this.pending.get(keyString(key)) ?? this.db.get(key as Key);
  }

  private decoded<T>(key: Uint8Array, decode: (b: Uint8Array) => T): T | PendingWrite | undefined {
    const r = this.read(key);
    if (r === undefined || !(r instanceof Uint8Array)) return r;
    try {
      return decode(r);
    } catch {
      return undefined;
    }
  }

  channel(scid: bigint): StoredChannel | undefined {
    const r = this.decoded(channelKey(scid), (b) => graphChannelRecord.decode(b));
    return isPending(r) ? ((r.plain as StoredChannel | null) ?? undefined) : r;
  }

  putChannel(scid: bigint, channel: StoredChannel): void {
    this.stage(channelKey(scid), graphChannelRecord.encode(channel), channel);
  }

  removeChannel(scid: bigint): void {
    this.stage(channelKey(scid), null, null);
    this.stage(updateKey(scid, 0), null, null);
    this.stage(updateKey(scid, 1), null, null);
  }

  private bytesAt(key: Uint8Array, decode: (b: Uint8Array) => Uint8Array): Uint8Array | undefined {
    const r = this.decoded(key, decode);
    return isPending(r) ? ((r.plain as Uint8Array | null) ?? undefined) : r;
  }

  update(scid: bigint, direction: 0 | 1): Uint8Array | undefined {
    return this.bytesAt(updateKey(scid, direction), (b) => graphUpdateRecord.decode(b).update);
  }

  putUpdate(scid: bigint, direction: 0 | 1, update: Uint8Array): void {
    this.stage(updateKey(scid, direction), graphUpdateRecord.encode({ update }), update);
  }

  removeUpdate(scid: bigint, direction: 0 | 1): void {
    this.stage(updateKey(scid, direction), null, null);
  }

  nodeAnnouncement(nodeId: Uint8Array): Uint8Array | undefined {
    return this.bytesAt(nodeKey(nodeId), (b) => graphNodeRecord.decode(b).announcement);
  }

  putNodeAnnouncement(nodeId: Uint8Array, announcement: Uint8Array): void {
    this.stage(nodeKey(nodeId), graphNodeRecord.encode({ announcement }), announcement);
  }

  removeNodeAnnouncement(nodeId: Uint8Array): void {
    this.stage(nodeKey(nodeId), null, null);
  }

  meta(): GraphMetaRecord | undefined {
    const r = this.decoded(META_KEY, (b) => graphMetaRecord.decode(b));
    return isPending(r) ? graphMetaRecord.decode(r.plain as Uint8Array) : r;
  }

  /** Records when the node last took gossip in (written with the next flush). */
  putMeta(lastActiveAt: number): void {
    const bytes = graphMetaRecord.encode({ chainHash: this.chainHash, lastActiveAt });
    this.stage(META_KEY, bytes, bytes);
  }

  /**
   * Commits every pending write in one transaction, with its journal entries (and a snapshot,
   * if asked). Writes staged while a flush runs wait for the next one; concurrent calls queue.
   */
  async flush(options: FlushOptions = {}): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0 && !options.snapshot) return;
    const batch = this.pending;
    this.pending = new Map();
    this.committing = batch.size;
    const seqBefore = this.journalSeq;
    const startBefore = this.journalStart;
    this.flushing = (async () => {
      try {
        const snapshot = options.snapshot?.();
        await this.store.transaction((t) => {
          let seq = this.journalSeq;
          for (const w of batch.values()) {
            // The meta record is not part of the graph: no journal entry for it.
            if (w.key.length > 1)
              t.put(this.dbName, journalKey(++seq) as Key, graphJournalRecord.encode({ key: w.key }));
            if (w.value) t.put(this.dbName, w.key as Key, w.value);
            else t.remove(this.dbName, w.key as Key);
          }
          if (snapshot) {
            const record = graphSnapshotRecord.encode({
              ...snapshot,
              chainHash: this.chainHash,
              journalSeq: seq,
              takenAt: options.nowSec ?? Math.floor(Date.now() / 1000),
            });
            t.put(this.dbName, SNAPSHOT_KEY as Key, record);
            for (let s = this.journalStart; s <= seq; s++) t.remove(this.dbName, journalKey(s) as Key);
            this.journalStart = seq + 1n;
          }
          this.journalSeq = seq;
        });
        this.written += batch.size;
        if (options.snapshot) this.snapshots++;
      } catch (e) {
        this.journalSeq = seqBefore;
        this.journalStart = startBefore;
        // Put them back (unless newer writes replaced them) so a later flush retries.
        for (const [k, w] of batch) if (!this.pending.has(k)) this.pending.set(k, w);
        throw new GossipError('store-failed', `the graph could not be written: ${(e as Error).message}`);
      } finally {
        this.committing = 0;
        this.flushing = undefined;
      }
    })();
    await this.flushing;
  }
}

export interface LoadResult {
  graph: NetworkGraph;
  messages: LmdbGraphStore;
  /** The meta record, if the data dir had one. */
  meta: GraphMetaRecord | undefined;
  /** 'snapshot': the snapshot and `replayed` journal entries; 'records': one record per message. */
  from: 'snapshot' | 'records' | 'empty';
  replayed: number;
  channels: number;
  nodes: number;
  /** Records that did not decode, or did not fit the graph (an update without its channel). */
  skipped: number;
  ms: number;
}

const PAGE = 4096;

function* range(
  db: NamedDb<Uint8Array>,
  from: Uint8Array,
  to: Uint8Array,
): Generator<{ key: Uint8Array; value: Uint8Array }> {
  let start = from;
  for (;;) {
    const page = db.entries({ start: start as Key, end: to as Key, limit: PAGE });
    for (const e of page) yield { key: e.key as Uint8Array, value: e.value };
    if (page.length < PAGE) return;
    // Continue just after the last key: the key with a 0 byte appended sorts right after it.
    const last = page[page.length - 1]!.key as Uint8Array;
    start = new Uint8Array(last.length + 1);
    start.set(last);
  }
}

/**
 * Reads the graph back from the store. A data dir whose graph is of another chain is refused
 * (`unknown-chain`): the node's store is per network, so that is a data dir mix-up.
 */
export function loadGraph(store: Store, chainHash: Uint8Array, dbName = GRAPH_DB): LoadResult {
  const t0 = performance.now();
  const messages = new LmdbGraphStore(store, chainHash, dbName);
  const meta = messages.meta();
  if (meta && !bytesEqual(meta.chainHash, chainHash))
    throw new GossipError('unknown-chain', 'the graph in this data dir is of another chain');
  const db = store.db(dbName);
  // The journal: which records changed, in order.
  let firstSeq = -1n;
  let lastSeq = 0n;
  const journal: { seq: bigint; key: Uint8Array }[] = [];
  for (const { key, value } of range(db, JOURNAL_PREFIX, JOURNAL_END)) {
    const seq = new DataView(key.buffer, key.byteOffset, key.length).getBigUint64(2);
    if (firstSeq < 0n) firstSeq = seq;
    lastSeq = seq;
    try {
      journal.push({ seq, key: graphJournalRecord.decode(value).key });
    } catch {
      /* a damaged entry: the full load below covers it, a snapshot replay may miss one record */
    }
  }
  let snapshot: ReturnType<typeof graphSnapshotRecord.decode> | undefined;
  const snapBytes = db.get(SNAPSHOT_KEY as Key);
  if (snapBytes) {
    try {
      snapshot = graphSnapshotRecord.decode(snapBytes);
      if (!bytesEqual(snapshot.chainHash, chainHash)) snapshot = undefined;
    } catch {
      snapshot = undefined;
    }
  }
  let result: Omit<LoadResult, 'ms' | 'messages' | 'meta'>;
  if (snapshot) {
    const graph = NetworkGraph.fromSnapshot(chainHash, snapshot, messages);
    const after = journal.filter((j) => j.seq > snapshot.journalSeq);
    const skipped = replay(graph, messages, after);
    messages.setJournal(
      lastSeq > snapshot.journalSeq ? lastSeq : snapshot.journalSeq,
      snapshot.journalSeq + 1n,
    );
    const s = graph.stats();
    result = {
      graph,
      from: 'snapshot',
      replayed: after.length,
      channels: s.channels,
      nodes: s.nodes,
      skipped,
    };
  } else {
    result = loadRecords(db, chainHash, messages);
    messages.setJournal(lastSeq, firstSeq < 0n ? 1n : firstSeq);
  }
  return { ...result, messages, meta, ms: performance.now() - t0 };
}

/** Applies the records the journal names (their current state) over a graph from a snapshot. */
function replay(graph: NetworkGraph, messages: LmdbGraphStore, entries: { key: Uint8Array }[]): number {
  const byKind = new Map<number, Map<string, Uint8Array>>();
  for (const { key } of entries) {
    let m = byKind.get(key[0]!);
    if (!m) {
      m = new Map();
      byKind.set(key[0]!, m);
    }
    m.set(keyString(key), key);
  }
  let skipped = 0;
  for (const key of byKind.get(KEY_CHANNEL)?.values() ?? []) {
    const scid = scidOfKey(key);
    const rec = messages.channel(scid);
    const c = graph.channelIndex(scid);
    if (rec && c === NO_INDEX) graph.addChannel(rec.announcement, rec, false);
    else if (rec) graph.restoreExtras(c, rec);
    else if (c !== NO_INDEX) graph.removeChannel(c, false);
  }
  for (const key of byKind.get(KEY_UPDATE)?.values() ?? []) {
    const scid = scidOfKey(key);
    const dir = key[9] as 0 | 1;
    const c = graph.channelIndex(scid);
    if (c === NO_INDEX) continue;
    const raw = messages.update(scid, dir);
    if (raw && raw.length > CU_TIMESTAMP + 4 && (raw[CU_CHANNEL_FLAGS]! & 1) === dir)
      graph.applyUpdate(c, raw, false);
    else if (raw) skipped++;
    else graph.removeDirection(c, dir, false);
  }
  for (const key of byKind.get(KEY_NODE)?.values() ?? []) {
    const raw = messages.nodeAnnouncement(key.subarray(1));
    const o = raw ? nodeAnnouncementOffsets(raw) : undefined;
    if (!raw || !o) continue;
    const n = graph.nodeIndexAt(raw, o.nodeId);
    if (n !== NO_INDEX) graph.applyNodeAnnouncement(n, raw, u32(raw, o.timestamp), false);
  }
  return skipped;
}

/** The graph from one record per message (no snapshot). */
function loadRecords(
  db: NamedDb<Uint8Array>,
  chainHash: Uint8Array,
  messages: LmdbGraphStore,
): Omit<LoadResult, 'ms' | 'messages' | 'meta'> {
  const graph = new NetworkGraph({ chainHash, messages, expectedChannels: 16_384, expectedNodes: 8192 });
  let skipped = 0;
  const next = (b: number) => Uint8Array.of(b + 1);
  for (const { value } of range(db, Uint8Array.of(KEY_CHANNEL), next(KEY_CHANNEL))) {
    try {
      const r = graphChannelRecord.decode(value);
      graph.addChannel(r.announcement, r, false);
    } catch {
      skipped++;
    }
  }
  for (const { key, value } of range(db, Uint8Array.of(KEY_UPDATE), next(KEY_UPDATE))) {
    try {
      const c = graph.channelIndex(scidOfKey(key));
      const { update } = graphUpdateRecord.decode(value);
      if (c === NO_INDEX || update.length < CU_TIMESTAMP + 4 || (update[CU_CHANNEL_FLAGS]! & 1) !== key[9]) {
        skipped++;
        continue;
      }
      graph.applyUpdate(c, update, false);
    } catch {
      skipped++;
    }
  }
  for (const { value } of range(db, Uint8Array.of(KEY_NODE), next(KEY_NODE))) {
    try {
      const { announcement } = graphNodeRecord.decode(value);
      const o = nodeAnnouncementOffsets(announcement);
      const n = o ? graph.nodeIndexAt(announcement, o.nodeId) : NO_INDEX;
      if (!o || n === NO_INDEX) {
        skipped++;
        continue;
      }
      graph.applyNodeAnnouncement(n, announcement, u32(announcement, o.timestamp), false);
    } catch {
      skipped++;
    }
  }
  const s = graph.stats();
  const from = s.channels === 0 ? 'empty' : 'records';
  return { graph, from, replayed: 0, channels: s.channels, nodes: s.nodes, skipped };
}
