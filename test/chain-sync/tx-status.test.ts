import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  BitcoindRpcClient,
  type Confirm,
  type RelevantTxid,
  RpcBlockSource,
  RpcTxStatusSource,
  TxStatusSync,
  WatchedFilter,
} from '@lnkit/chain-sync';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import { Transaction } from 'bitcoinjs-lib';

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
  await chain.mine(101);
});
after(async () => {
  await chain.stop();
});

test('without full blocks: registered transactions confirmed, unconfirmed by a reorg, confirmed again', async () => {
  const auth = { user: chain.rpcUser, password: chain.rpcPassword };
  const rpc = new BitcoindRpcClient({ url: chain.rpcUrl, auth });
  const source = new RpcTxStatusSource(rpc, new RpcBlockSource(rpc));
  const filter = new WatchedFilter();
  const script = new Uint8Array([0x00, 0x14, ...new Array(20).fill(5)]);
  const funded = await chain.fundScript(script, 42_000n);
  filter.registerTx(funded.txid, script);
  const confirmed = new Map<string, RelevantTxid>();
  const log: string[] = [];
  let best = -1;
  const consumer: Confirm = {
    transactionsConfirmed(header, txdata, height) {
      for (const [index, tx] of txdata) {
        confirmed.set(tx.getId(), { txidHex: tx.getId(), height, blockHashHex: header.hashHex });
        log.push(`confirmed at ${height} index ${index}`);
      }
    },
    transactionUnconfirmed(txidHex) {
      confirmed.delete(txidHex);
      log.push('unconfirmed');
    },
    bestBlockUpdated(_header, height) {
      best = height;
    },
    getRelevantTxids: () => [...confirmed.values()],
  };
  const sync = new TxStatusSync(source, filter, [consumer]);
  await sync.sync();
  assert.deepEqual(log, []); // in the mempool only
  assert.equal(best, await chain.height());

  const [blockHash] = await chain.mine(1);
  const height = await chain.height();
  const block = (await chain.rpc('getblock', [blockHash, true])) as { tx: string[] };
  // bcoin's transaction index follows the chain asynchronously: sync until it shows.
  await waitFor(
    async () => {
      await sync.sync();
      return confirmed.has(funded.txid);
    },
    { what: 'confirmed' },
  );
  assert.deepEqual(log, [`confirmed at ${height} index ${block.tx.indexOf(funded.txid)}`]);
  assert.equal(confirmed.get(funded.txid)?.blockHashHex, blockHash);
  await sync.sync(); // idempotent: nothing new
  assert.equal(log.length, 1);

  await chain.reorg(1);
  await waitFor(
    async () => {
      await sync.sync();
      return !confirmed.has(funded.txid);
    },
    { what: 'unconfirmed' },
  );
  assert.equal(best, height + 1);
  await chain.mine(1);
  await waitFor(
    async () => {
      await sync.sync();
      return confirmed.has(funded.txid);
    },
    { what: 'confirmed again' },
  );
  assert.equal(log[1], 'unconfirmed');
  assert.match(log[2] ?? '', new RegExp(`^confirmed at ${height + 2} `));
});

test('without full blocks: a registered output is followed through the transaction that spends it', async () => {
  const auth = { user: chain.rpcUser, password: chain.rpcPassword };
  const rpc = new BitcoindRpcClient({ url: chain.rpcUrl, auth });
  const source = new RpcTxStatusSource(rpc, new RpcBlockSource(rpc));
  // The watched output: a coin the chain's wallet is about to spend (the spend's first input).
  const spend = await chain.signFunding(new Uint8Array([0x00, 0x14, ...new Array(20).fill(6)]), 30_000n);
  const input = Transaction.fromBuffer(spend.rawTx).ins[0];
  assert.ok(input);
  const watched = { txidHex: Buffer.from(input.hash).reverse().toString('hex'), vout: input.index };
  const filter = new WatchedFilter();
  filter.registerOutput({ ...watched, scriptPubKey: chain.walletScriptPubKey });
  const confirmed = new Map<string, RelevantTxid>();
  const log: string[] = [];
  const consumer: Confirm = {
    transactionsConfirmed(header, txdata, height) {
      for (const [, tx] of txdata) {
        confirmed.set(tx.getId(), { txidHex: tx.getId(), height, blockHashHex: header.hashHex });
        log.push(`confirmed ${tx.getId()} at ${height}`);
      }
    },
    transactionUnconfirmed(txidHex) {
      confirmed.delete(txidHex);
      log.push(`unconfirmed ${txidHex}`);
    },
    bestBlockUpdated() {},
    getRelevantTxids: () => [...confirmed.values()],
  };
  const sync = new TxStatusSync(source, filter, [consumer]);
  await sync.sync();
  assert.deepEqual(log, [], 'unspent');
  assert.equal(await chain.sendRawTransaction(Buffer.from(spend.rawTx).toString('hex')), spend.txid);
  await sync.sync();
  assert.deepEqual(log, [], 'spent in the mempool only: not confirmed');
  await chain.mine(3);
  const height = (await chain.height()) - 2;
  await waitFor(
    async () => {
      await sync.sync();
      return confirmed.has(spend.txid);
    },
    { what: 'spend confirmed' },
  );
  assert.deepEqual(log, [`confirmed ${spend.txid} at ${height}`]);
  // The spend's block is reorged out (it returns to the mempool), then mined again.
  await chain.reorg(3);
  await waitFor(
    async () => {
      await sync.sync();
      return !confirmed.has(spend.txid);
    },
    { what: 'spend unconfirmed' },
  );
  await chain.mine(1);
  await waitFor(
    async () => {
      await sync.sync();
      return confirmed.has(spend.txid);
    },
    { what: 'spend confirmed again' },
  );
  assert.deepEqual(log, [
    `confirmed ${spend.txid} at ${height}`,
    `unconfirmed ${spend.txid}`,
    `confirmed ${spend.txid} at ${height + 4}`,
  ]);
});

test('the sync loop survives the source going away: a logged retry, then the confirmation arrives', async (t) => {
  const { logger, lines } = captureLogger({ level: 'info' });
  const auth = { user: chain.rpcUser, password: chain.rpcPassword };
  const rpc = new BitcoindRpcClient({ url: chain.rpcUrl, auth });
  const filter = new WatchedFilter();
  const script = new Uint8Array([0x00, 0x14, ...new Array(20).fill(0x0b)]);
  const funded = await chain.fundScript(script, 21_000n);
  filter.registerTx(funded.txid, script);
  const confirmed = new Set<string>();
  const consumer: Confirm = {
    transactionsConfirmed(_header, txdata) {
      for (const [, tx] of txdata) confirmed.add(tx.getId());
    },
    transactionUnconfirmed(txidHex) {
      confirmed.delete(txidHex);
    },
    bestBlockUpdated() {},
    getRelevantTxids: () => [],
  };
  const sync = new TxStatusSync(new RpcTxStatusSource(rpc, new RpcBlockSource(rpc)), filter, [consumer]);
  t.after(async () => {
    await sync.stop();
    await chain.startRpc();
  });
  await chain.stopRpc();
  sync.start({ logger, intervalMs: 20, initialBackoffMs: 20, maxBackoffMs: 50 });
  await waitFor(() => lines.some((l) => l.level === 40), { what: 'a retry line' });
  await chain.mine(1);
  await chain.startRpc();
  await waitFor(() => confirmed.has(funded.txid), { what: 'confirmed after the source came back' });
  await sync.stop();
  const warn = lines.find((l) => l.level === 40);
  assert.equal(warn?.url, chain.rpcUrl);
  assert.match(String(warn?.msg), /failed \(unreachable\).*retrying in 20 ms/);
  assert.ok(lines.some((l) => String(l.msg).includes('is back')));
  assert.ok(!JSON.stringify(lines).includes(chain.rpcPassword));
});
