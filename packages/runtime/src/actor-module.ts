/**
 * An actor module's descriptor: its definition's name and its module's URL, typed by the
 * definition, so that `spawn(descriptor, { config })` checks the config and types the handle
 * with no cast at the call site, and a worker actor is started without importing its module on
 * the spawning thread (only the worker loads it; it checks that the names agree).
 *
 * Written beside the actor, in `x.module.ts`:
 *   export const fooActor = actorModule<typeof import('./foo.actor.ts').default>(
 *     'foo', new URL('./foo.actor.ts', import.meta.url));
 * `typeof import(...)` is a type only: importing the descriptor does not load the actor.
 */
import { pathToFileURL } from 'node:url';
import type { ActorApi, ActorDefinition } from './actor.ts';
import { RuntimeError } from './errors.ts';

declare const definition: unique symbol;

export interface ActorModule<D extends ActorDefinition<never, ActorApi>> {
  /** The definition's `name`: the actor's default instance name. */
  readonly name: string;
  /** Where its module is (a file: URL, or any URL `import()` takes). */
  readonly url: string;
  /** Carries the definition's type to spawn(); never set. */
  readonly [definition]?: D;
}

export function actorModule<D extends ActorDefinition<never, ActorApi>>(
  name: string,
  url: string | URL,
): ActorModule<D> {
  return Object.freeze({ name, url: toModuleUrl(url) });
}

export function isActorModule(x: unknown): x is ActorModule<ActorDefinition<never, ActorApi>> {
  return (
    typeof x === 'object' &&
    x !== null &&
    !(x instanceof URL) &&
    typeof (x as { name?: unknown }).name === 'string' &&
    typeof (x as { url?: unknown }).url === 'string'
  );
}

/** A path or URL as the URL `import()` takes: a bare path becomes a file: URL. */
export function toModuleUrl(actorModule: string | URL): string {
  if (actorModule instanceof URL) return actorModule.href;
  return /^[a-z]+:/.test(actorModule) ? actorModule : pathToFileURL(actorModule).href;
}

/**
 * Imports an actor module and returns its definition. What can go wrong is reported as
 * actor-init-failed naming the module: it cannot be loaded, its default export is not a
 * definition, or its name is not the one its descriptor gave (`expectedName`), which would
 * otherwise start the wrong actor under the descriptor's types.
 */
export async function loadActorModule(
  url: string,
  expectedName?: string,
): Promise<ActorDefinition<unknown, ActorApi>> {
  const failed = (why: string) =>
    new RuntimeError('actor-init-failed', `actor module ${url} ${why}`, expectedName);
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    throw failed(`cannot be loaded: ${(e as Error).message}`);
  }
  const def = mod.default as Partial<ActorDefinition<unknown, ActorApi>> | undefined;
  if (
    typeof def !== 'object' ||
    def === null ||
    typeof def.create !== 'function' ||
    typeof def.name !== 'string'
  )
    throw failed('has no defineActor({ name, create }) as its default export');
  if (expectedName !== undefined && def.name !== expectedName)
    throw failed(`defines the actor "${def.name}", but its descriptor names "${expectedName}"`);
  return def as ActorDefinition<unknown, ActorApi>;
}
