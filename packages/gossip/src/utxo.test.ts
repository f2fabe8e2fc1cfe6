// ChainUtxoLookup on a stand-in UtxoSource: what it answers, what it keeps, what it asks again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChainSyncError } from '@lnkit/chain-sync';
import { ChainUtxoLookup, type UtxoSource } from './utxo.ts';

const scid = (block: number, tx: number, out: number) =>
  (BigInt(block) << 40n) | (BigInt(tx) << 16n) | BigInt(out);

function source(opts: { best?: number; spent?: boolean; down?: boolean } = {}) {
  const calls = { blocks: 0, unspent: 0, best: 0 };
  let best = opts.best ?? 110;
  const s: UtxoSource & { calls: typeof calls; setBest(h: number): void; down: boolean; spent: boolean } = {
    calls,
    down: opts.down ?? false,
    spent: opts.spent ?? false,
    setBest(h) {
      best = h;
    },
    async getBestBlock() {
      calls.best++;
      if (s.down) throw new ChainSyncError('unreachable', 'down');
      return { hashHex: '00'.repeat(32), height: best };
    },
    async getBlockHash(height) {
      if (height > best) throw new ChainSyncError('not-found', 'no such block');
      return height.toString(16).padStart(64, '0');
    },
    async getBlock() {
      calls.blocks++;
      return {
        header: {} as never,
        txdata: [
          {
            outs: [{ script: Uint8Array.of(0, 32, ...new Uint8Array(32)), value: 70_000n }],
            getId: () => 'ab'.repeat(32),
            getHash: () => Buffer.alloc(32, 0xab),
          },
        ],
      } as never;
    },
    async isOutputUnspent() {
      calls.unspent++;
      return !s.spent;
    },
  };
  return s;
}

test('an unspent output: its script, value and txid; confirmations counted from the current tip every time', async () => {
  const src = source({ best: 105 });
  const utxo = new ChainUtxoLookup(src, { bestBlockMaxAgeMs: 0 });
  const r = await utxo.lookup(scid(100, 0, 0));
  assert.equal(r.status, 'unspent');
  if (r.status !== 'unspent') return;
  assert.equal(r.valueSat, 70_000n);
  assert.equal(r.confirmations, 6);
  src.setBest(120);
  const again = await utxo.lookup(scid(100, 0, 0));
  assert.equal(
    again.status === 'unspent' && again.confirmations,
    21,
    'a cached answer is not stuck at its confirmations',
  );
  assert.equal(utxo.sourceLookups, 1);
});

test('missing: no such transaction or output (kept), or a block the source has not yet (asked again)', async () => {
  const src = source({ best: 105 });
  const utxo = new ChainUtxoLookup(src, { bestBlockMaxAgeMs: 0 });
  assert.deepEqual(await utxo.lookup(scid(100, 5, 0)), { status: 'missing' });
  assert.deepEqual(await utxo.lookup(scid(100, 0, 3)), { status: 'missing' });
  assert.deepEqual(await utxo.lookup(scid(100, 5, 0)), { status: 'missing' });
  assert.equal(utxo.sourceLookups, 2);
  assert.deepEqual(await utxo.lookup(scid(200, 0, 0)), { status: 'missing' });
  src.setBest(200);
  assert.equal((await utxo.lookup(scid(200, 0, 0))).status, 'unspent');
});

test('spent; a source that is down is unavailable and not kept; copies in flight share one lookup; blocks are reused', async () => {
  const spent = source({ spent: true });
  assert.deepEqual(await new ChainUtxoLookup(spent).lookup(scid(100, 0, 0)), { status: 'spent' });

  const src = source({ down: true });
  const utxo = new ChainUtxoLookup(src, { bestBlockMaxAgeMs: 0 });
  assert.equal((await utxo.lookup(scid(100, 0, 0))).status, 'unavailable');
  src.down = false;
  const [a, b] = await Promise.all([utxo.lookup(scid(100, 0, 0)), utxo.lookup(scid(100, 0, 0))]);
  assert.equal(a.status, 'unspent');
  assert.deepEqual(a, b);
  assert.equal(src.calls.unspent, 1, 'one lookup for both');
  // Another output of the same block: the block is not fetched again.
  await utxo.lookup(scid(100, 0, 1));
  assert.equal(src.calls.blocks, 1);
});
