/**
 * BOLT 2 "Risks With HTLC Timeouts": the heights past which an HTLC can no longer be settled
 * off chain safely. An offering node fails the channel once an HTLC it offered is still in
 * either current commitment `G` blocks after its `cltv_expiry` (the monitor then times it out
 * on chain); a fulfilling node fails it once an HTLC it fulfilled is still in either current
 * commitment `2R+G+S` blocks before its `cltv_expiry` (the monitor then claims it on chain with
 * the preimage, before the offerer can take it back).
 */
import { type HtlcLedger, htlcsOf, type LedgerHtlc } from './ledger.ts';

/** `G`: "1 or 2 blocks is reasonable". */
export const OFFERED_HTLC_GRACE_BLOCKS = 2;
/** `2R+G+S` with R=2, G=2, S=12: BOLT 2's 18 (BOLT 11's default min_final_cltv_expiry_delta matches it). */
export const FULFILL_DEADLINE_BLOCKS = 18;

export interface PastDeadline {
  htlc: LedgerHtlc;
  /** The height at which it had to be settled. */
  deadline: number;
}

/** The deadline of an HTLC, or undefined for one with none (received and not fulfilled: its offerer's to time out). */
export function deadlineOf(h: LedgerHtlc): number | undefined {
  if (h.direction === 'offered') return h.cltvExpiry + OFFERED_HTLC_GRACE_BLOCKS;
  const fulfilled = h.removal?.kind === 'fulfill' || h.preimageKnown === true;
  return fulfilled ? h.cltvExpiry - FULFILL_DEADLINE_BLOCKS : undefined;
}

/** The first HTLC in either current commitment whose deadline `height` has reached. */
export function htlcPastDeadline(ledger: HtlcLedger, height: number): PastDeadline | undefined {
  const seen = new Set<string>();
  for (const side of ['local', 'remote'] as const)
    for (const htlc of htlcsOf(ledger, side)) {
      const key = `${htlc.direction}:${htlc.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const deadline = deadlineOf(htlc);
      if (deadline !== undefined && height >= deadline) return { htlc, deadline };
    }
  return undefined;
}
