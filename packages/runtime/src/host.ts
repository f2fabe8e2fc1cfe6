/**
 * ActorHost: the thin shell around an actor's API inside its thread. It counts messages,
 * times each call, tracks calls in flight, exports streams and serves profiles. The
 * worker entry exposes a host through comlink; in-process actors are called on it directly.
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

export class ActorHost<Config = unknown, Api extends ActorApi = ActorApi> {
  readonly metrics: ActorMetrics;
  private api: Api | undefined;

  constructor(
    private readonly definition: ActorDefinition<Config, Api>,
    readonly ctx: ActorContext,
    private readonly streamOptions: StreamOptions = {},
  ) {
    this.metrics = new ActorMetrics(ctx.name, ctx.placement);
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
    this.ctx.logger.debug({ restarts: this.ctx.restarts }, 'actor started');
    return Object.keys(this.api);
  }

  private method(name: string): (...args: unknown[]) => unknown {
    const fn = this.api?.[name];
    if (typeof fn !== 'function') {
      throw new RuntimeError('unknown-method', `actor ${this.ctx.name} has no method ${name}`, this.ctx.name);
    }
    return fn as (...args: unknown[]) => unknown;
  }

  async call(name: string, args: unknown[]): Promise<unknown> {
    this.metrics.messagesIn++;
    this.metrics.inFlight++;
    const started = performance.now();
    try {
      if (isStreamMethod(name)) {
        throw new RuntimeError(
          'unknown-method',
          `${name} is a stream; subscribe to it instead`,
          this.ctx.name,
        );
      }
      return await this.method(name).apply(this.api, args);
    } catch (e) {
      this.metrics.errors++;
      throw e;
    } finally {
      this.metrics.inFlight--;
      this.metrics.latency.observe(performance.now() - started);
      this.metrics.messagesOut++;
    }
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

  async stop(): Promise<void> {
    if (this.api && this.definition.stop) await this.definition.stop(this.api);
  }
}
