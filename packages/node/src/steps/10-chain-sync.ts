/**
 * Step 10, sync to the chain tip: every chain listener is brought from the block it last
 * processed to the source's tip before anything else runs (the guide: no ChannelManager method
 * before this is done): the node's own chain tip (tip-listener.ts) and those the earlier steps
 * pushed onto `ctx.syncListeners` — the ChainMonitor (step 6), the wallet (step 7) and each
 * ChannelMonitor read in step 8; the ChannelManager (step 9, started after step 11) is brought
 * from its snapshot's block to the same block by its own step. Each starts from its
 * own block, so one that fell behind (a crash between two listeners' writes) catches up
 * alone, and a listener whose block was reorged out while the node was down is walked back to
 * the fork first. Every one of them is at `syncedTo` when this step ends, which is where step
 * 15's block stream starts.
 */
import { synchronizeListeners } from '@lnkit/chain-sync';
import type { NodeComponent } from '../component.ts';
import { withSyncProgress } from '../sync-progress.ts';
import { TipListener } from '../tip-listener.ts';

export function chainSyncStep(): NodeComponent {
  return {
    step: 10,
    name: 'sync to the chain tip',
    async start(ctx) {
      const source = ctx.get('blockSource');
      const tip = await TipListener.load(ctx.get('store'), source);
      const target = await source.getBestBlock();
      const others = await Promise.all(ctx.syncListeners.map((l) => l.at()));
      const synced = await synchronizeListeners(
        source,
        [withSyncProgress(tip.atBlock(), ctx.log, target.height), ...others],
        ctx.log,
      );
      ctx.log.info(
        { height: synced.height, hash: synced.hashHex, listeners: ctx.syncListeners.map((l) => l.name) },
        'listeners synchronised to the chain tip',
      );
      ctx.set('tip', tip);
      ctx.set('syncedTo', synced);
    },
  };
}
