/** The persistent-peer backoff as plain arithmetic: no sockets, no timers, no clock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerNetError } from './errors.ts';
import {
  checkReconnectPolicy,
  DEFAULT_RECONNECT_POLICY,
  failuresAfterDrop,
  type ReconnectPolicy,
  redialDelayMs,
} from './reconnect-policy.ts';

const POLICY: ReconnectPolicy = { initialDelayMs: 40, maxDelayMs: 200, stableAfterMs: 1000, jitter: 0 };

test('delays double from the first delay and stop at the cap', () => {
  const delays = [0, 1, 2, 3, 4, 5, 60, 2000].map((n) => redialDelayMs(POLICY, n, 0));
  assert.deepEqual(delays, [40, 80, 160, 200, 200, 200, 200, 200]);
  // The defaults: 1 s doubling to 60 s.
  const d = { ...DEFAULT_RECONNECT_POLICY, jitter: 0 };
  assert.deepEqual(
    [0, 1, 5, 6, 7].map((n) => redialDelayMs(d, n, 0)),
    [1000, 2000, 32_000, 60_000, 60_000],
  );
});

test('jitter only shortens a delay, by at most its fraction: the cap stays a true maximum', () => {
  const p = { ...POLICY, jitter: 0.25 };
  for (const failures of [0, 1, 2, 3, 10]) {
    const base = redialDelayMs(POLICY, failures, 0);
    for (const r of [0, 0.3, 0.999]) {
      const d = redialDelayMs(p, failures, r);
      assert.ok(d <= base && d >= base * 0.75 - 1, `failures ${failures}, random ${r}: ${d} of ${base}`);
    }
  }
  assert.equal(redialDelayMs(p, 0, 0.5), 35);
  assert.equal(redialDelayMs(p, 9, 0.999), 150);
});

test('a connection that lived stableAfterMs ends the streak; a shorter one keeps it', () => {
  assert.equal(failuresAfterDrop(POLICY, 5, 999), 5);
  assert.equal(failuresAfterDrop(POLICY, 5, 1000), 0);
  assert.equal(failuresAfterDrop(POLICY, 0, 10), 0);
});

test('a policy that would redial in a busy loop, or never, is refused', () => {
  const bad: Partial<ReconnectPolicy>[] = [
    { initialDelayMs: 0 },
    { initialDelayMs: -1 },
    { maxDelayMs: 10 },
    { maxDelayMs: Number.NaN },
    { stableAfterMs: -1 },
    { jitter: 1.5 },
    { jitter: -0.1 },
  ];
  for (const over of bad) {
    assert.throws(
      () => checkReconnectPolicy({ ...POLICY, ...over }),
      (e: unknown) => e instanceof PeerNetError && e.code === 'invalid-argument',
      JSON.stringify(over),
    );
  }
  assert.equal(checkReconnectPolicy(POLICY), POLICY);
});
