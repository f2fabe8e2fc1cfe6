import { actorModule } from '@lnkit/runtime';

/** The channel host's descriptor (channel-host.actor.ts): spawned without loading it here. */
export const channelHostActor = actorModule<typeof import('./channel-host.actor.ts').default>(
  'channel-host',
  new URL('./channel-host.actor.ts', import.meta.url),
);
