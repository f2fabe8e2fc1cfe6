import { createHash, createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** Bitcoin's double SHA-256 (txids, block hashes, gossip checksums). */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

/** Cryptographically secure random bytes from the OS. */
export function randomBytes(length: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(length));
}
