/**
 * Step 4, Persist: the lmdb store in the data dir, or the user's (withStore). The channel
 * monitors and the manager's snapshot will live here too; today it holds the node's chain tip
 * and its persistent peers. The node closes the store it opened; a store the user opened is
 * theirs to close.
 */
import { Store } from '@lnkit/store';
import type { NodeComponent } from '../component.ts';

/** The layout of the data dir this code writes (Store refuses a newer one, migrates an older). */
export const SCHEMA_VERSION = 1;

export function persistStep(): NodeComponent {
  let owned: Store | undefined;
  return {
    step: 4,
    name: 'persist',
    async start(ctx) {
      const supplied = ctx.supplied.store;
      if (supplied) {
        ctx.set('store', supplied);
        return;
      }
      owned = await Store.open(ctx.config.dataDir, {
        schemaVersion: SCHEMA_VERSION,
        network: ctx.config.network,
      });
      ctx.set('store', owned);
    },
    async stop() {
      await owned?.close();
    },
  };
}
