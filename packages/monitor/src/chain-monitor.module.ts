// The ChainMonitor actor's descriptor: spawn it with `supervisor.spawn(chainMonitorActor, { config })`,
// typed by its definition, without loading chain-monitor.actor.ts on the spawning thread.
import { actorModule } from '@lnkit/runtime';

export const chainMonitorActor = actorModule<typeof import('./chain-monitor.actor.ts').default>(
  'chain-monitor',
  new URL('./chain-monitor.actor.ts', import.meta.url),
);
