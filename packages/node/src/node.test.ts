import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type BlockSource,
  type Broadcaster,
  type FeeEstimator,
  type JsonRpc,
  RestBlockSource,
  RpcBlockSource,
} from '@lnkit/chain-sync';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
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
  // info() shows a block only once its write is durable: the store holds it already.
  assert.equal(store?.db<{ height: number }>('meta', 'structured').get('chain-tip')?.height, start + 5);
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

/** The test chain's JSON-RPC called in this process: a block source that is not bitcoind's URL. */
const inProcessRpc = (): JsonRpc => ({
  url: 'bcoin (in-process)',
  call: <T>(method: string, params?: unknown[]) => chain.rpc(method, params) as Promise<T>,
});

test('with its own block source, fee estimator and broadcaster the node never touches bitcoind RPC', async () => {
  // The configured bitcoind: it counts every request and answers none usefully.
  let requests = 0;
  const bitcoind = createServer((_req, res) => {
    requests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => bitcoind.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(bitcoind.address() as AddressInfo).port}`;
  try {
    const node = await new NodeBuilder(
      config(join(root, 'no-bitcoind'), { chain: { url, auth: { user: 'u', password: 'p' } } }),
    )
      .withLogger(createRootLogger({ level: 'silent' }))
      .withBlockSource(new RpcBlockSource(inProcessRpc()))
      .withFeeEstimator({ feeratePerKw: () => 1000n })
      .withBroadcaster({
        broadcastTransactions: async (txs) => txs.map(() => ({ txid: '', accepted: true })),
      })
      .build();
    try {
      const start = await chain.height();
      await chain.mine(2);
      await waitFor(async () => (await node.info()).blockHeight === start + 2, {
        what: 'the node to follow 2 blocks through its own source',
      });
    } finally {
      await node.stop();
    }
    assert.equal(requests, 0, 'nothing was asked of the configured bitcoind');
  } finally {
    await new Promise((r) => bitcoind.close(r));
  }
});

test("a node on bitcoind's REST source checks the network through it and follows the chain", async () => {
  const node = await new NodeBuilder(config(join(root, 'rest')))
    .withLogger(createRootLogger({ level: 'silent' }))
    .withBlockSource(new RestBlockSource({ url: chain.restUrl }))
    .build();
  try {
    const start = await chain.height();
    await chain.mine(1);
    await waitFor(async () => (await node.info()).blockHeight === start + 1, {
      what: 'the node to follow a block through REST',
    });
  } finally {
    await node.stop();
  }
  const wrong = new NodeBuilder(config(join(root, 'rest-wrong'), { network: 'testnet' }))
    .withLogger(createRootLogger({ level: 'silent' }))
    .withBlockSource(new RestBlockSource({ url: chain.restUrl }));
  await assert.rejects(
    wrong.build(),
    (e: NodeError) => e.code === 'wrong-chain' && e.message.includes(chain.restUrl),
  );
});
