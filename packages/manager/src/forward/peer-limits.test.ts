/**
 * The per-peer forward limits' rate part (peer-limits.ts): a token bucket per peer, full at
 * first, refilled at `perSecond`; peers apart; no limit at 0; bad limits named.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForwardRateLimiter, peerLimitsProblem } from './peer-limits.ts';

test('a burst, then one forward per 1/perSecond; each peer its own bucket; 0 is no limit', () => {
  const l = new ForwardRateLimiter({ maxInFlight: 10, perSecond: 2, burst: 3 });
  const taken = (peer: string, at: number) => l.take(peer, at);
  assert.deepEqual(
    [0, 0, 0, 0].map(() => taken('p', 1_000)),
    [true, true, true, false],
  );
  assert.equal(taken('q', 1_000), true, 'another peer is not slowed');
  assert.equal(taken('p', 1_400), false, '0.8 of a token after 400 ms');
  assert.equal(taken('p', 1_500), true, 'one after 500 ms at 2 a second');
  assert.equal(taken('p', 1_500), false);
  // Long idle: full again, never above the burst.
  assert.deepEqual(
    [0, 0, 0, 0].map(() => taken('p', 60_000)),
    [true, true, true, false],
  );
  const none = new ForwardRateLimiter({ maxInFlight: 10, perSecond: 0 });
  for (let i = 0; i < 1_000; i++) assert.equal(none.take('p', 0), true);
});

test('bad limits are named', () => {
  assert.equal(peerLimitsProblem({ maxInFlight: 5, perSecond: 0 }), undefined);
  assert.match(peerLimitsProblem({ maxInFlight: 0 }) ?? '', /maxInFlight must be a whole number from 1/);
  assert.match(peerLimitsProblem({ perSecond: 1.5 }) ?? '', /perSecond must be a whole number from 0/);
  assert.match(peerLimitsProblem({ burst: -1 }) ?? '', /burst/);
});
