/**
 * Step 15, chain updates: the chain-sync actor (chain-sync's chainSyncActor) polls the block source
 * from where step 10 left every listener and streams connected / disconnected blocks. Each
 * listener — the chain tip, then those of `ctx.chainListeners`: the broadcaster (step 3), the
 * ChainMonitor (step 6), the wallet (step 7), the gossip actor (step 12: spent funding outputs
 * close channels in the graph) — is fed through chain-sync's own
 * subscribeListener: one block at a time, in stream order, so no listener's writes overlap
 * or reorder; and the others get a block only once the tip has stored it (after-tip.ts), so
 * while the tip waits on the disk nothing else writes. The chain tip waits out a disk that
 * refuses writes (a full disk: info().faults) and goes on when it takes them again; a listener
 * that fails otherwise is logged, no longer fed, and reported as a node event and in
 * info().chainError.
 * The node subscribes before it tells the actor to start (the stream is hot).
 *
 * A user's block source is an object with methods, which cannot cross threads, so with one
 * the actor runs in-process.
 */
import {
  type ChainEvent,
  type ChainListener,
  chainSyncActor,
  fromStreamEvents,
  type SyncProgress,
  subscribeListener,
} from '@lnkit/chain-sync';
import { catchError, EMPTY, type Observable, type Subscription, share } from 'rxjs';
import { AfterTip } from '../after-tip.ts';
import { type ChainFailure, ChainStatus } from '../chain-status.ts';
import type { NodeComponent } from '../component.ts';
import type { ChainActor, NodeContext } from '../context.ts';

export function chainUpdatesStep(): NodeComponent {
  let chain: ChainActor | undefined;
  const subscriptions: Subscription[] = [];
  let stopping = false;
  return {
    step: 15,
    name: 'chain updates',
    async start(ctx) {
      const cfg = ctx.config;
      const source = ctx.supplied.blockSource;
      const actor = ctx.actorOptions();
      chain = await ctx.supervisor.spawn(chainSyncActor, {
        ...actor,
        placement: source ? 'in-process' : actor.placement,
        config: {
          ...(source ? { source } : { rpc: { url: cfg.chain.url, auth: cfg.chain.auth } }),
          start: ctx.get('syncedTo'),
          pollIntervalMs: cfg.pollIntervalMs ?? 1000,
        },
      });
      const status = new ChainStatus(ctx.get('storage'));
      ctx.set('chain', chain);
      ctx.set('chainStatus', status);

      const events$ = blockStream(ctx, status, chain);
      const feed = (name: string, listener: ChainListener, onFailed?: (f: ChainFailure) => void) =>
        subscribeListener(events$, listener, ctx.log, (err, at) => {
          const failure = {
            message: `${name} failed on ${at.type} at height ${at.height}: ${(err as Error).message}`,
            height: at.height,
            hashHex: at.hashHex,
          };
          onFailed?.(failure);
          ctx.events.next({ type: 'chain-listener-failed', listener: name, ...failure });
        });
      const order = new AfterTip();
      subscriptions.push(
        // Without its tip the node no longer follows the chain: that is the node's chain error.
        feed('chain-tip', order.leader(tipListener(ctx, status, () => stopping)), (f) => status.onFailure(f)),
        ...ctx.chainListeners.map(({ name, listener }) => feed(name, order.follower(listener))),
      );
      await chain.ref.start();
    },
    async stop() {
      stopping = true;
      for (const s of subscriptions) s.unsubscribe();
      await chain?.stop();
    },
  };
}

/**
 * The actor's stream as ChainEvents, one subscription shared by every listener. A stream that
 * errors (the actor's thread died) ends the chain updates: that is reported, never thrown
 * into the event loop.
 */
function blockStream(ctx: NodeContext, status: ChainStatus, chain: ChainActor): Observable<ChainEvent> {
  return fromStreamEvents(chain.ref.events$()).pipe(
    catchError((err: Error) => {
      const message = `the chain stream failed: ${err.message}`;
      ctx.log.error({ err }, message);
      status.onFailure({ message });
      ctx.events.next({ type: 'chain-listener-failed', listener: 'chain-stream', message });
      return EMPTY;
    }),
    share(),
  );
}

/**
 * The node's chain tip, with the progress it shows: both in stream order, after the writes. A
 * write the disk refuses is waited on, not given up (storage-status.ts): the tip stays where it
 * was durably, the blocks after it wait in the stream, and once a write succeeds the tip goes
 * on from the block it stopped at.
 */
function tipListener(ctx: NodeContext, status: ChainStatus, stopping: () => boolean): ChainListener {
  const tip = ctx.get('tip');
  const storage = ctx.get('storage');
  // A write still waiting when the node stops is not a failure of the listener: it is left
  // pending (its subscription is gone) rather than reported as one.
  const durably = (write: () => Promise<void>) =>
    storage.untilDurable(write).catch((e: unknown) => {
      if (stopping()) return new Promise<void>(() => {});
      throw e;
    });
  return {
    blockConnected: (block, height) => durably(() => tip.blockConnected(block, height)),
    blockDisconnected: (header, height) => durably(() => tip.blockDisconnected(header, height)),
    syncProgress(p: SyncProgress) {
      if (!status.synced || !p.synced) {
        ctx.log.info(
          { height: p.height, tipHeight: p.tipHeight },
          p.synced
            ? `synced to the chain tip at height ${p.height}`
            : `syncing: block ${p.height} of ${p.tipHeight}`,
        );
      }
      status.onProgress(p);
      ctx.events.next({ type: 'sync-progress', height: p.height, tipHeight: p.tipHeight, synced: p.synced });
    },
  };
}
