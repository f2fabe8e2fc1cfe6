/**
 * BOLT 3 "HTLC-Timeout and HTLC-Success Transactions". Every HTLC transaction of a commitment
 * has the same shape — version 2, one input spending the commitment's HTLC output, one output
 * to the owner's delayed key — so the output script (and its hash) is made once per
 * commitment, and each transaction is its outpoint, amount, locktime and serialised output
 * (see bip143.ts for the sighashes). The bitcoinjs-lib Transaction is built on first read.
 */
import { Transaction } from 'bitcoinjs-lib';
import { serializeOutpoint, serializeOutput } from './bip143.ts';
import {
  type CommitmentHtlc,
  type CommitmentTransaction,
  commitmentParts,
  commitmentTxid,
} from './commitment.ts';
import { htlcSuccessFeeSat, htlcTimeoutFeeSat, isAnchors } from './fees.ts';
import { p2wsh, toLocalScript } from './scripts.ts';

export interface HtlcTransaction {
  kind: 'htlc-timeout' | 'htlc-success';
  /** Built on first read (sighashes do not need it). */
  readonly tx: Transaction;
  htlc: CommitmentHtlc;
  /** Index of the spent output in the commitment transaction. */
  commitmentOutputIndex: number;
  /** Witness script and value of the spent commitment output (for the sighash). */
  htlcWitnessScript: Uint8Array;
  htlcValueSat: bigint;
  anchors: boolean;
}

/** What an HTLC transaction keeps for its sighashes (see commitmentParts). */
export interface HtlcParts {
  outpoint: Uint8Array;
  sequence: number;
  locktime: number;
  /** The one output, serialised; hashOutputs under both sighash types is its dSHA256. */
  output: Uint8Array;
  /** Computed by the first sighash that needs them (sign.ts). */
  hashOutputs: Uint8Array | undefined;
  hashPrevouts: Uint8Array | undefined;
}

export const htlcParts = new WeakMap<HtlcTransaction, HtlcParts>();

/**
 * The second-stage transactions of a commitment's HTLC outputs, in commitment output order
 * (the order of `htlc_signatures` in commitment_signed, BOLT 2).
 */
export function buildHtlcTransactions(commitment: CommitmentTransaction): HtlcTransaction[] {
  const { params } = commitment;
  const anchors = isAnchors(params.channelType);
  const out: HtlcTransaction[] = [];
  if (!commitment.outputs.some((o) => o.kind === 'htlc')) return out;
  const commitmentTxidBytes = commitmentTxid(commitment);
  const built = commitmentParts.has(commitment);
  // The same for every HTLC transaction of this commitment.
  const outputScript = p2wsh(
    toLocalScript(params.keys.revocationPubkey, params.toSelfDelay, params.keys.localDelayedPubkey),
  );
  const timeoutFee = htlcTimeoutFeeSat(params.channelType, params.feeratePerKw);
  const successFee = htlcSuccessFeeSat(params.channelType, params.feeratePerKw);
  // BOLT 3: sequence 0, or 1 with option_anchors (the HTLC outputs carry `1 OP_CSV`).
  const sequence = anchors ? 1 : 0;
  commitment.outputs.forEach((o, index) => {
    if (o.kind !== 'htlc' || !o.htlc || !o.witnessScript) return;
    const offered = o.htlc.direction === 'offered';
    const output = { valueSat: o.valueSat - (offered ? timeoutFee : successFee), scriptPubKey: outputScript };
    // BOLT 3: locktime cltv_expiry for HTLC-timeout, 0 for HTLC-success.
    const locktime = offered ? o.htlc.cltvExpiry : 0;
    let tx: Transaction | undefined;
    const htlcTx = {
      kind: offered ? 'htlc-timeout' : 'htlc-success',
      htlc: o.htlc,
      commitmentOutputIndex: index,
      htlcWitnessScript: o.witnessScript,
      htlcValueSat: o.valueSat,
      anchors,
    } as HtlcTransaction;
    Object.defineProperty(htlcTx, 'tx', {
      enumerable: true,
      get: () => {
        if (!tx) {
          tx = new Transaction();
          tx.version = 2;
          tx.locktime = locktime;
          tx.addInput(commitmentTxidBytes, index, sequence);
          tx.addOutput(output.scriptPubKey, output.valueSat);
        }
        return tx;
      },
    });
    if (built) {
      htlcParts.set(htlcTx, {
        outpoint: serializeOutpoint(commitmentTxidBytes, index),
        sequence,
        locktime,
        output: serializeOutput(output.valueSat, output.scriptPubKey),
        hashOutputs: undefined,
        hashPrevouts: undefined,
      });
    }
    out.push(htlcTx);
  });
  return out;
}
