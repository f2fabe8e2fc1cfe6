/**
 * Step 5, Filter: only for a chain source that does not give full blocks (BIP 157/158,
 * Electrum, Esplora), so that it learns which transactions and outputs to watch. The node's
 * block sources give full blocks, so there is none: `filter` is null, and the ChainMonitor
 * (step 6) will register its outputs here once a Confirm-based source is wired
 * (chain-sync's WatchedFilter and TxStatusSync).
 */
import type { NodeComponent } from '../component.ts';

export function filterStep(): NodeComponent {
  return {
    step: 5,
    name: 'filter',
    start(ctx) {
      ctx.set('filter', null);
    },
  };
}
