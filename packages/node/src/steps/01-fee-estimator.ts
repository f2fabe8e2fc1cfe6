/**
 * Step 1, FeeEstimator: the user's (withFeeEstimator), or bitcoind's estimatesmartfee, cached
 * and floored at 253 sat/kw. The node refreshes only its own default (a task of step 18); the
 * user's estimator is theirs to run.
 */
import { BitcoindFeeEstimator } from '@lnkit/chain-sync';
import { actorLogger } from '@lnkit/runtime';
import type { NodeComponent } from '../component.ts';

/** How often the default estimator asks bitcoind again. */
const FEE_REFRESH_MS = 60_000;

export function feeEstimatorStep(): NodeComponent {
  return {
    step: 1,
    name: 'fee estimator',
    async start(ctx) {
      const supplied = ctx.supplied.feeEstimator;
      if (supplied) {
        ctx.set('feeEstimator', supplied);
        return;
      }
      const fees = new BitcoindFeeEstimator(ctx.bitcoindRpc(), {
        logger: actorLogger(ctx.root, 'fee-estimator'),
      });
      // A first estimate before anything asks (it never throws: a failure keeps the fallbacks).
      await fees.refresh();
      ctx.background.push({ name: 'fee refresh', everyMs: FEE_REFRESH_MS, run: () => fees.refresh() });
      ctx.set('feeEstimator', fees);
    },
  };
}
