import { actorModule } from '../actor-module.ts';

export const namedActor = actorModule<typeof import('./named.actor.ts').default>(
  'named',
  new URL('./named.actor.ts', import.meta.url),
);
