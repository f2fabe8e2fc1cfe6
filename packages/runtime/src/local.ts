/**
 * spawnLocal(): an actor in the caller's own thread, built from its definition object (no
 * module to import, no thread to start). It has the handle, the mailbox and the metrics of
 * a spawned actor, and costs a few microseconds and a few hundred bytes, so that a thread can
 * hold thousands: one per channel inside the ChannelManager's thread (DESIGN.md, actors).
 * It is not supervised: it lives and fails with the thread that holds it. spawn()'s
 * in-process placement is this, with the module imported first.
 */
import { EMPTY, type Observable, Subject } from 'rxjs';
import type { ActorApi, ActorDefinition, ActorRef } from './actor.ts';
import { isStreamMethod } from './actor.ts';
import { RuntimeError } from './errors.ts';
import { ActorHost } from './host.ts';
import { actorLogger, createRootLogger, type Logger } from './logger.ts';
import type { ActorMetricsSnapshot } from './metrics.ts';
import type { ActorEvent, ActorHandle } from './spawn.ts';
import type { StreamOptions } from './stream-bridge.ts';

export interface LocalOptions<Config> {
  /** Instance name (e.g. the channel id); defaults to the definition's name. */
  name?: string;
  config: Config;
  /** The parent logger; the actor logs through a child with `actor` set. */
  logger?: Logger;
  stream?: StreamOptions;
}

let defaultRoot: Logger | undefined;
/** One root logger for every in-thread actor given none: a pino root per actor would cost more than the actor. */
function sharedRoot(): Logger {
  defaultRoot ??= createRootLogger();
  return defaultRoot;
}

/** Starts `definition` in this thread; resolves once its `create` has finished. */
export async function spawnLocal<Config, Api extends ActorApi>(
  definition: ActorDefinition<Config, Api>,
  options: LocalOptions<NoInfer<Config>>,
): Promise<ActorHandle<Api>> {
  const name = options.name ?? definition.name;
  const root = options.logger ?? sharedRoot();
  const host = new ActorHost<Config, Api>(
    definition,
    { name, placement: 'in-process', logger: actorLogger(root, name), restarts: 0 },
    options.stream,
  );
  const methods = await host.init(options.config);
  return new LocalHandle<Api>(name, host as ActorHost<never, Api>, refPrototype(definition, methods));
}

/**
 * The handle, as a class so that thousands of actors share its methods. No 'started' event:
 * the actor has started by the time its handle exists, and nobody could be subscribed before
 * (a spawned actor's first 'started' is sent before spawn() returns as well).
 */
class LocalHandle<Api extends ActorApi> implements ActorHandle<Api> {
  readonly placement = 'in-process' as const;
  readonly ref: ActorRef<Api>;
  /** Made when first asked for: most in-thread actors are never watched. */
  private events: Subject<ActorEvent> | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly host: ActorHost<never, Api>,
    refProto: object,
  ) {
    this.ref = Object.create(refProto) as ActorRef<Api>;
    // defineProperty, not assignment: an assignment would consult the proxy at the chain's end.
    Object.defineProperty(this.ref, HOST, { value: host });
  }

  get events$(): Observable<ActorEvent> {
    if (!this.events) {
      if (this.stopped) return EMPTY;
      this.events = new Subject<ActorEvent>();
    }
    return this.events.asObservable();
  }

  restarts(): number {
    return 0;
  }

  async metrics(): Promise<ActorMetricsSnapshot> {
    return this.host.snapshot();
  }

  profile(seconds: number, path: string): Promise<{ path: string; samples: number }> {
    return this.host.profile(seconds, path);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.host.stop();
    this.events?.next({ type: 'stopped', actor: this.name, reason: 'requested' });
    this.events?.complete();
  }
}

const HOST = Symbol('host');

/**
 * The ref's prototype, one per definition and method list, shared by every actor made from
 * them. Each method is a getter that makes the actor's own function on first use (a closure
 * over its host, so `const { pay } = ref` works) and keeps it as an own property; a call then
 * costs a property read and the mailbox. Any other name falls through to a proxy answering
 * `unknown-method`, as a worker actor's ref does; `then` stays undefined so that the ref is
 * not mistaken for a promise.
 */
const refPrototypes = new WeakMap<object, Map<string, object>>();

function refPrototype(definition: object, methods: readonly string[]): object {
  let byMethods = refPrototypes.get(definition);
  if (!byMethods) {
    byMethods = new Map();
    refPrototypes.set(definition, byMethods);
  }
  const key = methods.join(',');
  let proto = byMethods.get(key);
  if (proto) return proto;
  proto = Object.create(unknownMethods) as object;
  for (const m of methods) {
    Object.defineProperty(proto, m, {
      enumerable: true,
      get(this: { [HOST]: ActorHost }) {
        const host = this[HOST];
        const fn = isStreamMethod(m)
          ? (...args: unknown[]) => host.localStream(m, args)
          : (...args: unknown[]) => host.call(m, args);
        Object.defineProperty(this, m, { value: fn, enumerable: true });
        return fn;
      },
    });
  }
  byMethods.set(key, proto);
  return proto;
}

const unknownMethods: object = new Proxy(
  {},
  {
    get(_target, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return () => Promise.reject(new RuntimeError('unknown-method', `actor has no method ${prop}`));
    },
  },
);
