/**
 * Step 15, chain updates: the chain-sync actor (@lnkit/chain-sync/actor) polls the block source from where step 10 left
 * every listener and streams connected / disconnected blocks. The node subscribes before it
 * tells the actor to start (the stream is hot). A user's block source is an object with
 * methods, which cannot cross threads, so with one the actor runs in-process.
 */
import type { ChainStreamEvent } from '@lnkit/chain-sync';
import type chainActor from '@lnkit/chain-sync/actor';
import type { Subscription } from 'rxjs';
import { ChainStatus } from '../chain-status.ts';
import type { NodeComponent } from '../component.ts';
import type { ChainActor, NodeContext } from '../context.ts';

export function chainUpdatesStep(): NodeComponent {
  let chain: ChainActor | undefined;
  let events: Subscription | undefined;
  return {
    step: 15,
    name: 'chain updates',
    async start(ctx) {
      const cfg = ctx.config;
      const source = ctx.supplied.blockSource;
      const actor = ctx.actorOptions();
      chain = (await ctx.supervisor.spawn<typeof chainActor>(import.meta.resolve('@lnkit/chain-sync/actor'), {
        ...actor,
        placement: source ? 'in-process' : actor.placement,
        config: {
          ...(source ? { source } : { rpc: { url: cfg.chain.url, auth: cfg.chain.auth } }),
          start: ctx.get('syncedTo'),
          pollIntervalMs: cfg.pollIntervalMs ?? 1000,
        },
      })) as unknown as ChainActor;
      const status = new ChainStatus();
      ctx.set('chain', chain);
      ctx.set('chainStatus', status);
      events = chain.ref.events$().subscribe({
        next: (e) => void onChainEvent(ctx, status, e),
        error: (err) => ctx.log.error({ err }, 'chain stream failed'),
      });
      await chain.ref.start();
    },
    async stop() {
      events?.unsubscribe();
      await chain?.stop();
    },
  };
}

async function onChainEvent(ctx: NodeContext, status: ChainStatus, e: ChainStreamEvent): Promise<void> {
  if (e.type === 'progress') {
    if (!status.synced || !e.synced) {
      ctx.log.info(
        { height: e.height, tipHeight: e.tipHeight },
        e.synced
          ? `synced to the chain tip at height ${e.height}`
          : `syncing: block ${e.height} of ${e.tipHeight}`,
      );
    }
    status.synced = e.synced;
    ctx.events.next({ type: 'sync-progress', height: e.height, tipHeight: e.tipHeight, synced: e.synced });
    return;
  }
  const tip = ctx.get('tip');
  if (e.type === 'blockConnected') await tip.connected(e.header.hashHex, e.height);
  else await tip.disconnected(e.header.prevHashHex, e.height - 1);
}
