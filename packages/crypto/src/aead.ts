import { createCipheriv, createDecipheriv } from 'node:crypto';
import { SMALL_AEAD_MAX_BYTES, smallDecrypt, smallEncrypt } from './aead-small.ts';
import { CryptoError, checkBytes } from './errors.ts';

const TAG_LENGTH = 16;

/** BOLT 8: 96-bit nonce = 32 zero bits followed by the 64-bit counter, little-endian. */
export function bolt8Nonce(counter: number | bigint): Uint8Array {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  if (typeof counter === 'number' && Number.isSafeInteger(counter) && counter >= 0) {
    // The transport's counters stay below 1000: no bigint per message.
    view.setUint32(4, counter % 0x1_0000_0000, true);
    view.setUint32(8, Math.floor(counter / 0x1_0000_0000), true);
  } else view.setBigUint64(4, BigInt(counter), true);
  return nonce;
}

/** ChaCha20-Poly1305 (RFC 8439) with the BOLT 8 nonce layout; returns ciphertext || 16-byte tag. */
export function encryptWithAd(
  key: Uint8Array,
  counter: number | bigint,
  ad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  checkBytes(key, 32, 'cipher key');
  // Short plaintexts (handshake acts, frame lengths, init, ping): JavaScript, no native object.
  if (plaintext.length <= SMALL_AEAD_MAX_BYTES) return smallEncrypt(key, bolt8Nonce(counter), ad, plaintext);
  const cipher = createCipheriv('chacha20-poly1305', key, bolt8Nonce(counter), { authTagLength: TAG_LENGTH });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  cipher.final();
  const out = new Uint8Array(body.length + TAG_LENGTH);
  out.set(body, 0);
  out.set(cipher.getAuthTag(), body.length);
  return out;
}

/** Inverse of encryptWithAd; throws CryptoError('bad-mac') when the tag does not verify. */
export function decryptWithAd(
  key: Uint8Array,
  counter: number | bigint,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  checkBytes(key, 32, 'cipher key');
  if (ciphertext.length < TAG_LENGTH) throw new CryptoError('bad-mac', 'ciphertext shorter than its MAC');
  if (ciphertext.length - TAG_LENGTH <= SMALL_AEAD_MAX_BYTES) {
    const body = smallDecrypt(key, bolt8Nonce(counter), ad, ciphertext);
    if (!body) throw new CryptoError('bad-mac', 'message authentication failed');
    return body;
  }
  const decipher = createDecipheriv('chacha20-poly1305', key, bolt8Nonce(counter), {
    authTagLength: TAG_LENGTH,
  });
  const bodyLength = ciphertext.length - TAG_LENGTH;
  decipher.setAAD(ad, { plaintextLength: bodyLength });
  decipher.setAuthTag(ciphertext.subarray(bodyLength));
  const body = decipher.update(ciphertext.subarray(0, bodyLength));
  try {
    decipher.final();
  } catch {
    throw new CryptoError('bad-mac', 'message authentication failed');
  }
  return new Uint8Array(body);
}

/** One AEAD encryption for a batch (see encryptBatch). */
export interface AeadEncryptRequest {
  key: Uint8Array;
  counter: number | bigint;
  /** Associated data; empty when left out (BOLT 8 transport messages). */
  ad?: Uint8Array;
  plaintext: Uint8Array;
}

const NO_AD = new Uint8Array(0);

/** encryptWithAd over a batch, in order; what a CryptoPool task runs (bulk BOLT 8 frames). */
export function encryptBatch(requests: readonly AeadEncryptRequest[]): Uint8Array[] {
  return requests.map((r) => encryptWithAd(r.key, r.counter, r.ad ?? NO_AD, r.plaintext));
}
