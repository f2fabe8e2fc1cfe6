/**
 * The Supervisor owns a node's actors: it spawns them under its restart policy (each worker
 * actor then restarts on its own, see supervised-actor.ts), keeps their handles by name, reads
 * all their metrics as one snapshot, profiles one of them on request, and stops them in
 * reverse start order.
 */
import { type Observable, Subject } from 'rxjs';
import type { ActorApi, ActorDefinition, ApiOf, ConfigOf } from './actor.ts';
import type { ActorModule } from './actor-module.ts';
import { RuntimeError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { ActorMetricsSnapshot } from './metrics.ts';
import { type RestartPolicy, resolveRestartPolicy } from './restart-policy.ts';
import type { Scheduler } from './scheduler.ts';
import { type ActorEvent, type ActorHandle, type SpawnOptions, spawn } from './spawn.ts';

export interface SupervisorOptions {
  /** The restart policy of every actor it spawns (false: never restart); an actor's own `restart` overrides parts of it. */
  restart?: Partial<RestartPolicy> | false;
  /** Clock and timers for the restarts; tests drive them by hand. */
  scheduler?: Scheduler;
}

export class Supervisor {
  /** The policy its actors restart under, unless one is spawned with its own. */
  readonly restartPolicy: RestartPolicy;
  private readonly scheduler: Scheduler | undefined;
  private readonly handles = new Map<string, ActorHandle<ActorApi>>();
  private readonly allEvents$ = new Subject<ActorEvent>();
  /** Lifecycle events of every actor (started, crashed, restart-scheduled, stopped). */
  readonly events$: Observable<ActorEvent> = this.allEvents$.asObservable();

  constructor(
    private readonly logger?: Logger,
    options: SupervisorOptions = {},
  ) {
    this.restartPolicy = resolveRestartPolicy(options.restart);
    this.scheduler = options.scheduler;
  }

  /** Spawns an actor from its descriptor (typed by it, as spawn() is) and keeps its handle. */
  spawn<D extends ActorDefinition<never, ActorApi>>(
    module: ActorModule<D>,
    options: SpawnOptions<ConfigOf<D>>,
  ): Promise<ActorHandle<ApiOf<D>>>;
  /** The same from the module's path or URL, typed by `spawn<typeof definition>(...)`. */
  spawn<D extends ActorDefinition<never, ActorApi>>(
    actorModule: string | URL,
    options: SpawnOptions<ConfigOf<D>>,
  ): Promise<ActorHandle<ApiOf<D>>>;
  async spawn(
    target: ActorModule<ActorDefinition<never, ActorApi>> | string | URL,
    options: SpawnOptions<unknown>,
  ): Promise<ActorHandle<ActorApi>> {
    const opts: SpawnOptions<unknown> = {
      ...(this.logger ? { logger: this.logger } : {}),
      ...(this.scheduler ? { scheduler: this.scheduler } : {}),
      ...options,
      restart: options.restart === false ? false : { ...this.restartPolicy, ...options.restart },
    };
    // The overloads above carry the types; this is the untyped path both share.
    const handle = await spawn(target as string, opts as SpawnOptions<never>);
    if (this.handles.has(handle.name)) {
      await handle.stop();
      throw new RuntimeError(
        'actor-init-failed',
        `an actor named ${handle.name} is already running`,
        handle.name,
      );
    }
    this.handles.set(handle.name, handle);
    handle.events$.subscribe((e) => this.allEvents$.next(e));
    return handle;
  }

  get(name: string): ActorHandle<ActorApi> | undefined {
    return this.handles.get(name);
  }

  names(): string[] {
    return [...this.handles.keys()];
  }

  /** One snapshot of every actor's metrics; an actor that cannot answer is left out. */
  async metrics(): Promise<ActorMetricsSnapshot[]> {
    const all = await Promise.allSettled([...this.handles.values()].map((h) => h.metrics()));
    return all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  async profile(name: string, seconds: number, path: string): Promise<{ path: string; samples: number }> {
    const h = this.handles.get(name);
    if (!h)
      throw new RuntimeError('unknown-method', `no actor named ${name} (actors: ${this.names().join(', ')})`);
    return h.profile(seconds, path);
  }

  async stopAll(): Promise<void> {
    for (const h of [...this.handles.values()].reverse()) {
      try {
        await h.stop();
      } catch (e) {
        this.logger?.warn({ actor: h.name, err: (e as Error).message }, 'actor did not stop cleanly');
      }
    }
    this.handles.clear();
    this.allEvents$.complete();
  }
}
