/**
 * Scorer: how a router weighs a channel beyond its fee, and how payment outcomes teach it (LDK's
 * ScoreLookUp and ScoreUpdate). One interface, so a node can plug in its own, or one fed from
 * outside; `ProbabilisticScorer` (probabilistic-scorer.ts) is lnkit's.
 *
 * The lookup side runs inside the route search, once per edge the search looks at: it must not
 * allocate, and it is called with the graph's edge indexes (graph-view.ts) so it can keep what
 * it knows in arrays indexed by them. `NO_INDEX` stands for a channel outside the graph (a
 * route hint, a first hop), which a scorer scores without knowledge.
 */
import type { GraphView } from './graph-view.ts';

export interface ScoreLookUp {
  /**
   * Called at the start of every search, before any other call for it: a scorer resolves what it
   * learned (kept by short_channel_id, as indexes change on restart) into edge indexes of
   * `graph`, and takes `nowMs` as the time to decay its knowledge to.
   */
  beginSearch(graph: GraphView, nowMs: number): void;
  /**
   * The cost, in msat on top of the fee, of sending `amountMsat` more over directed edge `edge`
   * while `inFlightMsat` already goes over it (other parts of the same payment).
   * `capacityMsat` is the channel's capacity (its `htlc_maximum_msat` when the capacity is
   * unknown), Infinity when nothing bounds it. A finite number ≥ 0: a very large one for an
   * amount thought impossible, so the search still takes it when nothing else goes.
   */
  penaltyMsat(edge: number, amountMsat: number, inFlightMsat: number, capacityMsat: number): number;
  /** The probability (0..1) that the edge has the liquidity for `inFlightMsat + amountMsat`. */
  successProbability(edge: number, amountMsat: number, inFlightMsat: number, capacityMsat: number): number;
}

/** One hop of a path as the scorer learns from it: the channel from the previous node to `nodeId`. */
export interface ScoredHop {
  readonly nodeId: Uint8Array;
  readonly shortChannelId: bigint;
  /** The amount that went (or tried to go) over the channel. */
  readonly amountMsat: bigint;
}

/** A path an HTLC took: from `payer` through `hops` (a Route's payer and hops). */
export interface ScoredPath {
  readonly payer: Uint8Array;
  readonly hops: readonly ScoredHop[];
}

export interface ScoreUpdate {
  /**
   * An HTLC over `path` failed at the channel `failedShortChannelId` for lack of liquidity (the
   * node before it refused to forward, e.g. `temporary_channel_failure`): that channel has less
   * than the hop's amount, and each channel before it had at least its hop's amount.
   */
  pathFailed(path: ScoredPath, failedShortChannelId: bigint, nowMs: number): void;
  /** The payment over `path` settled: each channel had its amount, and that amount has now moved across. */
  pathSucceeded(path: ScoredPath, nowMs: number): void;
  /** A probe reached the payee and was failed back: each channel had its amount, and nothing moved. */
  probeSucceeded(path: ScoredPath, nowMs: number): void;
}

export interface Scorer extends ScoreLookUp, ScoreUpdate {}
