/**
 * The node's durable event log (guide step 16): every event that must not be lost — what the
 * channel manager reports (ChannelPending, ChannelReady, ChannelClosed) — is written to the
 * store before anything hears of it, and stays until it is handled. A crash between the write
 * and the handling loses nothing: at the next start the event is still pending and is handled
 * then (so a handler must take an event twice calmly). Handled events are kept, the last
 * `keepHandled` of them, so a client that lost its connection can replay from the last one it
 * saw (server-sent events' Last-Event-ID) with `since`.
 *
 * Each event's write is issued when it is appended, before the writes of whatever follows from
 * it (the store commits in issue order, so a channel's snapshot issued next is never durable
 * without it); `stream$` tells them in `seq` order, each once durable. `seq` grows by one per
 * event, across restarts too (a write the store refused leaves its number unused).
 */
import { type NamedDb, recordDb, type Store } from '@lnkit/store';
import { type Observable, Subject } from 'rxjs';
import { NodeError } from './errors.ts';
import { EVENTS_DB, nodeEventRecord, type StoredNodeEvent } from './records.ts';

/** An event's own fields: flat, JSON-ready (bigints as decimal strings, ids and hashes as hex). */
export type NodeEventData = Record<string, string | number | boolean | null>;

export interface NodeEventRecord {
  /** 1, 2, 3, …: the event's place in the log, never reused. */
  seq: number;
  /** ISO 8601 time the event was written. */
  at: string;
  /** `ChannelPending`, `ChannelReady`, `ChannelClosed`. */
  kind: string;
  data: NodeEventData;
}

/** What a node's `events` gives: the log as its users see it. */
export interface NodeEvents {
  /** Events not handled yet, oldest first. */
  pending(): Promise<NodeEventRecord[]>;
  /** Events after `seq` (handled or not) still in the log, oldest first: a replay from the last one seen. */
  since(seq: number): Promise<NodeEventRecord[]>;
  /** New events as they are written (after the write). */
  readonly stream$: Observable<NodeEventRecord>;
  /** Marks the event handled; it is no longer pending (and is eventually pruned). */
  handled(seq: number): Promise<void>;
}

/** Handled events kept for replay. */
export const KEEP_HANDLED_EVENTS = 1000;

export interface NodeEventLogOptions {
  keepHandled?: number;
  /** How each write is made durable (the node's: waits out a full disk rather than failing). */
  durably?: <T>(write: () => Promise<T>) => Promise<T>;
  /** The clock, for `at`. */
  now?: () => Date;
}

export class NodeEventLog implements NodeEvents {
  readonly #db: NamedDb<StoredNodeEvent>;
  readonly #live = new Subject<NodeEventRecord>();
  readonly #keep: number;
  readonly #durably: <T>(write: () => Promise<T>) => Promise<T>;
  readonly #now: () => Date;
  /** Seqs of the handled events kept, ascending: the first ones go when there are too many. */
  readonly #handled: number[] = [];
  #nextSeq: number;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  readonly stream$: Observable<NodeEventRecord> = this.#live.asObservable();

  constructor(store: Store, options: NodeEventLogOptions = {}) {
    this.#db = recordDb(store.db(EVENTS_DB), nodeEventRecord);
    this.#keep = options.keepHandled ?? KEEP_HANDLED_EVENTS;
    this.#durably = options.durably ?? ((write) => write());
    this.#now = options.now ?? (() => new Date());
    let last = 0;
    for (const { value } of this.#db.entries()) {
      last = value.seq;
      if (value.handled) this.#handled.push(value.seq);
    }
    this.#nextSeq = last + 1;
  }

  /** Writes an event, then tells `stream$`; resolves with it once it is durable. */
  append(kind: string, data: NodeEventData): Promise<NodeEventRecord> {
    if (this.#closed) return Promise.reject(new NodeError('not-running', 'the event log is closed'));
    const stored: StoredNodeEvent = {
      seq: this.#nextSeq++,
      at: this.#now().toISOString(),
      kind,
      dataJson: JSON.stringify(data),
      handled: false,
    };
    const durable = this.#durably(() => this.#db.put(stored.seq, stored));
    // Its failure is the caller's, through the promise below; not unhandled meanwhile.
    durable.catch(() => {});
    return this.#serial(async () => {
      await durable;
      const record = toRecord(stored);
      this.#live.next(record);
      return record;
    });
  }

  async pending(): Promise<NodeEventRecord[]> {
    return this.#db
      .entries()
      .filter(({ value }) => !value.handled)
      .map(({ value }) => toRecord(value));
  }

  async since(seq: number): Promise<NodeEventRecord[]> {
    if (!Number.isSafeInteger(seq) || seq < 0)
      throw new NodeError('invalid-argument', `seq must be a whole number of 0 or more; got ${String(seq)}`);
    return this.#db.entries({ start: seq + 1 }).map(({ value }) => toRecord(value));
  }

  handled(seq: number): Promise<void> {
    return this.#serial(async () => {
      const stored = Number.isSafeInteger(seq) ? this.#db.get(seq) : undefined;
      if (!stored) {
        if (Number.isSafeInteger(seq) && seq > 0 && seq < this.#nextSeq) return; // handled and pruned
        throw new NodeError(
          'invalid-argument',
          `no event ${String(seq)} in the log (the last is ${this.#nextSeq - 1})`,
        );
      }
      if (stored.handled) return;
      await this.#durably(() => this.#db.put(seq, { ...stored, handled: true }));
      insertSorted(this.#handled, seq);
      while (this.#handled.length > this.#keep) {
        const oldest = this.#handled.shift() as number;
        await this.#durably(() => this.#db.remove(oldest));
      }
    });
  }

  /**
   * The first event in the log (from `afterSeq` on) that `match` takes, once it is durable: what
   * a call that reports an event's outcome (openChannel) waits for, so that the user hears of
   * it no sooner than the log has it. Rejects with not-running if the log closes first.
   */
  written(match: (e: NodeEventRecord) => boolean, afterSeq = 0): Promise<NodeEventRecord> {
    return new Promise((resolve, reject) => {
      // Subscribed before the log is read: one written in between is seen live.
      const sub = this.#live.subscribe({
        next: (e) => {
          if (e.seq > afterSeq && match(e)) {
            sub.unsubscribe();
            resolve(e);
          }
        },
        complete: () => reject(new NodeError('not-running', 'the node stopped before the event was written')),
      });
      const found = this.#db
        .entries({ start: afterSeq + 1 })
        .map(({ value }) => toRecord(value))
        .find(match);
      if (found) {
        sub.unsubscribe();
        resolve(found);
      }
    });
  }

  /** The seq of the last event written (0 for none). */
  get lastSeq(): number {
    return this.#nextSeq - 1;
  }

  /** Waits for the writes under way; the store stays open (it is the node's). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.catch(() => {});
    this.#live.complete();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new NodeError('not-running', 'the event log is closed'));
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function toRecord(s: StoredNodeEvent): NodeEventRecord {
  return { seq: s.seq, at: s.at, kind: s.kind, data: JSON.parse(s.dataJson) as NodeEventData };
}

function insertSorted(xs: number[], x: number): void {
  let i = xs.length;
  while (i > 0 && (xs[i - 1] as number) > x) i--;
  xs.splice(i, 0, x);
}
