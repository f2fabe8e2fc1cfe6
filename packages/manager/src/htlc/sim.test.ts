/**
 * The deterministic simulation (sim.ts) over many seeds: both sides adding, settling and
 * changing the fee at once, messages delayed, connections dropped, persists held and completed
 * late, nodes crashed at any point and restarted from disk through restartNormal, with every
 * invariant checked after each operation. A failure names its seed: `HTLC_SIM_SEED=n` replays
 * it exactly; `HTLC_SIM_SEEDS=n` runs seeds 1..n and `HTLC_SIM_OPS=n` sets the operations per seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SimStats, simulate } from './sim.ts';

const only = process.env.HTLC_SIM_SEED;
const count = Number(process.env.HTLC_SIM_SEEDS ?? 100);
const opsPerSeed = Number(process.env.HTLC_SIM_OPS ?? 1000);
const seeds = only !== undefined ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);

test(`simulation: ${seeds.length} seeds × ${opsPerSeed} operations, with crashes and restarts`, async () => {
  const total: SimStats = {
    ops: 0,
    fulfilled: 0,
    failed: 0,
    crashes: 0,
    reestablished: 0,
    feeUpdates: 0,
    connectedOps: 0,
    agreements: 0,
  };
  const started = Date.now();
  for (const seed of seeds) {
    let r: SimStats;
    try {
      r = await simulate(seed, opsPerSeed);
    } catch (err) {
      throw new Error(
        `seed ${seed} failed (replay: HTLC_SIM_SEED=${seed} HTLC_SIM_OPS=${opsPerSeed}): ${(err as Error).message}`,
        { cause: err },
      );
    }
    for (const k of Object.keys(total) as (keyof SimStats)[]) total[k] += r[k];
  }
  console.log(
    `htlc simulation: ${seeds.length} seeds, ${total.ops} operations, ${total.fulfilled} HTLCs fulfilled, ${total.failed} failed, ${total.crashes} crashes, ${total.reestablished} reestablishments, ${total.feeUpdates} update_fee, ${total.agreements} quiet points agreed, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  // The runs paid, crashed and reconnected (else they would prove little).
  assert.ok(total.fulfilled > seeds.length, `only ${total.fulfilled} HTLCs fulfilled`);
  assert.ok(total.crashes > seeds.length, `only ${total.crashes} crashes`);
  assert.ok(total.reestablished > seeds.length, `only ${total.reestablished} reestablishments`);
});
