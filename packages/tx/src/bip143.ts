/**
 * BIP 143 sighashes and txids from parts, for the transactions this package builds (one input
 * each): what a commitment and its HTLC transactions share is hashed once per commitment, not
 * once per signature. bitcoinjs-lib's `hashForWitnessV0` serialises and hashes the whole
 * transaction again for every call; a commitment with 100 HTLCs asked it 101 times.
 *
 * BIP 143 preimage, for input `i` spending `amount` with `scriptCode`:
 *   nVersion | hashPrevouts | hashSequence | outpoint | scriptCode | amount | nSequence |
 *   hashOutputs | nLocktime | sighash type
 * with hashPrevouts = dSHA256(every outpoint), hashSequence = dSHA256(every nSequence),
 * hashOutputs = dSHA256(every output) under SIGHASH_ALL; under SIGHASH_SINGLE|ANYONECANPAY
 * the first two are zero and hashOutputs covers the output at index `i` alone.
 */
import { sha256d } from '@lnkit/crypto';

export const SIGHASH_ALL = 0x01;
export const SIGHASH_SINGLE = 0x03;
export const SIGHASH_ANYONECANPAY = 0x80;

const ZERO_HASH = new Uint8Array(32);

function varIntLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
}

/** Writes a Bitcoin CompactSize; returns the offset after it. */
function writeVarInt(out: Uint8Array, at: number, n: number): number {
  if (n < 0xfd) {
    out[at] = n;
    return at + 1;
  }
  if (n <= 0xffff) {
    out[at] = 0xfd;
    out[at + 1] = n & 0xff;
    out[at + 2] = n >> 8;
    return at + 3;
  }
  out[at] = 0xfe;
  new DataView(out.buffer, out.byteOffset + at + 1, 4).setUint32(0, n, true);
  return at + 5;
}

/**
 * An amount in satoshis, 8 bytes little-endian. Below 2^53 (all the bitcoin there is) the
 * bytes are written from a number; a bigint that does not fit one goes through a DataView.
 */
function writeU64(out: Uint8Array, at: number, value: bigint): void {
  const n = Number(value);
  if (n >= 0 && Number.isSafeInteger(n)) {
    let low = n % 0x1_0000_0000;
    let high = (n - low) / 0x1_0000_0000;
    for (let i = 0; i < 4; i++, low >>>= 8, high >>>= 8) {
      out[at + i] = low & 0xff;
      out[at + 4 + i] = high & 0xff;
    }
  } else new DataView(out.buffer, out.byteOffset).setBigUint64(at, value, true);
}

export interface TxOut {
  valueSat: bigint;
  scriptPubKey: Uint8Array;
}

/** One output with a script under 253 bytes, serialised (an HTLC transaction's). */
export function serializeOutput(valueSat: bigint, scriptPubKey: Uint8Array): Uint8Array {
  if (scriptPubKey.length >= 0xfd) return serializeOutputs([{ valueSat, scriptPubKey }]);
  const out = new Uint8Array(9 + scriptPubKey.length);
  writeU64(out, 0, valueSat);
  out[8] = scriptPubKey.length;
  out.set(scriptPubKey, 9);
  return out;
}

/** Outputs serialised as in a transaction (value, script length, script), without their count. */
export function serializeOutputs(outputs: readonly TxOut[]): Uint8Array {
  let size = 0;
  for (const o of outputs) size += 8 + varIntLength(o.scriptPubKey.length) + o.scriptPubKey.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const o of outputs) {
    writeU64(out, at, o.valueSat);
    at = writeVarInt(out, at + 8, o.scriptPubKey.length);
    out.set(o.scriptPubKey, at);
    at += o.scriptPubKey.length;
  }
  return out;
}

/** An outpoint as a transaction carries it: txid (internal byte order) then the index, little-endian. */
export function serializeOutpoint(txid: Uint8Array, vout: number): Uint8Array {
  const out = new Uint8Array(36);
  out.set(txid, 0);
  new DataView(out.buffer).setUint32(32, vout, true);
  return out;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}

/** A transaction with one input (no scriptSig) and its outputs, as the txid hashes it. */
export interface OneInputTx {
  version: number;
  /** 36 bytes, from serializeOutpoint. */
  outpoint: Uint8Array;
  sequence: number;
  /** From serializeOutputs. */
  outputs: Uint8Array;
  outputCount: number;
  locktime: number;
}

/** The txid (internal byte order) of a one-input segwit transaction: dSHA256 of its serialisation without witness. */
export function oneInputTxid(tx: OneInputTx): Uint8Array {
  const size = 4 + 1 + 36 + 1 + 4 + varIntLength(tx.outputCount) + tx.outputs.length + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, tx.version, true);
  out[4] = 1;
  out.set(tx.outpoint, 5);
  out[41] = 0; // empty scriptSig
  view.setUint32(42, tx.sequence >>> 0, true);
  let at = writeVarInt(out, 46, tx.outputCount);
  out.set(tx.outputs, at);
  at += tx.outputs.length;
  view.setUint32(at, tx.locktime >>> 0, true);
  return sha256d(out);
}

/** The hashes BIP 143 shares between every signature of a one-input transaction under SIGHASH_ALL. */
export interface SighashAllParts {
  hashPrevouts: Uint8Array;
  hashSequence: Uint8Array;
  hashOutputs: Uint8Array;
}

export function sighashAllParts(tx: Pick<OneInputTx, 'outpoint' | 'sequence' | 'outputs'>): SighashAllParts {
  return {
    hashPrevouts: sha256d(tx.outpoint),
    hashSequence: sha256d(u32(tx.sequence)),
    hashOutputs: sha256d(tx.outputs),
  };
}

/**
 * The BIP 143 digest of a one-input transaction's input. `parts` are zero hashes for
 * ANYONECANPAY (hashPrevouts, hashSequence) and, for SINGLE, hashOutputs covers output 0.
 */
/**
 * The preimage is hashed as soon as it is written, so one buffer serves every sighash (a
 * commitment asks for 1 + HTLCs of them): no allocation per signature. Scripts this package
 * signs are under 200 bytes; a longer one gets a buffer of its own.
 */
const PREIMAGE = new Uint8Array(1024);
const PREIMAGE_VIEW = new DataView(PREIMAGE.buffer);

export function witnessV0Sighash(args: {
  version: number;
  hashPrevouts: Uint8Array;
  hashSequence: Uint8Array;
  outpoint: Uint8Array;
  scriptCode: Uint8Array;
  amountSat: bigint;
  sequence: number;
  hashOutputs: Uint8Array;
  locktime: number;
  sighashType: number;
}): Uint8Array {
  const script = args.scriptCode;
  const size = 4 + 32 + 32 + 36 + varIntLength(script.length) + script.length + 8 + 4 + 32 + 4 + 4;
  const out = size <= PREIMAGE.length ? PREIMAGE : new Uint8Array(size);
  const view = out === PREIMAGE ? PREIMAGE_VIEW : new DataView(out.buffer);
  view.setUint32(0, args.version, true);
  out.set(args.hashPrevouts, 4);
  out.set(args.hashSequence, 36);
  out.set(args.outpoint, 68);
  let at = writeVarInt(out, 104, script.length);
  out.set(script, at);
  at += script.length;
  writeU64(out, at, args.amountSat);
  view.setUint32(at + 8, args.sequence >>> 0, true);
  out.set(args.hashOutputs, at + 12);
  view.setUint32(at + 44, args.locktime >>> 0, true);
  view.setUint32(at + 48, args.sighashType >>> 0, true);
  return sha256d(out.subarray(0, size));
}

/** hashPrevouts and hashSequence under ANYONECANPAY. */
export const ANYONECANPAY_PARTS = { hashPrevouts: ZERO_HASH, hashSequence: ZERO_HASH } as const;
