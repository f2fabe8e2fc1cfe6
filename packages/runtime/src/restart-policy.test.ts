import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  backoffMs,
  type Crash,
  consecutiveCrashes,
  DEFAULT_RESTART_POLICY,
  nextAction,
  type RestartPolicy,
  relevantCrashes,
  resolveRestartPolicy,
} from './restart-policy.ts';

const policy: RestartPolicy = {
  maxRestarts: 3,
  initialBackoffMs: 100,
  maxBackoffMs: 1000,
  resetAfterMs: 60_000,
};

/** Incarnations that each lived `lived[i]` ms and crashed, one after another from t = 0. */
function history(...lived: number[]): Crash[] {
  let t = 0;
  return lived.map((ms) => {
    const c = { startedAtMs: t, crashedAtMs: t + ms };
    t += ms + 1;
    return c;
  });
}

test('the backoff doubles with each consecutive crash, up to maxBackoffMs', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 10].map((n) => backoffMs(n, policy)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test('crashes count back to, and including, the first incarnation that lived longer than resetAfterMs', () => {
  assert.equal(consecutiveCrashes(history(5), policy), 1);
  assert.equal(consecutiveCrashes(history(5, 5, 5), policy), 3);
  assert.equal(consecutiveCrashes(history(5, 5, 60_001), policy), 1, 'a long life resets the count');
  assert.equal(consecutiveCrashes(history(5, 60_001, 5, 5), policy), 3);
  assert.equal(consecutiveCrashes(history(5, 60_000), policy), 2, 'exactly resetAfterMs does not reset');
});

test('nextAction restarts after the backoff, and gives up after maxRestarts consecutive crashes', () => {
  assert.deepEqual(nextAction(history(5), policy), { restartInMs: 100, consecutiveCrashes: 1 });
  assert.deepEqual(nextAction(history(5, 5, 5), policy), { restartInMs: 400, consecutiveCrashes: 3 });
  assert.deepEqual(nextAction(history(5, 5, 5, 5), policy), { giveUp: true, consecutiveCrashes: 4 });
  assert.deepEqual(nextAction(history(5, 5, 5, 70_000), policy), { restartInMs: 100, consecutiveCrashes: 1 });
  assert.deepEqual(nextAction(history(5), { ...policy, maxRestarts: 0 }), {
    giveUp: true,
    consecutiveCrashes: 1,
  });
});

test('relevantCrashes keeps what the next decision depends on, so the history stays bounded', () => {
  const h = history(5, 5, 70_000, 5, 5);
  const kept = relevantCrashes(h, policy);
  assert.deepEqual(kept, h.slice(2));
  const next = { startedAtMs: 200_000, crashedAtMs: 200_005 };
  assert.deepEqual(nextAction([...kept, next], policy), nextAction([...h, next], policy));
});

test('the restart option: false never restarts, a partial one fills in the defaults', () => {
  assert.equal(resolveRestartPolicy(false).maxRestarts, 0);
  assert.deepEqual(resolveRestartPolicy(undefined), DEFAULT_RESTART_POLICY);
  assert.deepEqual(resolveRestartPolicy({ initialBackoffMs: 5 }), {
    ...DEFAULT_RESTART_POLICY,
    initialBackoffMs: 5,
  });
  assert.deepEqual(resolveRestartPolicy({ maxRestarts: 1 }, policy), { ...policy, maxRestarts: 1 });
});
