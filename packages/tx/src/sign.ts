/**
 * Sighashes and witnesses: the glue between the transactions built here and a ChannelSigner.
 * Signatures cross the signer boundary as 64-byte compact (r || s); in witnesses they are DER
 * plus the sighash byte.
 */

import { type CryptoService, inThreadCrypto, sha256d, type VerifyRequest } from '@lnkit/crypto';
import type { ChannelSigner, CommitmentSignatures } from '@lnkit/keys';
import { script as bscript, Transaction } from 'bitcoinjs-lib';
import { ANYONECANPAY_PARTS, sighashAllParts, witnessV0Sighash } from './bip143.ts';
import { type CommitmentTransaction, commitmentParts } from './commitment.ts';
import { checkBytes, TxError } from './errors.ts';
import { type HtlcTransaction, htlcParts } from './htlc.ts';
import { compareBytes } from './scripts.ts';

export const SIGHASH_ALL = Transaction.SIGHASH_ALL;
export const SIGHASH_SINGLE_ANYONECANPAY = Transaction.SIGHASH_SINGLE | Transaction.SIGHASH_ANYONECANPAY;

/** BIP 143 sighash of the commitment's funding input (computed once per commitment). */
export function commitmentSighash(commitment: CommitmentTransaction): Uint8Array {
  const parts = commitmentParts.get(commitment);
  if (!parts) {
    return commitment.tx.hashForWitnessV0(
      0,
      commitment.fundingScript,
      commitment.params.fundingSat,
      SIGHASH_ALL,
    );
  }
  if (!parts.sighash) {
    const tx = parts.tx;
    parts.sighash = witnessV0Sighash({
      version: tx.version,
      ...sighashAllParts(tx),
      outpoint: tx.outpoint,
      scriptCode: commitment.fundingScript,
      amountSat: commitment.params.fundingSat,
      sequence: tx.sequence,
      locktime: tx.locktime,
      sighashType: SIGHASH_ALL,
    });
  }
  return parts.sighash;
}

/** dSHA256 of an nSequence: HTLC transactions use 0 or 1, so two values serve every one. */
const hashSequenceOf = new Map<number, Uint8Array>();
function hashSequence(sequence: number): Uint8Array {
  let h = hashSequenceOf.get(sequence);
  if (!h) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, sequence >>> 0, true);
    h = sha256d(bytes);
    hashSequenceOf.set(sequence, h);
  }
  return h;
}

/**
 * BIP 143 sighash of an HTLC transaction. The signature of the side that does *not* own the
 * commitment uses SIGHASH_SINGLE|SIGHASH_ANYONECANPAY with option_anchors (BOLT 3, BOLT 5), so
 * the owner can add fee inputs and outputs; the owner's own signature is always SIGHASH_ALL.
 * Under both, hashOutputs covers the one output (SINGLE: the output at the input's index 0).
 */
export function htlcSighash(htlcTx: HtlcTransaction, signer: 'owner' | 'counterparty'): Uint8Array {
  const type = htlcSighashType(htlcTx, signer);
  const parts = htlcParts.get(htlcTx);
  if (!parts) return htlcTx.tx.hashForWitnessV0(0, htlcTx.htlcWitnessScript, htlcTx.htlcValueSat, type);
  parts.hashOutputs ??= sha256d(parts.output);
  const anyoneCanPay = type === SIGHASH_SINGLE_ANYONECANPAY;
  if (!anyoneCanPay) parts.hashPrevouts ??= sha256d(parts.outpoint);
  return witnessV0Sighash({
    version: 2,
    ...(anyoneCanPay
      ? ANYONECANPAY_PARTS
      : { hashPrevouts: parts.hashPrevouts!, hashSequence: hashSequence(parts.sequence) }),
    outpoint: parts.outpoint,
    scriptCode: htlcTx.htlcWitnessScript,
    amountSat: htlcTx.htlcValueSat,
    sequence: parts.sequence,
    hashOutputs: parts.hashOutputs,
    locktime: parts.locktime,
    sighashType: type,
  });
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

/** What commitment_signed carries (BOLT 2): the funding signature and one per HTLC transaction. */
export interface ReceivedCommitmentSignatures {
  /** 64-byte compact, by the counterparty's funding key. */
  signature: Uint8Array;
  /** 64-byte compact, by the counterparty's HTLC key, in commitment output order. */
  htlcSignatures: readonly Uint8Array[];
}

export interface CommitmentSignaturesCheck {
  /** Whether the funding signature is valid (and low-S). */
  commitment: boolean;
  /** Per HTLC transaction, in the order given. */
  htlcs: boolean[];
  /** All of the above. */
  valid: boolean;
}

export interface VerifyOptions {
  /** Where a batch large enough goes (e.g. a CryptoPool); without it, in this thread. */
  crypto?: CryptoService;
  /**
   * Signatures (1 + HTLCs) from which `crypto` is used; fewer are verified in this thread.
   * Default 128: on the 2-core build machine, busy with other work, a CryptoPool lost to this
   * thread at 31 and at 101 signatures (`pnpm bench commitment`, build_and_verify crypto-pool
   * against in-thread: 0.44-0.55 of the ceiling against 0.58-0.63), as its threads share the
   * cores the building thread needs. With idle cores, measure and pass a lower figure.
   */
  minBatchForCrypto?: number;
}

/**
 * The receive side of commitment_signed (BOLT 2): the counterparty's signatures of *our*
 * commitment and its HTLC transactions. The funding signature is checked against their funding
 * key; each HTLC signature against remote_htlcpubkey of this commitment, over the sighash type
 * they must use (SIGHASH_SINGLE|ANYONECANPAY with anchors). Every signature is checked, in one
 * batch; the answer says which ones failed. BOLT 2: a count that does not match the HTLC outputs
 * fails the channel: that is a TxError here, not a result.
 */
export async function verifyCounterpartySignatures(
  commitment: CommitmentTransaction,
  htlcTxs: readonly HtlcTransaction[],
  signatures: ReceivedCommitmentSignatures,
  options: VerifyOptions = {},
): Promise<CommitmentSignaturesCheck> {
  if (signatures.htlcSignatures.length !== htlcTxs.length) {
    throw new TxError(
      'invalid-signature',
      `${signatures.htlcSignatures.length} HTLC signatures for ${htlcTxs.length} HTLC outputs`,
    );
  }
  const htlcKey = commitment.params.keys.remoteHtlcPubkey;
  const requests: VerifyRequest[] = [
    {
      signature: checkBytes(signatures.signature, 64, 'commitment signature'),
      digest: commitmentSighash(commitment),
      publicKey: commitment.params.remoteFundingPubkey,
    },
  ];
  for (const [i, h] of htlcTxs.entries()) {
    requests.push({
      signature: checkBytes(signatures.htlcSignatures[i], 64, `HTLC signature ${i}`),
      digest: htlcSighash(h, 'counterparty'),
      publicKey: htlcKey,
    });
  }
  const crypto =
    options.crypto && requests.length >= (options.minBatchForCrypto ?? 128) ? options.crypto : inThreadCrypto;
  const [funding, ...htlcs] = await crypto.verifyBatch(requests);
  return { commitment: funding === true, htlcs, valid: funding === true && htlcs.every(Boolean) };
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
  signed.setWitness(0, htlcWitness(htlcTx, localSignature, remoteSignature, last));
  return signed;
}

/**
 * The witness of an HTLC transaction's input (BOLT 3): `0 <remotehtlcsig> <localhtlcsig>
 * <payment_preimage>` (HTLC-success) or `<>` (HTLC-timeout), then the HTLC script. The same for
 * an input of several combined (anchors), each at its own index.
 */
export function htlcWitness(
  htlcTx: Pick<HtlcTransaction, 'anchors' | 'htlcWitnessScript'>,
  localSignature: Uint8Array,
  remoteSignature: Uint8Array,
  last: Uint8Array,
): Uint8Array[] {
  return [
    new Uint8Array(0),
    encodeSignature(remoteSignature, htlcTx.anchors ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_ALL),
    encodeSignature(localSignature, SIGHASH_ALL),
    last,
    htlcTx.htlcWitnessScript,
  ];
}
