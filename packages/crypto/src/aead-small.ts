/**
 * ChaCha20-Poly1305 (RFC 8439) in JavaScript, for the short messages of BOLT 8: the handshake's
 * acts (an empty or 33-byte plaintext), every frame's 2-byte length and small messages (init,
 * ping, pong). For these, Node's `createCipheriv` costs far more in the native cipher object,
 * its Buffers and their collection than the cipher itself (measured here: 4–8 µs per call,
 * two per message); bulk frames stay on Node's (aead.ts picks by size).
 *
 * ChaCha20 is additions, XORs and rotations of 32-bit words. Poly1305 works on ten 13-bit
 * limbs (as poly1305-donna-16 and TweetNaCl do), so every product and sum stays an exact
 * integer in a double; its final reduction selects with a mask, and the tag is compared by
 * OR-ing the XOR of all its bytes: no branch or index depends on a key, the plaintext or the
 * tag. Checked against Node's (OpenSSL) on random inputs and RFC 8439's AEAD vector.
 */

/**
 * Plaintexts up to this size are encrypted here by aead.ts (any size works; beyond one block of
 * key stream Node's native cipher wins).
 */
export const SMALL_AEAD_MAX_BYTES = 64;

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] as const;

// Scratch, reused by every call (one call at a time per thread) and wiped after it.
const input = new Int32Array(16);
const x = new Int32Array(16);
const stream = new Uint8Array(64);
const block = new Uint8Array(19); // 16 bytes, the 2^128 bit, two zero bytes the limb reader may touch
const r = new Float64Array(10);
const r5 = new Float64Array(10); // 5·r: 2^130 ≡ 5, so a product past the top limb comes back five times at the bottom
const h = new Float64Array(10);
const d = new Float64Array(10);
const g = new Float64Array(10);
const pad = new Uint8Array(16); // the Poly1305 key's s half

function le32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

/** One ChaCha20 block (RFC 8439 2.3) for `counter` into `stream`; `input` holds key and nonce. */
function chachaBlock(counter: number): void {
  input[12] = counter;
  let x0 = input[0]!;
  let x1 = input[1]!;
  let x2 = input[2]!;
  let x3 = input[3]!;
  let x4 = input[4]!;
  let x5 = input[5]!;
  let x6 = input[6]!;
  let x7 = input[7]!;
  let x8 = input[8]!;
  let x9 = input[9]!;
  let x10 = input[10]!;
  let x11 = input[11]!;
  let x12 = input[12]!;
  let x13 = input[13]!;
  let x14 = input[14]!;
  let x15 = input[15]!;
  // Ten double rounds: four column quarter rounds, then four diagonal ones (RFC 8439 2.1–2.3).
  for (let i = 0; i < 10; i++) {
    x0 = (x0 + x4) | 0;
    x12 ^= x0;
    x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0;
    x4 ^= x8;
    x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0;
    x12 ^= x0;
    x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0;
    x4 ^= x8;
    x4 = (x4 << 7) | (x4 >>> 25);
    x1 = (x1 + x5) | 0;
    x13 ^= x1;
    x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0;
    x5 ^= x9;
    x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0;
    x13 ^= x1;
    x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0;
    x5 ^= x9;
    x5 = (x5 << 7) | (x5 >>> 25);
    x2 = (x2 + x6) | 0;
    x14 ^= x2;
    x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0;
    x6 ^= x10;
    x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0;
    x14 ^= x2;
    x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0;
    x6 ^= x10;
    x6 = (x6 << 7) | (x6 >>> 25);
    x3 = (x3 + x7) | 0;
    x15 ^= x3;
    x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0;
    x7 ^= x11;
    x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0;
    x15 ^= x3;
    x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0;
    x7 ^= x11;
    x7 = (x7 << 7) | (x7 >>> 25);
    x0 = (x0 + x5) | 0;
    x15 ^= x0;
    x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0;
    x5 ^= x10;
    x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0;
    x15 ^= x0;
    x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0;
    x5 ^= x10;
    x5 = (x5 << 7) | (x5 >>> 25);
    x1 = (x1 + x6) | 0;
    x12 ^= x1;
    x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0;
    x6 ^= x11;
    x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0;
    x12 ^= x1;
    x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0;
    x6 ^= x11;
    x6 = (x6 << 7) | (x6 >>> 25);
    x2 = (x2 + x7) | 0;
    x13 ^= x2;
    x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0;
    x7 ^= x8;
    x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0;
    x13 ^= x2;
    x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0;
    x7 ^= x8;
    x7 = (x7 << 7) | (x7 >>> 25);
    x3 = (x3 + x4) | 0;
    x14 ^= x3;
    x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0;
    x4 ^= x9;
    x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0;
    x14 ^= x3;
    x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0;
    x4 ^= x9;
    x4 = (x4 << 7) | (x4 >>> 25);
  }
  x[0] = x0;
  x[1] = x1;
  x[2] = x2;
  x[3] = x3;
  x[4] = x4;
  x[5] = x5;
  x[6] = x6;
  x[7] = x7;
  x[8] = x8;
  x[9] = x9;
  x[10] = x10;
  x[11] = x11;
  x[12] = x12;
  x[13] = x13;
  x[14] = x14;
  x[15] = x15;
  for (let i = 0; i < 16; i++) {
    const w = (x[i]! + input[i]!) | 0;
    stream[4 * i] = w;
    stream[4 * i + 1] = w >>> 8;
    stream[4 * i + 2] = w >>> 16;
    stream[4 * i + 3] = w >>> 24;
  }
}

function setKeyAndNonce(key: Uint8Array, nonce: Uint8Array): void {
  for (let i = 0; i < 4; i++) input[i] = SIGMA[i]!;
  for (let i = 0; i < 8; i++) input[4 + i] = le32(key, 4 * i);
  for (let i = 0; i < 3; i++) input[13 + i] = le32(nonce, 4 * i);
}

/** Limb i (13 bits from bit 13·i) of the little-endian number in `b`. */
function limb(b: Uint8Array, i: number): number {
  const bit = 13 * i;
  const at = bit >> 3;
  return ((b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) >>> (bit & 7)) & 0x1fff;
}

/** Poly1305 key from the first 32 bytes of `stream`: r clamped (RFC 8439 2.5), s kept. */
function polyInit(): void {
  block.set(stream.subarray(0, 16));
  block[3]! &= 15;
  block[7]! &= 15;
  block[11]! &= 15;
  block[15]! &= 15;
  block[4]! &= 252;
  block[8]! &= 252;
  block[12]! &= 252;
  block[16] = 0;
  for (let i = 0; i < 10; i++) {
    r[i] = limb(block, i);
    r5[i] = 5 * r[i]!;
  }
  pad.set(stream.subarray(16, 32));
  h.fill(0);
}

/** h = (h + block with its 2^128 bit) · r mod 2^130 − 5, for the 16 bytes in `block`. */
function polyBlock(): void {
  block[16] = 1;
  for (let i = 0; i < 10; i++) h[i]! += limb(block, i);
  for (let i = 0; i < 10; i++) {
    let sum = 0;
    for (let j = 0; j <= i; j++) sum += h[j]! * r[i - j]!;
    for (let j = i + 1; j < 10; j++) sum += h[j]! * r5[i - j + 10]!;
    d[i] = sum;
  }
  let carry = 0;
  for (let i = 0; i < 10; i++) {
    const v = d[i]! + carry;
    carry = Math.floor(v / 8192);
    h[i] = v - carry * 8192;
  }
  h[0]! += 5 * carry;
  carry = Math.floor(h[0]! / 8192);
  h[0]! -= carry * 8192;
  h[1]! += carry;
}

/** Poly1305 over `data`, zero-padded to 16 bytes (RFC 8439 2.8's pad16). */
function polyPadded(data: Uint8Array): void {
  for (let at = 0; at < data.length; at += 16) {
    const n = Math.min(16, data.length - at);
    block.set(data.subarray(at, at + n));
    block.fill(0, n, 16);
    polyBlock();
  }
}

function le64(out: Uint8Array, at: number, value: number): void {
  for (let i = 0; i < 8; i++) out[at + i] = i < 6 ? Math.floor(value / 2 ** (8 * i)) & 0xff : 0;
}

/** The tag (RFC 8439 2.5.1): h fully reduced mod 2^130 − 5, plus s, mod 2^128, into `out`. */
function polyFinish(out: Uint8Array, at: number): void {
  let carry = 0;
  for (let i = 0; i < 10; i++) {
    const v = h[i]! + carry;
    carry = Math.floor(v / 8192);
    h[i] = v - carry * 8192;
  }
  h[0]! += 5 * carry;
  carry = 0;
  for (let i = 0; i < 10; i++) {
    const v = h[i]! + carry;
    carry = Math.floor(v / 8192);
    h[i] = v - carry * 8192;
  }
  // g = h + 5 − 2^130: if that is not negative, h ≥ p and g is the reduced value.
  carry = 5;
  for (let i = 0; i < 10; i++) {
    const v = h[i]! + carry;
    carry = Math.floor(v / 8192);
    g[i] = v - carry * 8192;
  }
  const useG = -(carry & 1); // all ones if h + 5 reached 2^130
  for (let i = 0; i < 10; i++) h[i] = (h[i]! & ~useG) | (g[i]! & useG);
  // h (130 bits in 13-bit limbs) to 16-bit words, plus s, mod 2^128.
  let acc = 0;
  let bits = 0;
  let word = 0;
  let sum = 0;
  for (let i = 0; i < 10 && word < 8; i++) {
    acc += h[i]! * 2 ** bits;
    bits += 13;
    while (bits >= 16 && word < 8) {
      const low = acc % 65536;
      acc = (acc - low) / 65536;
      bits -= 16;
      sum = low + (pad[2 * word]! | (pad[2 * word + 1]! << 8)) + (sum >>> 16);
      out[at + 2 * word] = sum;
      out[at + 2 * word + 1] = sum >>> 8;
      word++;
    }
  }
}

function wipe(): void {
  input.fill(0);
  x.fill(0);
  stream.fill(0);
  block.fill(0);
  r.fill(0);
  r5.fill(0);
  h.fill(0);
  d.fill(0);
  g.fill(0);
  pad.fill(0);
}

/** out = data XOR the key stream from block 1 on (RFC 8439 2.4). */
function xorStream(data: Uint8Array, out: Uint8Array): void {
  for (let at = 0, counter = 1; at < data.length; at += 64, counter++) {
    chachaBlock(counter);
    const end = Math.min(data.length, at + 64);
    for (let i = at; i < end; i++) out[i] = data[i]! ^ stream[i - at]!;
  }
}

const lengths = new Uint8Array(16);

/** Poly1305 of AD and ciphertext as the AEAD lays them out, with its key from block 0. */
function aeadTag(ad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, at: number): void {
  chachaBlock(0);
  polyInit();
  polyPadded(ad);
  polyPadded(ciphertext);
  le64(lengths, 0, ad.length);
  le64(lengths, 8, ciphertext.length);
  block.set(lengths);
  polyBlock();
  polyFinish(out, at);
}

/** ChaCha20-Poly1305 encryption with a 12-byte nonce; returns ciphertext || tag. */
export function smallEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  const n = plaintext.length;
  const out = new Uint8Array(n + 16);
  setKeyAndNonce(key, nonce);
  xorStream(plaintext, out);
  aeadTag(ad, out.subarray(0, n), out, n);
  wipe();
  return out;
}

const expected = new Uint8Array(16);

/** The inverse: the plaintext, or undefined when the tag does not verify (nothing is decrypted then). */
export function smallDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array | undefined {
  const n = ciphertext.length - 16;
  setKeyAndNonce(key, nonce);
  const body = ciphertext.subarray(0, n);
  aeadTag(ad, body, expected, 0);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= expected[i]! ^ ciphertext[n + i]!;
  let out: Uint8Array | undefined;
  if (diff === 0) {
    out = new Uint8Array(n);
    xorStream(body, out);
  }
  expected.fill(0);
  wipe();
  return out;
}
