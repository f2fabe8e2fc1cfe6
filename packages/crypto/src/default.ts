/**
 * The secp256k1 that the rest of lnkit calls: every operation on the fastest backend that
 * loads — libsecp256k1 natively, then its WASM build, then noble (measured in test/bench).
 *
 * Signing and public keys used to stay on noble for its audit. They moved to libsecp256k1 for
 * two reasons: it is the library Bitcoin Core signs with, constant-time in C where JavaScript
 * can promise nothing (DESIGN.md: "JavaScript cannot promise constant time"), and a
 * commitment with 100 HTLCs is 101 signatures, 3 to 5 times faster natively. Every backend
 * gives byte-identical RFC 6979 low-S signatures (crypto.test.ts, 1,000 random keys, and the
 * BOLT 3 vectors in @lnkit/tx), so the choice changes no byte anyone sees.
 */
import { randomBytes } from './hash.ts';
import { availableBackends, nobleBackend, type Secp256k1Backend } from './secp256k1.ts';

export type Secp256k1 = Omit<Secp256k1Backend, 'name'> & {
  /** The backend every operation below runs on ('native' on a machine where the addon loads). */
  readonly backend: Secp256k1Backend['name'];
  /** Kept for callers that predate `backend`: the same value. */
  readonly verifyBackend: Secp256k1Backend['name'];
};

const loaded = availableBackends();
const fastest: Secp256k1Backend =
  loaded.find((b) => b.name === 'native') ?? loaded.find((b) => b.name === 'wasm') ?? nobleBackend;

export const secp: Secp256k1 = {
  backend: fastest.name,
  verifyBackend: fastest.name,
  publicKey: (privateKey) => fastest.publicKey(privateKey),
  sign: (digest, privateKey) => fastest.sign(digest, privateKey),
  verify: (signature, digest, publicKey) => fastest.verify(signature, digest, publicKey),
  ecdh: (privateKey, publicKey) => fastest.ecdh(privateKey, publicKey),
  isPoint: (publicKey) => fastest.isPoint(publicKey),
  pointMultiply: (publicKey, scalar) => fastest.pointMultiply(publicKey, scalar),
  pointAdd: (p, q) => fastest.pointAdd(p, q),
  pointAddScalar: (publicKey, tweak) => fastest.pointAddScalar(publicKey, tweak),
};

export interface KeyPair {
  /** 32-byte scalar in 1..n-1. */
  readonly privateKey: Uint8Array;
  /** Its 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
}

/**
 * A fresh random key pair (BOLT 8 ephemeral keys, onion session keys). The public key comes with
 * it, so a caller never pays for a second multiplication to learn it.
 */
export function generateKeyPair(): KeyPair {
  for (;;) {
    // 32 random bytes are a valid scalar except with probability about 2^-128; retry then.
    const privateKey = randomBytes(32);
    try {
      return { privateKey, publicKey: fastest.publicKey(privateKey) };
    } catch {}
  }
}
