import { actorModule } from '../actor-module.ts';

export const counterActor = actorModule<typeof import('./counter.actor.ts').default>(
  'counter',
  new URL('./counter.actor.ts', import.meta.url),
);
