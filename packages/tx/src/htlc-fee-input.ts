/**
 * option_anchors HTLC transactions are zero-fee (BOLT 3): "MUST combine it with inputs
 * contributing sufficient fee" (BOLT 5 "Generation of HTLC Transactions"). The counterparty
 * signed input 0 and output 0 with SIGHASH_SINGLE|SIGHASH_ANYONECANPAY, so a wallet input
 * (P2WPKH) and a change output are added at index 1; the holder's own signature, SIGHASH_ALL,
 * is made over the whole transaction afterwards.
 */
import { script as bscript, crypto as btcCrypto, opcodes as OPS, type Transaction } from 'bitcoinjs-lib';
import { claimSequence, dustLimitSatFor } from './claim.ts';
import { checkBytes, TxError } from './errors.ts';
import { encodeSignature, SIGHASH_ALL } from './sign.ts';

/** A wallet output (P2WPKH) that pays an HTLC transaction's fee. */
export interface FeeInput {
  /** Internal byte order. */
  txid: Uint8Array;
  vout: number;
  valueSat: bigint;
  /** The P2WPKH key. */
  pubkey: Uint8Array;
}

/** BOLT 3 "Expected Weight of HTLC-timeout and HTLC-success Transactions" with option_anchors. */
export const ANCHORS_HTLC_TIMEOUT_WEIGHT = 666;
export const ANCHORS_HTLC_SUCCESS_WEIGHT = 706;
/** A P2WPKH input: 41 bytes, and a witness of a 73-byte signature and a 33-byte key. */
const P2WPKH_INPUT_WEIGHT = 164 + (1 + 1 + 73 + 1 + 33);

export interface FundedHtlcTransaction {
  /** Unsigned: the HTLC input, the fee input; the HTLC output, the change. */
  tx: Transaction;
  expectedWeight: number;
  feeSat: bigint;
  changeSat: bigint;
}

/** `htlcTx` (one input, one output, unsigned) with `feeInput` and change to `changeScript` at `feeratePerKw`. */
export function addHtlcFeeInput(args: {
  htlcTx: Transaction;
  kind: 'htlc-timeout' | 'htlc-success';
  feeInput: FeeInput;
  changeScript: Uint8Array;
  feeratePerKw: bigint;
}): FundedHtlcTransaction {
  const { htlcTx, ...rest } = args;
  return aggregateHtlcTransactions({ ...rest, htlcTxs: [htlcTx] });
}

/** What one transaction's version, counts and locktime (and the segwit marker) weigh: counted once in an aggregate. */
const TX_OVERHEAD_WEIGHT = 4 * (4 + 1 + 1 + 4) + 2;

/**
 * Several zero-fee HTLC transactions of one commitment in one (BOLT 5 lets anchors HTLC
 * transactions be combined: the counterparty signed each input with its output at the same
 * index, SIGHASH_SINGLE|ANYONECANPAY): their inputs and outputs in order, then `feeInput` and
 * the change, at `feeratePerKw`. Its nVersion and nLockTime are signed too, so every one must
 * share them (the HTLC-successes; HTLC-timeouts of one cltv_expiry).
 */
export function aggregateHtlcTransactions(args: {
  htlcTxs: readonly Transaction[];
  kind: 'htlc-timeout' | 'htlc-success';
  feeInput: FeeInput;
  changeScript: Uint8Array;
  feeratePerKw: bigint;
}): FundedHtlcTransaction {
  const { htlcTxs, feeInput, changeScript } = args;
  const first = htlcTxs[0];
  if (!first) throw new TxError('invalid-argument', 'no HTLC transaction to fund');
  for (const h of htlcTxs) {
    if (h.ins.length !== 1 || h.outs.length !== 1)
      throw new TxError('invalid-argument', 'an HTLC transaction has one input and one output');
    if (h.version !== first.version || h.locktime !== first.locktime)
      throw new TxError('invalid-argument', 'HTLC transactions combined must share nVersion and nLockTime');
  }
  checkBytes(feeInput.txid, 32, 'fee input txid');
  checkBytes(feeInput.pubkey, 33, 'fee input pubkey');
  const base = args.kind === 'htlc-timeout' ? ANCHORS_HTLC_TIMEOUT_WEIGHT : ANCHORS_HTLC_SUCCESS_WEIGHT;
  const changeOutput = 4 * (8 + 1 + changeScript.length);
  const expectedWeight =
    htlcTxs.length * base - (htlcTxs.length - 1) * TX_OVERHEAD_WEIGHT + P2WPKH_INPUT_WEIGHT + changeOutput;
  const feeSat = (args.feeratePerKw * BigInt(expectedWeight)) / 1000n;
  const changeSat = feeInput.valueSat - feeSat;
  if (changeSat < dustLimitSatFor(changeScript))
    throw new TxError(
      'invalid-amounts',
      `a fee input of ${feeInput.valueSat} sat cannot pay the ${feeSat} sat fee and keep its change`,
    );
  const tx = first.clone();
  for (const h of htlcTxs.slice(1)) {
    const input = h.ins[0] as Transaction['ins'][number];
    tx.addInput(input.hash, input.index, input.sequence);
    const output = h.outs[0] as Transaction['outs'][number];
    tx.addOutput(output.script, output.value);
  }
  tx.addInput(feeInput.txid, feeInput.vout, claimSequence(0));
  tx.addOutput(changeScript, changeSat);
  return { tx, expectedWeight, feeSat, changeSat };
}

const p2pkhScriptCode = (pubkey: Uint8Array) =>
  bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(pubkey),
    OPS.OP_EQUALVERIFY,
    OPS.OP_CHECKSIG,
  ]);

/** BIP 143 sighash (SIGHASH_ALL) of the fee input (the last input). */
export function feeInputSighash(tx: Transaction, feeInput: FeeInput): Uint8Array {
  return new Uint8Array(
    tx.hashForWitnessV0(tx.ins.length - 1, p2pkhScriptCode(feeInput.pubkey), feeInput.valueSat, SIGHASH_ALL),
  );
}

/** Puts the fee input's witness `<signature> <pubkey>` on an HTLC transaction whose input 0 is complete. */
export function finalizeFeeInput(tx: Transaction, feeInput: FeeInput, signature: Uint8Array): Transaction {
  const signed = tx.clone();
  signed.setWitness(tx.ins.length - 1, [encodeSignature(signature, SIGHASH_ALL), feeInput.pubkey]);
  return signed;
}
