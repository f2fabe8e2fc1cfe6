/**
 * How an actor is written: a module whose default export is `defineActor({ name, create })`.
 * `create(ctx, config)` builds the actor's state (reading what it persisted, if anything)
 * and returns its API: an object of methods. A method returns a value or a Promise (a
 * request/response call), or, when its name ends in `$`, an Observable or AsyncIterable
 * (a stream). The same module runs in a worker thread or in-process (spawn.ts), and the same
 * definition object runs in the caller's thread (local.ts). Calls go through a mailbox, one
 * at a time (host.ts), except the methods the definition lists as `concurrent`.
 */
import type { Observable } from 'rxjs';
import type { Logger } from './logger.ts';

export interface ActorContext {
  /** The actor's instance name (a supervisor may run one definition under several names). */
  readonly name: string;
  readonly placement: 'worker' | 'in-process';
  /** pino child logger with `actor` set. */
  readonly logger: Logger;
  /** How many times the supervisor restarted this actor before this incarnation. */
  readonly restarts: number;
}

// biome-ignore lint/suspicious/noExplicitAny: method signatures are checked through ActorRef<T>.
export type ActorApi = Record<string, (...args: any[]) => unknown>;

/** The API's request/response methods (not its `$` streams): what `concurrent` may list. */
export type CallName<Api> = Exclude<keyof Api & string, `${string}$`>;

export interface ActorDefinition<Config, Api extends ActorApi> {
  readonly name: string;
  /**
   * Calls that do not wait their turn in the mailbox: each starts as it arrives and may run
   * alongside the call that holds the mailbox, and alongside each other. Every other call runs
   * alone, in arrival order, the next starting only when the previous one has settled.
   *
   * List a method here only when it is safe to run in the middle of another call's `await`:
   * it only reads state, or is synchronous (it then runs between two steps of the running
   * call, never inside one), or it waits on something long (a dial, a pong, a socket's drain)
   * that would stall every other caller, and touches shared state only before or after its
   * awaits in a way the others tolerate. Say why beside each name.
   *
   * A call into the actor's own ref from inside one of its queued calls waits behind the call
   * that made it, forever: call the method directly, or list it here.
   */
  readonly concurrent?: readonly string[];
  create(ctx: ActorContext, config: Config): Api | Promise<Api>;
  /** Called when the actor is stopped cleanly (not after a crash). */
  stop?(api: Api): void | Promise<void>;
}

/** Checks the definition's types: `concurrent` may list only the API's calls (not streams). */
export function defineActor<Config, Api extends ActorApi>(
  definition: Omit<ActorDefinition<Config, Api>, 'concurrent'> & {
    readonly concurrent?: readonly CallName<NoInfer<Api>>[];
  },
): ActorDefinition<Config, Api> {
  return definition;
}

/** What a caller sees: calls become Promises, `$` methods become Observables. */
export type ActorRef<Api> = {
  [K in keyof Api]: Api[K] extends (...args: infer A) => infer R
    ? K extends `${string}$`
      ? (...args: A) => Observable<StreamItem<R>>
      : (...args: A) => Promise<Awaited<R>>
    : never;
};

type StreamItem<R> = R extends Observable<infer T> ? T : R extends AsyncIterable<infer T> ? T : never;

export type ConfigOf<D> = D extends ActorDefinition<infer C, ActorApi> ? C : never;
export type ApiOf<D> =
  D extends ActorDefinition<unknown, infer A> ? A : D extends ActorDefinition<never, infer A> ? A : never;

export function isStreamMethod(name: string): boolean {
  return name.endsWith('$');
}
