import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RpcErrorCode, startTestChain, TestChainError } from './index.ts';
import {
  type Coin,
  fundedTestChain,
  NO_RBF_SEQUENCE,
  RBF_SEQUENCE,
  type Signed,
  TestWallet,
} from './test-wallet.ts';

const wallet = new TestWallet();
/** Confirmed coins of 1,000,000 sat each, one per use below. */
const funded = fundedTestChain(wallet, 12, { before, after });
const nextCoin = (): Coin => funded.nextCoin();

const send = (tx: Signed) => funded.chain.sendRawTransaction(tx.hex);
const mempool = async () => new Set((await funded.chain.rpc('getrawmempool')) as string[]);
const minedTxids = async (blockHash: string | undefined) =>
  ((await funded.chain.rpc('getblock', [blockHash, true])) as { tx: string[] }).tx;

/** Asserts that sending `tx` is refused with -26 and a message matching `message`. */
async function assertRefused(tx: Signed, message: string | RegExp): Promise<TestChainError> {
  let refusal: TestChainError | undefined;
  await assert.rejects(send(tx), (err: unknown) => {
    assert.ok(err instanceof TestChainError);
    assert.equal(err.code, RpcErrorCode.verifyRejected);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    refusal = err;
    return true;
  });
  assert.ok(refusal);
  return refusal;
}

/** Parses the two amounts (BTC) of bitcoind's `...; <a> < <b>` fee refusals, in sat. */
function amountsOf(message: string): [number, number] {
  const match = / ([0-9.]+) < ([0-9.]+)$/.exec(message);
  assert.ok(match, message);
  return [Math.round(Number(match[1]) * 1e8), Math.round(Number(match[2]) * 1e8)];
}

test('a replacement paying more replaces a signalling transaction; mining confirms the replacement', async () => {
  const coin = nextCoin();
  const original = wallet.pay([coin], { feeSat: 1_000 });
  assert.equal(await send(original), original.txid);
  assert.ok((await mempool()).has(original.txid));

  // Through the JSON-RPC path as a client would send it; two outputs so it is a different transaction.
  const replacement = wallet.pay([coin], { feeSat: 3_000, outputs: 2 });
  assert.equal(await funded.chain.rpc('sendrawtransaction', [replacement.hex]), replacement.txid);
  const after = await mempool();
  assert.ok(after.has(replacement.txid));
  assert.ok(!after.has(original.txid));

  const [block] = await funded.chain.mine(1);
  const mined = await minedTxids(block);
  assert.ok(mined.includes(replacement.txid));
  assert.ok(!mined.includes(original.txid));
  assert.ok(!(await mempool()).has(replacement.txid));
});

test('a replacement paying too little, the same fee, or with a bad signature is refused; the original stays', async () => {
  const coin = nextCoin();
  const original = wallet.pay([coin], { feeSat: 2_000 });
  await send(original);
  const before = await mempool();

  // A lower feerate than the original's (rule 6).
  const lower = wallet.pay([coin], { feeSat: 1_500, outputs: 2 });
  await assertRefused(
    lower,
    new RegExp(
      `^insufficient fee, rejecting replacement ${lower.txid}; new feerate 0\\.\\d{8} BTC/kvB <= old feerate 0\\.\\d{8} BTC/kvB$`,
    ),
  );

  // The same fee (another nSequence, so another transaction): refused by the feerate rule or, if
  // its signature came out a byte shorter, by the relay rule (it adds nothing to pay its relay).
  const same = wallet.pay([coin], { feeSat: 2_000, sequence: RBF_SEQUENCE - 1 });
  await assertRefused(same, new RegExp(`^insufficient fee, rejecting replacement ${same.txid}[;,] `));

  // A higher feerate, but 50 sat more is less than its own relay at 1 sat/vB (rule 4).
  const tooLittle = wallet.pay([coin], { feeSat: 2_050 });
  const refusal = await assertRefused(
    tooLittle,
    new RegExp(
      `^insufficient fee, rejecting replacement ${tooLittle.txid}, not enough additional fees to relay; `,
    ),
  );
  assert.deepEqual(amountsOf(refusal.message), [50, tooLittle.vsize]);

  // Enough fee, but invalid: refused before anything is evicted.
  const badSignature = wallet.pay([coin], { feeSat: 10_000, badSignature: true });
  // (bcoin names a bad witness signature non-mandatory; bitcoind: mandatory-script-verify-flag-failed.)
  await assertRefused(badSignature, /^(non-)?mandatory-script-verify-flag/);

  assert.deepEqual(await mempool(), before);
  assert.ok(before.has(original.txid));
  const [block] = await funded.chain.mine(1);
  assert.ok((await minedTxids(block)).includes(original.txid));
});

test('a transaction that does not signal replaceability is not replaced, whatever it pays', async () => {
  const coin = nextCoin();
  // Version 2, as Lightning's transactions are: bcoin's own isRBF() would call any of them final.
  const original = wallet.pay([coin], { feeSat: 1_000, sequence: NO_RBF_SEQUENCE });
  await send(original);
  const replacement = wallet.pay([coin], { feeSat: 50_000 });
  await assertRefused(replacement, 'txn-mempool-conflict');
  const now = await mempool();
  assert.ok(now.has(original.txid));
  assert.ok(!now.has(replacement.txid));
});

test('replacing a transaction evicts its descendants, and must pay their fees too', async () => {
  const coin = nextCoin();
  const parent = wallet.pay([coin], { feeSat: 1_000 });
  const child = wallet.pay([parent.output(0)], { feeSat: 5_000, sequence: NO_RBF_SEQUENCE });
  const grandchild = wallet.pay([child.output(0)], { feeSat: 1_000, sequence: NO_RBF_SEQUENCE });
  for (const tx of [parent, child, grandchild]) await send(tx);

  // More than the parent alone, less than the three it would evict (rule 3).
  const cheap = wallet.pay([coin], { feeSat: 3_000, outputs: 2 });
  const refusal = await assertRefused(
    cheap,
    new RegExp(`^insufficient fee, rejecting replacement ${cheap.txid}, less fees than conflicting txs; `),
  );
  assert.deepEqual(amountsOf(refusal.message), [3_000, 7_000]);
  assert.ok((await mempool()).has(grandchild.txid));

  const replacement = wallet.pay([coin], { feeSat: 7_500, outputs: 2 });
  await send(replacement);
  const now = await mempool();
  for (const gone of [parent, child, grandchild]) assert.ok(!now.has(gone.txid), gone.txid);
  assert.ok(now.has(replacement.txid));
  const [block] = await funded.chain.mine(1);
  assert.ok((await minedTxids(block)).includes(replacement.txid));
});

test('a replacement may not add unconfirmed inputs nor spend what it replaces', async () => {
  const unrelated = wallet.pay([nextCoin()], { feeSat: 1_000 });
  const coin = nextCoin();
  const original = wallet.pay([coin], { feeSat: 1_000, outputs: 2 });
  await send(unrelated);
  await send(original);
  const before = await mempool();

  const addsUnconfirmed = wallet.pay([coin, unrelated.output(0)], { feeSat: 20_000 });
  await assertRefused(
    addsUnconfirmed,
    `replacement-adds-unconfirmed, replacement ${addsUnconfirmed.txid} adds unconfirmed input, idx 1`,
  );
  const spendsOriginal = wallet.pay([coin, original.output(1)], { feeSat: 20_000 });
  await assertRefused(
    spendsOriginal,
    `bad-txns-spends-conflicting-tx, ${spendsOriginal.txid} spends conflicting transaction ${original.txid}`,
  );
  assert.deepEqual(await mempool(), before);
});

test('a replacement may evict at most 100 transactions', async () => {
  await funded.chain.mine(1); // confirms what earlier tests left, so that the mempool holds only this test's
  assert.equal((await mempool()).size, 0);
  const coin = nextCoin();
  const extra = nextCoin();
  const fan = wallet.pay([coin], { feeSat: 5_000, outputs: 100 });
  await send(fan);
  const children: Signed[] = [];
  for (let i = 0; i < 99; i++) children.push(wallet.pay([fan.output(i)], { feeSat: 500 }));
  // The 100th child also spends a confirmed coin, so that it can be replaced by a transaction
  // that is no descendant of the fan.
  const last = wallet.pay([fan.output(99), extra], { feeSat: 500 });
  for (const child of [...children, last]) await send(child);

  const replacement = wallet.pay([coin], { feeSat: 80_000 });
  await assertRefused(
    replacement,
    `too many potential replacements, rejecting replacement ${replacement.txid}; too many potential replacements (101 > 100)\n`,
  );
  assert.equal((await mempool()).size, 101);

  // Without the 100th child, the fan and its 99 children are exactly 100: allowed.
  await send(wallet.pay([extra], { feeSat: 2_000 }));
  assert.ok(!(await mempool()).has(last.txid));
  await send(replacement);
  const now = await mempool();
  assert.ok(now.has(replacement.txid));
  for (const gone of [fan, ...children]) assert.ok(!now.has(gone.txid), gone.txid);
  assert.equal(now.size, 2);
});

test('evicting a child with another parent leaves that parent its right descendant totals', async () => {
  // bcoin's miner (and the miner floor) ranks by these totals: a stale one would still count the
  // evicted child as paying for the parent.
  const coin = nextCoin();
  const replaced = wallet.pay([coin], { feeSat: 1_000 });
  const otherParent = wallet.pay([nextCoin()], { feeSat: 1_100 });
  const child = wallet.pay([replaced.output(0), otherParent.output(0)], { feeSat: 20_000 });
  for (const tx of [replaced, otherParent, child]) await send(tx);
  const entryOf = (txid: string) =>
    funded.chain.rpc('getmempoolentry', [txid]) as Promise<{
      descendantcount: number;
      descendantfees: number;
    }>;
  assert.equal((await entryOf(otherParent.txid)).descendantfees, 21_100);

  const replacement = wallet.pay([coin], { feeSat: 25_000, outputs: 2 });
  await send(replacement);
  assert.ok(!(await mempool()).has(child.txid));
  const other = await entryOf(otherParent.txid);
  assert.equal(other.descendantcount, 0);
  assert.equal(other.descendantfees, 1_100);
});

test('if bcoin still refuses a replacement after the checks, what it would have replaced is put back', async () => {
  // Before segwit activation, bcoin's addTX refuses any transaction with a witness
  // (no-witness-yet), a check the replacement path leaves to it: the conflicts are evicted by then.
  const early = await startTestChain();
  try {
    await early.mine(101);
    const legacy = await wallet.fund(early, 1_000_000, { legacy: true });
    const segwit = await wallet.fund(early, 1_000_000);
    await early.mine(1);
    const original = wallet.pay([legacy], { feeSat: 1_000, legacy: true });
    const child = wallet.pay([original.output(0)], { feeSat: 1_000, legacy: true });
    for (const tx of [original, child]) await early.sendRawTransaction(tx.hex);

    const replacement = wallet.pay([legacy, segwit], { feeSat: 10_000 });
    await assert.rejects(
      early.sendRawTransaction(replacement.hex),
      (err: unknown) =>
        err instanceof TestChainError &&
        err.code === RpcErrorCode.verifyRejected &&
        err.message === 'no-witness-yet',
    );
    assert.deepEqual(
      new Set((await early.rpc('getrawmempool')) as string[]),
      new Set([original.txid, child.txid]),
    );
    const restored = (await early.rpc('getmempoolentry', [original.txid])) as {
      descendantcount: number;
      descendantfees: number;
    };
    assert.equal(restored.descendantcount, 1);
    assert.equal(restored.descendantfees, 2_000);
    const [hash] = await early.mine(1);
    const mined = ((await early.rpc('getblock', [hash, true])) as { tx: string[] }).tx;
    assert.ok(mined.includes(original.txid) && mined.includes(child.txid));
  } finally {
    await early.stop();
  }
});
