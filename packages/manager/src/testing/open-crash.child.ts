/**
 * One side of a channel open in a process of its own, for the test that SIGKILLs it in the
 * middle of the open (open-crash.test.ts): a ChannelManager on an lmdb data dir whose peer is
 * the parent, the peer's frames crossing IPC as bytes. With `crash`, its persister kills the
 * process right after the first monitor update (channel-opened) is durable — before the
 * fundee's funding_signed or the funder's broadcast, the effects that follow that persist.
 * Test only: the node's seed is on argv.
 *
 * argv: <dataDir> <seed hex> <peer node id hex> <crash|no-crash> ; IPC with advanced serialization.
 */

import { KeysManager } from '@lnkit/keys';
import type { ChannelMonitorUpdate } from '@lnkit/monitor';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { p2wpkh, Transaction } from '@lnkit/tx';
import { Subject } from 'rxjs';
import { ChannelManager } from '../channel-manager.ts';
import { MANAGER_INIT_FEATURES } from '../features.ts';
import { FakeWallet } from '../manager-test-kit.ts';
import { LmdbMonitorPersister } from '../monitor-persister.ts';
import type { PeerLink, PeerLinkEvent } from '../peer-link.ts';
import { LmdbChannelSnapshotStore } from '../snapshot.ts';

export type ToChild =
  | { type: 'connect' }
  | { type: 'frame'; raw: Uint8Array }
  | { type: 'open'; amountSat: bigint }
  | { type: 'block'; height: number; rawTxs: Uint8Array[] }
  | { type: 'list' }
  | { type: 'stop' };

const BLOCK_HASH = (h: number) => h.toString(16).padStart(64, '0');

const [dataDir, seedHex, peerId, crash] = process.argv.slice(2) as [string, string, string, string];
const send = (m: unknown) => process.send?.(m);
const keys = new KeysManager(Uint8Array.from(Buffer.from(seedHex, 'hex')));
const FEATURES_HEX = Buffer.from(MANAGER_INIT_FEATURES.toBytes()).toString('hex');

/** The parent as the only peer: frames out over IPC, frames in from IPC. */
const messages = new Subject<{ nodeId: string; raw: Uint8Array }>();
const events = new Subject<PeerLinkEvent>();
let connected = false;
const link: PeerLink = {
  async send(nodeId, raw) {
    if (!connected || nodeId !== peerId) throw new Error('not-connected');
    send({ type: 'frame', raw });
  },
  messages$: () => messages.asObservable(),
  events$: () => events.asObservable(),
  listPeers: () => (connected ? [{ nodeId: peerId, features: { hex: FEATURES_HEX } }] : []),
};

const store = await Store.open(dataDir, { schemaVersion: 1 });
const real = new LmdbMonitorPersister(store);
const persister = {
  async persist(update: ChannelMonitorUpdate) {
    const status = await real.persist(update);
    // The crash of interest: the channel-opened update on disk, nothing that depends on it out yet.
    if (crash === 'crash' && update.updateId === 1n && status.status === 'completed')
      process.kill(process.pid, 'SIGKILL');
    return status;
  },
};
const shutdown = p2wpkh(keys.walletPublicKey(0n));
const manager = new ChannelManager({
  keys,
  peers: link,
  persister,
  broadcaster: {
    async broadcastTransactions(txs) {
      send({ type: 'broadcast', raws: txs });
      return txs.map((t) => ({
        txid: Transaction.fromBuffer(Buffer.from(t)).getId(),
        accepted: true as const,
      }));
    },
  },
  feeEstimator: { feeratePerKw: () => 253n },
  wallet: new FakeWallet(),
  chainHash: new Uint8Array(32).fill(6),
  bestHeight: 500,
  bestBlockHash: BLOCK_HASH(500),
  shutdownScript: () => shutdown,
  logger: createRootLogger({ level: 'silent' }),
  snapshot: new LmdbChannelSnapshotStore(store),
  monitors: () => real.readMonitors({ hashHex: BLOCK_HASH(500), height: 500 }),
});
manager.events$.subscribe((event) => send({ type: 'event', event }));
await manager.start();

let queue: Promise<unknown> = Promise.resolve();
process.on('message', (m: ToChild) => {
  queue = queue.then(async () => {
    if (m.type === 'connect') {
      connected = true;
      events.next({ type: 'connected', nodeId: peerId, features: { hex: FEATURES_HEX } });
    } else if (m.type === 'frame') messages.next({ nodeId: peerId, raw: Uint8Array.from(m.raw) });
    else if (m.type === 'open')
      // Answered only by what follows on the wire and the chain; a crash never answers it.
      manager
        .openChannel(peerId, m.amountSat)
        .catch((err: unknown) => send({ type: 'open-failed', message: String(err) }));
    else if (m.type === 'block') {
      const txdata = m.rawTxs.map((raw) => Transaction.fromBuffer(Buffer.from(raw)));
      await manager.blockConnected({ txdata, header: { hashHex: BLOCK_HASH(m.height) } }, m.height);
      await manager.idle();
      send({ type: 'ack' });
    } else if (m.type === 'list') {
      await manager.idle();
      send({ type: 'channels', channels: manager.listChannels() });
    } else {
      await manager.stop();
      await store.close();
      process.disconnect();
    }
  });
});
send({ type: 'ready' });
