/**
 * After step 7, the on-chain wallet (@lnkit/wallet): BIP 84 keys from the node's seed, its
 * coins in the node's store. It is one more chain listener: step 10 brings it to the chain tip
 * with the others and step 15 feeds it the block stream, so what it holds is the chain's up to
 * the same block as every other listener. Step 11 settles the fundings it built before a
 * restart, once the monitors say which channels carry on.
 *
 * The seed: the keys step has checked that `keys_seed` is the one this data dir belongs to
 * (it gives the recorded node id) and wiped its copy. The wallet reads it again here, checks
 * it gives the same node id (a file swapped in between would open another wallet), and wipes
 * it as soon as the wallet has derived its account keys: the seed lives for the length of
 * this call, is never logged, and the wallet keeps only its BIP 32 account keys.
 *
 * Every transaction the node broadcasts goes through the wallet from here on (the context's
 * `broadcaster` becomes `wallet.trackBroadcasts(broadcaster)`), so its own spends and change,
 * and payments to it, count as unconfirmed as soon as they leave.
 */
import { KeysManager, readSeed } from '@lnkit/keys';
import { Wallet } from '@lnkit/wallet';
import type { NodeComponent } from '../component.ts';
import { NodeError } from '../errors.ts';

export function walletStep(): NodeComponent {
  let wallet: Wallet | undefined;
  return {
    step: 7,
    name: 'wallet',
    async start(ctx) {
      const dataDir = ctx.config.dataDir;
      const nodeId = ctx.get('nodeId');
      // Where a new wallet starts following the chain: a new seed has no history before now.
      const birthday = await ctx.get('blockSource').getBestBlock();
      const found = readSeed(dataDir);
      if (!found) throw new NodeError('seed-missing', `keys_seed vanished from ${dataDir} during the start`);
      const seed = found.seed;
      try {
        if (Buffer.from(new KeysManager(seed).nodeId).toString('hex') !== nodeId)
          throw new NodeError(
            'seed-mismatch',
            `${found.path} changed during the start: it no longer gives node ${nodeId}; nothing was changed`,
          );
        wallet = await Wallet.open(ctx.get('store'), seed, {
          network: ctx.config.network,
          regtestPrefix: ctx.config.regtestAddressPrefix ?? 'bcrt',
          birthday,
        });
      } finally {
        seed.fill(0);
      }
      const w = wallet;
      const tip = w.bestBlock;
      ctx.log.info(
        { height: tip.height, hash: tip.hashHex },
        `wallet opened at height ${tip.height}; ${w.reservations().length} funding(s) pending from before`,
      );
      ctx.syncListeners.push({ name: 'wallet', at: () => w.atBlock() });
      ctx.chainListeners.push({ name: 'wallet', listener: w });
      ctx.set('broadcaster', w.trackBroadcasts(ctx.get('broadcaster')));
      ctx.set('wallet', w);
    },
    async stop() {
      // Its last write finishes before the store closes (step 4 stops after this one).
      await wallet?.close();
    },
  };
}
