/**
 * BOLT 4 "Key Generation" and "Pseudo Random Byte Stream": the keys derived from a hop's shared
 * secret and the ChaCha20 stream they drive, on Node's own crypto (OpenSSL).
 */
import { createCipheriv, createHash, createHmac } from 'node:crypto';

/** Key types: the ASCII bytes, no C-style terminating zero (BOLT 4: "the length of rho is 3"). */
export const KEY_RHO = Buffer.from('rho');
export const KEY_MU = Buffer.from('mu');
export const KEY_UM = Buffer.from('um');
export const KEY_PAD = Buffer.from('pad');
export const KEY_AMMAG = Buffer.from('ammag');
export const KEY_BLINDED_NODE_ID = Buffer.from('blinded_node_id');

/** A plain Uint8Array over a Buffer's bytes (no copy), so results compare and clone as Uint8Arrays. */
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** HMAC-SHA256 with the key type as key and the 32-byte secret as message. */
export function generateKey(keyType: Uint8Array, secret: Uint8Array): Uint8Array {
  return plain(createHmac('sha256', keyType).update(secret).digest());
}

export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return plain(h.digest());
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return plain(h.digest());
}

// OpenSSL's chacha20 takes a 16-byte IV: a 32-bit little-endian block counter, then the 96-bit
// nonce. BOLT 4 uses counter 0 and the all-zero nonce.
const ZERO_IV = new Uint8Array(16);

/** `data` XOR the ChaCha20 stream of `key` (zero nonce): obfuscates and de-obfuscates alike. */
export function chacha20Xor(key: Uint8Array, data: Uint8Array): Uint8Array {
  return plain(createCipheriv('chacha20', key, ZERO_IV).update(data));
}

/** The first `length` bytes of the ChaCha20 stream of `key`. */
export function chacha20Stream(key: Uint8Array, length: number): Uint8Array {
  return chacha20Xor(key, new Uint8Array(length));
}

/** a ^= b over the first b.length bytes of a, from `offset` in a. */
export function xorInto(a: Uint8Array, b: Uint8Array, offset = 0): void {
  for (let i = 0; i < b.length; i++) a[offset + i]! ^= b[i]!;
}
