// The PeerManager actor's descriptor: spawn it with `supervisor.spawn(peerManagerActor, { config })`,
// typed by its definition, without loading peer-net.actor.ts on the spawning thread. The name is
// the definition's ('peer-net'); a node may run it under another (`name: 'peer-manager'`).
import { actorModule } from '@lnkit/runtime';

export const peerManagerActor = actorModule<typeof import('./peer-net.actor.ts').default>(
  'peer-net',
  new URL('./peer-net.actor.ts', import.meta.url),
);
