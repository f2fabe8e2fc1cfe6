/**
 * ActorHost: the thin shell around an actor's API inside its thread. It keeps the actor's
 * mailbox (one call at a time, in arrival order, except the methods its definition lists as
 * `concurrent`), counts messages, times each call, tracks calls in flight, exports streams
 * and serves profiles. The worker entry exposes a host through comlink; in-thread actors
 * (local.ts) are called on it directly.
 */

import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import type { MessagePort } from 'node:worker_threads';
import { from, isObservable, Observable, throwError } from 'rxjs';
import type { ActorApi, ActorContext, ActorDefinition } from './actor.ts';
import { isStreamMethod } from './actor.ts';
import { RuntimeError } from './errors.ts';
import { ActorMetrics, type ActorMetricsSnapshot } from './metrics.ts';
import { exportStream, isStreamSource, type StreamOptions } from './stream-bridge.ts';

type Method = (...args: unknown[]) => unknown;

/** A call waiting its turn in the mailbox. */
interface Letter {
  fn: Method;
  args: unknown[];
  resolve(value: unknown): void;
  reject(e: unknown): void;
}

const NO_NAMES: ReadonlySet<string> = new Set();

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

export class ActorHost<Config = unknown, Api extends ActorApi = ActorApi> {
  readonly metrics: ActorMetrics;
  private api: Api | undefined;
  private readonly concurrent: ReadonlySet<string>;
  /** A queued call is running (its body started, its result not settled yet). */
  private busy = false;
  /** Calls waiting their turn, oldest at `head` (an index, so taking one is O(1)). */
  private waiting: Letter[] = [];
  private head = 0;
  private stopped = false;
  /** Set by run() when the queued call it ran settled synchronously. */
  private finishedInline = false;

  constructor(
    private readonly definition: ActorDefinition<Config, Api>,
    readonly ctx: ActorContext,
    private readonly streamOptions: StreamOptions = {},
  ) {
    this.metrics = new ActorMetrics(ctx.name, ctx.placement);
    this.concurrent = definition.concurrent?.length ? new Set(definition.concurrent) : NO_NAMES;
  }

  async init(config: Config): Promise<string[]> {
    try {
      this.api = await this.definition.create(this.ctx, config);
    } catch (e) {
      throw new RuntimeError(
        'actor-init-failed',
        `actor ${this.ctx.name} failed to start: ${(e as Error).message}`,
        this.ctx.name,
      );
    }
    for (const name of this.concurrent) {
      // The types catch this in TypeScript; an API built at run time is checked here.
      if (isStreamMethod(name) || typeof this.api[name] !== 'function') {
        throw new RuntimeError(
          'actor-init-failed',
          `actor ${this.ctx.name} lists ${name} as concurrent, but it has no call of that name`,
          this.ctx.name,
        );
      }
    }
    this.ctx.logger.debug({ restarts: this.ctx.restarts }, 'actor started');
    return Object.keys(this.api);
  }

  private method(name: string): Method {
    const fn = this.api?.[name];
    if (typeof fn !== 'function') {
      throw new RuntimeError('unknown-method', `actor ${this.ctx.name} has no method ${name}`, this.ctx.name);
    }
    return fn as Method;
  }

  /**
   * Answers call `name(...args)`. A call waits in the mailbox until the one before it has
   * settled, unless its method is listed as concurrent. An unknown method is refused at once:
   * it cannot touch the actor's state, so it need not wait.
   */
  call(name: string, args: unknown[]): Promise<unknown> {
    const m = this.metrics;
    m.messagesIn++;
    let fn: Method;
    try {
      if (this.stopped) {
        throw new RuntimeError('actor-stopped', `actor ${this.ctx.name} is stopped`, this.ctx.name);
      }
      if (isStreamMethod(name)) {
        throw new RuntimeError(
          'unknown-method',
          `${name} is a stream; subscribe to it instead`,
          this.ctx.name,
        );
      }
      fn = this.method(name);
    } catch (e) {
      m.errors++;
      m.messagesOut++;
      return Promise.reject(e);
    }
    m.inFlight++;
    if (this.concurrent.has(name)) return this.run(fn, args, false);
    if (this.busy) {
      m.mailboxWaiting++;
      return new Promise((resolve, reject) => {
        this.waiting.push({ fn, args, resolve, reject });
      });
    }
    // The mailbox is empty: run now, with no queue entry and no extra promise.
    this.busy = true;
    this.finishedInline = false;
    const answer = this.run(fn, args, true);
    if (this.finishedInline) this.next();
    return answer;
  }

  /**
   * Runs one call. `holdsMailbox`: it is the queued call of the moment, so the next waiting
   * call starts when it settles. A synchronous method settles here, before run() returns, and
   * sets `finishedInline` so that the caller passes the mailbox on in a loop (no recursion,
   * however many synchronous calls wait); an async one passes it on from its settlement.
   */
  private run(fn: Method, args: unknown[], holdsMailbox: boolean): Promise<unknown> {
    const started = performance.now();
    let result: unknown;
    try {
      result = fn.apply(this.api, args);
    } catch (e) {
      this.settled(started, true);
      if (holdsMailbox) this.finishedInline = true;
      return Promise.reject(e);
    }
    if (!isThenable(result)) {
      this.settled(started, false);
      if (holdsMailbox) this.finishedInline = true;
      return Promise.resolve(result);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.settled(started, false);
        if (holdsMailbox) this.next();
        return value;
      },
      (e: unknown) => {
        this.settled(started, true);
        if (holdsMailbox) this.next(); // a rejection does not block the calls behind it
        throw e;
      },
    );
  }

  private settled(started: number, failed: boolean): void {
    const m = this.metrics;
    m.latency.observe(performance.now() - started);
    m.inFlight--;
    m.messagesOut++;
    if (failed) m.errors++;
  }

  /** The queued call of the moment settled: start the oldest waiting one, if any. */
  private next(): void {
    for (;;) {
      const letter = this.take();
      if (!letter) {
        this.busy = false;
        return;
      }
      this.finishedInline = false;
      this.run(letter.fn, letter.args, true).then(letter.resolve, letter.reject);
      if (!this.finishedInline) return; // async: its settlement calls next()
    }
  }

  private take(): Letter | undefined {
    if (this.head >= this.waiting.length) return undefined;
    const letter = this.waiting[this.head]!;
    this.waiting[this.head++] = undefined as never;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    this.metrics.mailboxWaiting--;
    return letter;
  }

  /** Opens stream `name(...args)` and pumps it into `port`. */
  stream(name: string, args: unknown[], port: MessagePort): void {
    this.metrics.messagesIn++;
    let source: unknown;
    try {
      source = this.method(name).apply(this.api, args);
      if (!isStreamSource(source)) {
        throw new RuntimeError(
          'unknown-method',
          `${name} did not return an Observable or AsyncIterable`,
          this.ctx.name,
        );
      }
    } catch (e) {
      this.metrics.errors++;
      // Deliver the failure through the stream itself.
      exportStream(
        throwError(() => e),
        port,
      );
      return;
    }
    exportStream(source, port, this.streamOptions, {
      onSent: (n) => {
        this.metrics.messagesOut += n;
      },
      onBuffered: (d) => {
        this.metrics.streamBuffered += d;
      },
    });
  }

  /** In-process streams pass through directly (no copy, no thread hop), still counted. */
  localStream(name: string, args: unknown[]): Observable<unknown> {
    return new Observable((subscriber) => {
      this.metrics.messagesIn++;
      const source = this.method(name).apply(this.api, args);
      if (!isStreamSource(source)) {
        throw new RuntimeError(
          'unknown-method',
          `${name} did not return an Observable or AsyncIterable`,
          this.ctx.name,
        );
      }
      const obs = isObservable(source) ? source : from(source);
      return obs.subscribe({
        next: (v) => {
          this.metrics.messagesOut++;
          subscriber.next(v);
        },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
  }

  snapshot(): ActorMetricsSnapshot {
    return this.metrics.snapshot(this.ctx.restarts);
  }

  /**
   * CPU-profiles this thread for `seconds` with an inspector session inside it; the other
   * threads keep running. Writes a `.cpuprofile` (Chrome DevTools format) to `path`.
   */
  async profile(seconds: number, path: string): Promise<{ path: string; samples: number }> {
    const session = new Session();
    session.connect();
    const post = <T>(method: string, params?: object) =>
      new Promise<T>((resolve, reject) =>
        session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))),
      );
    try {
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 1000 });
      await post('Profiler.start');
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const { profile } = await post<{ profile: { samples?: number[] } }>('Profiler.stop');
      await writeFile(path, JSON.stringify(profile));
      return { path, samples: profile.samples?.length ?? 0 };
    } catch (e) {
      throw new RuntimeError(
        'profile-failed',
        `profiling ${this.ctx.name} failed: ${(e as Error).message}`,
        this.ctx.name,
      );
    } finally {
      session.disconnect();
    }
  }

  /**
   * Stops the actor: calls still waiting in the mailbox are refused with `actor-stopped` (they
   * never start), and so is every call that arrives after. The call that is running is not
   * waited for (it may never end, and a hung call must not hang shutdown): the definition's
   * own `stop()` runs at once and is what ends it, by closing what it waits on.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    let refused = 0;
    for (let letter = this.take(); letter; letter = this.take()) {
      refused++;
      this.metrics.inFlight--;
      this.metrics.messagesOut++;
      this.metrics.errors++;
      letter.reject(new RuntimeError('actor-stopped', `actor ${this.ctx.name} is stopped`, this.ctx.name));
    }
    try {
      if (this.api && this.definition.stop) await this.definition.stop(this.api);
    } finally {
      // In a worker, the thread ends right after this returns: let the answers to the calls
      // just refused (and to those the definition's stop() ended) be posted first.
      if (refused > 0 || this.metrics.inFlight > 0) await new Promise((r) => setImmediate(r));
    }
  }
}
