/**
 * Transaction weights (BIP 141) and fees in sat per 1000 weight units (sat/kw), the unit of
 * the FeeEstimator and of BOLT 3. Estimates are upper bounds, so the feerate a transaction
 * pays is never under the one asked for.
 */
import { witnessProgram } from './address.ts';

/**
 * A P2WPKH input: 41 bytes outside the witness (outpoint 36, empty scriptSig 1, sequence 4,
 * × 4) and a witness of 108 bytes at most: item count 1, signature 1 + 72 (DER with a low S is at
 * most 71 bytes, plus the sighash byte), public key 1 + 33. 164 + 108 = 272, LDK's figure too.
 */
export const P2WPKH_INPUT_WEIGHT = 272;
/** A P2WPKH output: value 8, script length 1, script 22; × 4. */
export const P2WPKH_OUTPUT_WEIGHT = 124;
/** The wallet's own (P2WPKH) change script length. */
export const CHANGE_SCRIPT_BYTES = 22;

/** BIP 125 "opt-in RBF" and enables nLockTime (anti fee sniping), as Bitcoin Core's wallet sends. */
export const WALLET_INPUT_SEQUENCE = 0xffff_fffd;

function varIntBytes(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffff_ffff ? 5 : 9;
}

/** Weight of an output paying `scriptBytes` bytes of scriptPubKey. */
export function outputWeight(scriptBytes: number): number {
  return 4 * (8 + varIntBytes(scriptBytes) + scriptBytes);
}

/**
 * Weight of a segwit transaction with `inputCount` P2WPKH inputs and outputs of the given
 * script lengths: version 4, locktime 4, the two counts (× 4), the marker and flag (2).
 */
export function transactionWeight(inputCount: number, outputScriptBytes: readonly number[]): number {
  let weight = 4 * (4 + 4 + varIntBytes(inputCount) + varIntBytes(outputScriptBytes.length)) + 2;
  weight += inputCount * P2WPKH_INPUT_WEIGHT;
  for (const bytes of outputScriptBytes) weight += outputWeight(bytes);
  return weight;
}

/** The fee for `weight` at `feerateSatPerKw`, rounded up. */
export function feeForWeight(weight: number, feerateSatPerKw: bigint): bigint {
  return (BigInt(weight) * feerateSatPerKw + 999n) / 1000n;
}

/**
 * Bitcoin Core's dust threshold (GetDustThreshold at its default 3 sat/vB dust relay fee): three
 * times the bytes of the output plus those of an input spending it (67 for a witness program,
 * 148 otherwise). 294 sat for P2WPKH, 330 for P2WSH and P2TR, 546 for P2PKH.
 */
export function dustLimitSat(scriptPubKey: Uint8Array): bigint {
  const outputBytes = 8 + varIntBytes(scriptPubKey.length) + scriptPubKey.length;
  const spendBytes = witnessProgram(scriptPubKey) ? 32 + 4 + 1 + 26 + 4 : 32 + 4 + 1 + 107 + 4;
  return BigInt((outputBytes + spendBytes) * 3);
}
