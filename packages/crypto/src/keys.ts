/**
 * Scalar and point arithmetic for key derivation (BOLT 3's tweaks and revocation keys).
 * Works on 32-byte scalars and 33-byte compressed points. Scalars are bigint arithmetic here
 * (cheap); point arithmetic runs on the fastest backend (`secp`, libsecp256k1 where it loads):
 * a noble point multiplication costs about 60 native ones.
 */
import * as noble from '@noble/secp256k1';
import { secp } from './default.ts';
import { CryptoError, checkBytes } from './errors.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function toScalar(bytes: Uint8Array, what: string): bigint {
  checkBytes(bytes, 32, what, 'invalid-private-key');
  return noble.etc.bytesToNumberBE(bytes);
}

function fromScalar(value: bigint): Uint8Array {
  if (value === 0n) throw new CryptoError('invalid-private-key', 'result is the zero scalar');
  return scalarBytes(value);
}

function scalarBytes(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = value;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
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
  return secp.pointAdd(p, q);
}

/** k * P, compressed; k is taken mod n (a hash used as a scalar may exceed n). */
export function pointMultiply(p: Uint8Array, k: Uint8Array): Uint8Array {
  const scalar = toScalar(k, 'scalar');
  if (scalar % N === 0n) throw new CryptoError('invalid-private-key', 'scalar is zero');
  return secp.pointMultiply(p, scalar < N ? k : scalarBytes(scalar % N));
}

/** P + t·G, compressed (BOLT 3: basepoint + SHA256(per_commitment_point || basepoint)·G); t mod n. */
export function pointAddScalar(p: Uint8Array, t: Uint8Array): Uint8Array {
  const scalar = toScalar(t, 'tweak');
  return secp.pointAddScalar(p, scalar < N ? t : scalarBytes(scalar % N));
}

/** Whether bytes encode a valid secp256k1 point (33 or 65 bytes). */
export function isValidPublicKey(p: Uint8Array): boolean {
  return secp.isPoint(p);
}
