/**
 * spawn(): start an actor from its module, in a worker thread (reached through comlink) or
 * in-process, behind the same ActorHandle. Worker actors are supervised: when the thread
 * dies (uncaught exception, process.exit), every call waiting on it is rejected with
 * `actor-crashed` (never left hanging), open streams error, and the actor is started again
 * after a backoff from its own persisted state (its `create` runs again with the same
 * config). Calls made while it restarts wait for the new incarnation.
 */

import { MessageChannel, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { Observable, Subject } from 'rxjs';
import type { ActorApi, ActorDefinition, ActorRef, ApiOf, ConfigOf } from './actor.ts';
import { isStreamMethod } from './actor.ts';
import { type ActorModule, isActorModule, loadActorModule, toModuleUrl } from './actor-module.ts';
import { nodeEndpoint } from './endpoint.ts';
import { deserializeError, RuntimeError, serializeError } from './errors.ts';
import { actorLogger, createRootLogger, type Logger, type LogLevel } from './logger.ts';
import type { ActorMetricsSnapshot } from './metrics.ts';
import { realScheduler, type Scheduler, type Timer } from './scheduler.ts';
import { importStream, type StreamOptions } from './stream-bridge.ts';
import type { CallResult, ExposedHost } from './worker-main.ts';

export type Placement = 'worker' | 'in-process';

export interface RestartPolicy {
  /** Consecutive crashes after which the actor is left stopped. */
  maxRestarts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** An incarnation that lived this long resets the crash count. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 10,
  initialBackoffMs: 100,
  maxBackoffMs: 30_000,
  resetAfterMs: 60_000,
};

export interface SpawnOptions<Config> {
  /** Instance name; defaults to the definition's name. */
  name?: string;
  placement?: Placement;
  config: Config;
  /** The root logger; each actor logs through a child with `actor` set. */
  logger?: Logger;
  logLevel?: LogLevel;
  /** Worker actors log here (JSON lines); default: the worker's stdout. */
  logFile?: string;
  stream?: StreamOptions;
  restart?: Partial<RestartPolicy> | false;
  resourceLimits?: { maxOldGenerationSizeMb?: number };
  /** Clock and timers for restart backoff; tests pass one they drive by hand. Default: real ones. */
  scheduler?: Scheduler;
}

export type ActorEvent =
  | { type: 'started'; actor: string; restarts: number }
  | { type: 'crashed'; actor: string; reason: string; restarts: number }
  | { type: 'restart-scheduled'; actor: string; inMs: number }
  | { type: 'stopped'; actor: string; reason: 'requested' | 'gave-up' };

export interface ActorHandle<Api extends ActorApi> {
  readonly name: string;
  readonly placement: Placement;
  /** Typed proxy: calls return Promises, `$` methods return Observables. */
  readonly ref: ActorRef<Api>;
  readonly events$: Observable<ActorEvent>;
  restarts(): number;
  metrics(): Promise<ActorMetricsSnapshot>;
  /** CPU-profile only this actor's thread for `seconds`; writes a .cpuprofile to `path`. */
  profile(seconds: number, path: string): Promise<{ path: string; samples: number }>;
  stop(): Promise<void>;
}

/** The calls every host answers, in a worker (through comlink) or in-process. */
interface HostPort {
  call(name: string, args: unknown[]): Promise<unknown>;
  openStream(name: string, args: unknown[]): Observable<unknown>;
  snapshot(): Promise<ActorMetricsSnapshot>;
  profile(seconds: number, path: string): Promise<{ path: string; samples: number }>;
  stop(): Promise<void>;
}

function makeRef<Api extends ActorApi>(
  getHost: () => Promise<HostPort>,
  methodNames: () => readonly string[] | undefined,
): ActorRef<Api> {
  const cache = new Map<string, unknown>();
  return new Proxy({} as ActorRef<Api>, {
    get(_t, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      let fn = cache.get(prop);
      if (!fn) {
        const known = methodNames();
        if (known && !known.includes(prop)) {
          fn = () => Promise.reject(new RuntimeError('unknown-method', `actor has no method ${prop}`));
        } else if (isStreamMethod(prop)) {
          fn = (...args: unknown[]) =>
            new Observable((subscriber) => {
              let inner: { unsubscribe(): void } | undefined;
              let cancelled = false;
              getHost().then(
                (host) => {
                  if (!cancelled) inner = host.openStream(prop, args).subscribe(subscriber);
                },
                (e) => subscriber.error(e),
              );
              return () => {
                cancelled = true;
                inner?.unsubscribe();
              };
            });
        } else {
          fn = (...args: unknown[]) => getHost().then((host) => host.call(prop, args));
        }
        cache.set(prop, fn);
      }
      return fn;
    },
  });
}

/**
 * Start an actor from its descriptor (see actor-module.ts): the config is checked against the
 * definition and the handle typed by it. A worker actor's module is loaded only in its thread.
 */
export function spawn<D extends ActorDefinition<never, ActorApi>>(
  module: ActorModule<D>,
  options: SpawnOptions<ConfigOf<D>>,
): Promise<ActorHandle<ApiOf<D>>>;
/**
 * Start an actor from the path or URL of its module (default export: defineActor(...)), typed
 * by `spawn<typeof definition>(...)`. The module is also imported on this thread, to read the
 * actor's name; a descriptor avoids that.
 */
export function spawn<D extends ActorDefinition<never, ActorApi>>(
  actorModule: string | URL,
  options: SpawnOptions<ConfigOf<D>>,
): Promise<ActorHandle<ApiOf<D>>>;
export async function spawn(
  target: ActorModule<ActorDefinition<never, ActorApi>> | string | URL,
  options: SpawnOptions<unknown>,
): Promise<ActorHandle<ActorApi>> {
  const descriptor = isActorModule(target) ? target : undefined;
  const url = descriptor?.url ?? toModuleUrl(target as string | URL);
  const placement = options.placement ?? 'worker';
  if (placement === 'in-process') return spawnInProcess(url, options, descriptor?.name);
  return spawnWorker(url, options, descriptor?.name);
}

function rootLogger(options: SpawnOptions<unknown>): Logger {
  return options.logger ?? createRootLogger(options.logLevel ? { level: options.logLevel } : {});
}

async function loadDefinition<Config, Api extends ActorApi>(
  url: string,
  options: SpawnOptions<Config>,
  expectedName?: string,
) {
  const definition = (await loadActorModule(url, expectedName)) as unknown as ActorDefinition<Config, Api>;
  const name = options.name ?? definition.name;
  return { definition, name, root: rootLogger(options as SpawnOptions<unknown>) };
}

async function spawnInProcess<Config, Api extends ActorApi>(
  url: string,
  options: SpawnOptions<Config>,
  expectedName?: string,
): Promise<ActorHandle<Api>> {
  const { definition, name, root } = await loadDefinition<Config, Api>(url, options, expectedName);
  // The same in-thread actor as spawnLocal's (local.ts), once the module is imported.
  const { spawnLocal } = await import('./local.ts');
  return spawnLocal(definition, { name, config: options.config, logger: root, stream: options.stream });
}

const WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url);

async function spawnWorker<Config, Api extends ActorApi>(
  url: string,
  options: SpawnOptions<Config>,
  expectedName?: string,
): Promise<ActorHandle<Api>> {
  // With a descriptor the name is known without the module, which only the worker loads (and
  // checks against the descriptor); a bare URL is imported here to read it.
  const { name, root } =
    expectedName !== undefined
      ? { name: options.name ?? expectedName, root: rootLogger(options as SpawnOptions<unknown>) }
      : await loadDefinition<Config, Api>(url, options);
  const log = actorLogger(root, name, { supervisor: true });
  const policy =
    options.restart === false
      ? { ...DEFAULT_RESTART_POLICY, maxRestarts: 0 }
      : { ...DEFAULT_RESTART_POLICY, ...options.restart };
  const events$ = new Subject<ActorEvent>();
  const scheduler = options.scheduler ?? realScheduler;
  const stoppedError = () => new RuntimeError('actor-stopped', `actor ${name} is stopped`, name);

  let restarts = 0;
  let consecutiveCrashes = 0;
  let stopping = false;
  let gaveUp = false;
  let methods: string[] | undefined;
  // The restart waiting for its backoff. Its timer is not unref'd: while it is pending, a
  // caller may be waiting for the restart, and the thread that held the process open is gone;
  // an unref'd timer let the event loop empty and the caller's promise be abandoned.
  let restartTimer: Timer | undefined;

  interface Incarnation {
    worker: Worker;
    remote: Comlink.Remote<ExposedHost>;
    ready: Promise<void>;
    /** Rejects every pending call when the thread dies or is stopped. */
    died: Promise<never>;
    /** Ends the calls in flight with `e` (actor-stopped when it is stopped on purpose). */
    kill(e: Error): void;
    startedAt: number;
    alive: boolean;
    /** Its create() finished: calls may go to it (an async create may still be reading state). */
    up: boolean;
  }
  let current: Incarnation | undefined;
  let currentReady: Promise<Incarnation>;
  // Callers that arrive while the actor is down wait on one promise until an incarnation
  // is up (resolved) or the actor is stopped or given up on (rejected): never left hanging,
  // however many restarts fail in between.
  let waiting: { resolve(i: Incarnation): void; reject(e: Error): void } | undefined;
  const waitForNext = () => {
    if (waiting) return;
    currentReady = new Promise<Incarnation>((resolve, reject) => {
      waiting = { resolve, reject };
    });
    currentReady.catch(() => {});
  };
  const endWaiting = (e: Error) => {
    waiting?.reject(e);
    waiting = undefined;
  };

  const start = (): Incarnation => {
    const worker = new Worker(WORKER_ENTRY, {
      workerData: {
        actorModule: url,
        ...(expectedName !== undefined ? { expectedName } : {}),
        name,
        restarts,
        logLevel: options.logLevel ?? root.level,
        logFile: options.logFile,
        stream: options.stream,
      },
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    });
    const remote = Comlink.wrap<ExposedHost>(nodeEndpoint(worker));
    let markDead!: (e: Error) => void;
    const died = new Promise<never>((_, reject) => {
      markDead = reject;
    });
    died.catch(() => {});
    const inc: Incarnation = {
      worker,
      remote,
      ready: Promise.resolve(),
      died,
      kill: (e) => {
        inc.alive = false;
        markDead(e);
      },
      startedAt: scheduler.now(),
      alive: true,
      up: false,
    };
    const onDeath = (reason: string) => {
      if (!inc.alive) return;
      inc.kill(new RuntimeError('actor-crashed', `actor ${name} crashed: ${reason}`, name));
      if (stopping) return;
      handleCrash(inc, reason);
    };
    worker.on('error', (e) => onDeath(`uncaught ${e?.name ?? 'error'}: ${e?.message ?? e}`));
    worker.on('exit', (code) => onDeath(`thread exited with code ${code}`));
    inc.ready = Promise.race([
      (remote.init(options.config as unknown) as Promise<CallResult>).then((r) => {
        if (!r.ok) throw deserializeError(r.error);
        methods = r.value as string[];
        inc.up = true;
      }),
      died,
    ]);
    return inc;
  };

  const handleCrash = (inc: Incarnation, reason: string) => {
    const lived = scheduler.now() - inc.startedAt;
    if (lived > policy.resetAfterMs) consecutiveCrashes = 0;
    consecutiveCrashes++;
    log.error({ reason, restarts, consecutiveCrashes }, 'actor crashed');
    events$.next({ type: 'crashed', actor: name, reason, restarts });
    void inc.worker.terminate().catch(() => {});
    if (consecutiveCrashes > policy.maxRestarts) {
      gaveUp = true;
      log.error({ consecutiveCrashes }, 'actor keeps crashing; supervisor gave up');
      events$.next({ type: 'stopped', actor: name, reason: 'gave-up' });
      endWaiting(new RuntimeError('actor-stopped', `actor ${name} kept crashing and was stopped`, name));
      return;
    }
    const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (consecutiveCrashes - 1));
    events$.next({ type: 'restart-scheduled', actor: name, inMs: backoff });
    waitForNext();
    restartTimer = scheduler.setTimer(() => {
      restartTimer = undefined;
      if (stopping) return;
      restarts++;
      const next = start();
      current = next;
      next.ready.then(
        () => {
          // Its thread may have died between answering init and now: that death already
          // scheduled the next attempt, and the waiters wait for that one.
          if (!next.alive) return;
          log.warn({ restarts }, 'actor restarted');
          events$.next({ type: 'started', actor: name, restarts });
          waiting?.resolve(next);
          waiting = undefined;
        },
        (err: Error) => {
          // A create() that fails is a crash like any other: end the thread, and its exit
          // schedules the next attempt with the next backoff (or gives up).
          log.error({ err: err.message }, 'actor failed to start again');
          void next.worker.terminate();
        },
      );
    }, backoff);
  };

  current = start();
  try {
    await current.ready; // a failure to start at all is reported to the caller of spawn()
  } catch (e) {
    stopping = true;
    await current.worker.terminate();
    throw e;
  }
  currentReady = Promise.resolve(current);
  events$.next({ type: 'started', actor: name, restarts: 0 });

  const live = async (): Promise<Incarnation> => {
    if (stopping || gaveUp) throw stoppedError();
    const inc = current?.alive && current.up ? current : await currentReady;
    if (!inc.alive)
      throw stopping ? stoppedError() : new RuntimeError('actor-crashed', `actor ${name} crashed`, name);
    return inc;
  };

  const guarded = <T>(inc: Incarnation, p: Promise<T>): Promise<T> => Promise.race([p, inc.died]);

  // Arguments to a worker actor are copied with the structured clone algorithm; one that cannot
  // be copied (a function, a symbol, a class with private state) is the caller's mistake, so it
  // gets a RuntimeError naming the method rather than the platform's DataCloneError.
  const notCloneable = (method: string, e: unknown): unknown =>
    e instanceof Error && e.name === 'DataCloneError'
      ? new RuntimeError(
          'not-cloneable',
          `arguments to ${name}.${method} cannot be copied to its worker thread: ${e.message}`,
          name,
        )
      : e;

  const port: HostPort = {
    async call(m, args) {
      const inc = await live();
      const r: CallResult = await guarded<CallResult>(
        inc,
        (inc.remote.call(m, args) as Promise<CallResult>).catch((e: unknown) => {
          throw notCloneable(m, e);
        }),
      );
      if (!r.ok) throw deserializeError(r.error);
      return r.value;
    },
    openStream(m, args) {
      return importStream(() => {
        const channel = new MessageChannel();
        // Failures reach the consumer through the port: a producer that dies closes it.
        let sent = false;
        live()
          .then((inc) => {
            sent = true;
            return guarded(
              inc,
              inc.remote.stream(m, args, Comlink.transfer(channel.port2, [channel.port2 as never])),
            );
          })
          .catch((e: unknown) => {
            const err = notCloneable(m, e);
            if (!sent || (err instanceof RuntimeError && err.code === 'not-cloneable')) {
              // The request never left this thread (the actor is stopped or given up on, or an
              // argument cannot be copied), so port2 is still ours: answer through it.
              channel.port2.postMessage({ t: 'error', error: serializeError(err) });
              channel.port2.close();
            } else channel.port1.close();
          });
        return { port: channel.port1 };
      }, options.stream);
    },
    async snapshot() {
      const inc = await live();
      const s = await guarded(inc, inc.remote.snapshot());
      return { ...s, restarts };
    },
    async profile(seconds, path) {
      const inc = await live();
      return guarded(inc, inc.remote.profile(seconds, path));
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      restartTimer?.cancel();
      restartTimer = undefined;
      endWaiting(stoppedError());
      const inc = current;
      if (inc?.alive) {
        let grace: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            guarded(inc, inc.remote.stop()),
            new Promise((r) => {
              grace = setTimeout(r, 5000);
            }),
          ]);
        } catch {
          /* it died on the way out */
        } finally {
          clearTimeout(grace);
        }
        // Calls still in flight (one that never returns, one the stop cut short) end here,
        // rather than waiting forever on a thread that is about to be terminated.
        inc.kill(stoppedError());
        inc.remote[Comlink.releaseProxy]();
        await inc.worker.terminate();
      }
    },
  };

  return {
    name,
    placement: 'worker',
    ref: makeRef<Api>(
      async () => port,
      () => methods,
    ),
    events$: events$.asObservable(),
    restarts: () => restarts,
    metrics: () => port.snapshot(),
    profile: (s, p) => port.profile(s, p),
    async stop() {
      await port.stop();
      events$.next({ type: 'stopped', actor: name, reason: 'requested' });
      events$.complete();
    },
  };
}
