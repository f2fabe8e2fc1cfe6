/**
 * A holder node's ChainMonitor in a process of its own, for the test that SIGKILLs it in the
 * middle of a force close (chain-monitor-claims.test.ts). It opens the data dir, reads back
 * every monitor (and its resolution), watches them, and then takes blocks over IPC; what it
 * broadcasts and what it says go back to the parent. Test only: the holder's seed is on argv.
 *
 * argv: <dataDir> <holder seed hex> <start block json> ; IPC with advanced serialization.
 */
import { KeysManager } from '@lnkit/keys';
import { Store } from '@lnkit/store';
import { ChannelKeysClaimSigner, p2wpkh, Transaction } from '@lnkit/tx';
import { ChainMonitor } from '../chain-monitor.ts';
import { MonitorStore } from '../monitor-store.ts';
import type { BestBlock, ChannelMonitor } from '../types.ts';

type Header = { hashHex: string; prevHashHex: string };
type Message =
  | { type: 'watch'; monitor: ChannelMonitor }
  | { type: 'block'; header: Header; height: number; rawTxs: Uint8Array[] }
  | { type: 'disconnect'; header: Header; height: number }
  | { type: 'stop' };

const [dataDir, seedHex, startJson] = process.argv.slice(2) as [string, string, string];
const keys = new KeysManager(Uint8Array.from(Buffer.from(seedHex, 'hex')));
const send = (m: unknown) => process.send?.(m);

const store = await Store.open(dataDir, { schemaVersion: 1 });
const persister = new MonitorStore(store);
const monitors = await persister.readAll();
// Where the block stream starts: the oldest best block a monitor has written (what a restart replays from).
const start: BestBlock = monitors.reduce<BestBlock>(
  (at, m) => (m.bestBlock.height < at.height ? m.bestBlock : at),
  monitors[0]?.bestBlock ?? (JSON.parse(startJson) as BestBlock),
);
const cm = new ChainMonitor({
  persister,
  bestBlock: start,
  broadcaster: {
    async broadcastTransactions(txs) {
      send({ type: 'broadcast', raws: txs });
      return txs.map((raw) => ({
        txid: Transaction.fromBuffer(Buffer.from(raw)).getId(),
        accepted: true as const,
      }));
    },
  },
  feeEstimator: { feeratePerKw: () => 1000n },
  destinationScript: async () => p2wpkh(keys.walletPublicKey(1n)),
  claimSigner: (m) => new ChannelKeysClaimSigner(keys.deriveChannelKeys(m.info.channelKeyIndex)),
});
cm.events$.subscribe((event) => send({ type: 'event', event }));
for (const m of monitors) await cm.watchChannel(m);

let queue: Promise<unknown> = Promise.resolve();
process.on('message', (m: Message) => {
  queue = queue.then(async () => {
    if (m.type === 'watch') await cm.watchChannel(m.monitor);
    else if (m.type === 'block')
      await cm.blockConnected(
        m.header,
        m.height,
        m.rawTxs.map((raw) => Transaction.fromBuffer(Buffer.from(raw))),
      );
    else if (m.type === 'disconnect') await cm.blockDisconnected(m.header, m.height);
    else {
      await cm.stop();
      await store.close();
      process.disconnect();
      return;
    }
    await cm.settled();
    send({ type: 'ack', bestBlock: cm.bestBlock });
  });
});
send({ type: 'ready', bestBlock: cm.bestBlock });
