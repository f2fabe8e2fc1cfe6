/**
 * Whether the data dir's storage takes writes: the node's "storage-unavailable" state, which
 * every component that must not act before a durable write checks (DESIGN.md, the durability
 * rule: no channel update without its persist; today the chain tip).
 *
 * It learns from every write the store makes (Store.onWrite), whoever made it. A write the
 * machine refused (StoreError write-failed with an osCode: ENOSPC, EDQUOT, EIO, ...) makes
 * storage unavailable: logged once, shown in info().faults. The next write that succeeds ends
 * it. A write refused for another reason (a key too long, a value its record refuses) says
 * nothing about the disk, and is the writer's own error.
 *
 * `untilDurable(write)` is how a component waits instead of failing: the write is tried again
 * after a backoff (doubling up to maxRetryMs), or at once when another write succeeds, until
 * it is durable; the caller does not move on meanwhile, so nothing that depends on it happens.
 */
import type { Logger } from '@lnkit/runtime';
import { StoreError, type WriteOutcome } from '@lnkit/store';
import { NodeError } from './errors.ts';
import type { NodeFaults } from './faults.ts';

export interface StorageRetryOptions {
  /** First wait before a refused write is tried again. Default 250 ms. */
  initialRetryMs?: number;
  /** Longest wait between tries. Default 5 s: a disk with space again is used within seconds. */
  maxRetryMs?: number;
}

/** A write the machine refused, that may succeed once the fault clears. */
export function isStorageFault(e: unknown): e is StoreError {
  return e instanceof StoreError && e.code === 'write-failed' && e.osCode !== undefined;
}

export class StorageStatus {
  private failure: { error: StoreError; last: StoreError; since: number; refused: number } | undefined;
  private readonly waiting = new Set<() => void>();
  private closed = false;
  private isStopping = false;
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(
    private readonly log: Logger,
    private readonly faults: NodeFaults,
    options: StorageRetryOptions = {},
  ) {
    this.initialRetryMs = options.initialRetryMs ?? 250;
    this.maxRetryMs = options.maxRetryMs ?? 5000;
  }

  get available(): boolean {
    return this.failure === undefined;
  }

  /** Why writes fail, while they do. */
  get reason(): string | undefined {
    return this.failure?.error.message;
  }

  /** Fed every write's outcome (store.onWrite). */
  onWrite(outcome: WriteOutcome): void {
    if (outcome.ok) this.writeSucceeded();
    else if (isStorageFault(outcome.error)) this.writeRefused(outcome.error);
  }

  /** Throws NodeError storage-unavailable while writes fail: for an action that needs a durable write first. */
  assertAvailable(what: string): void {
    if (this.failure) {
      throw new NodeError(
        'storage-unavailable',
        `${what} needs a durable write, and the data dir refuses writes (${this.failure.error.message}); try again once it has space`,
      );
    }
  }

  /**
   * Runs `write` until it is durable. A write the machine refused is tried again after a
   * backoff, or as soon as another write succeeds; any other failure is thrown. Rejects with
   * NodeError not-running once the node stops.
   */
  async untilDurable<T>(write: () => Promise<T>): Promise<T> {
    let waitMs = this.initialRetryMs;
    for (;;) {
      if (this.closed) throw new NodeError('not-running', 'the node stopped before the write was durable');
      try {
        const value = await write();
        // A store wrapped by the user, or a write not made through Store, still counts.
        this.writeSucceeded();
        return value;
      } catch (e) {
        if (!isStorageFault(e)) throw e;
        this.writeRefused(e);
        if (this.isStopping)
          throw new NodeError('not-running', `the node stopped before the write was durable: ${e.message}`);
      }
      await this.wait(waitMs);
      waitMs = Math.min(this.maxRetryMs, waitMs * 2);
    }
  }

  /**
   * The node is stopping: a write still waiting is tried once more, and given up (not-running)
   * if the machine refuses it again, so that a full disk cannot hold the stop of a component
   * that waits on its last write; a write that succeeds still does.
   */
  stopping(): void {
    this.isStopping = true;
    for (const wake of [...this.waiting]) wake();
  }

  /** Ends every wait of untilDurable (the node is stopping). */
  close(): void {
    this.closed = true;
    for (const wake of [...this.waiting]) wake();
  }

  private writeRefused(error: StoreError): void {
    // The store reports a refusal and untilDurable catches the same one: count it once.
    if (error === this.failure?.last) return;
    if (this.failure) {
      this.failure.last = error;
      this.failure.refused++;
      this.log.debug(
        { err: error.message, osCode: error.osCode },
        'a write to the data dir was refused again',
      );
      return;
    }
    this.failure = { error, last: error, since: Date.now(), refused: 1 };
    const message = `writes to the data dir fail: ${error.message}; what needs a durable write (the chain tip) waits until one succeeds`;
    this.faults.raise('storage-unavailable', message);
    this.log.error({ osCode: error.osCode, dataDir: error.path }, `storage unavailable: ${message}`);
  }

  private writeSucceeded(): void {
    const failure = this.failure;
    if (!failure) return;
    this.failure = undefined;
    this.faults.clear('storage-unavailable');
    this.log.warn(
      { refusedWrites: failure.refused, downMs: Date.now() - failure.since },
      `storage available again: a write succeeded after ${failure.refused} refused (${failure.error.osCode})`,
    );
    for (const wake of [...this.waiting]) wake();
  }

  /** Resolves after `ms`, or sooner when writes work again or the node stops. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiting.add(done);
    });
  }
}
