/**
 * RxJS streams across a MessagePort, with credit-based flow control.
 *
 * The consumer grants credit (a number of items); the producer sends at most that many,
 * in batches (one postMessage per batch, not per item). Items the source emits beyond the
 * credit wait in a producer buffer bounded by `highWaterMark`; past it the stream fails
 * with `stream-overflow` (or drops the oldest items, if asked), so a slow consumer cannot
 * grow memory without limit. An AsyncIterable source is pulled only while credit remains:
 * true backpressure, no buffer growth at all.
 *
 * Order, completion, errors and unsubscription all cross: an error is delivered after the
 * items emitted before it, and unsubscribing on the consumer side unsubscribes the source.
 */
import type { MessagePort } from 'node:worker_threads';
import { isObservable, Observable, type Subscription } from 'rxjs';
import { deserializeError, RuntimeError, type SerializedError, serializeError } from './errors.ts';

export interface StreamOptions {
  /** Items the consumer lets the producer send before it acknowledges them. */
  window?: number;
  /** Items the producer may hold waiting for credit before the overflow policy applies. */
  highWaterMark?: number;
  overflow?: 'error' | 'drop-oldest';
}

export const DEFAULT_STREAM_OPTIONS: Required<StreamOptions> = {
  window: 8192,
  highWaterMark: 65_536,
  overflow: 'error',
};

type ToProducer = { t: 'credit'; n: number } | { t: 'cancel' };
type ToConsumer =
  | { t: 'items'; items: unknown[] }
  | { t: 'complete' }
  | { t: 'error'; error: SerializedError };

export type StreamSource<T> = Observable<T> | AsyncIterable<T>;

export function isStreamSource(value: unknown): value is StreamSource<unknown> {
  return (
    isObservable(value) ||
    (value !== null && typeof value === 'object' && Symbol.asyncIterator in (value as object))
  );
}

export interface ProducerHooks {
  /** Called with the number of items posted, for messages-out accounting. */
  onSent?(count: number): void;
  /** Called with the change in buffered items (positive or negative). */
  onBuffered?(delta: number): void;
}

/** Runs on the producer's thread: pumps `source` into `port` until done or cancelled. */
export function exportStream<T>(
  source: StreamSource<T>,
  port: MessagePort,
  options: StreamOptions = {},
  hooks: ProducerHooks = {},
): void {
  const { highWaterMark, overflow } = { ...DEFAULT_STREAM_OPTIONS, ...options };
  let credit = 0;
  let buffer: T[] = [];
  let terminal: ToConsumer | undefined;
  let closed = false;
  let flushScheduled = false;
  let subscription: Subscription | undefined;
  let creditWaiter: (() => void) | undefined;

  const setBuffer = (next: T[]) => {
    hooks.onBuffered?.(next.length - buffer.length);
    buffer = next;
  };

  const close = () => {
    if (closed) return;
    closed = true;
    hooks.onBuffered?.(-buffer.length);
    buffer = [];
    subscription?.unsubscribe();
    creditWaiter?.();
    port.close();
  };

  const flush = () => {
    flushScheduled = false;
    if (closed) return;
    if (credit > 0 && buffer.length > 0) {
      const n = Math.min(credit, buffer.length);
      const items = buffer.slice(0, n);
      setBuffer(buffer.slice(n));
      credit -= n;
      port.postMessage({ t: 'items', items } satisfies ToConsumer);
      hooks.onSent?.(n);
    }
    if (terminal && buffer.length === 0) {
      port.postMessage(terminal);
      hooks.onSent?.(1);
      close();
    }
  };

  const scheduleFlush = () => {
    if (flushScheduled || closed) return;
    flushScheduled = true;
    // A macrotask, so synchronous bursts from the source leave as one batch.
    setImmediate(flush);
  };

  const fail = (e: unknown) => {
    if (terminal || closed) return;
    terminal = { t: 'error', error: serializeError(e) };
    scheduleFlush();
  };

  const push = (value: T) => {
    if (terminal || closed) return;
    if (buffer.length >= highWaterMark) {
      if (overflow === 'drop-oldest') {
        setBuffer(buffer.slice(1));
      } else {
        subscription?.unsubscribe();
        setBuffer([]);
        fail(
          new RuntimeError(
            'stream-overflow',
            `stream consumer fell ${highWaterMark} items behind; the stream was stopped`,
          ),
        );
        return;
      }
    }
    buffer.push(value);
    hooks.onBuffered?.(1);
    scheduleFlush();
  };

  port.on('message', (msg: ToProducer) => {
    if (msg.t === 'cancel') {
      close();
      return;
    }
    credit += msg.n;
    creditWaiter?.();
    scheduleFlush();
  });

  if (isObservable(source)) {
    subscription = source.subscribe({
      next: push,
      error: fail,
      complete: () => {
        if (terminal || closed) return;
        terminal = { t: 'complete' };
        scheduleFlush();
      },
    });
    return;
  }

  // AsyncIterable: pull only while the consumer has granted credit beyond what is buffered.
  const iterator = (source as AsyncIterable<T>)[Symbol.asyncIterator]();
  void (async () => {
    try {
      while (!closed) {
        while (!closed && credit - buffer.length <= 0) {
          await new Promise<void>((resolve) => {
            creditWaiter = resolve;
          });
          creditWaiter = undefined;
        }
        if (closed) break;
        const r = await iterator.next();
        if (r.done) {
          terminal = { t: 'complete' };
          scheduleFlush();
          return;
        }
        push(r.value);
      }
      await iterator.return?.();
    } catch (e) {
      fail(e);
    }
  })();
}

/**
 * Runs on the consumer's thread: an Observable over the port. `start` is called once, on
 * subscribe, and must hand the other end of the port to the producer.
 */
export function importStream<T>(
  openPort: () => { port: MessagePort; ready?: Promise<unknown> },
  options: StreamOptions = {},
): Observable<T> {
  const { window } = { ...DEFAULT_STREAM_OPTIONS, ...options };
  return new Observable<T>((subscriber) => {
    let port: MessagePort;
    try {
      ({ port } = openPort());
    } catch (e) {
      subscriber.error(e);
      return;
    }
    let done = false;
    let consumed = 0;
    const finish = () => {
      done = true;
      port.close();
    };
    port.on('message', (msg: ToConsumer) => {
      if (done) return;
      if (msg.t === 'items') {
        for (const item of msg.items) {
          subscriber.next(item as T);
          if (done || subscriber.closed) return;
        }
        consumed += msg.items.length;
        // Grant more once half the window is used, so the producer rarely waits.
        if (consumed >= window / 2) {
          port.postMessage({ t: 'credit', n: consumed } satisfies ToProducer);
          consumed = 0;
        }
      } else if (msg.t === 'complete') {
        finish();
        subscriber.complete();
      } else {
        finish();
        subscriber.error(deserializeError(msg.error));
      }
    });
    // If the producer's thread dies, its end closes: surface that rather than hang.
    port.on('close', () => {
      if (done) return;
      done = true;
      subscriber.error(new RuntimeError('actor-crashed', 'stream producer went away before completing'));
    });
    port.postMessage({ t: 'credit', n: window } satisfies ToProducer);
    return () => {
      if (done) return;
      done = true;
      port.postMessage({ t: 'cancel' } satisfies ToProducer);
      port.close();
    };
  });
}
