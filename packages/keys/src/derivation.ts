/**
 * BOLT 3 "Key Derivation": the per-commitment keys built from a basepoint and a
 * per_commitment_point, and the blinded revocation key.
 */
import {
  CryptoError,
  isValidPublicKey,
  pointAdd,
  pointAddScalar,
  pointMultiply,
  privateAdd,
  privateMultiply,
  secp,
  sha256,
} from '@lnkit/crypto';
import { checkLength, KeysError } from './errors.ts';

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Basepoints and per_commitment_points arrive from the peer (open_channel, revoke_and_ack): a
 * value that is not a curve point, or a tweak that lands on infinity, is a KeysError the caller
 * can answer with a channel error (BOLT 2), not a crypto-layer exception.
 */
function checkPoint(point: Uint8Array, what: string): Uint8Array {
  checkLength(point, 33, what);
  if (!isValidPublicKey(point)) throw new KeysError('invalid-point', `${what} is not a valid curve point`);
  return point;
}

function pointMath<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof CryptoError) throw new KeysError('invalid-point', `${what}: ${err.message}`);
    throw err;
  }
}

/** BOLT 3: pubkey = basepoint + SHA256(per_commitment_point || basepoint) * G */
export function derivePublicKey(basepoint: Uint8Array, perCommitmentPoint: Uint8Array): Uint8Array {
  checkPoint(basepoint, 'basepoint');
  checkPoint(perCommitmentPoint, 'per_commitment_point');
  const tweak = sha256(concat(perCommitmentPoint, basepoint));
  // One native P + t·G rather than t·G then an addition: three per commitment (BOLT 3 keys).
  return pointMath('derived pubkey', () => pointAddScalar(basepoint, tweak));
}

/** BOLT 3: privkey = basepoint_secret + SHA256(per_commitment_point || basepoint) */
export function derivePrivateKey(basepointSecret: Uint8Array, perCommitmentPoint: Uint8Array): Uint8Array {
  checkLength(basepointSecret, 32, 'basepoint secret');
  // A point that is not on the curve would otherwise still give a (useless) key and signatures.
  checkPoint(perCommitmentPoint, 'per_commitment_point');
  const basepoint = secp.publicKey(basepointSecret);
  return pointMath('derived private key', () =>
    privateAdd(basepointSecret, sha256(concat(perCommitmentPoint, basepoint))),
  );
}

/**
 * BOLT 3: revocationpubkey = revocation_basepoint * SHA256(revocation_basepoint || per_commitment_point)
 *                          + per_commitment_point * SHA256(per_commitment_point || revocation_basepoint)
 */
export function deriveRevocationPublicKey(
  revocationBasepoint: Uint8Array,
  perCommitmentPoint: Uint8Array,
): Uint8Array {
  checkPoint(revocationBasepoint, 'revocation_basepoint');
  checkPoint(perCommitmentPoint, 'per_commitment_point');
  return pointMath('revocation pubkey', () => {
    const a = pointMultiply(revocationBasepoint, sha256(concat(revocationBasepoint, perCommitmentPoint)));
    const b = pointMultiply(perCommitmentPoint, sha256(concat(perCommitmentPoint, revocationBasepoint)));
    return pointAdd(a, b);
  });
}

/**
 * BOLT 3: revocationprivkey = revocation_basepoint_secret * SHA256(revocation_basepoint || per_commitment_point)
 *                           + per_commitment_secret * SHA256(per_commitment_point || revocation_basepoint)
 */
export function deriveRevocationPrivateKey(
  revocationBasepointSecret: Uint8Array,
  perCommitmentSecret: Uint8Array,
): Uint8Array {
  checkLength(revocationBasepointSecret, 32, 'revocation_basepoint secret');
  checkLength(perCommitmentSecret, 32, 'per_commitment_secret');
  return pointMath('revocation private key', () => {
    const revocationBasepoint = secp.publicKey(revocationBasepointSecret);
    // The per_commitment_secret is the peer's (revoke_and_ack): it may be zero or out of range.
    const perCommitmentPoint = secp.publicKey(perCommitmentSecret);
    const a = privateMultiply(
      revocationBasepointSecret,
      sha256(concat(revocationBasepoint, perCommitmentPoint)),
    );
    const b = privateMultiply(perCommitmentSecret, sha256(concat(perCommitmentPoint, revocationBasepoint)));
    return privateAdd(a, b);
  });
}

/** BOLT 3: per_commitment_point = per_commitment_secret * G */
export function perCommitmentPointFromSecret(perCommitmentSecret: Uint8Array): Uint8Array {
  checkLength(perCommitmentSecret, 32, 'per_commitment_secret');
  return pointMath('per_commitment_secret', () => secp.publicKey(perCommitmentSecret));
}
