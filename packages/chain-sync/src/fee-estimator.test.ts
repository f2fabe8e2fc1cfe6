import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import { ChainSyncError } from './errors.ts';
import { BitcoindFeeEstimator, FEERATE_FLOOR_SAT_PER_KW } from './fee-estimator.ts';
import { ManualScheduler } from './manual-scheduler.ts';
import type { JsonRpc } from './rpc-client.ts';

const logger = createRootLogger({ level: 'silent' });

/** A JSON-RPC whose estimatesmartfee answers come from `answer(confTarget)`. */
function fakeRpc(answer: (blocks: number) => unknown): JsonRpc & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    url: 'http://127.0.0.1:1',
    calls,
    async call<T>(method: string, params: unknown[] = []): Promise<T> {
      assert.equal(method, 'estimatesmartfee');
      calls.push(params);
      const a = answer(params[0] as number);
      if (a instanceof Error) throw a;
      return a as T;
    },
  };
}

test('converts bitcoind BTC/kvB to sat/kw per target (sat/kvB / 4)', async () => {
  // 0.0001 BTC/kvB = 10,000 sat/kvB = 2,500 sat/kw.
  const rates: Record<number, number> = { 144: 0.00002, 18: 0.0001, 6: 0.0002 };
  const rpc = fakeRpc((blocks) => ({ feerate: rates[blocks], blocks }));
  const fees = new BitcoindFeeEstimator(rpc, { logger });
  await fees.refresh();
  assert.equal(fees.feeratePerKw('background'), 500n);
  assert.equal(fees.feeratePerKw('normal'), 2500n);
  assert.equal(fees.feeratePerKw('highPriority'), 5000n);
  assert.deepEqual(rpc.calls, [
    [144, 'ECONOMICAL'],
    [18, 'ECONOMICAL'],
    [6, 'CONSERVATIVE'],
  ]);
});

test('never below 253 sat/kw, even when the source estimates less', async () => {
  // 0.000005 BTC/kvB = 500 sat/kvB = 125 sat/kw.
  const fees = new BitcoindFeeEstimator(
    fakeRpc(() => ({ feerate: 0.000005, blocks: 2 })),
    { logger },
  );
  await fees.refresh();
  assert.equal(fees.feeratePerKw('normal'), FEERATE_FLOOR_SAT_PER_KW);
});

test("no estimate (bitcoind's errors shape, bcoin's fee: -1) falls back; a failing source keeps the last value", async () => {
  let mode: 'errors' | 'bcoin' | 'ok' | 'down' = 'errors';
  const rpc = fakeRpc((blocks) => {
    if (mode === 'errors') return { errors: ['Insufficient data or no feerate found'], blocks: 0 };
    if (mode === 'bcoin') return { fee: -1, blocks };
    if (mode === 'ok') return { feerate: 0.0004, blocks };
    return new ChainSyncError('unreachable', 'cannot reach http://127.0.0.1:1');
  });
  const fees = new BitcoindFeeEstimator(rpc, { logger, fallbackPerKw: { normal: 3000n } });
  await fees.refresh();
  assert.equal(fees.feeratePerKw('normal'), 3000n);
  mode = 'bcoin';
  await fees.refresh();
  assert.equal(fees.feeratePerKw('normal'), 3000n);
  mode = 'ok';
  await fees.refresh();
  assert.equal(fees.feeratePerKw('normal'), 10_000n);
  mode = 'down';
  await fees.refresh();
  assert.equal(fees.feeratePerKw('normal'), 10_000n);
});

test('start() refreshes on every round of its interval, so a new estimate replaces the cached one without a call per read', async () => {
  let btcPerKvB = 0.0001; // 2,500 sat/kw
  const rpc = fakeRpc((blocks) => ({ feerate: btcPerKvB, blocks }));
  const scheduler = new ManualScheduler();
  const fees = new BitcoindFeeEstimator(rpc, { logger, refreshIntervalMs: 30, scheduler });
  await fees.start();
  assert.deepEqual(scheduler.intervalsMs, [30]);
  assert.equal(fees.feeratePerKw('normal'), 2500n, 'start() fetched the first estimate');
  const callsAfterStart = rpc.calls.length;
  for (let i = 0; i < 100; i++) fees.feeratePerKw('normal');
  assert.equal(rpc.calls.length, callsAfterStart, 'reads come from the cache');
  btcPerKvB = 0.0002;
  assert.equal(fees.feeratePerKw('normal'), 2500n, 'not before the next round');
  await scheduler.tick();
  assert.equal(fees.feeratePerKw('normal'), 5000n, 'the round fetched the new estimate');
  assert.equal(rpc.calls.length, callsAfterStart + 3, 'one call per target per round');
  await fees.start();
  assert.deepEqual(scheduler.intervalsMs, [30], 'started twice: still one timer');
  fees.stop();
  assert.deepEqual(scheduler.intervalsMs, [], 'stop() cancels the rounds');
});

test('start() with real timers refreshes by itself', async () => {
  let btcPerKvB = 0.0001;
  const rpc = fakeRpc((blocks) => ({ feerate: btcPerKvB, blocks }));
  const fees = new BitcoindFeeEstimator(rpc, { logger, refreshIntervalMs: 5 });
  await fees.start();
  try {
    btcPerKvB = 0.0002;
    await waitFor(() => fees.feeratePerKw('normal') === 5000n, {
      what: 'a timer round to fetch the new estimate',
    });
  } finally {
    fees.stop();
  }
});
