/**
 * ProbabilisticScorer: lnkit's default Scorer, after LDK's of the same name. It keeps, per
 * directed channel, what payment outcomes proved about the liquidity on the sending side —
 *
 *   - an HTLC of amount A failed at the channel: liquidity < A (the upper bound);
 *   - an HTLC of amount A went through it (it failed further on, or a probe came back): liquidity ≥ A
 *     (the lower bound);
 *   - a payment of A settled through it: it had ≥ A and now has A less (both bounds move down by A);
 *
 * — and lets the bounds decay towards knowing nothing (lower → 0, upper → capacity) with a
 * half-life, since channels rebalance and forward for others. From the bounds [lo, hi) and the
 * capacity c it estimates the probability that the channel can carry `a` (the amount plus what
 * other parts of the payment already send over it), with LDK's default density, which puts
 * liquidity at the channel's edges more often than in the middle (channels are mostly unbalanced):
 *
 *   density ∝ (x − ½)², x = liquidity / c     ⇒   P(a) = (F(hi) − F(a)) / (F(hi) − F(lo)),  F(y) = (y/c − ½)³
 *
 * (1 for a ≤ lo, 0 for a ≥ hi; `linearProbability` uses a uniform density instead). The
 * penalty the router adds to the fee is, in msat, with LDK's defaults:
 *
 *   penalty = basePenaltyMsat + a_part × basePenaltyAmountMultiplier                (per hop: shorter routes win)
 *           + (liquidityPenaltyMsat + a_part × liquidityPenaltyAmountMultiplier) × min(−log10 P, 2)
 *           + impossiblePenaltyMsat, when P = 0
 *
 * where a_part is this part's amount. Defaults: 1,024 msat + a / 8,192 (LDK's base penalty,
 * 131,072 / 2^30), and 10,000 msat + a × 1,250 / 2^20 (about 0.12 % of the amount) per unit of
 * −log10 P (LDK's historical-liquidity multipliers, which are what LDK 0.1 applies to a channel it
 * has no history for). A payment of 1,000,000 sat over a channel of 4,000,000 sat with nothing
 * learned: P = 0.5625, penalty ≈ 123 sat base + 301 sat liquidity (−log10 P = 0.25).
 *
 * Differences from LDK, on purpose: one pair of bounds per channel, no 32-bucket history (the
 * half-life does that job, so its default is LDK's older 6 hours rather than its 30 minutes of live
 * bounds); no anti-probing penalty.
 */
import { type GraphView, NO_INDEX } from './graph-view.ts';
import type { ScoredPath, Scorer } from './scorer.ts';

export interface ScoringParameters {
  readonly basePenaltyMsat: number;
  /** Per msat of the part's amount. */
  readonly basePenaltyAmountMultiplier: number;
  readonly liquidityPenaltyMsat: number;
  /** Per msat of the part's amount, per unit of −log10 P. */
  readonly liquidityPenaltyAmountMultiplier: number;
  /** Added when the amount is at or above the upper bound (P = 0). */
  readonly impossiblePenaltyMsat: number;
  /** A uniform density between the bounds instead of LDK's (x − ½)². */
  readonly linearProbability: boolean;
}

export const DEFAULT_SCORING_PARAMETERS: ScoringParameters = Object.freeze({
  basePenaltyMsat: 1024,
  basePenaltyAmountMultiplier: 131_072 / 2 ** 30,
  liquidityPenaltyMsat: 10_000,
  liquidityPenaltyAmountMultiplier: 1_250 / 2 ** 20,
  impossiblePenaltyMsat: 100_000_000_000,
  linearProbability: false,
});

/** LDK's older live-bounds half-life. */
export const DEFAULT_LIQUIDITY_HALF_LIFE_MS = 6 * 3600 * 1000;

/** −log10 P is counted up to this (P = 1 %), as LDK's NEGATIVE_LOG10_UPPER_BOUND. */
const MAX_NEGATIVE_LOG10 = 2;

/** What the scorer knows about one direction of one channel (undecayed, with when each bound was learned). */
export interface LiquidityEntry {
  readonly shortChannelId: bigint;
  /** BOLT 7 direction: 0 from node_id_1 (the lesser id). */
  readonly direction: 0 | 1;
  /** Liquidity ≥ this (0: nothing known). */
  readonly lowerMsat: bigint;
  readonly lowerAtMs: number;
  /** Liquidity < this; undefined: nothing known. */
  readonly upperMsat: bigint | undefined;
  readonly upperAtMs: number;
}

export interface ProbabilisticScorerOptions {
  readonly parameters?: Partial<ScoringParameters>;
  readonly halfLifeMs?: number;
  /** What was learned before (from `entries()`, or a snapshot: scorer-record.ts). */
  readonly entries?: Iterable<LiquidityEntry>;
}

interface Bounds {
  lower: number;
  lowerAt: number;
  /** Infinity: none. */
  upper: number;
  upperAt: number;
}

const keyOf = (scid: bigint, direction: number): bigint => (scid << 1n) | BigInt(direction);

function directionOf(from: Uint8Array, to: Uint8Array): 0 | 1 {
  for (let i = 0; i < 33; i++) if (from[i] !== to[i]) return from[i]! < to[i]! ? 0 : 1;
  return 0;
}

export class ProbabilisticScorer implements Scorer {
  readonly parameters: ScoringParameters;
  readonly halfLifeMs: number;
  private readonly known = new Map<bigint, Bounds>();

  // Hot-path copies of the parameters.
  private readonly base: number;
  private readonly baseAmount: number;
  private readonly liquidity: number;
  private readonly liquidityAmount: number;
  private readonly impossible: number;
  private readonly linear: boolean;

  // What is known, by edge index of the bound graph (has[e] === 1), for the search.
  private graph: GraphView | undefined;
  private boundChannels = -1;
  private has = new Uint8Array(0);
  private lower = new Float64Array(0);
  private lowerAt = new Float64Array(0);
  private upper = new Float64Array(0);
  private upperAt = new Float64Array(0);
  private nowMs = 0;

  constructor(options: ProbabilisticScorerOptions = {}) {
    const p = { ...DEFAULT_SCORING_PARAMETERS, ...options.parameters };
    this.parameters = Object.freeze(p);
    this.halfLifeMs = options.halfLifeMs ?? DEFAULT_LIQUIDITY_HALF_LIFE_MS;
    this.base = p.basePenaltyMsat;
    this.baseAmount = p.basePenaltyAmountMultiplier;
    this.liquidity = p.liquidityPenaltyMsat;
    this.liquidityAmount = p.liquidityPenaltyAmountMultiplier;
    this.impossible = p.impossiblePenaltyMsat;
    this.linear = p.linearProbability;
    for (const e of options.entries ?? []) {
      this.known.set(keyOf(e.shortChannelId, e.direction), {
        lower: Number(e.lowerMsat),
        lowerAt: e.lowerAtMs,
        upper: e.upperMsat === undefined ? Number.POSITIVE_INFINITY : Number(e.upperMsat),
        upperAt: e.upperAtMs,
      });
    }
  }

  // ================================================================ ScoreLookUp

  beginSearch(graph: GraphView, nowMs: number): void {
    this.nowMs = nowMs;
    const limit = graph.columns().channelLimit;
    if (graph === this.graph && limit === this.boundChannels) return;
    // Indexes are stable for a graph's life, so this runs again only for a new graph or new
    // channel slots (an entry for a channel not seen before may resolve now).
    this.graph = graph;
    this.boundChannels = limit;
    this.has = new Uint8Array(2 * limit);
    this.lower = new Float64Array(2 * limit);
    this.lowerAt = new Float64Array(2 * limit);
    this.upper = new Float64Array(2 * limit);
    this.upperAt = new Float64Array(2 * limit);
    for (const [key, b] of this.known) this.place(key, b);
  }

  penaltyMsat(edge: number, amountMsat: number, inFlightMsat: number, capacityMsat: number): number {
    const base = this.base + amountMsat * this.baseAmount;
    const p = this.successProbability(edge, amountMsat, inFlightMsat, capacityMsat);
    if (p >= 1) return base;
    if (p <= 0)
      return (
        base + this.impossible + (this.liquidity + amountMsat * this.liquidityAmount) * MAX_NEGATIVE_LOG10
      );
    let nl = -Math.log10(p);
    if (nl > MAX_NEGATIVE_LOG10) nl = MAX_NEGATIVE_LOG10;
    return base + (this.liquidity + amountMsat * this.liquidityAmount) * nl;
  }

  successProbability(edge: number, amountMsat: number, inFlightMsat: number, capacityMsat: number): number {
    // A hint's or a first hop's channel: nothing to go on (the payee vouches; we know our own).
    if (!(capacityMsat < Number.POSITIVE_INFINITY)) return 1;
    const a = amountMsat + inFlightMsat;
    let lo = 0;
    let hi = capacityMsat;
    if (edge !== NO_INDEX && this.has[edge] === 1) {
      const now = this.nowMs;
      const h = this.halfLifeMs;
      lo = this.lower[edge]! * 2 ** (-(now - this.lowerAt[edge]!) / h);
      const up = this.upper[edge]!;
      if (up < capacityMsat)
        hi = capacityMsat - (capacityMsat - up) * 2 ** (-(now - this.upperAt[edge]!) / h);
      if (lo > hi) lo = hi;
    }
    if (a <= lo) return 1;
    if (a >= hi) return 0;
    if (this.linear) return (hi - a) / (hi - lo);
    const x = a / capacityMsat - 0.5;
    const l = lo / capacityMsat - 0.5;
    const u = hi / capacityMsat - 0.5;
    const u3 = u * u * u;
    const den = u3 - l * l * l;
    // Bounds too close for the cubic to tell apart: the density is flat there anyway.
    if (!(den > 1e-15)) return (hi - a) / (hi - lo);
    return (u3 - x * x * x) / den;
  }

  // ================================================================ ScoreUpdate

  pathFailed(path: ScoredPath, failedShortChannelId: bigint, nowMs: number): void {
    let from = path.payer;
    for (const hop of path.hops) {
      const key = keyOf(hop.shortChannelId, directionOf(from, hop.nodeId));
      if (hop.shortChannelId === failedShortChannelId) {
        this.learnUpper(key, Number(hop.amountMsat), nowMs);
        return;
      }
      this.learnLower(key, Number(hop.amountMsat), nowMs);
      from = hop.nodeId;
    }
  }

  pathSucceeded(path: ScoredPath, nowMs: number): void {
    let from = path.payer;
    for (const hop of path.hops) {
      const key = keyOf(hop.shortChannelId, directionOf(from, hop.nodeId));
      const a = Number(hop.amountMsat);
      const b = this.entry(key);
      // It had at least a; a has moved to the other side.
      b.lower = Math.max(this.decayed(b.lower, b.lowerAt, nowMs), a) - a;
      b.lowerAt = nowMs;
      if (b.upper !== Number.POSITIVE_INFINITY) b.upper = Math.max(b.upper - a, 0);
      this.store(key, b);
      from = hop.nodeId;
    }
  }

  probeSucceeded(path: ScoredPath, nowMs: number): void {
    let from = path.payer;
    for (const hop of path.hops) {
      this.learnLower(
        keyOf(hop.shortChannelId, directionOf(from, hop.nodeId)),
        Number(hop.amountMsat),
        nowMs,
      );
      from = hop.nodeId;
    }
  }

  // ================================================================ what it knows

  /** Everything learned, undecayed (what to persist: scorer-record.ts). */
  *entries(): Iterable<LiquidityEntry> {
    for (const [key, b] of this.known) {
      yield {
        shortChannelId: key >> 1n,
        direction: Number(key & 1n) as 0 | 1,
        lowerMsat: BigInt(Math.round(b.lower)),
        lowerAtMs: b.lowerAt,
        upperMsat: b.upper === Number.POSITIVE_INFINITY ? undefined : BigInt(Math.round(b.upper)),
        upperAtMs: b.upperAt,
      };
    }
  }

  /**
   * The bounds as decayed to `nowMs` for a channel of `capacityMsat`, or undefined if nothing
   * was learned about that direction.
   */
  estimatedLiquidity(
    shortChannelId: bigint,
    direction: 0 | 1,
    capacityMsat: number,
    nowMs: number,
  ): { lowerMsat: number; upperMsat: number } | undefined {
    const b = this.known.get(keyOf(shortChannelId, direction));
    if (!b) return undefined;
    const lower = this.decayed(b.lower, b.lowerAt, nowMs);
    const upper =
      b.upper >= capacityMsat
        ? capacityMsat
        : capacityMsat - this.decayed(capacityMsat - b.upper, b.upperAt, nowMs);
    return { lowerMsat: Math.min(lower, upper), upperMsat: upper };
  }

  /** Drops what has decayed to nothing (after 20 half-lives both bounds are within a millionth of knowing nothing). */
  prune(nowMs: number): number {
    let dropped = 0;
    const horizon = 20 * this.halfLifeMs;
    for (const [key, b] of this.known) {
      if (
        nowMs - b.lowerAt > horizon &&
        (b.upper === Number.POSITIVE_INFINITY || nowMs - b.upperAt > horizon)
      ) {
        this.known.delete(key);
        this.store(key, undefined);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.known.size;
  }

  // ================================================================ internals

  private decayed(value: number, atMs: number, nowMs: number): number {
    return value * 2 ** (-(nowMs - atMs) / this.halfLifeMs);
  }

  private entry(key: bigint): Bounds {
    return this.known.get(key) ?? { lower: 0, lowerAt: 0, upper: Number.POSITIVE_INFINITY, upperAt: 0 };
  }

  private learnLower(key: bigint, amountMsat: number, nowMs: number): void {
    const b = this.entry(key);
    b.lower = Math.max(this.decayed(b.lower, b.lowerAt, nowMs), amountMsat);
    b.lowerAt = nowMs;
    // Proved wrong: the channel got liquidity since (it was rebalanced, or received).
    if (b.upper <= b.lower) b.upper = Number.POSITIVE_INFINITY;
    this.store(key, b);
  }

  private learnUpper(key: bigint, amountMsat: number, nowMs: number): void {
    const b = this.entry(key);
    // The freshest failure is the best bound: an older, tighter one has been decaying since.
    b.upper = amountMsat;
    b.upperAt = nowMs;
    if (this.decayed(b.lower, b.lowerAt, nowMs) >= b.upper) {
      b.lower = 0;
      b.lowerAt = nowMs;
    }
    this.store(key, b);
  }

  private store(key: bigint, b: Bounds | undefined): void {
    if (b) this.known.set(key, b);
    if (this.graph) this.place(key, b);
  }

  /** Copies one entry into the arrays of the bound graph (or clears it there). */
  private place(key: bigint, b: Bounds | undefined): void {
    const c = this.graph!.channelIndex(key >> 1n);
    if (c === NO_INDEX || c >= this.boundChannels) return;
    const e = 2 * c + Number(key & 1n);
    if (!b) {
      this.has[e] = 0;
      return;
    }
    this.has[e] = 1;
    this.lower[e] = b.lower;
    this.lowerAt[e] = b.lowerAt;
    this.upper[e] = b.upper;
    this.upperAt[e] = b.upperAt;
  }
}
