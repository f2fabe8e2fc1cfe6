import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  type Broadcaster,
  type BroadcastResult,
  type ConfirmationTarget,
  type FeeEstimator,
  RestBlockSource,
  RpcBlockSource,
} from '@lnkit/chain-sync';
import { createRootLogger } from '@lnkit/runtime';
import { recordDb, Store } from '@lnkit/store';
import { captureLogger, nextEvent } from '@lnkit/test-support';
import type { Observable } from 'rxjs';
import {
  CHAIN_TIP,
  chainTipRecord,
  NodeBuilder,
  NodeError,
  type NodeEvent,
  nodeStoreOptions,
} from './index.ts';
import { countingSource, inProcessRpc, nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();
const silent = () => createRootLogger({ level: 'silent' });

/** Subscribe first, then make blocks: resolves when the node has stored and shown `height`. */
const syncedAt = (events$: Observable<NodeEvent>, height: number) =>
  nextEvent(events$, (e) => e.type === 'sync-progress' && e.synced && e.height === height, {
    what: `the node to be synced at height ${height}`,
  });

test("the user's fee estimator, broadcaster, block source, store and logger are the ones the node uses; it restarts from its data dir", async () => {
  const source = countingSource(chain());
  const asked: ConfirmationTarget[] = [];
  const fees: FeeEstimator = {
    feeratePerKw: (target) => {
      asked.push(target);
      return 1234n;
    },
  };
  const sent: Uint8Array[][] = [];
  const answer: BroadcastResult[] = [{ txid: 'ab'.repeat(32), accepted: false, reason: 'the user said no' }];
  const broadcaster: Broadcaster = {
    broadcastTransactions: async (txs) => {
      sent.push(txs);
      return answer;
    },
  };
  const log = captureLogger({ level: 'info' });
  // The user's store lives apart from the data dir, so the chain tip found in it shows the
  // node wrote there and not to a store of its own.
  const storeDir = dir('own-store');
  const build = async () => {
    const store = await Store.open(storeDir, nodeStoreOptions('regtest'));
    const node = await new NodeBuilder(nodeConfig(chain(), dir('pluggable')))
      .withLogger(log.logger)
      .withFeeEstimator(fees)
      .withBroadcaster(broadcaster)
      .withBlockSource(source)
      .withStore(store)
      .build();
    return { node, store };
  };

  const start = await chain().height();
  let { node, store } = await build();
  const first = await node.info();
  assert.equal(first.blockHeight, start);
  const synced = syncedAt(node.events$, start + 5);
  const mined = await chain().mine(5);
  await synced;
  for (const hash of mined)
    assert.ok(source.blocks.includes(hash), `block ${hash} came through the given source`);
  assert.equal((await node.info()).blockHash, mined.at(-1));
  assert.equal(recordDb(store.db(CHAIN_TIP.db), chainTipRecord).get(CHAIN_TIP.key)?.height, start + 5);

  assert.equal(node.feeratePerKw('highPriority'), 1234n);
  assert.deepEqual(asked, ['highPriority']);
  const tx = Uint8Array.of(2, 0, 0, 0);
  assert.deepEqual(await node.broadcastTransactions([tx]), answer);
  assert.deepEqual(sent, [[tx]]);

  assert.ok(log.lines.some((l) => l.actor === 'node' && /listeners synchronised/.test(String(l.msg))));
  await node.stop();
  await store.close();

  // Blocks mined while the node is down are caught up at start, with progress shown.
  await chain().mine(3);
  log.lines.length = 0;
  ({ node, store } = await build());
  try {
    const again = await node.info();
    assert.equal(again.nodeId, first.nodeId);
    assert.equal(again.blockHeight, start + 8);
    assert.ok(log.lines.some((l) => /syncing to the chain tip: block \d+ of \d+/.test(String(l.msg))));
  } finally {
    await node.stop();
    await store.close();
  }
});

test('the default broadcaster sends through bitcoind, and stops sending once a block confirms it', async () => {
  // The chain's own coinbase coins mature after 100 blocks.
  const height = await chain().height();
  if (height < 101) await chain().mine(101 - height);
  const log = captureLogger({ level: 'info' });
  const node = await new NodeBuilder(nodeConfig(chain(), dir('defaults'))).withLogger(log.logger).build();
  try {
    assert.ok(node.feeratePerKw('background') >= 253n, 'never under the floor');
    const funding = await chain().signFunding(chain().walletScriptPubKey, 50_000n);
    assert.deepEqual(await node.broadcastTransactions([funding.rawTx]), [
      { txid: funding.txid, accepted: true },
    ]);
    assert.ok(((await chain().rpc('getrawmempool')) as string[]).includes(funding.txid), 'bitcoind has it');
    await chain().mine(1);
    await log.waitForLine(
      (l) => l.actor === 'broadcaster' && l.txid === funding.txid && /confirmed/.test(String(l.msg)),
      {
        what: 'the broadcaster to see its transaction confirmed',
      },
    );
  } finally {
    await node.stop();
  }
});

test('a chain of another network or an unreachable chain is refused with a clear error', async () => {
  await assert.rejects(
    new NodeBuilder(nodeConfig(chain(), dir('wrong'), { network: 'bitcoin' })).withLogger(silent()).build(),
    (e: NodeError) => e instanceof NodeError && e.code === 'wrong-chain' && /is not bitcoin/.test(e.message),
  );
  await assert.rejects(
    new NodeBuilder(
      nodeConfig(chain(), dir('down'), {
        chain: { url: 'http://127.0.0.1:1', auth: { user: 'u', password: 'p' } },
      }),
    )
      .withLogger(silent())
      .build(),
    (e: NodeError) =>
      e.code === 'chain-unreachable' && /127\.0\.0\.1:1/.test(e.message) && !/:p@/.test(e.message),
  );
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
      nodeConfig(chain(), dir('no-bitcoind'), { chain: { url, auth: { user: 'u', password: 'p' } } }),
    )
      .withLogger(silent())
      .withBlockSource(new RpcBlockSource(inProcessRpc(chain())))
      .withFeeEstimator({ feeratePerKw: () => 1000n })
      .withBroadcaster({
        broadcastTransactions: async (txs) => txs.map(() => ({ txid: '', accepted: true })),
      })
      .build();
    try {
      const synced = syncedAt(node.events$, (await chain().height()) + 2);
      await chain().mine(2);
      await synced;
    } finally {
      await node.stop();
    }
    assert.equal(requests, 0, 'nothing was asked of the configured bitcoind');
  } finally {
    await new Promise((r) => bitcoind.close(r));
  }
});

test("a node on bitcoind's REST source checks the network through it and follows the chain", async () => {
  const node = await new NodeBuilder(nodeConfig(chain(), dir('rest')))
    .withLogger(silent())
    .withBlockSource(new RestBlockSource({ url: chain().restUrl }))
    .build();
  try {
    const synced = syncedAt(node.events$, (await chain().height()) + 1);
    await chain().mine(1);
    await synced;
  } finally {
    await node.stop();
  }
  const wrong = new NodeBuilder(nodeConfig(chain(), dir('rest-wrong'), { network: 'testnet' }))
    .withLogger(silent())
    .withBlockSource(new RestBlockSource({ url: chain().restUrl }));
  await assert.rejects(
    wrong.build(),
    (e: NodeError) => e.code === 'wrong-chain' && e.message.includes(chain().restUrl),
  );
});
