import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RpcErrorCode, startTestChain, type TestChain, TestChainError } from './index.ts';
import { type Coin, type Signed, TestWallet } from './test-wallet.ts';

let chain: TestChain;
const wallet = new TestWallet();
const coins: Coin[] = [];
const nextCoin = (): Coin => {
  const coin = coins.shift();
  assert.ok(coin, 'out of funded coins');
  return coin;
};

before(async () => {
  chain = await startTestChain();
  await chain.activateSegwit();
  for (let i = 0; i < 4; i++) coins.push(await wallet.fund(chain, 1_000_000));
  await chain.mine(1);
});
after(async () => {
  await chain.stop();
});

/** 10 sat/vB. */
const FLOOR_SAT_PER_KW = 2_500;
const satPerKw = (feeSat: number, vsize: number) => (feeSat * 250) / vsize;

const mempool = async () => new Set((await chain.rpc('getrawmempool')) as string[]);
async function mineOne(): Promise<string[]> {
  const [hash] = await chain.mine(1);
  return ((await chain.rpc('getblock', [hash, true])) as { tx: string[] }).tx;
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
  for (const tx of [low, high, lowParent, richChild]) await chain.sendRawTransaction(tx.hex);
  assert.ok(satPerKw(low.feeSat, low.vsize) < FLOOR_SAT_PER_KW);
  assert.ok(satPerKw(high.feeSat, high.vsize) > FLOOR_SAT_PER_KW);
  assert.ok(satPerKw(richChild.feeSat, richChild.vsize) > FLOOR_SAT_PER_KW);
  assert.ok(
    satPerKw(lowParent.feeSat + richChild.feeSat, lowParent.vsize + richChild.vsize) < FLOOR_SAT_PER_KW,
  );

  chain.setMinerFeerateFloor(FLOOR_SAT_PER_KW);
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
  await chain.sendRawTransaction(child.hex);
  const mined = await mineOne();
  assert.ok(mined.includes(low.txid));
  assert.ok(mined.includes(child.txid));
  assert.ok(!mined.includes(lowParent.txid));
  assert.deepEqual(await mempool(), new Set([lowParent.txid, richChild.txid]));
});

test('removing the floor mines everything', async () => {
  chain.setMinerFeerateFloor(undefined);
  const mined = await mineOne();
  assert.ok(mined.includes(lowParent.txid));
  assert.ok(mined.includes(richChild.txid));
  assert.equal((await mempool()).size, 0);
});

test('a floor of 0 mines normally; a negative or non-number floor is refused', async () => {
  const tx = wallet.pay([nextCoin()], { feeSat: 200 });
  await chain.sendRawTransaction(tx.hex);
  chain.setMinerFeerateFloor(FLOOR_SAT_PER_KW);
  chain.setMinerFeerateFloor(0);
  assert.ok((await mineOne()).includes(tx.txid));
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => chain.setMinerFeerateFloor(bad),
      (err: unknown) => err instanceof TestChainError && err.code === RpcErrorCode.invalidParameter,
    );
  }
});
