/**
 * Step 11, monitors to the ChainMonitor: each monitor read in step 8, now at the chain tip
 * (step 10), is handed to the ChainMonitor with `watchChannel`, which writes it with its new
 * best block and says again a funding spend it had seen. This runs before anything could call
 * the ChannelManager (the peers come in steps 13 and 14), so no channel acts before its
 * monitor watches the chain; the manager (step 9, next) rebuilds its channels from these
 * monitors, its snapshot checked against them.
 *
 * Then the fundings the wallet built before a restart (its reservations) are settled, as the
 * durability rule decides: the funder's monitor is durable before its funding transaction is
 * broadcast, so a reservation whose funding output a watched monitor stands on belongs to a
 * channel that carries on, and is broadcast (again: it may be out already); any other never
 * got that far, and its coins are released for the next funding.
 */
import type { NodeComponent } from '../component.ts';
import type { NodeContext } from '../context.ts';

export function watchChannelsStep(): NodeComponent {
  return {
    step: 11,
    name: 'monitors to the chain monitor',
    async start(ctx) {
      const chainMonitor = ctx.get('chainMonitor');
      for (const synced of ctx.get('channelMonitors')) {
        const monitor = synced.monitor;
        for (const e of synced.events)
          ctx.log.info({ channel: monitor.fundingKey, event: e.type }, `while the node was down: ${e.type}`);
        const status = await chainMonitor.ref.watchChannel(monitor);
        // It watches the chain from memory all the same: refusing to start would watch nothing.
        if (status.status === 'failed')
          ctx.log.error(
            { channel: monitor.fundingKey, reason: status.reason },
            `the monitor of channel ${monitor.fundingKey} is watched but could not be written at the tip: ${status.reason}`,
          );
      }
      await settleLeftoverFundings(ctx);
    },
  };
}

async function settleLeftoverFundings(ctx: NodeContext): Promise<void> {
  const wallet = ctx.get('wallet');
  const reservations = wallet.reservations();
  if (reservations.length === 0) return;
  const watched = new Set((await ctx.get('chainMonitor').ref.monitors()).map((m) => m.fundingKey));
  const broadcaster = ctx.get('broadcaster');
  for (const r of reservations) {
    const fundingKey = `${r.txid}:${r.outputIndex}`;
    if (!watched.has(fundingKey)) {
      await wallet.release(r);
      ctx.log.info(
        { txid: r.txid },
        `released the coins of transaction ${r.txid}, built before the restart: no channel monitor stands on it`,
      );
      continue;
    }
    try {
      await wallet.broadcast(r.rawTx, broadcaster);
      ctx.log.info({ channel: fundingKey }, `broadcast the funding of channel ${fundingKey} again`);
    } catch (err) {
      // Rejected: the wallet released its coins and the monitor will see no funding; not sent:
      // it stays reserved and the broadcaster sends it again.
      ctx.log.error(
        { channel: fundingKey, err: (err as Error).message },
        `the funding of channel ${fundingKey} could not be broadcast: ${(err as Error).message}`,
      );
    }
  }
}
