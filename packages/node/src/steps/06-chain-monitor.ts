/**
 * Step 6, ChainMonitor: the actor that owns every ChannelMonitor (@lnkit/monitor's
 * chainMonitorActor). It persists each monitor update through step 4's persister, and sees
 * every block: step 10 brings it to the chain tip with the other listeners, step 15 feeds it
 * the block stream, and step 11 hands it the monitors read at start. The channel manager
 * (step 9) reaches it from the context (`chainMonitor`) as its persister, and takes each block
 * on its listener, right after it.
 *
 * It runs in-process, on the node's thread, whatever `placement` says:
 * - its persister is an object (the MonitorStore over the node's open Store, or the user's
 *   own), and an object cannot cross threads; in a worker it would have to open the data dir
 *   a second time, where the node's storage watcher would not see its writes (a full disk) and
 *   a user's persister could not follow it;
 * - a worker actor is restarted after a crash by running `create` again, which would bring it
 *   back watching no channel at all: DESIGN.md wants it never restarted into a state older
 *   than what was persisted, which a restart would have to rebuild (readAll, sync, watch);
 * - its work per block is a lookup of the block's inputs by funding outpoint: small beside
 *   the chain actor's, which does the fetching and parsing in its own thread.
 * As an actor it still has a mailbox (one call at a time), metrics and a profile, and moving
 * it to a worker later is a config change (`store` in place of `persister`).
 *
 * Where it starts: the node's durable chain tip (the block the tip listener starts from), or
 * on a first start the source's tip. New channels' monitors start at its best block.
 */
import type { ChainListener } from '@lnkit/chain-sync';
import {
  type ChannelMonitor,
  chainMonitorActor,
  type EnforcementOptions,
  type MonitorEvent,
} from '@lnkit/monitor';
import { recordDb } from '@lnkit/store';
import type { Subscription } from 'rxjs';
import type { NodeComponent } from '../component.ts';
import type { ChainMonitorActor, NodeContext } from '../context.ts';
import { CHAIN_TIP, chainTipRecord } from '../records.ts';

export function chainMonitorStep(): NodeComponent {
  let chainMonitor: ChainMonitorActor | undefined;
  let events: Subscription | undefined;
  return {
    step: 6,
    name: 'chain monitor',
    async start(ctx) {
      const stored = recordDb(ctx.get('store').db(CHAIN_TIP.db), chainTipRecord).get(CHAIN_TIP.key);
      const bestBlock = stored ?? (await ctx.get('blockSource').getBestBlock());
      const enforcement = claimEnforcement(ctx);
      chainMonitor = await ctx.supervisor.spawn(chainMonitorActor, {
        ...ctx.actorOptions(),
        placement: 'in-process',
        config: { bestBlock, persister: ctx.get('monitorPersister'), enforcement },
      });
      // Subscribed before anything is watched or fed (the stream is hot).
      events = logMonitorEvents(ctx, chainMonitor);
      const cm = chainMonitor;
      const listener = chainMonitorListener(cm);
      ctx.syncListeners.push({
        name: 'chain-monitor',
        at: async () => {
          const at = await cm.ref.bestBlock();
          return { listener, bestBlockHash: at.hashHex, bestBlockHeight: at.height };
        },
      });
      ctx.chainListeners.push({ name: 'chain-monitor', listener });
      ctx.set('chainMonitor', chainMonitor);
      ctx.set('enforcement', enforcement);
    },
    async stop() {
      // Waits for the write under way; before the store closes (step 4 stops after this one).
      await chainMonitor?.stop();
      events?.unsubscribe();
    },
  };
}

/**
 * What the ChainMonitor claims a closed channel's outputs with. Each piece is read when a claim is
 * made, long after this step: the broadcaster the wallet wraps and the wallet itself (step 7),
 * the claim signer (step 9).
 *
 * Fee inputs: anchors HTLC transactions are zero-fee, and the child that bumps our anchors
 * commitment pays for both, so each takes a wallet coin (its change back to the wallet), signed
 * inside the wallet by that coin's key alone. The claim leaves through the wallet's broadcaster:
 * once the mempool has it the wallet counts the coin spent and funds or sends with it no more,
 * yet still offers it for claims (Wallet.feeInputCoins), so the claim made again or bumped spends
 * the same coin and replaces itself in the wallet as in the mempool. Only between a claim's
 * planning and its broadcast can the wallet take the same coin: whichever the mempool has first
 * stays; a claim refused is made again at the next block with another coin, a funding refused
 * releases its coins (Wallet.broadcast).
 */
function claimEnforcement(ctx: NodeContext): EnforcementOptions {
  // A user's signer provider without claimSigner signs no claim: the ChainMonitor is given no
  // claim signer, and says so once for each channel with outputs to claim, not at every block.
  const provider = ctx.supplied.signerProvider;
  const signsClaims = provider === undefined || typeof provider.claimSigner === 'function';
  if (!signsClaims)
    ctx.log.warn(
      "the signer provider has no claimSigner(channelKeyIndex, walletPathOf): on-chain claims will not be signed, so a closed channel's outputs will not be claimed (the counterparty can take an HTLC's, or a revoked commitment's, once its timelock allows)",
    );
  return {
    broadcaster: {
      broadcastTransactions: (txs) => ctx.get('broadcaster').broadcastTransactions(txs),
    },
    feeEstimator: ctx.get('feeEstimator'),
    destinationScript: () => ctx.get('wallet').coinbaseScript(),
    ...(signsClaims ? { claimSigner: (m: ChannelMonitor) => ctx.get('claimSigner')(m) } : {}),
    feeInputs: () => ctx.get('wallet').feeInputCoins(),
    feeInputSigner: {
      signFeeInput: (input, sighash) => ctx.get('wallet').signInputSighash(input.pubkey, sighash),
    },
  };
}

/**
 * The ChainMonitor as a ChainListener, for synchronizeListeners (step 10) and the block stream
 * (step 15). The actor takes a block's transactions as bytes, as they cross threads.
 */
export function chainMonitorListener(cm: ChainMonitorActor): ChainListener {
  return {
    blockConnected: (block, height) =>
      cm.ref.blockConnected(
        { hashHex: block.header.hashHex, prevHashHex: block.header.prevHashHex },
        height,
        block.txdata.map((tx) => new Uint8Array(tx.toBuffer())),
      ),
    blockDisconnected: (header, height) =>
      cm.ref.blockDisconnected({ hashHex: header.hashHex, prevHashHex: header.prevHashHex }, height),
  };
}

/** What the chain did to a channel, in the node's log (the manager sees the spend in its own blocks). */
function logMonitorEvents(ctx: NodeContext, cm: ChainMonitorActor): Subscription {
  return cm.ref.events$().subscribe({
    next(e: MonitorEvent) {
      const channel = e.fundingKey;
      switch (e.type) {
        case 'FundingSpent':
          ctx.log.warn(
            { channel, kind: e.kind, txid: e.txidHex, height: e.height },
            `the funding output of channel ${channel} was spent (${e.kind}) by ${e.txidHex} at height ${e.height}`,
          );
          break;
        case 'FundingSpendReorged':
          ctx.log.warn(
            { channel, txid: e.txidHex, height: e.height },
            `the spend of channel ${channel}'s funding output was reorged out`,
          );
          break;
        case 'FundingSpendIrrevocable':
          ctx.log.info(
            { channel, txid: e.txidHex, height: e.height },
            `the spend of channel ${channel}'s funding output is irrevocable`,
          );
          break;
        case 'MonitorUpdateCompleted':
          ctx.log.debug({ channel, updateId: e.updateId.toString() }, 'monitor update completed');
          break;
        case 'ClaimConflicted':
          // A claim of ours that can never confirm: the wallet stops counting its fee coin spent and its change.
          void Promise.resolve()
            .then(() => ctx.get('wallet').abandonTransaction(e.txidHex))
            .then(
              (known) =>
                known &&
                ctx.log.info(
                  { channel, txid: e.txidHex },
                  `claim ${e.txidHex} will never confirm: the wallet forgot it`,
                ),
              (err: unknown) =>
                ctx.log.warn(
                  { channel, txid: e.txidHex, err: (err as Error).message },
                  'a void claim could not be abandoned',
                ),
            );
          break;
        // MonitorUpdateFailed: the ChainMonitor logs it itself, with the reason.
      }
    },
    error(err: Error) {
      ctx.log.error({ err: err.message }, `the chain monitor's event stream failed: ${err.message}`);
    },
  });
}
