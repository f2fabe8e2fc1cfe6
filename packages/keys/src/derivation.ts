/**
 * BOLT 3 "Key Derivation": the per-commitment keys built from a basepoint and a
 * per_commitment_point, and the blinded revocation key.
 */
import { pointAdd, pointMultiply, privateAdd, privateMultiply, secp, sha256 } from '@lnkit/crypto';
import { checkLength } from './errors.ts';

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** BOLT 3: pubkey = basepoint + SHA256(per_commitment_point || basepoint) * G */
export function derivePublicKey(basepoint: Uint8Array, perCommitmentPoint: Uint8Array): Uint8Array {
  checkLength(basepoint, 33, 'basepoint');
  checkLength(perCommitmentPoint, 33, 'per_commitment_point');
  const tweak = sha256(concat(perCommitmentPoint, basepoint));
  return pointAdd(basepoint, secp.publicKey(tweak));
}

/** BOLT 3: privkey = basepoint_secret + SHA256(per_commitment_point || basepoint) */
export function derivePrivateKey(basepointSecret: Uint8Array, perCommitmentPoint: Uint8Array): Uint8Array {
  checkLength(basepointSecret, 32, 'basepoint secret');
  checkLength(perCommitmentPoint, 33, 'per_commitment_point');
  const basepoint = secp.publicKey(basepointSecret);
  return privateAdd(basepointSecret, sha256(concat(perCommitmentPoint, basepoint)));
}

/**
 * BOLT 3: revocationpubkey = revocation_basepoint * SHA256(revocation_basepoint || per_commitment_point)
 *                          + per_commitment_point * SHA256(per_commitment_point || revocation_basepoint)
 */
export function deriveRevocationPublicKey(
  revocationBasepoint: Uint8Array,
  perCommitmentPoint: Uint8Array,
): Uint8Array {
  checkLength(revocationBasepoint, 33, 'revocation_basepoint');
  checkLength(perCommitmentPoint, 33, 'per_commitment_point');
  const a = pointMultiply(revocationBasepoint, sha256(concat(revocationBasepoint, perCommitmentPoint)));
  const b = pointMultiply(perCommitmentPoint, sha256(concat(perCommitmentPoint, revocationBasepoint)));
  return pointAdd(a, b);
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
  const revocationBasepoint = secp.publicKey(revocationBasepointSecret);
  const perCommitmentPoint = secp.publicKey(perCommitmentSecret);
  const a = privateMultiply(
    revocationBasepointSecret,
    sha256(concat(revocationBasepoint, perCommitmentPoint)),
  );
  const b = privateMultiply(perCommitmentSecret, sha256(concat(perCommitmentPoint, revocationBasepoint)));
  return privateAdd(a, b);
}

/** BOLT 3: per_commitment_point = per_commitment_secret * G */
export function perCommitmentPointFromSecret(perCommitmentSecret: Uint8Array): Uint8Array {
  checkLength(perCommitmentSecret, 32, 'per_commitment_secret');
  return secp.publicKey(perCommitmentSecret);
}
