import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Transaction } from 'bitcoinjs-lib';
import { internalBytes } from './block-source.ts';
import { WatchedFilter } from './filter.ts';

const script = (fill: number) => new Uint8Array([0x00, 0x14, ...new Array(20).fill(fill)]);

/** A transaction spending `prevTxidHex:vout` (display order) and paying `pays`. */
function tx(prevTxidHex: string, vout: number, pays: Uint8Array): Transaction {
  const t = new Transaction();
  t.addInput(internalBytes(prevTxidHex), vout);
  t.addOutput(pays, 1000n);
  return t;
}

test('registered transactions, watched scripts and spends of registered outputs are relevant; others are not', () => {
  const filter = new WatchedFilter();
  const funding = tx('11'.repeat(32), 0, script(1));
  const unrelated = tx('22'.repeat(32), 0, script(2));
  // A transaction registered by id, even though it pays nothing watched.
  const registered = tx('33'.repeat(32), 0, script(3));
  filter.registerTx(registered.getId(), script(4));
  assert.deepEqual(filter.filterBlock([unrelated, funding, registered]), [[2, registered]]);

  // The funding output is watched: its spend (by outpoint, in display order) becomes relevant,
  // and so does the funding transaction itself (it pays the watched script).
  filter.registerOutput({ txidHex: funding.getId(), vout: 0, scriptPubKey: script(1) });
  const spend = tx(funding.getId(), 0, script(9));
  const otherVout = tx(funding.getId(), 1, script(9));
  const paysWatched = tx('44'.repeat(32), 0, script(4));
  assert.deepEqual(filter.filterBlock([unrelated, funding, otherVout, spend, paysWatched]), [
    [1, funding],
    [3, spend],
    [4, paysWatched],
  ]);
  assert.deepEqual(filter.registeredTxids, [registered.getId()]);
});
