/**
 * Step 10, sync to the chain tip: every chain listener is brought from the block it last
 * processed to the source's tip before anything else runs (the guide: no ChannelManager method
 * before this is done). Today the only listener is the node's own chain tip (tip-listener.ts);
 * the ChannelManager (step 9) and each ChannelMonitor (step 8) join it here. A listener whose
 * block was reorged out while the node was down is walked back to the fork first.
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
      const synced = await synchronizeListeners(
        source,
        [withSyncProgress(tip.atBlock(), ctx.log, target.height)],
        ctx.log,
      );
      ctx.log.info(
        { height: synced.height, hash: synced.hashHex },
        'listeners synchronised to the chain tip',
      );
      ctx.set('tip', tip);
      ctx.set('syncedTo', synced);
    },
  };
}
