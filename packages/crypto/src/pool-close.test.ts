// Closing a pool never terminates a worker that is still loading the secp256k1 addon or is
// inside a call into it (pool-close-guard.ts: that aborts the whole process).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CryptoPool } from './pool.ts';
import { PoolCloseGuard } from './pool-close-guard.ts';

const KEY = new Uint8Array(32).fill(1);
const signRequests = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ digest: new Uint8Array(32).fill(i & 0xff), privateKey: KEY }));

test('close() right after the pool is made waits for every worker to have loaded', async () => {
  const pool = new CryptoPool({ threads: 2 });
  await pool.close();
  assert.equal(pool.loadedThreads, 2, 'a worker was terminated before it said it had loaded');
});

test('close() lets the batches already running finish instead of cutting them off', async () => {
  const pool = new CryptoPool({ threads: 2, chunkSize: 16 });
  const batch = pool.signBatch(signRequests(512));
  await pool.close();
  const sigs = await batch;
  assert.equal(sigs.length, 512);
  assert.ok(sigs.every((s) => s.length === 64));
  await assert.rejects(pool.signBatch(signRequests(1)), /closed/);
});

test('a guard waits for its tracked tasks; one no worker announces to gives up after its timeout', async () => {
  const g = new PoolCloseGuard(0);
  let finish!: () => void;
  const task = g.track(new Promise<void>((r) => (finish = r)));
  let safe = false;
  const waiting = g.safeToClose(600_000).then(() => (safe = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(safe, false, 'safe while a task was running');
  finish();
  await task;
  await waiting;
  const lonely = new PoolCloseGuard(1);
  await lonely.safeToClose(50);
  assert.equal(lonely.loaded, 0);
  const pending = lonely.safeToClose(600_000);
  lonely.close();
  await pending;
  g.close();
});
