/**
 * Step 4, Persist, for the channel monitors: where each ChannelMonitor and its numbered updates
 * become durable before the channel acts on them (DESIGN.md, the durability rule). The default
 * is @lnkit/monitor's MonitorStore on the node's own store (its `monitors` database, in the same
 * lmdb environment as the chain tip and the wallet, so the storage watcher of the persist step
 * sees its writes too); a user's MonitorPersister (the guide's custom persister: a remote backup,
 * a second disk) replaces it and stays theirs. Nothing here has state to stop: the store it
 * writes to is closed by the persist step.
 */
import { MonitorStore } from '@lnkit/monitor';
import type { NodeComponent } from '../component.ts';

export function monitorPersisterStep(): NodeComponent {
  return {
    step: 4,
    name: 'monitor persister',
    start(ctx) {
      ctx.set('monitorPersister', ctx.supplied.monitorPersister ?? new MonitorStore(ctx.get('store')));
    },
  };
}
