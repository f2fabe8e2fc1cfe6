/**
 * The ChainSync actor (guide step 15): polls the block source in its own thread and streams
 * connected / disconnected blocks to the other actors. Blocks cross threads as raw
 * transactions (bytes), which every consumer can parse or skip as it needs.
 */
import {
  type BestBlock,
  type BlockHeaderData,
  type BlockSource,
  ChainPoller,
  type RpcAuth,
  RpcBlockSource,
} from '@lnkit/chain-sync';
import { defineActor } from '@lnkit/runtime';
import { map, type Observable } from 'rxjs';

export interface ChainActorConfig {
  /** bitcoind JSON-RPC to poll (the default source; works in a worker). */
  rpc?: { url: string; auth: RpcAuth };
  /**
   * A block source object of the user's own. Objects with methods cannot cross threads, so
   * the node runs this actor in-process when one is given.
   */
  source?: BlockSource;
  /** Where the node's listeners are after synchronizeListeners. */
  start: BestBlock;
  pollIntervalMs?: number;
}

export type ChainStreamEvent =
  | { type: 'blockConnected'; header: BlockHeaderData; height: number; rawTxs: Uint8Array[] }
  | { type: 'blockDisconnected'; header: BlockHeaderData; height: number }
  | { type: 'progress'; height: number; tipHeight: number; synced: boolean };

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
    const events$: Observable<ChainStreamEvent> = poller.events$.pipe(
      map((e) =>
        e.type === 'blockConnected'
          ? {
              type: e.type,
              header: e.header,
              height: e.height,
              rawTxs: e.txdata.map((tx) => new Uint8Array(tx.toBuffer())),
            }
          : e,
      ),
    );
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
