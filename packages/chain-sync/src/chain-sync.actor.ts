/**
 * The ChainSync actor (LDK guide step 15): polls a block source in its own thread and streams
 * connected / disconnected blocks, in chain order, to whoever subscribes (the node's chain
 * listeners; later the ChainMonitor and the ChannelManager). Blocks cross threads in their
 * cloneable form (chain-stream.ts); the receiver turns them back with fromStreamEvents.
 */
import { defineActor } from '@lnkit/runtime';
import { map, type Observable } from 'rxjs';
import type { BestBlock, BlockSource } from './block-source.ts';
import { type ChainStreamEvent, toStreamEvent } from './chain-stream.ts';
import { ChainPoller } from './poller.ts';
import { RpcBlockSource } from './rpc-block-source.ts';
import type { RpcAuth } from './rpc-client.ts';

export interface ChainActorConfig {
  /** bitcoind JSON-RPC to poll (the default source; works in a worker). */
  rpc?: { url: string; auth: RpcAuth };
  /**
   * A block source object of the caller's own. Objects with methods cannot cross threads, so
   * an actor given one must run in-process.
   */
  source?: BlockSource;
  /** Where the subscribers' listeners are (what synchronizeListeners returned). */
  start: BestBlock;
  pollIntervalMs?: number;
}

export default defineActor({
  name: 'chain-sync',
  create(ctx, config: ChainActorConfig) {
    const source = config.source ?? (config.rpc ? new RpcBlockSource(config.rpc) : undefined);
    if (!source) throw new Error('the chain actor needs an rpc config or a block source');
    const poller = new ChainPoller(source, {
      logger: ctx.logger,
      start: config.start,
      pollIntervalMs: config.pollIntervalMs ?? 1000,
    });
    const events$: Observable<ChainStreamEvent> = poller.events$.pipe(map(toStreamEvent));
    let started = false;
    return {
      /** Subscribe first, then start(): the stream is hot (Eclair's "subscriptions before work"). */
      events$: () => events$,
      start: () => {
        if (!started) poller.start();
        started = true;
      },
      bestBlock: (): BestBlock | undefined => poller.bestBlock,
      stop: () => poller.stop(),
    };
  },
  async stop(api) {
    await api.stop();
  },
});
