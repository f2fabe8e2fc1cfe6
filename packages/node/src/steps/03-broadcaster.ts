/**
 * Step 3, BroadcasterInterface: the user's (withBroadcaster), or bitcoind's sendrawtransaction.
 * The default keeps sending what is not confirmed yet (a task of step 18) and learns what is
 * confirmed from the block stream (a chain listener of step 15); the user's broadcaster is
 * theirs to run.
 */
import { BitcoindBroadcaster } from '@lnkit/chain-sync';
import { actorLogger } from '@lnkit/runtime';
import type { NodeComponent } from '../component.ts';

/** How often the default broadcaster sends its unconfirmed transactions again. */
const REBROADCAST_MS = 60_000;

export function broadcasterStep(): NodeComponent {
  return {
    step: 3,
    name: 'broadcaster',
    start(ctx) {
      const supplied = ctx.supplied.broadcaster;
      if (supplied) {
        ctx.set('broadcaster', supplied);
        return;
      }
      const broadcaster = new BitcoindBroadcaster(ctx.bitcoindRpc(), {
        logger: actorLogger(ctx.root, 'broadcaster'),
      });
      ctx.background.push({
        name: 'rebroadcast',
        everyMs: REBROADCAST_MS,
        run: () => broadcaster.rebroadcastPending(),
      });
      ctx.chainListeners.push({ name: 'broadcaster', listener: broadcaster });
      ctx.set('broadcaster', broadcaster);
    },
  };
}
