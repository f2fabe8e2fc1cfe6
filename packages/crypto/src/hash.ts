import { createHash, createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';
import { sha256Js } from './sha256-block.ts';

/**
 * Up to this many bytes in all, SHA-256 runs in JavaScript (sha256-block.ts): for one to three
 * blocks Node's createHash costs more in its native object, its Buffer and their collection
 * than the hashing itself (measured here: 1.7-2 us against 1.6-5.9 us for 65 bytes on
 * @noble/hashes, which the compression on preallocated words now replaces; at 200 bytes they
 * are even). SHA-256 in JS has no secret-dependent branch or table lookup. HMAC stays on Node's
 * (noble's HMAC costs 3 to 5 times more); BOLT 8's HKDF has its own (hkdf.ts).
 */
const JS_SHA256_MAX_BYTES = 128;

/**
 * A digest as a plain Uint8Array. Node gives a Buffer with a 32-byte ArrayBuffer of its own:
 * viewed, not copied (one allocation less per hash; handshakes and sighashes make dozens). A
 * Buffer that shares a larger ArrayBuffer is copied, so that nothing hands on a view of memory
 * that is not its own (structured clone would copy all of it).
 */
function own(b: Buffer): Uint8Array {
  return b.byteOffset === 0 && b.buffer.byteLength === b.length
    ? new Uint8Array(b.buffer, 0, b.length)
    : new Uint8Array(b);
}

/** SHA-256 of the concatenation of `data` and `more` (hashed in parts: nothing is copied to join them). */
export function sha256(data: Uint8Array, ...more: Uint8Array[]): Uint8Array {
  let size = data.length;
  for (const part of more) size += part.length;
  if (size <= JS_SHA256_MAX_BYTES) return sha256Js(more.length === 0 ? [data] : [data, ...more]);
  const h = createHash('sha256').update(data);
  for (const part of more) h.update(part);
  return own(h.digest());
}

/** Bitcoin's double SHA-256 (txids, block hashes, gossip checksums). */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256Js([sha256(data)]);
}

/** HMAC-SHA256 of the concatenation of `data` and `more`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array, ...more: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key).update(data);
  for (const part of more) h.update(part);
  return own(h.digest());
}

/** Cryptographically secure random bytes from the OS. */
export function randomBytes(length: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(length));
}
