// The GossipSync actor's descriptor: spawn it with `supervisor.spawn(gossipActor, { config })`,
// typed by its definition, without loading gossip.actor.ts (and its graph, store and crypto pool)
// on the spawning thread.
import { actorModule } from '@lnkit/runtime';

export const gossipActor = actorModule<typeof import('./gossip.actor.ts').default>(
  'gossip',
  new URL('./gossip.actor.ts', import.meta.url),
);
