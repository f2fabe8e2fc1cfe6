/**
 * The copying persister in a node: node A is built with it (its monitors in lnkit's store and in
 * a second directory), node B is a plain lnkit node, both on one bcoin chain. A opens a channel
 * to B; the copy holds the channel's monitor, and rebuilt from the copy alone (the monitor, then
 * its updates in order) it is the monitor the node's ChainMonitor watches, before and after the
 * channel is ready and after it closes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  applyMonitorUpdate,
  type ChannelMonitor,
  decodeMonitor,
  decodeMonitorUpdate,
  MonitorStore,
} from '@lnkit/monitor';
import { type LnkitNode, NodeBuilder, type NodeConfig, nodeStoreOptions } from '@lnkit/node';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import { CopyingPersister } from './copying-persister.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-copying-'));
let chain: TestChain;
let store: Store;
let persister: CopyingPersister;
let a: LnkitNode;
let b: LnkitNode;

const config = (name: string): NodeConfig => ({
  dataDir: join(root, name),
  network: 'regtest',
  chain: { url: chain.rpcUrl, auth: { user: chain.rpcUser, password: chain.rpcPassword } },
  listen: { host: '127.0.0.1', port: 0 },
  placement: 'in-process',
  pollIntervalMs: 50,
});
const logger = () => createRootLogger({ level: 'silent' });

before(async () => {
  chain = await startTestChain();
  await chain.activateSegwit();
  store = await Store.open(join(root, 'a'), nodeStoreOptions('regtest'));
  persister = new CopyingPersister(new MonitorStore(store), join(root, 'copy'));
  a = await new NodeBuilder(config('a'))
    .withLogger(logger())
    .withStore(store)
    .withMonitorPersister(persister)
    .build();
  b = await new NodeBuilder(config('b')).withLogger(logger()).build();
  await chain.fundScript(await a.coinbaseScript(), 2_000_000n);
  await chain.mine(1);
  await waitFor(() => a.wallet.balance().spendableSat === 2_000_000n, { what: "A's wallet funded" });
  await a.connect(b.nodeId, '127.0.0.1', (await b.info()).listening!.port);
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await store?.close();
  await chain?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The monitor as the copy alone has it: the whole monitor, then each later update in id order. */
function fromCopy(folder: string): ChannelMonitor {
  const read = (name: string) => Uint8Array.from(readFileSync(join(folder, name)));
  const names = readdirSync(folder).sort();
  let monitor = decodeMonitor(read('monitor.bin'));
  for (const name of names.filter((n) => n.startsWith('update-')))
    monitor = applyMonitorUpdate(monitor, decodeMonitorUpdate(read(name)));
  return monitor;
}

/** The monitor the node's ChainMonitor watches, by funding outpoint or channel id. */
async function watched(id: string): Promise<ChannelMonitor> {
  const m = await a.chainMonitor.monitor(id);
  assert.ok(m, `the ChainMonitor watches ${id}`);
  return m;
}

test("the copy holds every channel monitor the node's persister writes, up to its latest update", async () => {
  const opened = await a.openChannel(b.nodeId, 1_000_000n, { pushMsat: 5_000_000n });
  const [channel] = await a.listChannels();
  const { fundingKey } = await watched(opened.channelId);
  assert.ok(fundingKey.startsWith(`${opened.fundingTxid}:`));
  const folder = persister.folderOf({ fundingKey });

  let copy = fromCopy(folder);
  assert.equal(copy.fundingKey, fundingKey);
  assert.equal(Buffer.from(copy.channel.channelId).toString('hex'), channel?.channelId);
  assert.equal(copy.latestUpdateId, (await watched(fundingKey)).latestUpdateId);

  await chain.mine(3);
  await waitFor(async () => (await a.listChannels())[0]?.state === 'ready', {
    what: 'the channel ready',
    timeoutMs: 60_000,
  });
  await a.closeChannel(opened.channelId);
  await waitFor(async () => (await a.listChannels())[0]?.closingTxid, {
    what: 'the close agreed',
    timeoutMs: 60_000,
  });
  await chain.mine(1);
  await waitFor(async () => (await a.listChannels())[0]?.state === 'closed', {
    what: 'the channel closed',
    timeoutMs: 60_000,
  });

  const latest = await watched(fundingKey);
  copy = fromCopy(folder);
  assert.equal(copy.latestUpdateId, latest.latestUpdateId, 'every update reached the copy');
  assert.deepEqual(copy.channel, latest.channel);
  // lnkit's own store has the same monitor: the copy is a second copy, not the only one.
  const [stored] = await new MonitorStore(store).readAll();
  assert.equal(stored?.latestUpdateId, latest.latestUpdateId);
});
