/**
 * Per-peer rate limit on gossip that costs a signature check: a token bucket per peer, fed the
 * time (no timers). Duplicates and stale messages are dropped before they reach it (they cost
 * a map lookup), so the bucket meters only work a peer makes us do. A peer we asked for gossip
 * (a query, or a timestamp filter reaching into the past) is exempt until it has been quiet for
 * a while: a full sync from one peer is tens of thousands of messages in a few seconds.
 */
export interface RateLimitOptions {
  /** Messages a peer may send at once. Default 5,000. */
  burst?: number;
  /** Refill per second. Default 500. */
  perSecond?: number;
  /** A solicited peer stays exempt until this long after its last gossip. Default 30 s. */
  solicitedQuietMs?: number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** Exempt while now < this. */
  exemptUntil: number;
}

export class GossipRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly perMs: number;
  private readonly quietMs: number;

  constructor(options: RateLimitOptions = {}) {
    this.burst = options.burst ?? 5000;
    this.perMs = (options.perSecond ?? 500) / 1000;
    this.quietMs = options.solicitedQuietMs ?? 30_000;
  }

  private bucket(peer: string, nowMs: number): Bucket {
    let b = this.buckets.get(peer);
    if (!b) {
      b = { tokens: this.burst, at: nowMs, exemptUntil: 0 };
      this.buckets.set(peer, b);
    }
    return b;
  }

  /** We asked this peer for gossip: exempt it until it has been quiet for `solicitedQuietMs`. */
  solicited(peer: string, nowMs: number): void {
    this.bucket(peer, nowMs).exemptUntil = nowMs + this.quietMs;
  }

  /** Takes one token; false when the peer is over its limit. */
  take(peer: string, nowMs: number): boolean {
    const b = this.bucket(peer, nowMs);
    if (nowMs < b.exemptUntil) {
      b.exemptUntil = nowMs + this.quietMs;
      return true;
    }
    b.tokens = Math.min(this.burst, b.tokens + (nowMs - b.at) * this.perMs);
    b.at = nowMs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(peer: string): void {
    this.buckets.delete(peer);
  }
}
