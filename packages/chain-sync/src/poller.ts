/**
 * The chain poller (LDK guide step 15): polls a BlockSource and turns it into an RxJS stream of
 * blockConnected / blockDisconnected in chain order, walking back to the fork point on a reorg,
 * plus progress events. A failing or slow source is retried with backoff, one clear log line per
 * failure naming the source's URL; the stream resumes where it stopped, with no gap or duplicate.
 */
import type { Logger } from '@lnkit/runtime';
import type { Transaction } from 'bitcoinjs-lib';
import { concatMap, from, type Observable, Subject, type Subscription } from 'rxjs';
import type { BestBlock, BlockHeaderData, BlockSource } from './block-source.ts';
import { findChainDifference } from './chain-walk.ts';
import { ChainSyncError } from './errors.ts';
import type { ChainListener } from './listener.ts';

export type ChainEvent =
  | { type: 'blockConnected'; header: BlockHeaderData; height: number; txdata: Transaction[] }
  | { type: 'blockDisconnected'; header: BlockHeaderData; height: number }
  | { type: 'progress'; height: number; tipHeight: number; synced: boolean };

export interface ChainPollerOptions {
  logger: Logger;
  /** Where the consumers are (e.g. what synchronizeListeners returned); the source's tip if absent. */
  start?: BestBlock;
  pollIntervalMs?: number;
  /** First retry delay after a failure, doubled per consecutive failure up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A progress event every this many connected blocks while catching up. */
  progressEvery?: number;
}

export class ChainPoller {
  private readonly subject = new Subject<ChainEvent>();
  /** Subscribe before start(): the stream is hot. */
  readonly events$: Observable<ChainEvent> = this.subject.asObservable();
  private current: BestBlock | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private failures = 0;
  private readonly log: Logger;

  constructor(
    private readonly source: BlockSource,
    private readonly options: ChainPollerOptions,
  ) {
    this.current = options.start;
    this.log = options.logger;
  }

  /** The last block emitted (or the start block). */
  get bestBlock(): BestBlock | undefined {
    return this.current;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops polling after the current step; the stream completes. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.subject.complete();
  }

  /** One poll: emits everything between the last emitted block and the source's tip. Throws on failure. */
  async pollOnce(): Promise<void> {
    const best = await this.source.getBestBlock();
    if (!this.current) {
      this.current = best;
      this.emitProgress(best.height);
      return;
    }
    if (best.hashHex === this.current.hashHex) {
      this.emitProgress(best.height);
      return;
    }
    // The chain has moved: say so before fetching anything, so that a fetch failing part-way
    // (the source down, EMFILE) cannot leave the last poll's `synced: true` standing while the
    // chain is ahead (seen: synced at height 833 with the chain at 1,069).
    this.subject.next({
      type: 'progress',
      height: this.current.height,
      tipHeight: Math.max(best.height, this.current.height),
      synced: false,
    });
    const tip = await this.source.getHeader(best.hashHex);
    const at = await this.source.getHeader(this.current.hashHex);
    const diff = await findChainDifference(this.source, at, tip);
    for (const header of diff.disconnected) {
      if (!this.running && this.loop) return;
      this.subject.next({ type: 'blockDisconnected', header, height: header.height });
      this.current = { hashHex: header.prevHashHex, height: header.height - 1 };
    }
    const every = this.options.progressEvery ?? 100;
    let count = 0;
    for (const header of diff.connected) {
      if (!this.running && this.loop) return;
      const block = await this.source.getBlock(header.hashHex);
      this.subject.next({ type: 'blockConnected', header, height: header.height, txdata: block.txdata });
      this.current = { hashHex: header.hashHex, height: header.height };
      if (++count % every === 0) this.emitProgress(tip.height);
    }
    this.emitProgress(tip.height);
  }

  private emitProgress(tipHeight: number): void {
    const height = this.current?.height ?? 0;
    this.subject.next({ type: 'progress', height, tipHeight, synced: height >= tipHeight });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let delay = this.options.pollIntervalMs ?? 1000;
      try {
        await this.pollOnce();
        if (this.failures > 0) {
          this.log.info(
            { url: this.source.description, failures: this.failures },
            `block source ${this.source.description} is back`,
          );
        }
        this.failures = 0;
      } catch (err) {
        this.failures++;
        const initial = this.options.initialBackoffMs ?? 250;
        delay = Math.min(this.options.maxBackoffMs ?? 30_000, initial * 2 ** Math.min(this.failures - 1, 20));
        const code = err instanceof ChainSyncError ? err.code : 'unexpected';
        const message = err instanceof Error ? err.message : String(err);
        this.log.warn(
          {
            url: this.source.description,
            code,
            attempt: this.failures,
            retryInMs: delay,
            height: this.current?.height,
          },
          `block source ${this.source.description} failed (${code}): ${message}; retrying in ${delay} ms`,
        );
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}

/**
 * Feeds a ChainListener from the stream, one event at a time (an async listener finishes a block
 * before it sees the next), and the progress events too if it takes them (`syncProgress`). A
 * listener that throws is not fed again: giving it the next block would skip the one it failed
 * on and leave it silently off the chain. The failure is logged (with the block) and handed to
 * `onFailure`, so the node can restart that listener from its persisted state through
 * synchronizeListeners. The stream and the other listeners go on.
 */
export function subscribeListener(
  events$: Observable<ChainEvent>,
  listener: ChainListener,
  logger: Logger,
  onFailure?: (err: unknown, failedAt: { type: ChainEvent['type']; height: number; hashHex: string }) => void,
): Subscription {
  let failed = false;
  // Assigned after subscribe() returns; a stream that replays synchronously may fail before.
  let subscription: Subscription | undefined;
  subscription = events$
    .pipe(
      concatMap((event) =>
        from(
          (async () => {
            if (failed) return;
            if (event.type === 'progress') {
              // Not a block: a listener failing on it is logged, and still fed the blocks.
              try {
                await listener.syncProgress?.(event);
              } catch (err) {
                logger.warn({ err, height: event.height }, 'chain listener failed on a progress event');
              }
              return;
            }
            try {
              if (event.type === 'blockConnected') {
                await listener.blockConnected({ header: event.header, txdata: event.txdata }, event.height);
              } else {
                await listener.blockDisconnected(event.header, event.height);
              }
            } catch (err) {
              failed = true;
              const failedAt = { type: event.type, height: event.height, hashHex: event.header.hashHex };
              logger.error(
                { err, ...failedAt },
                `chain listener failed on ${event.type} at height ${event.height}; it is no longer fed and must be resynchronized`,
              );
              subscription?.unsubscribe();
              onFailure?.(err, failedAt);
            }
          })(),
        ),
      ),
    )
    .subscribe();
  if (failed) subscription.unsubscribe();
  return subscription;
}
