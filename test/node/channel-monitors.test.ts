/**
 * The node and its channel monitors across a restart: a monitor persisted in the data dir is
 * read at start (step 8), brought to the chain tip (step 10) and watched by the ChainMonitor
 * (step 11), then fed the block stream (step 15); and the fundings the wallet built before the
 * restart are settled by the monitors: broadcast when one stands on them, released otherwise.
 * Monitors are made with @lnkit/monitor's channel fixtures (two real signers).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Broadcaster } from '@lnkit/chain-sync';
import { createMonitor, MonitorStore } from '@lnkit/monitor';
import { NodeBuilder, nodeStoreOptions } from '@lnkit/node';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { ChannelFixture } from '../../packages/monitor/src/test-fixtures.ts';
import { nodeConfig, useTestChain } from '../../packages/node/src/test-fixtures.ts';

const { chain, dir } = useTestChain();
const silent = () => createRootLogger({ level: 'silent' });
const build = (name: string, b?: (nb: NodeBuilder) => NodeBuilder) => {
  const builder = new NodeBuilder(nodeConfig(chain(), dir(name))).withLogger(silent());
  return (b ? b(builder) : builder).build();
};
const tipOf = async () => {
  const height = await chain().height();
  return { height, hashHex: (await chain().rpc('getblockhash', [height])) as string };
};

test('a monitor persisted in the data dir is read at start, brought to the tip and watched', async () => {
  await (await build('monitors')).stop();
  const at = await tipOf();
  const fx = new ChannelFixture({ bestBlock: at });
  const { update } = await fx.initialUpdate();
  const monitor = createMonitor(update, at);
  const store = await Store.open(dir('monitors'), nodeStoreOptions('regtest'));
  assert.equal((await new MonitorStore(store).persistNewChannel(monitor)).status, 'completed');
  await store.close();
  await chain().mine(2);

  const node = await build('monitors');
  try {
    const watched = await node.chainMonitor.monitors();
    assert.deepEqual(
      watched.map((m) => m.fundingKey),
      [monitor.fundingKey],
    );
    assert.equal(watched[0]?.bestBlock.height, at.height + 2, 'brought to the tip in step 10');
    assert.ok(await node.chainMonitor.monitor(Buffer.from(monitor.channel.channelId).toString('hex')));
    const [next] = await chain().mine(1);
    await waitFor(
      async () => (await node.chainMonitor.monitor(monitor.fundingKey))?.bestBlock.hashHex === next,
      {
        what: 'the watched monitor to see the next block',
      },
    );
  } finally {
    await node.stop();
  }
  // watchChannel wrote it at the tip it was brought to.
  const again = await Store.open(dir('monitors'), nodeStoreOptions('regtest'));
  try {
    const [stored] = await new MonitorStore(again).readAll();
    assert.ok((stored?.bestBlock.height ?? 0) >= at.height + 2);
  } finally {
    await again.close();
  }
});

test('fundings built before a restart: broadcast when a monitor stands on them, released otherwise', async () => {
  const sent: Uint8Array[] = [];
  const broadcaster: Broadcaster = {
    broadcastTransactions: async (txs) => {
      sent.push(...txs);
      return txs.map(() => ({ txid: '', accepted: true }));
    },
  };
  const withRecorder = (b: NodeBuilder) => b.withBroadcaster(broadcaster);
  let node = await build('fundings', withRecorder);
  const script = await node.coinbaseScript();
  const mined = await chain().mine(101, script);
  await waitFor(() => node.wallet.bestBlock.hashHex === mined.at(-1), {
    what: 'the wallet to take the blocks',
  });
  const p2wsh = (n: number) => Uint8Array.of(0x00, 0x20, ...new Uint8Array(32).fill(n));
  const fund = (n: number) =>
    node.wallet.fundingTransaction({ outputScript: p2wsh(n), amountSat: 100_000n, feerateSatPerKw: 253n });
  const orphan = await fund(1);
  const channel = await fund(2);
  const spendable = node.wallet.balance().spendableSat;
  await node.stop();

  // The funder's monitor for the second one was made durable (as before funding_signed's broadcast).
  const at = await tipOf();
  const fx = new ChannelFixture({
    bestBlock: at,
    fundingOutpoint: {
      txid: Uint8Array.from(Buffer.from(channel.reservation.txid, 'hex').reverse()),
      vout: channel.outputIndex,
    },
  });
  const store = await Store.open(dir('fundings'), nodeStoreOptions('regtest'));
  await new MonitorStore(store).persistNewChannel(createMonitor((await fx.initialUpdate()).update, at));
  await store.close();

  node = await build('fundings', withRecorder);
  try {
    assert.deepEqual(
      sent.map((tx) => Buffer.from(tx).toString('hex')),
      [Buffer.from(channel.reservation.rawTx).toString('hex')],
      'only the funding a monitor stands on is broadcast',
    );
    assert.deepEqual(
      node.wallet.reservations().map((r) => r.txid),
      [channel.reservation.txid],
    );
    assert.ok(node.wallet.balance().spendableSat > spendable, 'the orphan funding’s coins are free again');
    assert.ok(!node.wallet.reservations().some((r) => r.txid === orphan.reservation.txid));
  } finally {
    await node.stop();
  }
});
