/**
 * spawn(): start an actor, in a worker thread (reached through comlink) or in-process,
 * behind the same ActorHandle. A worker actor is supervised (supervised-actor.ts): when its
 * thread dies, the calls in flight get actor-crashed, open streams error, and it is started
 * again after a backoff (restart-policy.ts) from its own persisted state (`create` runs again
 * with the same config); calls made meanwhile wait for the new incarnation.
 */

import { MessageChannel } from 'node:worker_threads';
import type { Observable } from 'rxjs';
import type { ActorApi, ActorDefinition, ActorRef, ApiOf, ConfigOf } from './actor.ts';
import { isStreamMethod } from './actor.ts';
import { type ActorModule, isActorModule, loadActorModule, toModuleUrl } from './actor-module.ts';
import { RuntimeError, serializeError } from './errors.ts';
import { actorLogger, createRootLogger, type Logger, type LogLevel } from './logger.ts';
import type { ActorMetricsSnapshot } from './metrics.ts';
import { type RestartPolicy, resolveRestartPolicy } from './restart-policy.ts';
import { realScheduler, type Scheduler } from './scheduler.ts';
import { importStream, type StreamOptions } from './stream-bridge.ts';
import { type ActorEvent, SupervisedActor } from './supervised-actor.ts';
import { WorkerThread } from './worker-thread.ts';

export { DEFAULT_RESTART_POLICY, type RestartPolicy } from './restart-policy.ts';
export type { ActorEvent } from './supervised-actor.ts';

export type Placement = 'worker' | 'in-process';

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
  /** Worker actors: how crashes are restarted (false: never). A Supervisor passes its own. */
  restart?: Partial<RestartPolicy> | false;
  resourceLimits?: { maxOldGenerationSizeMb?: number };
  /** Clock and timers for restart backoff; tests pass one they drive by hand. Default: real ones. */
  scheduler?: Scheduler;
}

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

/** What a worker actor's handle asks of its supervised incarnations. */
interface HostPort {
  call(name: string, args: unknown[]): Promise<unknown>;
  openStream(name: string, args: unknown[]): Observable<unknown>;
  snapshot(): Promise<ActorMetricsSnapshot>;
  profile(seconds: number, path: string): Promise<{ path: string; samples: number }>;
  stop(): Promise<void>;
}

function makeRef<Api extends ActorApi>(
  host: HostPort,
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
          fn = (...args: unknown[]) => host.openStream(prop, args); // opened on subscribe
        } else {
          fn = (...args: unknown[]) => host.call(prop, args);
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
  const actor = new SupervisedActor<WorkerThread>({
    name,
    policy: resolveRestartPolicy(options.restart),
    scheduler: options.scheduler ?? realScheduler,
    log: actorLogger(root, name, { supervisor: true }),
    start: (restarts, onDeath) =>
      new WorkerThread({
        workerData: {
          actorModule: url,
          ...(expectedName !== undefined ? { expectedName } : {}),
          name,
          restarts,
          logLevel: options.logLevel ?? (root.level as LogLevel),
          logFile: options.logFile,
          stream: options.stream,
        },
        config: options.config,
        ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
        onDeath,
      }),
  });
  await actor.start(); // a failure to start at all is reported to the caller of spawn()

  const port: HostPort = {
    call: async (m, args) => (await actor.acquire()).call(m, args),
    openStream(m, args) {
      return importStream(() => {
        const channel = new MessageChannel();
        // Failures reach the consumer through the port: a producer that dies closes it.
        let sent = false;
        actor
          .acquire()
          .then((thread) => {
            sent = true;
            return thread.stream(m, args, channel.port2);
          })
          .catch((e: unknown) => {
            if (!sent || (e instanceof RuntimeError && e.code === 'not-cloneable')) {
              // The request never left this thread (the actor is stopped or given up on, or an
              // argument cannot be copied), so port2 is still ours: answer through it.
              channel.port2.postMessage({ t: 'error', error: serializeError(e) });
              channel.port2.close();
            } else channel.port1.close();
          });
        return { port: channel.port1 };
      }, options.stream);
    },
    snapshot: async () => ({ ...(await (await actor.acquire()).snapshot()), restarts: actor.restarts }),
    profile: async (seconds, path) => (await actor.acquire()).profile(seconds, path),
    stop: () => actor.stop(),
  };

  return {
    name,
    placement: 'worker',
    ref: makeRef<Api>(port, () => actor.methods),
    events$: actor.events$,
    restarts: () => actor.restarts,
    metrics: () => port.snapshot(),
    profile: (s, p) => port.profile(s, p),
    stop: () => port.stop(),
  };
}
