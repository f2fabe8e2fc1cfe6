/** BOLT 3 "HTLC-Timeout and HTLC-Success Transactions". */
import { Transaction } from 'bitcoinjs-lib';
import type { CommitmentHtlc, CommitmentTransaction } from './commitment.ts';
import { htlcSuccessFeeSat, htlcTimeoutFeeSat, isAnchors } from './fees.ts';
import { p2wsh, toLocalScript } from './scripts.ts';

export interface HtlcTransaction {
  kind: 'htlc-timeout' | 'htlc-success';
  tx: Transaction;
  htlc: CommitmentHtlc;
  /** Index of the spent output in the commitment transaction. */
  commitmentOutputIndex: number;
  /** Witness script and value of the spent commitment output (for the sighash). */
  htlcWitnessScript: Uint8Array;
  htlcValueSat: bigint;
  anchors: boolean;
}

/**
 * The second-stage transactions of a commitment's HTLC outputs, in commitment output order
 * (the order of `htlc_signatures` in commitment_signed, BOLT 2).
 */
export function buildHtlcTransactions(commitment: CommitmentTransaction): HtlcTransaction[] {
  const { params } = commitment;
  const anchors = isAnchors(params.channelType);
  const commitmentTxid = commitment.tx.getHash();
  const out: HtlcTransaction[] = [];
  commitment.outputs.forEach((o, index) => {
    if (o.kind !== 'htlc' || !o.htlc || !o.witnessScript) return;
    const offered = o.htlc.direction === 'offered';
    const fee = offered
      ? htlcTimeoutFeeSat(params.channelType, params.feeratePerKw)
      : htlcSuccessFeeSat(params.channelType, params.feeratePerKw);
    const tx = new Transaction();
    tx.version = 2;
    // BOLT 3: locktime cltv_expiry for HTLC-timeout, 0 for HTLC-success.
    tx.locktime = offered ? o.htlc.cltvExpiry : 0;
    // BOLT 3: sequence 0, or 1 with option_anchors (the HTLC outputs carry `1 OP_CSV`).
    tx.addInput(commitmentTxid, index, anchors ? 1 : 0);
    const script = toLocalScript(
      params.keys.revocationPubkey,
      params.toSelfDelay,
      params.keys.localDelayedPubkey,
    );
    tx.addOutput(p2wsh(script), o.valueSat - fee);
    out.push({
      kind: offered ? 'htlc-timeout' : 'htlc-success',
      tx,
      htlc: o.htlc,
      commitmentOutputIndex: index,
      htlcWitnessScript: o.witnessScript,
      htlcValueSat: o.valueSat,
      anchors,
    });
  });
  return out;
}
