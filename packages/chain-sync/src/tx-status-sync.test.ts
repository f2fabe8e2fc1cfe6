import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Transaction } from 'bitcoinjs-lib';
import type { BlockSource } from './block-source.ts';
import { ChainSyncError } from './errors.ts';
import type { JsonRpc } from './rpc-client.ts';
import { RpcTxStatusSource } from './tx-status-sync.ts';

const tx = new Transaction();
tx.addInput(new Uint8Array(32).fill(1), 0);
tx.addOutput(new Uint8Array([0x51]), 1000n);
const TXID = tx.getId();
const BLOCK = 'cd'.repeat(32);

/** getrawtransaction / getblock answered from the two records; both can be changed by a test. */
function fakeRpc(answers: { raw: unknown; block: unknown }): JsonRpc {
  return {
    url: 'http://127.0.0.1:1',
    async call<T>(method: string): Promise<T> {
      const a = method === 'getrawtransaction' ? answers.raw : answers.block;
      if (a instanceof Error) throw a;
      return a as T;
    },
  };
}
const blocks = {} as BlockSource;

test('a transaction in a block off the active chain is not confirmed (bitcoind -txindex keeps stale blocks)', async () => {
  const answers: { raw: unknown; block: unknown } = {
    raw: { hex: tx.toHex(), blockhash: BLOCK },
    block: { confirmations: -1, height: 7, tx: [TXID] },
  };
  const source = new RpcTxStatusSource(fakeRpc(answers), blocks);
  assert.deepEqual(await source.getTxStatus(TXID), { confirmed: false });
  answers.block = { confirmations: 1, height: 7, tx: ['00'.repeat(32), TXID] };
  const status = await source.getTxStatus(TXID);
  assert.ok(status?.confirmed);
  assert.equal(status.height, 7);
  assert.equal(status.txIndex, 1);
  assert.equal(status.blockHashHex, BLOCK);
  answers.raw = { hex: tx.toHex() };
  assert.deepEqual(await source.getTxStatus(TXID), { confirmed: false }, 'in the mempool');
  answers.raw = new ChainSyncError('not-found', 'No such mempool or blockchain transaction', -5);
  assert.equal(await source.getTxStatus(TXID), undefined);
});

test('answers that do not fit are bad-response, never another kind of throw', async () => {
  const bad = (e: unknown) => e instanceof ChainSyncError && e.code === 'bad-response';
  const other = new Transaction();
  other.addInput(new Uint8Array(32).fill(2), 0);
  other.addOutput(new Uint8Array([0x51]), 1n);
  const cases: { raw: unknown; block: unknown }[] = [
    { raw: null, block: null },
    { raw: { hex: tx.toHex(), blockhash: BLOCK }, block: null },
    { raw: { hex: tx.toHex(), blockhash: BLOCK }, block: { confirmations: 1, height: 7 } },
    { raw: { hex: tx.toHex(), blockhash: BLOCK }, block: { confirmations: 1, height: 7, tx: [] } },
    { raw: { hex: 'zz', blockhash: BLOCK }, block: { confirmations: 1, height: 7, tx: [TXID] } },
    // Bytes of another transaction than the one asked for.
    { raw: { hex: other.toHex(), blockhash: BLOCK }, block: { confirmations: 1, height: 7, tx: [TXID] } },
  ];
  for (const answers of cases) {
    await assert.rejects(new RpcTxStatusSource(fakeRpc(answers), blocks).getTxStatus(TXID), bad);
  }
});
