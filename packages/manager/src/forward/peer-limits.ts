/**
 * Per-peer limits on what we forward, a defence against channel jamming: an upstream peer may
 * hold at most `maxInFlight` of our outgoing HTLCs at once (across all its channels with us),
 * and start at most `perSecond` forwards a second on average, in bursts of up to `burst`. A
 * forward beyond either is failed back at once with temporary_channel_failure (BOLT 4), so the
 * peer's HTLCs cannot pin the liquidity and the HTLC slots of our other channels. Pure: fed
 * the time in ms.
 */

export interface PeerForwardLimits {
  /** Outgoing HTLCs of ours one upstream peer's forwards may hold at once. Default 483 (BOLT 2's max_accepted_htlcs bound, over all its channels). */
  maxInFlight: number;
  /** Forwards a second one peer may start, on average; 0: no rate limit (the default). */
  perSecond: number;
  /** How many may come at once above the average (the bucket's size); default 10 × perSecond. */
  burst?: number | undefined;
}

export const DEFAULT_PEER_FORWARD_LIMITS: Readonly<PeerForwardLimits> = Object.freeze({
  maxInFlight: 483,
  perSecond: 0,
});

/** A token bucket per peer: full at first, refilled at `perSecond`. */
export class ForwardRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();
  readonly #size: number;

  constructor(readonly limits: PeerForwardLimits) {
    this.#size = limits.burst ?? Math.max(1, limits.perSecond * 10);
  }

  /** Takes one forward's token for `peer`; false: over its rate, refuse it. */
  take(peer: string, nowMs: number): boolean {
    if (this.limits.perSecond <= 0) return true;
    const b = this.#buckets.get(peer) ?? { tokens: this.#size, atMs: nowMs };
    b.tokens = Math.min(this.#size, b.tokens + ((nowMs - b.atMs) / 1000) * this.limits.perSecond);
    b.atMs = nowMs;
    this.#buckets.set(peer, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/** What is wrong with the limits, naming the field; undefined if nothing. */
export function peerLimitsProblem(l: Partial<PeerForwardLimits>): string | undefined {
  const whole = (name: string, v: number | undefined, min: number) =>
    v === undefined || (Number.isInteger(v) && v >= min && v <= 1_000_000)
      ? undefined
      : `${name} must be a whole number from ${min} to 1000000; got ${String(v)}`;
  return (
    whole('maxInFlight', l.maxInFlight, 1) ?? whole('perSecond', l.perSecond, 0) ?? whole('burst', l.burst, 1)
  );
}
