/**
 * How an actor is written: a module whose default export is `defineActor({ name, create })`.
 * `create(ctx, config)` builds the actor's state (reading what it persisted, if anything)
 * and returns its API: an object of methods. A method returns a value or a Promise (a
 * request/response call), or, when its name ends in `$`, an Observable or AsyncIterable
 * (a stream). The same module runs in a worker thread or in-process; see spawn.ts.
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

export interface ActorDefinition<Config, Api extends ActorApi> {
  readonly name: string;
  create(ctx: ActorContext, config: Config): Api | Promise<Api>;
  /** Called when the actor is stopped cleanly (not after a crash). */
  stop?(api: Api): void | Promise<void>;
}

export function defineActor<Config, Api extends ActorApi>(
  definition: ActorDefinition<Config, Api>,
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
