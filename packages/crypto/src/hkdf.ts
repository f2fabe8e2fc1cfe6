/**
 * BOLT 8's HKDF: RFC 5869 HKDF-SHA256 with a 32-byte salt (the chaining key), a zero-length
 * info and 64 bytes out, split in two 32-byte halves. A handshake makes four of them per side
 * and the transport one per key rotation.
 *
 * Why not Node's: done as three `createHmac` (extract, then T(1), T(2)) it costs three native
 * objects, three Buffers and their collection — measured here 11–37 µs per HKDF against 11–13 µs
 * for this (load 5–15), and `crypto.hkdfSync` was slower still (15–20 µs: its key object). Here
 * it is ten SHA-256 compressions on preallocated words, with the HMAC pads of the PRK computed
 * once for both T(1) and T(2).
 *
 * Constant time: SHA-256 is additions, rotations and bitwise operations on 32-bit words, with no
 * branch or table index that depends on the data (the round constants are indexed by round), so
 * the secrets hashed here (chaining keys, ECDH results) do not steer it. Inputs of other sizes
 * go to Node's HMAC, so the result is RFC 5869's for any input.
 */
import { createHmac } from 'node:crypto';
import { CryptoError } from './errors.ts';
import { compress, IV, W } from './sha256-block.ts';

const IPAD = 0x36363636;
const OPAD = 0x5c5c5c5c;

// Scratch words, reused by every call (JavaScript runs one call at a time per thread). Wiped
// after each HKDF, so no key material outlives the call in them.
const state = new Int32Array(8);
const inner = new Int32Array(8);
const outer = new Int32Array(8);
const digest = new Int32Array(8);
const t1 = new Int32Array(8);
const ikmWords = new Int32Array(8);

/** Big-endian word `i` of 32 bytes. */
function word(bytes: Uint8Array, i: number): number {
  const j = 4 * i;
  return (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
}

/** HMAC's two pad states for a 32-byte key given as words: SHA-256 after (K ^ ipad) and (K ^ opad). */
function padStates(key: Int32Array): void {
  for (let i = 0; i < 8; i++) W[i] = key[i]! ^ IPAD;
  W.fill(IPAD, 8, 16);
  inner.set(IV);
  compress(inner);
  for (let i = 0; i < 8; i++) W[i] = key[i]! ^ OPAD;
  W.fill(OPAD, 8, 16);
  outer.set(IV);
  compress(outer);
}

/**
 * The last block after a pad state: `words` (8 words, or none), then `extra` (one byte, or -1
 * for none), then SHA-256's padding; `out` gets the digest.
 */
function finish(pad: Int32Array, words: Int32Array | undefined, extra: number, out: Int32Array): void {
  state.set(pad);
  let n = 0;
  if (words) {
    W.set(words, 0);
    n = 8;
  }
  const bytes = 4 * n + (extra >= 0 ? 1 : 0);
  W[n] = extra >= 0 ? (extra << 24) | 0x800000 : 0x80000000 | 0;
  W.fill(0, n + 1, 15);
  W[15] = (64 + bytes) * 8;
  compress(state);
  out.set(state);
}

/** HMAC-SHA256 with the pads in `inner`/`outer`, over `words` and `extra` (see finish). */
function hmac(words: Int32Array | undefined, extra: number, out: Int32Array): void {
  finish(inner, words, extra, digest);
  finish(outer, digest, -1, out);
}

function toBytes(words: Int32Array, out: Uint8Array, at: number): void {
  for (let i = 0; i < 8; i++) {
    const x = words[i]!;
    out[at + 4 * i] = x >>> 24;
    out[at + 4 * i + 1] = x >>> 16;
    out[at + 4 * i + 2] = x >>> 8;
    out[at + 4 * i + 3] = x;
  }
}

const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);

/** RFC 5869 through Node's HMAC, for inputs this file does not specialise (and the tests). */
export function hkdfSha256ViaHmac(salt: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  const first = createHmac('sha256', prk).update(ONE).digest();
  const second = createHmac('sha256', prk).update(first).update(TWO).digest();
  return [new Uint8Array(first), new Uint8Array(second)];
}

/**
 * BOLT 8: HKDF(salt, ikm) = RFC 5869 HKDF-SHA256 with a zero-length info, 64 bytes, returned as
 * its two 32-byte halves (two views of one 64-byte buffer).
 */
export function hkdfSha256(salt: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  if (!(salt instanceof Uint8Array) || !(ikm instanceof Uint8Array))
    throw new CryptoError('invalid-length', 'HKDF salt and input must be a Uint8Array');
  if (salt.length !== 32 || (ikm.length !== 32 && ikm.length !== 0)) return hkdfSha256ViaHmac(salt, ikm);
  const key = t1; // the salt's words, then the PRK's, then T(1)
  for (let i = 0; i < 8; i++) key[i] = word(salt, i);
  padStates(key);
  for (let i = 0; i < 8 && ikm.length === 32; i++) ikmWords[i] = word(ikm, i);
  // PRK = HMAC(salt, ikm)
  hmac(ikm.length === 32 ? ikmWords : undefined, -1, key);
  padStates(key);
  const out = new Uint8Array(64);
  // T(1) = HMAC(PRK, 0x01); T(2) = HMAC(PRK, T(1) || 0x02)
  hmac(undefined, 1, t1);
  toBytes(t1, out, 0);
  hmac(t1, 2, digest);
  toBytes(digest, out, 32);
  for (const scratch of [W, state, inner, outer, digest, t1, ikmWords]) scratch.fill(0);
  return [out.subarray(0, 32), out.subarray(32)];
}
