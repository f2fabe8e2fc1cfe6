/**
 * The wallet and the ChainMonitor in the node: where their steps sit, and both brought to the
 * chain tip by step 10 before the chain stream starts, then fed by it. Monitors read from a
 * data dir and the fundings left from a restart: test/node/channel-monitors.test.ts (they need
 * the monitor package's channel fixtures).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import { NodeBuilder } from './index.ts';
import { nodeSteps } from './steps/index.ts';
import { nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();
const silent = () => createRootLogger({ level: 'silent' });
const build = (name: string, b?: (nb: NodeBuilder) => NodeBuilder) => {
  const builder = new NodeBuilder(nodeConfig(chain(), dir(name))).withLogger(silent());
  return (b ? b(builder) : builder).build();
};
/** bcoin regtest's block subsidy: 50 BTC, halved every 150 blocks. */
const subsidySat = (height: number) => 5_000_000_000n >> BigInt(Math.floor(height / 150));
const sum = (heights: number[]) => heights.reduce((s, h) => s + subsidySat(h), 0n);

test('the steps run in the guide order: keys, wallet and monitors before step 10; watched before the peers and the chain stream', () => {
  const names = nodeSteps().map((c) => c.name);
  const at = (name: string) => {
    const i = names.indexOf(name);
    assert.ok(i >= 0, `${name} is a step`);
    return i;
  };
  assert.ok(at('persist') < at('monitor persister'));
  assert.ok(at('monitor persister') < at('chain monitor'));
  assert.ok(at('keys') < at('wallet'), 'the wallet needs the seed the keys step checked');
  assert.ok(at('wallet') < at('sync to the chain tip'));
  assert.ok(at('read channel monitors') < at('sync to the chain tip'));
  assert.ok(at('sync to the chain tip') < at('monitors to the chain monitor'));
  assert.ok(
    at('monitors to the chain monitor') < at('peer manager'),
    'watched before any peer could reach a channel',
  );
  assert.ok(at('monitors to the chain monitor') < at('chain updates'));
});

test('the wallet and the ChainMonitor are brought to the tip in step 10, before the chain stream, then fed by it', async () => {
  let node = await build('wallet-sync');
  const script = await node.coinbaseScript();
  assert.match(await node.newAddress(), /^bcrt1q[02-9ac-hj-np-z]{38}$/, 'a BIP 84 regtest address');
  await node.stop();

  // Mined while the node is down: only step 10 can give these blocks to the wallet, since the
  // chain stream starts at the tip step 10 reached.
  const from = await chain().height();
  await chain().mine(3, script);
  node = await build('wallet-sync');
  try {
    const tip = await node.info();
    assert.deepEqual(node.wallet.bestBlock, { height: tip.blockHeight, hashHex: tip.blockHash });
    assert.deepEqual(await node.chainMonitor.bestBlock(), {
      height: tip.blockHeight,
      hashHex: tip.blockHash,
    });
    assert.equal(node.wallet.balance().immatureSat, sum([from + 1, from + 2, from + 3]));
    assert.deepEqual(await node.balance(), {
      onchain: { confirmedSat: 0n, unconfirmedSat: 0n, pendingSweepSat: 0n },
      lightning: { localMsat: 0n },
    });

    const [next] = await chain().mine(1, script);
    await waitFor(() => node.wallet.bestBlock.hashHex === next, {
      what: 'the wallet to take the next block',
    });
    assert.equal(node.wallet.balance().immatureSat, sum([from + 1, from + 2, from + 3, from + 4]));
    await waitFor(async () => (await node.chainMonitor.bestBlock()).hashHex === next, {
      what: 'the ChainMonitor to take the next block',
    });
  } finally {
    await node.stop();
  }
});
