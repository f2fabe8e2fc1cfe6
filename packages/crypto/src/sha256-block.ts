/**
 * SHA-256's compression function (FIPS 180-4 6.2.2) on 32-bit words, with the one-shot hash of
 * short inputs built on it. Shared by hkdf.ts and hash.ts: for one to three blocks, allocating
 * nothing beyond the digest costs less than a hash object (noble's or Node's).
 *
 * Additions, rotations and bitwise operations only; the round constants are indexed by round,
 * never by data, so secrets hashed here (HKDF's keys) do not steer it.
 */
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
export const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
/** The message schedule; W[0..15] is the block to compress. Callers fill it, and wipe it after secrets. */
export const W = new Int32Array(64);

/** One SHA-256 compression of the block in W[0..15] into `s`. */
export function compress(s: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15]!;
    const b = W[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = s[0]!;
  let b = s[1]!;
  let c = s[2]!;
  let d = s[3]!;
  let e = s[4]!;
  let f = s[5]!;
  let g = s[6]!;
  let h = s[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const u = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t) | 0;
    d = c;
    c = b;
    b = a;
    a = (t + u) | 0;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0;
  s[5] = (s[5]! + f) | 0;
  s[6] = (s[6]! + g) | 0;
  s[7] = (s[7]! + h) | 0;
}

const hState = new Int32Array(8);
const tail = new Uint8Array(64);

/** Loads 64 bytes from `b` at `at` into W[0..15], big-endian. */
function load(b: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + 4 * i;
    W[i] = (b[j]! << 24) | (b[j + 1]! << 16) | (b[j + 2]! << 8) | b[j + 3]!;
  }
}

/** SHA-256 of the concatenation of `parts` (any sizes; meant for short inputs). */
export function sha256Js(parts: readonly Uint8Array[]): Uint8Array {
  hState.set(IV);
  let filled = 0;
  let total = 0;
  for (const part of parts) {
    total += part.length;
    let at = 0;
    while (at < part.length) {
      if (filled === 0 && part.length - at >= 64) {
        load(part, at);
        compress(hState);
        at += 64;
        continue;
      }
      const n = Math.min(64 - filled, part.length - at);
      tail.set(part.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === 64) {
        load(tail, 0);
        compress(hState);
        filled = 0;
      }
    }
  }
  // Padding: 0x80, zeros, the length in bits as 64 bits big-endian.
  tail[filled++] = 0x80;
  if (filled > 56) {
    tail.fill(0, filled, 64);
    load(tail, 0);
    compress(hState);
    filled = 0;
  }
  tail.fill(0, filled, 56);
  const bits = total * 8;
  const high = Math.floor(bits / 0x1_0000_0000);
  tail[56] = high >>> 24;
  tail[57] = high >>> 16;
  tail[58] = high >>> 8;
  tail[59] = high;
  tail[60] = bits >>> 24;
  tail[61] = bits >>> 16;
  tail[62] = bits >>> 8;
  tail[63] = bits;
  load(tail, 0);
  compress(hState);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const x = hState[i]!;
    out[4 * i] = x >>> 24;
    out[4 * i + 1] = x >>> 16;
    out[4 * i + 2] = x >>> 8;
    out[4 * i + 3] = x;
  }
  // What was hashed may be secret: nothing of it stays in the scratch.
  tail.fill(0);
  W.fill(0);
  hState.fill(0);
  return out;
}
