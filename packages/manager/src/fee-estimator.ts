/**
 * FeeEstimator (guide step 1): the shape of @lnkit/chain-sync's, answered synchronously from
 * its cache. The manager reads it for the feerates it proposes and the ones it accepts.
 */
export type ConfirmationTarget = 'background' | 'normal' | 'highPriority';

export interface FeeEstimator {
  /** Satoshis per 1000 weight units, never below 253. */
  feeratePerKw(target: ConfirmationTarget): bigint;
}

/** The relay floor (BOLT 3 and bitcoind): 253 sat/kw. */
export const FEERATE_FLOOR_PER_KW = 253;
