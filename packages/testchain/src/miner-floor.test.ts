import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RpcErrorCode, TestChainError } from './index.ts';
import { type Coin, fundedTestChain, type Signed, TestWallet } from './test-wallet.ts';

const wallet = new TestWallet();
/** Confirmed coins of 1,000,000 sat each, one per use below. */
const funded = fundedTestChain(wallet, 4, { before, after });
const nextCoin = (): Coin => funded.nextCoin();

/** 10 sat/vB. */
const FLOOR_SAT_PER_KW = 2_500;
const satPerKw = (feeSat: number, vsize: number) => (feeSat * 250) / vsize;

const mempool = async () => new Set((await funded.chain.rpc('getrawmempool')) as string[]);
async function mineOne(): Promise<string[]> {
  const [hash] = await funded.chain.mine(1);
  return ((await funded.chain.rpc('getblock', [hash, true])) as { tx: string[] }).tx;
}

// Shared by the tests below, which run in order.
let low: Signed; // below the floor, no child yet
let high: Signed; // above it
let lowParent: Signed; // below the floor
let richChild: Signed; // above the floor itself, but its package with lowParent is not

test('with a floor, blocks leave out transactions whose package is below it; they stay in the mempool', async () => {
  low = wallet.pay([nextCoin()], { feeSat: 250 });
  high = wallet.pay([nextCoin()], { feeSat: 3_000 });
  lowParent = wallet.pay([nextCoin()], { feeSat: 220 });
  richChild = wallet.pay([lowParent.output(0)], { feeSat: 1_300 });
  for (const tx of [low, high, lowParent, richChild]) await funded.chain.sendRawTransaction(tx.hex);
  assert.ok(satPerKw(low.feeSat, low.vsize) < FLOOR_SAT_PER_KW);
  assert.ok(satPerKw(high.feeSat, high.vsize) > FLOOR_SAT_PER_KW);
  assert.ok(satPerKw(richChild.feeSat, richChild.vsize) > FLOOR_SAT_PER_KW);
  assert.ok(
    satPerKw(lowParent.feeSat + richChild.feeSat, lowParent.vsize + richChild.vsize) < FLOOR_SAT_PER_KW,
  );

  funded.chain.setMinerFeerateFloor(FLOOR_SAT_PER_KW);
  const mined = await mineOne();
  assert.ok(mined.includes(high.txid));
  // The child pays enough by itself, but cannot be mined without its parent.
  for (const waiting of [low, lowParent, richChild]) assert.ok(!mined.includes(waiting.txid), waiting.txid);
  const left = await mempool();
  for (const waiting of [low, lowParent, richChild]) assert.ok(left.has(waiting.txid), waiting.txid);
  assert.ok(!left.has(high.txid));
});

test('a child paying for its parent gets both mined (CPFP)', async () => {
  const child = wallet.pay([low.output(0)], { feeSat: 3_000 });
  assert.ok(satPerKw(low.feeSat + child.feeSat, low.vsize + child.vsize) >= FLOOR_SAT_PER_KW);
  await funded.chain.sendRawTransaction(child.hex);
  const mined = await mineOne();
  assert.ok(mined.includes(low.txid));
  assert.ok(mined.includes(child.txid));
  assert.ok(!mined.includes(lowParent.txid));
  assert.deepEqual(await mempool(), new Set([lowParent.txid, richChild.txid]));
});

test('removing the floor mines everything', async () => {
  funded.chain.setMinerFeerateFloor(undefined);
  const mined = await mineOne();
  assert.ok(mined.includes(lowParent.txid));
  assert.ok(mined.includes(richChild.txid));
  assert.equal((await mempool()).size, 0);
});

test('a floor of 0 mines normally; a negative or non-number floor is refused', async () => {
  const tx = wallet.pay([nextCoin()], { feeSat: 200 });
  await funded.chain.sendRawTransaction(tx.hex);
  funded.chain.setMinerFeerateFloor(FLOOR_SAT_PER_KW);
  funded.chain.setMinerFeerateFloor(0);
  assert.ok((await mineOne()).includes(tx.txid));
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => funded.chain.setMinerFeerateFloor(bad),
      (err: unknown) => err instanceof TestChainError && err.code === RpcErrorCode.invalidParameter,
    );
  }
});
