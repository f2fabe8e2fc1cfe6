import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IntervalScheduler } from '@lnkit/chain-sync';
import { captureLogger } from '@lnkit/test-support';
import { NodeContext } from '../context.ts';
import { backgroundStep } from './18-background.ts';

/** Rounds run when the test says so. */
class Rounds implements IntervalScheduler {
  readonly tasks: { everyMs: number; run: () => Promise<void>; cancelled: boolean }[] = [];
  every(everyMs: number, run: () => Promise<void>) {
    const t = { everyMs, run, cancelled: false };
    this.tasks.push(t);
    return { cancel: () => (t.cancelled = true) };
  }
  async tick(): Promise<void> {
    for (const t of this.tasks) if (!t.cancelled) await t.run();
  }
}

function context() {
  const log = captureLogger({ level: 'warn' });
  const ctx = new NodeContext(
    {
      dataDir: '/nonexistent',
      network: 'regtest',
      chain: { url: 'http://127.0.0.1:1', auth: { user: 'u', password: 'p' } },
    },
    log.logger,
    {},
  );
  return { ctx, log };
}

test("each component's task runs every round; a failing one is logged and runs again", async () => {
  const { ctx, log } = context();
  const runs: string[] = [];
  let fail = true;
  ctx.background.push(
    { name: 'fee refresh', everyMs: 60_000, run: async () => void runs.push('fees') },
    {
      name: 'rebroadcast',
      everyMs: 30_000,
      run: async () => {
        runs.push('rebroadcast');
        if (fail) throw new Error('bitcoind is down');
      },
    },
  );
  const rounds = new Rounds();
  const step = backgroundStep(rounds);
  await step.start(ctx);
  assert.deepEqual(
    rounds.tasks.map((t) => t.everyMs),
    [60_000, 30_000],
  );
  await rounds.tick();
  fail = false;
  await rounds.tick();
  assert.deepEqual(runs, ['fees', 'rebroadcast', 'fees', 'rebroadcast']);
  const warned = log.lines.filter((l) => l.task === 'rebroadcast');
  assert.equal(warned.length, 1);
  assert.match(String(warned[0]?.msg), /background task rebroadcast failed; it runs again in 30000 ms/);
  await step.stop?.();
  assert.ok(rounds.tasks.every((t) => t.cancelled));
});

test('stop waits for a round under way', async () => {
  const { ctx } = context();
  let release!: () => void;
  let finished = false;
  ctx.background.push({
    name: 'slow',
    everyMs: 1000,
    run: () =>
      new Promise<void>((r) => {
        release = () => {
          finished = true;
          r();
        };
      }),
  });
  const rounds = new Rounds();
  const step = backgroundStep(rounds);
  await step.start(ctx);
  const round = rounds.tick();
  const stopped = step.stop?.();
  let stopDone = false;
  void Promise.resolve(stopped).then(() => (stopDone = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(stopDone, false, 'not stopped while the round runs');
  release();
  await stopped;
  await round;
  assert.ok(finished);
});
