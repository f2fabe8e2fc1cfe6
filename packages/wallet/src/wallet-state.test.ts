/**
 * The pure core, fed pretend blocks and unconfirmed transactions: balances, maturity, spends,
 * reorgs, conflicts, reservations, the gap limit and what it reports for the store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Transaction } from 'bitcoinjs-lib';
import { WalletError } from './errors.ts';
import { AccountKeys, CHANGE, type Keychain, RECEIVE } from './keys.ts';
import { networkParams } from './network.ts';
import { coinbaseTx, FakeChain, foreignScript, makeTx } from './test-fixtures.ts';
import {
  COINBASE_MATURITY,
  FORGET_SPENT_DEPTH,
  outpointKey,
  type Reservation,
  WalletState,
} from './wallet-state.ts';

const keys = AccountKeys.fromSeed(new Uint8Array(32).fill(1), networkParams('regtest'));
const script = (chain: Keychain, index: number) => keys.script(chain, index);

function setup(gapLimit?: number) {
  const chain = new FakeChain();
  const state = new WalletState({
    tip: chain.tip,
    scriptAt: script,
    ...(gapLimit !== undefined ? { gapLimit } : {}),
  });
  const connect = (txs: Transaction[] = []) => {
    const block = chain.next(txs);
    return state.connectBlock(block.txdata, block.header.height, block.header.hashHex);
  };
  const disconnect = () => {
    const h = chain.pop();
    state.disconnectBlock(h.height, h.prevHashHex);
  };
  const mineEmpty = (n: number) => {
    for (let i = 0; i < n; i++) connect();
  };
  return { chain, state, connect, disconnect, mineEmpty };
}

const key = (tx: Transaction, vout = 0) => outpointKey(tx.getId(), vout);
const reservationOf = (txid: string, inputs: string[]): Reservation => ({
  txid,
  inputs,
  rawTx: new Uint8Array([1]),
  outputIndex: 0,
  feeSat: 100n,
});

test('a coinbase paying the wallet is immature for 100 blocks, then confirmed', () => {
  const { state, connect, mineEmpty } = setup();
  const cb = coinbaseTx([{ script: script(RECEIVE, 0), valueSat: 50_000n }]);
  assert.equal(connect([cb]), true);
  assert.equal(state.balance().immatureSat, 50_000n);
  assert.equal(state.balance().confirmedSat, 0n);
  assert.deepEqual(state.spendable(), []);
  // Spendable in block h + 100: the tip must be at h + 99.
  mineEmpty(COINBASE_MATURITY - 2);
  assert.equal(state.balance().immatureSat, 50_000n, 'one block short');
  mineEmpty(1);
  assert.deepEqual(state.balance(), {
    confirmedSat: 50_000n,
    unconfirmedSat: 0n,
    immatureSat: 0n,
    reservedSat: 0n,
    spendableSat: 50_000n,
  });
  assert.equal(state.spendable()[0]?.coinbase, true);
});

test('an unconfirmed payment, then its confirmation; minConfirmations counts from the tip', () => {
  const { state, connect } = setup();
  const pay = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 3), valueSat: 70_000n }]);
  assert.equal(state.addUnconfirmed(pay), true);
  assert.equal(state.balance().unconfirmedSat, 70_000n);
  assert.deepEqual(state.spendable(), [], 'unconfirmed coins are not spent');
  connect([pay]);
  assert.equal(state.balance().confirmedSat, 70_000n);
  assert.equal(state.balance().unconfirmedSat, 0n);
  assert.equal(state.spendable(1).length, 1);
  assert.equal(state.spendable(2).length, 0);
  connect();
  assert.equal(state.spendable(2).length, 1);
  assert.equal(state.keychain(RECEIVE).usedEnd, 4, 'index 3 is used');
});

test('transactions that touch no script or output of ours are ignored', () => {
  const { state, connect } = setup();
  const other = makeTx([`${'cd'.repeat(32)}:1`], [{ script: foreignScript(), valueSat: 1000n }]);
  assert.equal(state.addUnconfirmed(other), false);
  assert.equal(connect([other]), false);
  assert.equal(state.allOutputs().length, 0);
});

test('our spend: unconfirmed first (change counts as unconfirmed), then confirmed', () => {
  const { state, connect } = setup();
  const pay = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 0), valueSat: 100_000n }]);
  connect([pay]);
  const spend = makeTx(
    [key(pay)],
    [
      { script: foreignScript(), valueSat: 60_000n },
      { script: script(CHANGE, 0), valueSat: 39_000n },
    ],
  );
  assert.equal(state.addUnconfirmed(spend), true);
  assert.equal(state.output(key(pay))?.spentByTxid, spend.getId());
  assert.equal(state.balance().confirmedSat, 0n);
  assert.equal(state.balance().unconfirmedSat, 39_000n);
  connect([spend]);
  assert.equal(state.balance().confirmedSat, 39_000n);
  assert.equal(state.output(key(pay))?.spentHeight, 2);
  assert.equal(state.addUnconfirmed(spend), false, 'seeing it again after it confirmed changes nothing');
});

test('a reorg drops a coinbase that paid us, and unconfirms a payment', () => {
  const { state, connect, disconnect } = setup();
  const cb = coinbaseTx([{ script: script(RECEIVE, 0), valueSat: 50_000n }]);
  const pay = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 1), valueSat: 20_000n }]);
  connect([cb, pay]);
  assert.equal(state.allOutputs().length, 2);
  disconnect();
  assert.equal(state.output(key(cb)), undefined, 'the coinbase output is gone');
  assert.equal(state.output(key(pay))?.confirmedHeight, undefined, 'the payment is unconfirmed again');
  assert.equal(state.balance().unconfirmedSat, 20_000n);
  assert.equal(state.balance().immatureSat, 0n);
  assert.equal(state.tip.height, 0);
  // The competing block confirms the payment again.
  connect([pay]);
  assert.equal(state.balance().confirmedSat, 20_000n);
});

test('a reorg of our spend: the spend is unconfirmed again, the coin stays spent', () => {
  const { state, connect, disconnect } = setup();
  const pay = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 0), valueSat: 100_000n }]);
  connect([pay]);
  const spend = makeTx([key(pay)], [{ script: script(CHANGE, 0), valueSat: 99_000n }]);
  connect([spend]);
  disconnect();
  assert.equal(state.output(key(pay))?.spentByTxid, spend.getId());
  assert.equal(state.output(key(pay))?.spentHeight, undefined);
  assert.equal(state.balance().unconfirmedSat, 99_000n);
  assert.equal(state.balance().confirmedSat, 0n);
});

test('dropping a coinbase drops the unconfirmed transactions that spent it', () => {
  const { state, connect, disconnect, mineEmpty } = setup();
  const other = coinbaseTx([{ script: script(RECEIVE, 1), valueSat: 5n }]);
  connect([other]);
  mineEmpty(10);
  const cb = coinbaseTx([{ script: script(RECEIVE, 0), valueSat: 50_000n }]);
  connect([cb]);
  const child = makeTx([key(cb)], [{ script: script(CHANGE, 0), valueSat: 49_000n }]);
  const grandchild = makeTx([key(child), key(other)], [{ script: script(CHANGE, 1), valueSat: 48_000n }]);
  state.addUnconfirmed(child);
  state.addUnconfirmed(grandchild);
  assert.equal(state.output(key(other))?.spentByTxid, grandchild.getId());
  disconnect();
  assert.equal(state.output(key(child)), undefined);
  assert.equal(state.output(key(grandchild)), undefined);
  assert.equal(
    state.output(key(other))?.spentByTxid,
    undefined,
    "the grandchild's other input is free again",
  );
});

test('a block confirming another spend of our coin drops the unconfirmed one and its change', () => {
  const { state, connect } = setup();
  const pay = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 0), valueSat: 100_000n }]);
  const pay2 = makeTx([`${'ab'.repeat(32)}:1`], [{ script: script(RECEIVE, 1), valueSat: 10_000n }]);
  connect([pay, pay2]);
  const ours = makeTx([key(pay), key(pay2)], [{ script: script(CHANGE, 0), valueSat: 109_000n }]);
  state.addUnconfirmed(ours);
  // Another wallet with the same seed spends the first coin; the block wins.
  const theirs = makeTx([key(pay)], [{ script: foreignScript(), valueSat: 99_000n }]);
  connect([theirs]);
  assert.equal(state.output(key(ours)), undefined, 'our change is gone');
  assert.equal(state.output(key(pay))?.spentByTxid, theirs.getId());
  assert.equal(state.output(key(pay2))?.spentByTxid, undefined, 'our other input is free again');
  assert.equal(state.balance().confirmedSat, 10_000n);
  // An unconfirmed transaction spending a coin the chain already spent is ignored.
  const late = makeTx([key(pay)], [{ script: script(CHANGE, 2), valueSat: 1n }]);
  assert.equal(state.addUnconfirmed(late), false);
  assert.equal(state.output(key(late)), undefined);
});

test('an unconfirmed replacement drops the transaction it replaces', () => {
  const { state, connect } = setup();
  const pay = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 0), valueSat: 100_000n }]);
  connect([pay]);
  const first = makeTx([key(pay)], [{ script: script(CHANGE, 0), valueSat: 99_000n }]);
  const second = makeTx([key(pay)], [{ script: script(CHANGE, 0), valueSat: 98_000n }]);
  state.addUnconfirmed(first);
  state.addUnconfirmed(second);
  assert.equal(state.output(key(first)), undefined);
  assert.equal(state.balance().unconfirmedSat, 98_000n);
});

test('abandon forgets an unconfirmed transaction, never a confirmed one', () => {
  const { state, connect } = setup();
  const pay = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 0), valueSat: 100_000n }]);
  connect([pay]);
  const spend = makeTx([key(pay)], [{ script: script(CHANGE, 0), valueSat: 99_000n }]);
  state.addUnconfirmed(spend);
  assert.equal(state.abandon(pay.getId()), false, 'confirmed');
  assert.equal(state.abandon('ee'.repeat(32)), false, 'unknown');
  assert.equal(state.abandon(spend.getId()), true);
  assert.equal(state.output(key(pay))?.spentByTxid, undefined);
  assert.equal(state.balance().spendableSat, 100_000n);
});

test('reservations: coins set aside, refused twice, released, and dropped when the chain spends them', () => {
  const { state, connect } = setup();
  const a = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 0), valueSat: 100_000n }]);
  const b = makeTx([`${'ab'.repeat(32)}:1`], [{ script: script(RECEIVE, 1), valueSat: 30_000n }]);
  connect([a, b]);
  state.reserve(reservationOf('11'.repeat(32), [key(a)]));
  assert.equal(state.balance().reservedSat, 100_000n);
  assert.equal(state.balance().spendableSat, 30_000n);
  assert.equal(state.balance().confirmedSat, 130_000n, 'reserved coins are still ours');
  assert.deepEqual(
    state.spendable().map((o) => o.valueSat),
    [30_000n],
  );
  assert.throws(
    () => state.reserve(reservationOf('22'.repeat(32), [key(a)])),
    (e) => e instanceof WalletError && /reserved for transaction 1111/.test(e.message),
  );
  assert.throws(
    () => state.reserve(reservationOf('33'.repeat(32), [`${'ff'.repeat(32)}:0`])),
    /not an output of this wallet/,
  );
  assert.equal(state.release('11'.repeat(32)), true);
  assert.equal(state.release('11'.repeat(32)), false, 'already released');
  assert.equal(state.balance().spendableSat, 130_000n);

  // A reservation whose transaction confirms is done.
  const funding = makeTx([key(b)], [{ script: foreignScript(), valueSat: 29_000n }]);
  state.reserve(reservationOf(funding.getId(), [key(b)]));
  state.addUnconfirmed(funding);
  assert.ok(state.reservation(funding.getId()), 'still reserved while unconfirmed');
  connect([funding]);
  assert.equal(state.reservation(funding.getId()), undefined);
  assert.equal(state.balance().reservedSat, 0n);
});

test('the gap limit: addresses past it are not watched until one before them is used', () => {
  const { state, connect } = setup(5);
  assert.equal(state.watchedScripts, 10, '5 per keychain');
  const far = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 7), valueSat: 7_000n }]);
  const near = makeTx([`${'ab'.repeat(32)}:1`], [{ script: script(RECEIVE, 4), valueSat: 4_000n }]);
  // `far` comes first in the block: found on the second pass, once `near` widened the window.
  const spendFar = makeTx([key(far)], [{ script: foreignScript(), valueSat: 6_000n }]);
  connect([far, near, spendFar]);
  assert.equal(state.output(key(near))?.valueSat, 4_000n);
  assert.equal(state.output(key(far))?.spentByTxid, spendFar.getId(), 'and its spend later in the block');
  assert.equal(state.keychain(RECEIVE).usedEnd, 8);
  assert.equal(state.watchedScripts, 13 + 5);
});

test('handing out addresses never goes past the gap limit: it cycles through the unused ones', () => {
  const { state, connect } = setup(3);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map(() => state.nextIndex(RECEIVE)),
    [0, 1, 2, 0, 1],
  );
  connect([makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 1), valueSat: 1_000n }])]);
  // Index 1 used: hand out from 2, up to 2 + 3.
  assert.deepEqual(
    [0, 1, 2, 3].map(() => state.nextIndex(RECEIVE)),
    [2, 3, 4, 2],
  );
  assert.equal(state.nextIndex(CHANGE), 0, 'each keychain on its own');
});

test('spent coins are forgotten once the spend is deep enough', () => {
  const { state, connect, mineEmpty } = setup();
  const pay = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 0), valueSat: 1_000n }]);
  connect([pay]);
  connect([makeTx([key(pay)], [{ script: foreignScript(), valueSat: 900n }])]);
  mineEmpty(FORGET_SPENT_DEPTH - 2);
  assert.ok(state.output(key(pay)), 'kept while a reorg could bring it back');
  mineEmpty(1);
  assert.equal(state.output(key(pay)), undefined);
});

test('takeChanges reports exactly what changed, once', () => {
  const { state, connect } = setup();
  state.takeChanges();
  const pay = makeTx([`${'ab'.repeat(32)}:0`], [{ script: script(RECEIVE, 2), valueSat: 5_000n }]);
  connect([pay]);
  const c = state.takeChanges();
  assert.deepEqual([...c.outputs.keys()], [key(pay)]);
  assert.deepEqual(c.keychains.get(RECEIVE), { nextIndex: 0, usedEnd: 3 });
  assert.equal(c.tip?.height, 1);
  const again = state.takeChanges();
  assert.equal(again.outputs.size + again.keychains.size + again.reservations.size, 0);
  assert.equal(again.tip, undefined);
  state.reserve(reservationOf('44'.repeat(32), [key(pay)]));
  state.release('44'.repeat(32));
  const r = state.takeChanges();
  assert.deepEqual([...r.reservations.entries()], [['44'.repeat(32), undefined]], 'released: removed');
});
