import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BlockSource, type Broadcaster, type FeeEstimator, RpcBlockSource } from '@lnkit/chain-sync';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import { NodeBuilder, type NodeConfig, NodeError, SCHEMA_VERSION } from './index.ts';

let chain: TestChain;
const root = mkdtempSync(join(tmpdir(), 'lnkit-node-'));
before(async () => {
  chain = await startTestChain();
});
after(async () => {
  await chain.stop();
  rmSync(root, { recursive: true, force: true });
});

const config = (dataDir: string, over: Partial<NodeConfig> = {}): NodeConfig => ({
  dataDir,
  network: 'regtest',
  chain: { url: chain.rpcUrl, auth: { user: chain.rpcUser, password: chain.rpcPassword } },
  listen: null,
  placement: 'in-process',
  pollIntervalMs: 50,
  ...over,
});

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('the builder takes the user own pieces, and a node restarts from its data dir', async () => {
  const dataDir = join(root, 'pluggable');
  const rpcSource = new RpcBlockSource({
    url: chain.rpcUrl,
    auth: { user: chain.rpcUser, password: chain.rpcPassword },
  });
  let blocksFetched = 0;
  const source: BlockSource = {
    description: 'counting source',
    getBestBlock: () => rpcSource.getBestBlock(),
    getHeader: (h) => rpcSource.getHeader(h),
    getBlock: (h) => {
      blocksFetched++;
      return rpcSource.getBlock(h);
    },
  };
  const fees: FeeEstimator = { feeratePerKw: () => 1234n };
  const broadcaster: Broadcaster = {
    broadcastTransactions: async (txs) => txs.map(() => ({ txid: '00', accepted: true })),
  };
  const lines: { msg: string; actor?: string }[] = [];
  const logger = createRootLogger({
    level: 'info',
    destination: { write: (s: string) => lines.push(JSON.parse(s)) },
  });
  // The user's store lives apart from the data dir, so the chain tip found in it shows the
  // node wrote there and not to a store of its own.
  const storeDir = join(root, 'own-store');
  let store: Store | undefined;
  const build = async () => {
    store = await Store.open(storeDir, { schemaVersion: SCHEMA_VERSION, network: 'regtest' });
    return new NodeBuilder(config(dataDir))
      .withLogger(logger)
      .withFeeEstimator(fees)
      .withBroadcaster(broadcaster)
      .withBlockSource(source)
      .withStore(store)
      .build();
  };

  const start = await chain.height();
  let node = await build();
  assert.equal(node.feeEstimator, fees);
  assert.equal(node.broadcaster, broadcaster);
  const first = await node.info();
  assert.equal(first.blockHeight, start);
  await chain.mine(5);
  await until('the node to follow 5 blocks', async () =>
    (await node.info()).blockHeight === start + 5 ? true : undefined,
  );
  assert.ok(blocksFetched >= 5, 'blocks came through the given source');
  assert.ok(lines.some((l) => l.actor === 'node' && /listeners synchronised/.test(l.msg)));
  // The tip listener takes a block before its durable write resolves, so info() can show the
  // new height a moment before the store holds it: wait for the store rather than race it.
  await until('the chain tip of 5 blocks on to be stored', async () =>
    store?.db<{ height: number }>('meta', 'structured').get('chain-tip')?.height === start + 5
      ? true
      : undefined,
  );
  await node.stop();
  await store?.close();

  // Blocks mined while the node is down are caught up at start, with progress shown.
  await chain.mine(3);
  lines.length = 0;
  node = await build();
  const again = await node.info();
  assert.equal(again.nodeId, first.nodeId);
  assert.equal(again.blockHeight, start + 8);
  assert.ok(lines.some((l) => /syncing to the chain tip: block \d+ of \d+/.test(l.msg)));
  await node.stop();
  await store?.close();
});

test('a chain of another network or an unreachable chain is refused with a clear error', async () => {
  await assert.rejects(
    new NodeBuilder(config(join(root, 'wrong'), { network: 'bitcoin' }))
      .withLogger(createRootLogger({ level: 'silent' }))
      .build(),
    (e: NodeError) => e instanceof NodeError && e.code === 'wrong-chain' && /is not bitcoin/.test(e.message),
  );
  await assert.rejects(
    new NodeBuilder(
      config(join(root, 'down'), {
        chain: { url: 'http://127.0.0.1:1', auth: { user: 'u', password: 'p' } },
      }),
    )
      .withLogger(createRootLogger({ level: 'silent' }))
      .build(),
    (e: NodeError) =>
      e.code === 'chain-unreachable' && /127\.0\.0\.1:1/.test(e.message) && !/:p@/.test(e.message),
  );
});
