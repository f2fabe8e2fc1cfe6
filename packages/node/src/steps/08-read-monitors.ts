/**
 * Step 8, read the ChannelMonitors: every monitor the persister holds, each at its latest
 * update, after the keys (the channels' signers are derived from the seed by each monitor's
 * key index). A monitor the persister cannot read (written by a newer lnkit, or a log that
 * does not follow its record) stops the start with the persister's error, naming the channel
 * and the versions: a node that ran without one of its channels' monitors could lose its funds.
 *
 * Each becomes a MonitorSyncListener, which step 10 brings from the monitor's own best block
 * to the chain tip (stale blocks undone first), and step 11 hands to the ChainMonitor.
 */
import { MonitorSyncListener } from '@lnkit/monitor';
import type { NodeComponent } from '../component.ts';

export function readMonitorsStep(): NodeComponent {
  return {
    step: 8,
    name: 'read channel monitors',
    async start(ctx) {
      const monitors = await ctx.get('monitorPersister').readAll();
      const listeners = monitors.map((m) => new MonitorSyncListener(m));
      for (const l of listeners) {
        ctx.syncListeners.push({
          name: `monitor ${l.monitor.fundingKey}`,
          at: () => ({ listener: l, bestBlockHash: l.bestBlockHash, bestBlockHeight: l.bestBlockHeight }),
        });
      }
      ctx.log.info(
        { channels: monitors.length },
        `read ${monitors.length} channel monitor(s)${monitors.length ? `: ${monitors.map((m) => m.fundingKey).join(', ')}` : ''}`,
      );
      ctx.set('channelMonitors', listeners);
    },
  };
}
