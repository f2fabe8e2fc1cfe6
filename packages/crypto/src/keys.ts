/**
 * Scalar and point arithmetic for key derivation (BOLT 3's tweaks and revocation keys).
 * Works on 32-byte scalars and 33-byte compressed points.
 */
import * as noble from '@noble/secp256k1';
import { CryptoError, checkBytes } from './errors.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function toScalar(bytes: Uint8Array, what: string): bigint {
  checkBytes(bytes, 32, what, 'invalid-private-key');
  return noble.etc.bytesToNumberBE(bytes);
}

function fromScalar(value: bigint): Uint8Array {
  if (value === 0n) throw new CryptoError('invalid-private-key', 'result is the zero scalar');
  const out = new Uint8Array(32);
  let v = value;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function toPoint(bytes: Uint8Array): noble.Point {
  try {
    return noble.Point.fromBytes(bytes);
  } catch {
    throw new CryptoError('invalid-public-key', 'not a valid curve point');
  }
}

/** (a + b) mod n */
export function privateAdd(a: Uint8Array, b: Uint8Array): Uint8Array {
  return fromScalar((toScalar(a, 'scalar') + toScalar(b, 'scalar')) % N);
}

/** (a * b) mod n */
export function privateMultiply(a: Uint8Array, b: Uint8Array): Uint8Array {
  return fromScalar((toScalar(a, 'scalar') * toScalar(b, 'scalar')) % N);
}

/** P + Q, compressed. */
export function pointAdd(p: Uint8Array, q: Uint8Array): Uint8Array {
  const sum = toPoint(p).add(toPoint(q));
  if (sum.equals(noble.Point.ZERO))
    throw new CryptoError('invalid-public-key', 'sum is the point at infinity');
  return sum.toBytes(true);
}

/** k * P, compressed. */
export function pointMultiply(p: Uint8Array, k: Uint8Array): Uint8Array {
  const scalar = toScalar(k, 'scalar') % N;
  if (scalar === 0n) throw new CryptoError('invalid-private-key', 'scalar is zero');
  return toPoint(p).multiply(scalar).toBytes(true);
}

/** Whether bytes encode a valid secp256k1 point (33 or 65 bytes). */
export function isValidPublicKey(p: Uint8Array): boolean {
  if (!(p instanceof Uint8Array) || (p.length !== 33 && p.length !== 65)) return false;
  try {
    noble.Point.fromBytes(p);
    return true;
  } catch {
    return false;
  }
}
