/**
 * What the on-chain enforcement core (BOLT 5) keeps and returns. All plain data (bytes,
 * bigints, strings), so a resolution crosses threads and can be persisted as it is.
 *
 * A `ChainResolution` is made when a commitment confirms (`resolveCommitment`): every output
 * the holder will take, with the first block that may include its claim. Confirmed spends of
 * those outputs move it on (`resolveSpend`): a second-stage HTLC transaction adds its own
 * output to claim, a spend by either side resolves what it spends. At each block,
 * `claimsToBroadcast` says which claims are due, built at the caller's feerate, and
 * `signClaim` makes each one a transaction for the Broadcaster.
 */
import type { ClaimInput, ClaimKey, FeeInput } from '@lnkit/tx';
import type { FundingSpendKind, HtlcData } from '../types.ts';

/** BOLT 5: split a revoked output out of the shared justice transaction this many blocks before its deadline. */
export const SECURITY_DELAY = 18;

/** Where an output to claim comes from. */
export type ClaimSource =
  /** The holder's commitment: to_local after to_self_delay, HTLCs through the second stage. */
  | 'holder-commitment'
  /** An HTLC-timeout / HTLC-success transaction of the holder: its output after to_self_delay. */
  | 'holder-htlc-transaction'
  /** The counterparty's current or previous unrevoked commitment. */
  | 'counterparty-commitment'
  /** A revoked counterparty commitment: everything with the revocation key. */
  | 'revoked-commitment'
  /** The counterparty's HTLC transaction spending a revoked commitment's HTLC: its output with the revocation key. */
  | 'revoked-htlc-transaction';

/** The holder's pre-signed HTLC-timeout / HTLC-success transaction, kept to be completed. */
export interface HolderHtlcTransaction {
  kind: 'htlc-timeout' | 'htlc-success';
  /** Unsigned. */
  tx: Uint8Array;
  /** Display order. */
  txidHex: string;
  /** The commitment's HTLC output it spends: its witness script and value (for the sighash). */
  htlcWitnessScript: Uint8Array;
  htlcValueSat: bigint;
  /** The counterparty's 64-byte signature from commitment_signed. */
  counterpartySignature: Uint8Array;
  anchors: boolean;
  /** Its one output (the holder's delayed output): value and witness script, claimed once it confirms. */
  outputValueSat: bigint;
  outputWitnessScript: Uint8Array;
}

/** An output the holder means to take. */
export interface PendingOutput {
  /** `<txid display>:<vout>` of the output. */
  id: string;
  source: ClaimSource;
  /** Display-order txid and index of the output. */
  txidHex: string;
  vout: number;
  valueSat: bigint;
  /** Which output of its transaction it is (owner's view for commitment outputs). */
  output: 'to_local' | 'to_remote' | 'htlc' | 'htlc-transaction-output';
  /**
   * The first block height that may include the claim: the parent's confirmation height plus
   * its CSV delay (BIP 68), or cltv_expiry + 1 for a timeout (nLockTime, BOLT 5 "timed out once
   * the height of the latest block is equal to or greater than the HTLC cltv_expiry").
   */
  spendableAtHeight: number;
  /**
   * For a revoked output: the height from which the counterparty can take it instead (its
   * to_self_delay, or an HTLC's expiry); the justice claim must confirm before it.
   */
  deadlineHeight?: number;
  htlc?: HtlcData;
  /** A sweep: the input it makes and the key that signs it (absent for a holder HTLC transaction). */
  input?: ClaimInput;
  key?: ClaimKey;
  /** nLockTime the claim needs (an HTLC timeout's cltv_expiry). */
  locktime?: number;
  /** A holder commitment HTLC: spent through this pre-signed transaction. */
  htlcTransaction?: HolderHtlcTransaction;
  /** The claim needs the HTLC's preimage, which the monitor does not hold yet. */
  needsPreimage?: boolean;
}

/** An output no longer to claim: spent by a transaction that confirmed. */
export interface ResolvedOutput {
  id: string;
  /** Display order. */
  spentByTxidHex: string;
  height: number;
  /** Whether the spend was the holder's own claim (or its own HTLC transaction). */
  byHolder: boolean;
  /**
   * The output as it was pending: for an HTLC, whether the counterparty took it (a timeout:
   * the upstream HTLC is failed; with the preimage: fulfilled), and what a reorg puts back.
   */
  output: PendingOutput;
  /** The HTLC's preimage, when the spend revealed it. */
  paymentPreimage?: Uint8Array;
}

export interface ChainResolution {
  /** The commitment that spent the funding output. */
  commitmentTxidHex: string;
  kind: FundingSpendKind;
  commitmentNumber: bigint;
  /** Its confirmation height. */
  height: number;
  /** The commitment owner's per_commitment_point (empty for a mutual close or an unknown commitment). */
  perCommitmentPoint: Uint8Array;
  pending: PendingOutput[];
  resolved: ResolvedOutput[];
  /**
   * HTLCs of the commitment with no output in it (trimmed as dust): nothing to claim on chain;
   * BOLT 5: fulfil the upstream HTLC if the preimage is known, else fail it once the
   * commitment is deep enough.
   */
  htlcsWithoutOutput: HtlcData[];
  /**
   * Things the node must be told: outputs it cannot claim (an HTLC whose preimage it lacks
   * on a holder commitment is the counterparty's after expiry, not the holder's loss), an
   * anchors HTLC transaction that needs a fee input, an unknown commitment.
   */
  notes: string[];
}

export interface ClaimOptions {
  /** The estimator's rate for these claims: every claim's first feerate. */
  feeratePerKw: bigint;
  /** The estimator's urgent rate, for a claim within URGENT_WITHIN blocks of its deadline (fees.ts). */
  urgentFeeratePerKw?: bigint;
  /** False: every claim at `feeratePerKw`, never bumped. */
  bump?: boolean;
  /** The outputs only the holder can spend are returned apart (`ClaimPlan.own`), not claimed. */
  ownOutputsApart?: boolean;
  /** Where every sweep pays: a wallet script. */
  destinationScript: Uint8Array;
  /** Default SECURITY_DELAY. */
  securityDelay?: number;
  /**
   * Wallet outputs (P2WPKH) that may pay the fees of zero-fee anchors HTLC transactions, one
   * each, in order; change goes to `destinationScript`. Without one such a claim is skipped.
   */
  feeInputs?: readonly FeeInput[];
  /**
   * The fee input an HTLC transaction (by output id) was made with before: it is made with the
   * same one again, so a bumped one replaces it (BIP 125) rather than racing it with another coin.
   */
  assignedFeeInputs?: ReadonlyMap<string, FeeInput>;
}

/** A claim ready to sign: a sweep of one or more outputs, or a holder HTLC transaction. */
export type ClaimToSign =
  | {
      kind: 'sweep';
      /** The outputs it spends, in input order. */
      outputIds: string[];
      source: ClaimSource;
      /** Unsigned transaction (bytes), its expected weight, fee and output value. */
      tx: Uint8Array;
      inputs: ClaimInput[];
      keys: ClaimKey[];
      expectedWeight: number;
      feeSat: bigint;
      /** What its fee was computed at: the estimator's rate, bumped as its deadline nears. */
      feeratePerKw: bigint;
      valueSat: bigint;
      /** Height of the first block it can be in. */
      spendableAtHeight: number;
    }
  | {
      kind: 'htlc-transaction';
      outputIds: string[];
      source: 'holder-commitment';
      /**
       * The HTLC transactions it completes, in input order: one; with anchors, every one due
       * with it that shares its nLockTime (the HTLC-successes; HTLC-timeouts of one expiry).
       */
      htlcs: HtlcToSign[];
      /** What is signed: the HTLC transaction, or (anchors) them combined with `feeInput` and a change output. */
      tx: Uint8Array;
      feeInput?: FeeInput;
      /** With a fee input: the weight its fee was computed from. */
      expectedWeight?: number;
      /** The holder's per_commitment_point: its htlc key signs. */
      perCommitmentPoint: Uint8Array;
      /** Paid by the commitment's feerate when it was signed (static_remotekey), or by the fee input (anchors). */
      feeSat: bigint;
      /** With a fee input: the feerate its fee was computed at. */
      feeratePerKw?: bigint;
      spendableAtHeight: number;
    };

/** One HTLC transaction of a claim: the output it spends, and what completes it. */
export interface HtlcToSign {
  outputId: string;
  htlcTransaction: HolderHtlcTransaction;
  htlc: HtlcData;
  /** HTLC-success: the preimage (from the monitor). */
  paymentPreimage?: Uint8Array;
}

/** What the Broadcaster is given. */
export interface SignedClaim {
  kind: ClaimToSign['kind'];
  source: ClaimSource;
  outputIds: string[];
  /** Fully signed. */
  tx: Uint8Array;
  txidHex: string;
  /** BIP 141 weight of the signed transaction. */
  weight: number;
  /** For a sweep, its expected weight (what the fee was computed from). */
  expectedWeight?: number;
  feeSat: bigint;
  /** The feerate a sweep or a funded HTLC transaction was made at. */
  feeratePerKw?: bigint;
  spendableAtHeight: number;
}
