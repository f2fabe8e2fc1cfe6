import type { EventEmitter } from 'node:events';
import { isObservable, type Observable } from 'rxjs';
import { describeError, TestSupportError } from './errors.ts';
import { DEFAULT_TIMEOUT_MS } from './wait-for.ts';

export interface NextEventOptions {
  timeoutMs?: number;
  what?: string;
}

/**
 * Resolves with the next value of `source` that `match` accepts (any value if no match is given).
 * Subscribe BEFORE doing what makes the event happen, then await:
 *   const ready = nextEvent(node.events$, (e) => e.type === 'ready'); start(); await ready;
 * Rejects on timeout, when the source errors, or when it completes without a match.
 */
export function nextEvent<T>(
  source: Observable<T>,
  match?: (e: T) => boolean,
  opts?: NextEventOptions,
): Promise<T>;
/** The same for a Node EventEmitter: the event's first argument; an 'error' event rejects. */
export function nextEvent<T = unknown>(
  source: EventEmitter,
  event: string | symbol,
  match?: (e: T) => boolean,
  opts?: NextEventOptions,
): Promise<T>;
export function nextEvent<T>(
  source: Observable<T> | EventEmitter,
  a?: string | symbol | ((e: T) => boolean),
  b?: ((e: T) => boolean) | NextEventOptions,
  c?: NextEventOptions,
): Promise<T> {
  if (isObservable(source)) {
    return fromObservable(
      source as Observable<T>,
      a as ((e: T) => boolean) | undefined,
      b as NextEventOptions,
    );
  }
  return fromEmitter(source as EventEmitter, a as string | symbol, b as ((e: T) => boolean) | undefined, c);
}

function fromObservable<T>(
  source: Observable<T>,
  match: ((e: T) => boolean) | undefined,
  opts: NextEventOptions = {},
): Promise<T> {
  const what = opts.what ?? 'next event';
  return settleWithin<T>(what, opts, (resolve, reject) => {
    const sub = source.subscribe({
      next(e) {
        let ok: boolean;
        try {
          ok = match ? match(e) : true;
        } catch (err) {
          reject(err);
          return;
        }
        if (ok) resolve(e);
      },
      error(err: unknown) {
        reject(
          new TestSupportError('source-error', `${what}: source failed: ${describeError(err)}`, {
            cause: err,
          }),
        );
      },
      complete() {
        reject(new TestSupportError('completed', `${what}: source completed without a matching event`));
      },
    });
    return () => sub.unsubscribe();
  });
}

function fromEmitter<T>(
  source: EventEmitter,
  event: string | symbol,
  match: ((e: T) => boolean) | undefined,
  opts: NextEventOptions = {},
): Promise<T> {
  const what = opts.what ?? `next '${String(event)}' event`;
  return settleWithin<T>(what, opts, (resolve, reject) => {
    const onEvent = (e: T) => {
      let ok: boolean;
      try {
        ok = match ? match(e) : true;
      } catch (err) {
        reject(err);
        return;
      }
      if (ok) resolve(e);
    };
    // As events.once does: an 'error' while we wait for something else fails the wait.
    const onError = (err: unknown) =>
      reject(
        new TestSupportError('source-error', `${what}: emitter failed: ${describeError(err)}`, {
          cause: err,
        }),
      );
    source.on(event, onEvent);
    if (event !== 'error') source.on('error', onError);
    return () => {
      source.off(event, onEvent);
      source.off('error', onError);
    };
  });
}

/** A promise that settles once, with a ref'd timeout, and tears its subscription down when it does. */
function settleWithin<T>(
  what: string,
  opts: NextEventOptions,
  start: (resolve: (v: T) => void, reject: (e: unknown) => void) => () => void,
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let teardown: (() => void) | undefined;
    const finish = () => {
      settled = true;
      clearTimeout(timer);
      teardown?.();
    };
    const timer = setTimeout(() => {
      if (settled) return;
      finish();
      reject(new TestSupportError('timeout', `timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const stop = start(
      (v) => {
        if (settled) return;
        finish();
        resolve(v);
      },
      (e) => {
        if (settled) return;
        finish();
        reject(e);
      },
    );
    // A synchronous source (of([...]), a BehaviorSubject) may have settled before start returned.
    if (settled) stop();
    else teardown = stop;
  });
}
