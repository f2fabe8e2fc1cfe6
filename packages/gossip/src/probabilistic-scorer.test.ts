import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Store } from '@lnkit/store';
import { DefaultRouter } from './default-router.ts';
import { NO_INDEX } from './graph-view.ts';
import { DEFAULT_LIQUIDITY_HALF_LIFE_MS, ProbabilisticScorer } from './probabilistic-scorer.ts';
import { graphOf, nodeId } from './route-fixtures.ts';
import type { Route } from './router.ts';
import { loadScorer, SCORER_SNAPSHOT_KEY, saveScorer, scorerSnapshotRecord } from './scorer-record.ts';

const close = (a: number, b: number, what = '') =>
  assert.ok(Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b)), `${what} ${a} ≠ ${b}`);

// Two ways from 1 to 4, both on big channels: through 2 (fee 1,000 + 100 ppm) or through 3 (fee 2,000).
function twoPaths() {
  const big = { capacitySat: 10_000_000n };
  return graphOf([
    { scid: 12, from: 1, to: 2, ...big },
    { scid: 24, from: 2, to: 4, ...big },
    { scid: 13, from: 1, to: 3, ...big },
    { scid: 34, from: 3, to: 4, ...big, out: { feeBaseMsat: 2000, feeProportionalMillionths: 100 } },
  ]);
}
const AMOUNT = 100_000_000n;
const q = {
  payer: nodeId(1),
  payee: nodeId(4),
  amountMsat: AMOUNT,
  finalCltvExpiryDelta: 18,
  currentBlockHeight: 0,
};
const through = (r: Route) => Number(r.hops[1]!.shortChannelId);
const pathOf = (r: Route) => ({ payer: nodeId(1), hops: r.hops });

describe('probability and penalty', () => {
  const s = new ProbabilisticScorer();
  const c = 4_000_000_000;

  test('with nothing learned: P = (0.125 − (a/c − ½)³) / 0.25, LDK’s (x − ½)² density', () => {
    close(s.successProbability(NO_INDEX, c / 2, 0, c), 0.5);
    close(s.successProbability(NO_INDEX, c / 4, 0, c), 0.5625);
    close(s.successProbability(NO_INDEX, c / 10, 0, c), (0.125 + 0.4 ** 3) / 0.25);
    assert.equal(s.successProbability(NO_INDEX, 0, 0, c), 1);
    assert.equal(s.successProbability(NO_INDEX, c, 0, c), 0);
    // What other parts already send over the channel counts.
    close(s.successProbability(NO_INDEX, c / 4, c / 4, c), 0.5);
    // Nothing bounds a hint's channel.
    assert.equal(s.successProbability(NO_INDEX, c, 0, Number.POSITIVE_INFINITY), 1);
  });

  test('linearProbability: uniform between the bounds', () => {
    const linear = new ProbabilisticScorer({ parameters: { linearProbability: true } });
    close(linear.successProbability(NO_INDEX, c / 4, 0, c), 0.75);
  });

  test('penalty = 1,024 + a/8,192 + (10,000 + a·1,250/2^20) · min(−log10 P, 2), + 1e11 when impossible', () => {
    const a = 1_000_000_000;
    const base = 1024 + a / 8192;
    close(
      s.penaltyMsat(NO_INDEX, a, 0, c),
      base + (10_000 + (a * 1250) / 2 ** 20) * -Math.log10(0.5625),
      'penalty',
    );
    // Counted up to P = 1 %.
    const tiny = s.successProbability(NO_INDEX, c * 0.99999, 0, c);
    assert.ok(tiny < 0.01);
    close(
      s.penaltyMsat(NO_INDEX, c * 0.99999, 0, c),
      1024 + (c * 0.99999) / 8192 + (10_000 + (c * 0.99999 * 1250) / 2 ** 20) * 2,
    );
    assert.ok(s.penaltyMsat(NO_INDEX, c, 0, c) > 1e11);
    close(s.penaltyMsat(NO_INDEX, a, 0, Number.POSITIVE_INFINITY), base);
  });
});

describe('learning from payments', () => {
  test('a failure at A: liquidity < A; the hops before it: ≥ their amounts', () => {
    const g = twoPaths();
    const scorer = new ProbabilisticScorer();
    const router = new DefaultRouter({ graph: g, scorer, now: () => 1_000 });
    const r = router.findRoute(q);
    assert.equal(through(r), 24);
    scorer.pathFailed(pathOf(r), 24n, 1_000);
    const cap = 10_000_000_000;
    // 2 → 4 is direction 0 (node 2 is the lesser id): upper bound at the amount it tried.
    assert.deepEqual(scorer.estimatedLiquidity(24n, 0, cap, 1_000), { lowerMsat: 0, upperMsat: 100_000_000 });
    // 1 → 2 forwarded 100,001,000 + its fee: it had at least that.
    const first = scorer.estimatedLiquidity(12n, 0, cap, 1_000)!;
    assert.equal(first.lowerMsat, Number(r.hops[0]!.amountMsat));
    assert.equal(first.upperMsat, cap);
    // The other directions know nothing.
    assert.equal(scorer.estimatedLiquidity(24n, 1, cap, 1_000), undefined);
    // And the next search routes around the failed channel.
    assert.equal(through(router.findRoute(q)), 34);
  });

  test('a smaller amount still goes over a channel that failed a bigger one, at a lower probability', () => {
    const g = twoPaths();
    const scorer = new ProbabilisticScorer();
    const router = new DefaultRouter({ graph: g, scorer, now: () => 0 });
    const edge = 2 * g.channelIndex(24n); // direction 0: 2 → 4
    const p = () => scorer.successProbability(edge, 10_000_000, 0, 10_000_000_000);
    const before = p();
    const r = router.findRoute({ ...q, amountMsat: 10_000_000n });
    scorer.pathFailed(
      { payer: nodeId(1), hops: [r.hops[0]!, { ...r.hops[1]!, amountMsat: 8_000_000_000n }] },
      24n,
      0,
    );
    // (F(0.8) − F(0.001)) / (F(0.8) − F(0)) < (F(1) − F(0.001)) / (F(1) − F(0))
    close(p(), (0.3 ** 3 + 0.499 ** 3) / (0.3 ** 3 + 0.5 ** 3));
    assert.ok(p() < before);
    assert.equal(through(router.findRoute({ ...q, amountMsat: 10_000_000n })), 24);
  });

  test('decay: bounds move halfway back to knowing nothing in each half-life; the route comes back', () => {
    const g = twoPaths();
    let now = 0;
    const scorer = new ProbabilisticScorer();
    const router = new DefaultRouter({ graph: g, scorer, now: () => now });
    const r = router.findRoute(q);
    scorer.pathFailed(pathOf(r), 24n, now);
    scorer.probeSucceeded(
      { payer: nodeId(1), hops: [{ nodeId: nodeId(3), shortChannelId: 13n, amountMsat: 4_000_000n }] },
      now,
    );
    const cap = 10_000_000_000;
    now = DEFAULT_LIQUIDITY_HALF_LIFE_MS;
    assert.deepEqual(scorer.estimatedLiquidity(24n, 0, cap, now), {
      lowerMsat: 0,
      upperMsat: cap - (cap - 100_000_000) / 2,
    });
    assert.equal(scorer.estimatedLiquidity(13n, 0, cap, now)!.lowerMsat, 2_000_000);
    // One half-life on, 2 → 4 is likely enough again for the cheaper path to win.
    assert.equal(through(router.findRoute(q)), 24);
    now = 0;
    assert.equal(through(router.findRoute(q)), 34);
  });

  test('a settled payment moves its amount across: both bounds go down by it', () => {
    const scorer = new ProbabilisticScorer();
    const hop = (amountMsat: bigint) => ({ nodeId: nodeId(2), shortChannelId: 12n, amountMsat });
    const path = (amountMsat: bigint) => ({ payer: nodeId(1), hops: [hop(amountMsat)] });
    scorer.pathFailed(path(9_000_000n), 12n, 0); // < 9,000,000
    scorer.probeSucceeded(path(5_000_000n), 0); // ≥ 5,000,000
    scorer.pathSucceeded(path(3_000_000n), 0); // had ≥ 5,000,000, now 3,000,000 less
    assert.deepEqual(scorer.estimatedLiquidity(12n, 0, 10_000_000, 0), {
      lowerMsat: 2_000_000,
      upperMsat: 6_000_000,
    });
  });

  test('a bound proved wrong is dropped', () => {
    const scorer = new ProbabilisticScorer();
    const path = (amountMsat: bigint) => ({
      payer: nodeId(1),
      hops: [{ nodeId: nodeId(2), shortChannelId: 12n, amountMsat }],
    });
    scorer.pathFailed(path(1_000n), 12n, 0);
    scorer.probeSucceeded(path(5_000n), 0); // it had 5,000 after all: the upper bound of 1,000 goes
    assert.deepEqual(scorer.estimatedLiquidity(12n, 0, 10_000, 0), { lowerMsat: 5_000, upperMsat: 10_000 });
    scorer.pathFailed(path(2_000n), 12n, 0); // and now less than 2,000: the lower bound goes
    assert.deepEqual(scorer.estimatedLiquidity(12n, 0, 10_000, 0), { lowerMsat: 0, upperMsat: 2_000 });
  });

  test('prune drops entries decayed to nothing', () => {
    const scorer = new ProbabilisticScorer({ halfLifeMs: 1000 });
    scorer.probeSucceeded(
      { payer: nodeId(1), hops: [{ nodeId: nodeId(2), shortChannelId: 12n, amountMsat: 5n }] },
      0,
    );
    assert.equal(scorer.prune(10_000), 0);
    assert.equal(scorer.prune(20_001), 1);
    assert.equal(scorer.size, 0);
  });
});

describe('persistence', () => {
  test('saved to a store and loaded back: the same knowledge, the same route', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lnkit-scorer-'));
    try {
      const g = twoPaths();
      const scorer = new ProbabilisticScorer();
      const router = new DefaultRouter({ graph: g, scorer, now: () => 5_000 });
      const r = router.findRoute(q);
      scorer.pathFailed(pathOf(r), 24n, 5_000);
      scorer.pathSucceeded(pathOf(router.findRoute(q)), 5_000);
      let store = await Store.open(dir, { schemaVersion: 1 });
      await saveScorer(store.db('scorer'), scorer, 5_000);
      await store.close();

      store = await Store.open(dir, { schemaVersion: 1 });
      const loaded = loadScorer(store.db('scorer'));
      assert.deepEqual([...loaded.entries()], [...scorer.entries()]);
      assert.equal(loaded.size, 4);
      const again = new DefaultRouter({ graph: g, scorer: loaded, now: () => 5_000 }).findRoute(q);
      assert.deepEqual(again, router.findRoute(q));
      assert.equal(through(again), 34);
      // The bytes are a versioned record: [writer version][min reader version][TLV].
      const bytes = store.db('scorer').get(SCORER_SNAPSHOT_KEY)!;
      assert.deepEqual([bytes[0], bytes[1]], [1, 1]);
      assert.equal(scorerSnapshotRecord.decode(bytes).entries.length, 4);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('nothing saved: a fresh scorer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lnkit-scorer-'));
    try {
      const store = await Store.open(dir, { schemaVersion: 1 });
      assert.equal(loadScorer(store.db('scorer')).size, 0);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
