import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  BitcoindBroadcaster,
  BitcoindFeeEstimator,
  BitcoindRpcClient,
  type BlockData,
  type BlockHeaderData,
  type BlockSource,
  type ChainEvent,
  type ChainListener,
  ChainPoller,
  ChainSyncError,
  type Confirm,
  ConfirmDriver,
  FEERATE_FLOOR_SAT_PER_KW,
  type RelevantTxid,
  RpcBlockSource,
  subscribeListener,
  synchronizeListeners,
  WatchedFilter,
} from '@lnkit/chain-sync';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import { Transaction } from 'bitcoinjs-lib';

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
  await chain.mine(101); // matured coinbase for the broadcast tests
});
after(async () => {
  await chain.stop();
});

const auth = () => ({ user: chain.rpcUser, password: chain.rpcPassword });
const rpcSource = () => new RpcBlockSource({ url: chain.rpcUrl, auth: auth() });

/** A listener that keeps its own view of the chain (height -> hash) and a log of what it was told. */
class RecordingListener implements ChainListener {
  readonly hashes = new Map<number, string>();
  readonly log: string[] = [];
  blockConnected(block: BlockData, height: number): void {
    assert.equal(
      block.header.prevHashHex,
      this.hashes.get(height - 1) ?? block.header.prevHashHex,
      'connects on its own tip',
    );
    this.hashes.set(height, block.header.hashHex);
    this.log.push(`+${height}`);
  }
  blockDisconnected(header: BlockHeaderData, height: number): void {
    assert.equal(this.hashes.get(height), header.hashHex, 'disconnects its own tip');
    this.hashes.delete(height);
    this.log.push(`-${height}`);
  }
  get best(): { hash: string; height: number } {
    const height = Math.max(...this.hashes.keys());
    return { hash: this.hashes.get(height) ?? '', height };
  }
}

async function assertOnActiveChain(listener: RecordingListener): Promise<void> {
  const tip = await chain.height();
  assert.equal(listener.best.height, tip);
  for (const [height, hash] of listener.hashes)
    assert.equal(hash, await chain.rpc('getblockhash', [height]), `height ${height}`);
}

test('a listener stopped at height h and restarted after a reorg below h resumes correctly', async () => {
  const source = rpcSource();
  const base = await chain.height();
  const baseHash = (await chain.rpc('getblockhash', [base])) as string;
  // The "manager" follows the chain to h = base + 10, then the node stops.
  const manager = new RecordingListener();
  manager.hashes.set(base, baseHash);
  await chain.mine(10);
  await synchronizeListeners(source, [{ listener: manager, bestBlockHash: baseHash, bestBlockHeight: base }]);
  const h = base + 10;
  assert.equal(manager.best.height, h);
  // A "monitor" persisted earlier, at base + 2 (below the fork), still on the active chain.
  const monitor = new RecordingListener();
  for (const [height, hash] of manager.hashes) if (height <= base + 2) monitor.hashes.set(height, hash);
  // While down: a reorg of depth 4 (fork at h - 4, below h) and two more blocks.
  await chain.reorg(4);
  await chain.mine(2);
  manager.log.length = 0;
  monitor.log.length = 0;
  const restartSource = rpcSource(); // a fresh process: nothing cached
  const tip = await synchronizeListeners(restartSource, [
    { listener: manager, bestBlockHash: manager.best.hash, bestBlockHeight: manager.best.height },
    { listener: monitor, bestBlockHash: monitor.best.hash, bestBlockHeight: monitor.best.height },
  ]);
  assert.equal(tip.height, h + 3);
  assert.equal(tip.hashHex, await chain.rpc('getbestblockhash'));
  // Fork at h - 4: disconnect h .. h-3 (highest first), then connect h-3 .. h+3.
  const expected = [0, 1, 2, 3].map((d) => `-${h - d}`);
  for (let height = h - 3; height <= h + 3; height++) expected.push(`+${height}`);
  assert.deepEqual(manager.log, expected);
  assert.deepEqual(
    monitor.log,
    Array.from({ length: h + 3 - (base + 2) }, (_, i) => `+${base + 3 + i}`),
  );
  await assertOnActiveChain(manager);
  await assertOnActiveChain(monitor);
});

test('the source going down part-way through synchronizeListeners: retried, each listener gets each block once', async () => {
  const { logger, lines, waitForLine } = captureLogger({ level: 'info' });
  const base = await chain.height();
  const baseHash = (await chain.rpc('getblockhash', [base])) as string;
  await chain.mine(12);
  const manager = new RecordingListener();
  manager.hashes.set(base, baseHash);
  const monitor = new RecordingListener();
  monitor.hashes.set(base, baseHash);
  await synchronizeListeners(rpcSource(), [
    { listener: monitor, bestBlockHash: baseHash, bestBlockHeight: base },
  ]);
  // The monitor persisted at base + 4; the manager at base. Then the node goes away at the 6th block fetch.
  for (let h = base + 5; h <= base + 12; h++) monitor.hashes.delete(h);
  monitor.log.length = 0;
  const real = rpcSource();
  let fetches = 0;
  const flaky: BlockSource = {
    description: real.description,
    getBestBlock: () => real.getBestBlock(),
    getHeader: (hash) => real.getHeader(hash),
    async getBlock(hash) {
      if (++fetches === 6) {
        await chain.stopRpc();
        // Back once the failure has been seen and a retry scheduled.
        void waitForLine((l) => l.level === 40, { what: 'the retry warning' }).then(() => chain.startRpc());
      }
      return real.getBlock(hash);
    },
  };
  const tip = await synchronizeListeners(
    flaky,
    [
      { listener: manager, bestBlockHash: baseHash, bestBlockHeight: base },
      { listener: monitor, bestBlockHash: monitor.best.hash, bestBlockHeight: monitor.best.height },
    ],
    logger,
    { initialBackoffMs: 50, maxBackoffMs: 100 },
  );
  assert.equal(tip.height, base + 12);
  assert.deepEqual(
    manager.log,
    Array.from({ length: 12 }, (_, i) => `+${base + 1 + i}`),
  );
  assert.deepEqual(
    monitor.log,
    Array.from({ length: 8 }, (_, i) => `+${base + 5 + i}`),
  );
  await assertOnActiveChain(manager);
  await assertOnActiveChain(monitor);
  const warn = lines.find((l) => l.level === 40);
  assert.ok(warn, 'a retry line');
  assert.equal(warn.url, chain.rpcUrl);
  assert.match(String(warn.msg), /failed \(unreachable\) while synchronizing listeners.*retrying in 50 ms/);
  // A definite error is not retried: it is thrown at once, naming the URL.
  const wrong = new RpcBlockSource({ url: chain.rpcUrl, auth: { user: chain.rpcUser, password: 'wrong' } });
  await assert.rejects(
    synchronizeListeners(wrong, [{ listener: manager, bestBlockHash: baseHash, bestBlockHeight: base }]),
    (err: unknown) =>
      err instanceof ChainSyncError && err.code === 'unauthorized' && err.message.includes(chain.rpcUrl),
  );
});

test('a broadcast transaction is accepted, rebroadcast while unconfirmed, and seen confirmed', async (t) => {
  const { logger, lines } = captureLogger({ level: 'info' });
  const rpc = new BitcoindRpcClient({ url: chain.rpcUrl, auth: auth() });
  const broadcaster = new BitcoindBroadcaster(rpc, { logger });
  const source = rpcSource();
  const poller = new ChainPoller(source, { logger, pollIntervalMs: 20 });
  subscribeListener(poller.events$, broadcaster, logger);
  t.after(() => poller.stop());
  poller.start();
  const tipHeight = await chain.height();
  await waitFor(() => poller.bestBlock?.height === tipHeight, { what: 'poller at tip' });

  const script = new Uint8Array([0x00, 0x14, ...new Array(20).fill(7)]);
  const good = await chain.signFunding(script, 100_000n);
  const [result] = await broadcaster.broadcastTransactions([good.rawTx]);
  assert.deepEqual(result, { txid: good.txid, accepted: true });
  assert.deepEqual(broadcaster.pending, [good.txid]);
  assert.ok(((await chain.rpc('getrawmempool')) as string[]).includes(good.txid));
  // Unconfirmed: rebroadcasting is harmless (bitcoind returns the txid for a mempool transaction).
  assert.deepEqual(await broadcaster.rebroadcastPending(), [{ txid: good.txid, accepted: true }]);

  const [mined] = await chain.mine(1);
  await waitFor(() => broadcaster.pending.length === 0, { what: 'confirmation seen' });
  const block = (await chain.rpc('getblock', [mined, true])) as { tx: string[] };
  assert.ok(block.tx.includes(good.txid));
  assert.ok(lines.some((l) => l.msg === 'broadcast transaction confirmed' && l.txid === good.txid));

  // A double spend of it is rejected with the source's reason.
  const conflicting = await chain.signFunding(script, 1n);
  const spendsSame = Transaction.fromBuffer(conflicting.rawTx);
  const goodTx = Transaction.fromBuffer(good.rawTx);
  spendsSame.ins = goodTx.ins;
  const [rejected] = await broadcaster.broadcastTransactions([spendsSame.toBuffer()]);
  assert.equal(rejected?.accepted, false);
  assert.ok(
    rejected &&
      !rejected.accepted &&
      rejected.rpcCode === -25 &&
      rejected.reason === 'bad-txns-inputs-missingorspent',
  );
  await poller.stop();
});

test('fee estimator: fallbacks on regtest (no estimate), never below 253 sat/kw', async () => {
  const { logger, lines } = captureLogger({ level: 'info' });
  const rpc = new BitcoindRpcClient({ url: chain.rpcUrl, auth: auth() });
  const fees = new BitcoindFeeEstimator(rpc, { logger, fallbackPerKw: { background: 100n, normal: 1000n } });
  await fees.start();
  fees.stop();
  // Every target got an answer ("no estimate"), not a failure: nothing to warn about.
  assert.deepEqual(
    lines.filter((l) => l.level === 40).map((l) => l.msg),
    [],
  );
  assert.equal(fees.feeratePerKw('background'), FEERATE_FLOOR_SAT_PER_KW);
  assert.equal(fees.feeratePerKw('normal'), 1000n);
  assert.equal(fees.feeratePerKw('highPriority'), 5000n);
});

test('Confirm consumers get their transactions confirmed and unconfirmed across a reorg', async (t) => {
  const { logger } = captureLogger({ level: 'info' });
  const filter = new WatchedFilter();
  const script = new Uint8Array([0x00, 0x14, ...new Array(20).fill(9)]);
  const funded = await chain.fundScript(script, 50_000n);
  filter.registerTx(funded.txid, script);
  const seen: string[] = [];
  const confirmed = new Map<string, RelevantTxid>();
  const consumer: Confirm = {
    transactionsConfirmed(header, txdata, height) {
      for (const [, tx] of txdata) {
        confirmed.set(tx.getId(), { txidHex: tx.getId(), height, blockHashHex: header.hashHex });
        seen.push(`confirmed ${tx.getId()} at ${height}`);
      }
    },
    transactionUnconfirmed(txidHex) {
      confirmed.delete(txidHex);
      seen.push(`unconfirmed ${txidHex}`);
    },
    bestBlockUpdated(header, height) {
      best.push(`${height}:${header.hashHex}`);
    },
    getRelevantTxids: () => [...confirmed.values()],
  };
  const best: string[] = [];
  const driver = new ConfirmDriver(filter, [consumer]);
  const start = await chain.height();
  // From one block below the tip, so the driver has seen the block that becomes the fork point.
  const below = { hashHex: (await chain.rpc('getblockhash', [start - 1])) as string, height: start - 1 };
  const poller = new ChainPoller(rpcSource(), { logger, pollIntervalMs: 20, start: below });
  const done: ChainEvent[] = [];
  poller.events$.subscribe((e) => {
    void driver.handle(e).then(() => done.push(e));
  });
  t.after(() => poller.stop());
  poller.start();
  await waitFor(() => poller.bestBlock?.height === start, { what: 'poller at tip' });
  await chain.mine(1);
  await waitFor(() => confirmed.has(funded.txid), { what: 'confirmed' });
  // The block with it is reorged out: it goes back to the mempool, unconfirmed; then it confirms again.
  const minedIn = (await chain.rpc('getbestblockhash')) as string;
  best.length = 0;
  const fresh = await chain.reorg(1);
  await waitFor(() => seen.includes(`unconfirmed ${funded.txid}`), { what: 'unconfirmed' });
  await chain.mine(1);
  await waitFor(() => confirmed.has(funded.txid), { what: 'confirmed again' });
  await poller.stop();
  await waitFor(() => best.at(-1)?.startsWith(`${start + 3}:`) === true, { what: 'best block at the tip' });
  // The best block follows the chain through the reorg: back to the fork point, then forward.
  const fork = (await chain.rpc('getblockhash', [start])) as string;
  assert.deepEqual(best.slice(0, 3), [
    `${start}:${fork}`,
    `${start + 1}:${fresh[0]}`,
    `${start + 2}:${fresh[1]}`,
  ]);
  assert.equal(best.at(-1), `${start + 3}:${await chain.rpc('getbestblockhash')}`);
  assert.ok(!best.some((b) => b.endsWith(minedIn)), 'the reorged-out block is never the best block again');
  assert.deepEqual(seen, [
    `confirmed ${funded.txid} at ${start + 1}`,
    `unconfirmed ${funded.txid}`,
    `confirmed ${funded.txid} at ${start + 3}`,
  ]);
});
