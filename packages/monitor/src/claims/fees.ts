/**
 * The feerate of a claim (BOLT 5 "the node MUST ... resolve the output" before the other side
 * can): a claim that races the counterparty is fee-bumped by replacement (BIP 125: every claim
 * signals it, nSequence < 0xfffffffe) the longer it stays unconfirmed, faster as its deadline
 * nears. A claim of an output only the holder can spend has no deadline and is not bumped.
 *
 * Pure and memoryless: the feerate is the estimator's rate, raised once per bump interval since
 * the claim was first due. The same block and estimate give the same feerate (and, with RFC 6979,
 * the same transaction), after a restart too; each bump raises it by at least the incremental
 * relay fee, so a replacement is never refused for paying too little more.
 */
import type { PendingOutput } from './types.ts';

/** Within this many blocks of its deadline a claim is bumped every block (before: every 3). */
export const BUMP_EVERY_BLOCK_WITHIN = 12;
const FAR_BUMP_INTERVAL = 3;
/** Within this many blocks of its deadline a claim starts from the estimator's urgent rate. */
export const URGENT_WITHIN = 6;
/** BIP 125 rule 4: a replacement pays at least 1 sat/vB (250 sat/kw) more than what it replaces. */
export const INCREMENTAL_RELAY_PER_KW = 250n;
/**
 * An HTLC we take back after its expiry (a timeout) races the counterparty's claim with the
 * preimage, and upstream the HTLC it pays expires cltv_expiry_delta later: it must confirm
 * within this many blocks of being possible.
 */
export const TIMEOUT_CLAIM_WINDOW = 18;

/**
 * The height by which a claim of `p` must confirm: a revoked output's or an HTLC's deadline, a
 * timeout's window. Undefined for an output only the holder can spend.
 */
export function claimDeadline(p: PendingOutput): number | undefined {
  if (p.deadlineHeight !== undefined) return p.deadlineHeight;
  if (p.htlcTransaction?.kind === 'htlc-success' && p.htlc) return p.htlc.cltvExpiry;
  if (p.locktime !== undefined) return p.locktime + TIMEOUT_CLAIM_WINDOW;
  return undefined;
}

/** How many times a claim first due at `firstTip` has been bumped at `tip`. */
export function bumpCount(firstTip: number, tip: number, deadline: number): number {
  let n = 0;
  for (let h = firstTip + 1; h <= tip; h++)
    if (deadline - h <= BUMP_EVERY_BLOCK_WITHIN || (h - firstTip) % FAR_BUMP_INTERVAL === 0) n++;
  return n;
}

/** `feeratePerKw` bumped `times`: each time by a quarter, and never by less than the incremental relay fee. */
export function bumpedFeerate(feeratePerKw: bigint, times: number): bigint {
  let f = feeratePerKw;
  for (let i = 0; i < times; i++) {
    const quarter = f / 4n;
    f += quarter > INCREMENTAL_RELAY_PER_KW ? quarter : INCREMENTAL_RELAY_PER_KW;
  }
  return f;
}

export interface ClaimFeerates {
  /** The estimator's rate for the claim's kind. */
  feeratePerKw: bigint;
  /** Its urgent rate (high priority), used from URGENT_WITHIN blocks of a deadline; default feeratePerKw. */
  urgentFeeratePerKw?: bigint | undefined;
}

/**
 * The feerate to make a claim of `outputs` at with the chain's tip at `tipHeight`: the earliest
 * deadline among them decides. First due at the tip before its spendableAtHeight.
 */
export function claimFeerate(
  outputs: readonly PendingOutput[],
  tipHeight: number,
  rates: ClaimFeerates,
): bigint {
  const deadlines = outputs.map(claimDeadline).filter((d): d is number => d !== undefined);
  if (deadlines.length === 0) return rates.feeratePerKw;
  const deadline = Math.min(...deadlines);
  const firstTip = Math.max(...outputs.map((p) => p.spendableAtHeight)) - 1;
  const urgent = deadline - tipHeight <= URGENT_WITHIN && rates.urgentFeeratePerKw !== undefined;
  let start = rates.feeratePerKw;
  if (urgent && (rates.urgentFeeratePerKw as bigint) > start) start = rates.urgentFeeratePerKw as bigint;
  return bumpedFeerate(start, bumpCount(Math.min(firstTip, tipHeight), tipHeight, deadline));
}
