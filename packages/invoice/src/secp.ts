/**
 * The secp256k1 operations an invoice needs beyond @lnkit/crypto's: public-key recovery
 * (BOLT 11: "MUST perform ECDSA public-key recovery and accept both high-S and low-S
 * signatures") and signing with a recovery id. Recovery only touches public data, so it uses
 * libsecp256k1 (the `secp256k1` addon, ~40x faster here) when it loads and noble otherwise;
 * signing, which holds a private key, stays on noble as everywhere in lnkit.
 */
import { createRequire } from 'node:module';
import { hmacSha256, isValidPublicKey, secp, sha256 } from '@lnkit/crypto';
import * as noble from '@noble/secp256k1';

noble.hashes.sha256 = sha256 as typeof noble.hashes.sha256;
noble.hashes.hmacSha256 = hmacSha256 as typeof noble.hashes.hmacSha256;

/** secp256k1's group order n, and n/2: an s above it is "high-S". */
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = CURVE_N >> 1n;

interface NativeRecover {
  ecdsaRecover(
    signature: Uint8Array,
    recoveryId: number,
    digest: Uint8Array,
    compressed: boolean,
  ): Uint8Array;
}

let native: NativeRecover | null | undefined;
function loadNative(): NativeRecover | null {
  if (native === undefined) {
    try {
      // The bindings entry is the prebuilt addon; the plain entry would fall back to slow JS.
      native = createRequire(import.meta.url)('secp256k1/bindings') as NativeRecover;
    } catch {
      native = null;
    }
  }
  return native;
}

function scalar(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** r and s both in [1, n-1] (a signature outside that is not a signature at all). */
export function isValidSignatureRange(signature: Uint8Array): boolean {
  const r = scalar(signature.subarray(0, 32));
  const s = scalar(signature.subarray(32, 64));
  return r > 0n && r < CURVE_N && s > 0n && s < CURVE_N;
}

export function isHighS(signature: Uint8Array): boolean {
  return scalar(signature.subarray(32, 64)) > HALF_N;
}

/** The compressed public key that made `signature` over `digest`, or null if none does. */
export function recoverPublicKey(
  signature: Uint8Array,
  recoveryId: number,
  digest: Uint8Array,
): Uint8Array | null {
  if (!isValidSignatureRange(signature)) return null;
  const n = loadNative();
  try {
    if (n) return new Uint8Array(n.ecdsaRecover(signature, recoveryId, digest, true));
    const recovered = new Uint8Array(65);
    recovered[0] = recoveryId;
    recovered.set(signature, 1);
    return noble.recoverPublicKey(recovered, digest, { prehash: false });
  } catch {
    // Both throw when no point has this r (recovery id 2/3 with r + n past p, or no y).
    return null;
  }
}

/** Low-S verification against a known key (@lnkit/crypto's fastest backend). */
export function verifySignature(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  return secp.verify(signature, digest, publicKey);
}

export { isValidPublicKey };

/** RFC 6979 low-S signature with its recovery id. */
export function signRecoverable(
  digest: Uint8Array,
  privateKey: Uint8Array,
): { signature: Uint8Array; recoveryId: number } {
  const out = noble.sign(digest, privateKey, { prehash: false, lowS: true, format: 'recovered' });
  return { signature: out.slice(1), recoveryId: out[0]! };
}

export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return secp.publicKey(privateKey);
}
