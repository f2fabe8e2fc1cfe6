// The ChainSync actor's descriptor: spawn it with `supervisor.spawn(chainSyncActor, { config })`,
// typed by its definition, without loading chain-sync.actor.ts on the spawning thread.
import { actorModule } from '@lnkit/runtime';

export const chainSyncActor = actorModule<typeof import('./chain-sync.actor.ts').default>(
  'chain-sync',
  new URL('./chain-sync.actor.ts', import.meta.url),
);
