/**
 * Sighashes and witnesses: the glue between the transactions built here and a ChannelSigner.
 * Signatures cross the signer boundary as 64-byte compact (r || s); in witnesses they are DER
 * plus the sighash byte.
 */

import type { ChannelSigner, CommitmentSignatures } from '@lnkit/keys';
import { script as bscript, Transaction } from 'bitcoinjs-lib';
import type { CommitmentTransaction } from './commitment.ts';
import { checkBytes, TxError } from './errors.ts';
import type { HtlcTransaction } from './htlc.ts';
import { compareBytes } from './scripts.ts';

export const SIGHASH_ALL = Transaction.SIGHASH_ALL;
export const SIGHASH_SINGLE_ANYONECANPAY = Transaction.SIGHASH_SINGLE | Transaction.SIGHASH_ANYONECANPAY;

/** BIP 143 sighash of the commitment's funding input. */
export function commitmentSighash(commitment: CommitmentTransaction): Uint8Array {
  return commitment.tx.hashForWitnessV0(
    0,
    commitment.fundingScript,
    commitment.params.fundingSat,
    SIGHASH_ALL,
  );
}

/**
 * BIP 143 sighash of an HTLC transaction. The signature of the side that does *not* own the
 * commitment uses SIGHASH_SINGLE|SIGHASH_ANYONECANPAY with option_anchors (BOLT 3, BOLT 5), so
 * the owner can add fee inputs and outputs; the owner's own signature is always SIGHASH_ALL.
 */
export function htlcSighash(htlcTx: HtlcTransaction, signer: 'owner' | 'counterparty'): Uint8Array {
  return htlcTx.tx.hashForWitnessV0(
    0,
    htlcTx.htlcWitnessScript,
    htlcTx.htlcValueSat,
    htlcSighashType(htlcTx, signer),
  );
}

export function htlcSighashType(htlcTx: HtlcTransaction, signer: 'owner' | 'counterparty'): number {
  return htlcTx.anchors && signer === 'counterparty' ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_ALL;
}

/** DER + sighash byte, as a witness carries a signature. */
export function encodeSignature(compact: Uint8Array, sighashType: number): Uint8Array {
  checkBytes(compact, 64, 'compact signature');
  try {
    return bscript.signature.encode(compact, sighashType);
  } catch {
    throw new TxError('invalid-signature', 'signature cannot be DER-encoded');
  }
}

/**
 * Signs the *other* side's commitment (commitment_signed): our funding signature and our
 * signatures for each of its HTLC transactions, in one signer call (one pool batch).
 */
export function signCounterpartyCommitment(
  signer: ChannelSigner,
  commitment: CommitmentTransaction,
  htlcTxs: readonly HtlcTransaction[],
  counterpartyPerCommitmentPoint: Uint8Array,
): Promise<CommitmentSignatures> {
  return signer.signCounterpartyCommitment({
    commitmentNumber: commitment.params.commitmentNumber,
    perCommitmentPoint: counterpartyPerCommitmentPoint,
    commitmentSighash: commitmentSighash(commitment),
    htlcSighashes: htlcTxs.map((h) => htlcSighash(h, 'counterparty')),
  });
}

/** Signs our own commitment and its HTLC transactions, to broadcast them. */
export function signHolderCommitment(
  signer: ChannelSigner,
  commitment: CommitmentTransaction,
  htlcTxs: readonly HtlcTransaction[],
): Promise<CommitmentSignatures> {
  return signer.signHolderCommitment({
    commitmentNumber: commitment.params.commitmentNumber,
    commitmentSighash: commitmentSighash(commitment),
    htlcSighashes: htlcTxs.map((h) => htlcSighash(h, 'owner')),
  });
}

/**
 * Puts `0 <sig for pubkey1> <sig for pubkey2> <funding script>` on the funding input
 * (BOLT 3: pubkey1 is the lesser funding pubkey). Returns a new transaction.
 */
export function finalizeFundingSpend(
  tx: Transaction,
  fundingScript: Uint8Array,
  localFundingPubkey: Uint8Array,
  localSignature: Uint8Array,
  remoteFundingPubkey: Uint8Array,
  remoteSignature: Uint8Array,
): Transaction {
  const local = encodeSignature(localSignature, SIGHASH_ALL);
  const remote = encodeSignature(remoteSignature, SIGHASH_ALL);
  const localFirst = compareBytes(localFundingPubkey, remoteFundingPubkey) <= 0;
  const signed = tx.clone();
  signed.setWitness(0, [
    new Uint8Array(0),
    localFirst ? local : remote,
    localFirst ? remote : local,
    fundingScript,
  ]);
  return signed;
}

/** The owner's commitment with both funding signatures, ready to broadcast. */
export function finalizeCommitment(
  commitment: CommitmentTransaction,
  localSignature: Uint8Array,
  remoteSignature: Uint8Array,
): Transaction {
  const { params } = commitment;
  return finalizeFundingSpend(
    commitment.tx,
    commitment.fundingScript,
    params.localFundingPubkey,
    localSignature,
    params.remoteFundingPubkey,
    remoteSignature,
  );
}

/**
 * BOLT 3: witness `0 <remotehtlcsig> <localhtlcsig> <payment_preimage>` (HTLC-success) or
 * `0 <remotehtlcsig> <localhtlcsig> <>` (HTLC-timeout), then the HTLC witness script.
 */
export function finalizeHtlcTransaction(
  htlcTx: HtlcTransaction,
  localSignature: Uint8Array,
  remoteSignature: Uint8Array,
  paymentPreimage?: Uint8Array,
): Transaction {
  let last: Uint8Array;
  if (htlcTx.kind === 'htlc-success') {
    if (!paymentPreimage)
      throw new TxError('invalid-argument', 'an HTLC-success transaction needs the payment preimage');
    last = checkBytes(paymentPreimage, 32, 'payment_preimage');
  } else {
    last = new Uint8Array(0);
  }
  const signed = htlcTx.tx.clone();
  signed.setWitness(0, [
    new Uint8Array(0),
    encodeSignature(remoteSignature, htlcSighashType(htlcTx, 'counterparty')),
    encodeSignature(localSignature, SIGHASH_ALL),
    last,
    htlcTx.htlcWitnessScript,
  ]);
  return signed;
}
