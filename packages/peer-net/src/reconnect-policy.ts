/**
 * When to redial a persistent peer, as pure functions of its failure streak: exponential
 * backoff from a first delay to a cap, a little jitter, and a reset once a connection has
 * stayed up long enough to count as stable. BOLT 1 says nothing about reconnecting; this is
 * the node's own policy (lnd's `nextPeerBackoff` works the same way). No timers here: the
 * PeerDirectory asks for a delay and returns "dial at T"; the PeerManager keeps the timer.
 */
import { PeerNetError } from './errors.ts';

export interface ReconnectPolicy {
  /** The wait before the first redial of a streak. */
  readonly initialDelayMs: number;
  /** The longest wait; the doubling stops here. */
  readonly maxDelayMs: number;
  /**
   * A connection that stayed up (init exchanged) at least this long ends the streak, so the
   * next drop is redialled after `initialDelayMs` again. A shorter one does not: a peer that
   * accepts and then drops us at once is redialled ever more slowly, not every second.
   */
  readonly stableAfterMs: number;
  /**
   * Up to this fraction of each delay is taken off at random (0 = none, at most 1). Two nodes
   * that keep each other persistent and lost their link at the same instant would otherwise
   * redial each other in lockstep; with "newer connection wins" on both sides, two crossing
   * connections can each lose on one side. Taking off (not adding) keeps `maxDelayMs` a true maximum.
   */
  readonly jitter: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = {
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  stableAfterMs: 60_000,
  jitter: 0.1,
};

/** Refuses a policy that cannot work (a zero or negative delay would redial in a busy loop). */
export function checkReconnectPolicy(p: ReconnectPolicy): ReconnectPolicy {
  const positive = (v: number) => Number.isFinite(v) && v > 0;
  if (!positive(p.initialDelayMs) || !positive(p.maxDelayMs) || p.maxDelayMs < p.initialDelayMs) {
    throw new PeerNetError(
      'invalid-argument',
      `reconnect delays must be positive with initial ≤ max, got ${p.initialDelayMs} and ${p.maxDelayMs} ms`,
    );
  }
  if (!(p.stableAfterMs >= 0) || !(p.jitter >= 0 && p.jitter <= 1)) {
    throw new PeerNetError(
      'invalid-argument',
      `reconnect stableAfterMs must be ≥ 0 and jitter in 0..1, got ${p.stableAfterMs} and ${p.jitter}`,
    );
  }
  return p;
}

/**
 * The wait before the redial that follows `failures` failures in a row (0 for the first):
 * `initialDelayMs × 2^failures`, capped at `maxDelayMs`, less up to `jitter` of it.
 * `random` is in [0, 1) (Math.random in the node; fixed in tests).
 */
export function redialDelayMs(policy: ReconnectPolicy, failures: number, random: number): number {
  // 2 ** 1100 is Infinity, and min(Infinity, max) is max: no overflow to worry about.
  const base = Math.min(policy.initialDelayMs * 2 ** failures, policy.maxDelayMs);
  return Math.max(1, Math.round(base * (1 - policy.jitter * random)));
}

/** The streak after a connection that was up for `upMs` dropped: reset if it was stable. */
export function failuresAfterDrop(policy: ReconnectPolicy, failures: number, upMs: number): number {
  return upMs >= policy.stableAfterMs ? 0 : failures;
}
