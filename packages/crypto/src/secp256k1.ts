/**
 * secp256k1 behind one small interface with interchangeable backends.
 *
 * - `noble`  (@noble/secp256k1): audited pure JS; the default for signing.
 * - `native` (the `secp256k1` addon: libsecp256k1 compiled for Node): fastest verify/ECDH.
 * - `wasm`   (tiny-secp256k1: libsecp256k1 compiled to WASM).
 *
 * All take and return: 32-byte private keys, 33-byte compressed public keys (65-byte
 * uncompressed accepted on input), 32-byte digests (never hashed again here) and 64-byte
 * compact low-S signatures (r || s), as BOLT messages carry them.
 */
import { createRequire } from 'node:module';
import * as noble from '@noble/secp256k1';
import { CryptoError, checkBytes } from './errors.ts';
import { hmacSha256, sha256 } from './hash.ts';

noble.hashes.sha256 = sha256 as typeof noble.hashes.sha256;
noble.hashes.hmacSha256 = hmacSha256 as typeof noble.hashes.hmacSha256;

export type BackendName = 'noble' | 'native' | 'wasm';

export interface Secp256k1Backend {
  readonly name: BackendName;
  publicKey(privateKey: Uint8Array): Uint8Array;
  /** RFC 6979 deterministic ECDSA over a 32-byte digest; low-S compact signature. */
  sign(digest: Uint8Array, privateKey: Uint8Array): Uint8Array;
  /** False for a signature that does not verify; throws only on malformed lengths or keys. */
  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean;
  /** BOLT 8 ECDH: SHA-256 of the compressed shared point. */
  ecdh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}

const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function checkPrivateKey(key: Uint8Array): Uint8Array {
  checkBytes(key, 32, 'private key', 'invalid-private-key');
  const k = noble.etc.bytesToNumberBE(key);
  if (k === 0n || k >= CURVE_N) throw new CryptoError('invalid-private-key', 'private key is out of range');
  return key;
}

function checkPublicKeyLength(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || (key.length !== 33 && key.length !== 65)) {
    throw new CryptoError('invalid-public-key', `public key must be 33 or 65 bytes, got ${key?.length}`);
  }
  return key;
}

function checkSignatureInputs(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): void {
  checkBytes(signature, 64, 'signature', 'invalid-signature');
  checkBytes(digest, 32, 'digest');
  checkPublicKeyLength(publicKey);
}

export const nobleBackend: Secp256k1Backend = {
  name: 'noble',
  publicKey(privateKey) {
    return noble.getPublicKey(checkPrivateKey(privateKey), true);
  },
  sign(digest, privateKey) {
    checkBytes(digest, 32, 'digest');
    return noble.sign(digest, checkPrivateKey(privateKey), { prehash: false, lowS: true });
  },
  verify(signature, digest, publicKey) {
    checkSignatureInputs(signature, digest, publicKey);
    try {
      return noble.verify(signature, digest, publicKey, { prehash: false, lowS: true });
    } catch {
      // noble throws for a public key that is not on the curve or an out-of-range r/s.
      return false;
    }
  },
  ecdh(privateKey, publicKey) {
    checkPrivateKey(privateKey);
    let point: Uint8Array;
    try {
      point = noble.getSharedSecret(privateKey, checkPublicKeyLength(publicKey), true);
    } catch {
      throw new CryptoError('invalid-public-key', 'public key is not a valid curve point');
    }
    return sha256(point);
  },
};

const require = createRequire(import.meta.url);

interface NativeSecp {
  publicKeyCreate(key: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyVerify(key: Uint8Array): boolean;
  ecdsaSign(msg: Uint8Array, key: Uint8Array): { signature: Uint8Array };
  ecdsaVerify(sig: Uint8Array, msg: Uint8Array, key: Uint8Array): boolean;
  ecdh(pub: Uint8Array, priv: Uint8Array): Uint8Array;
}

let nativeModule: NativeSecp | undefined;
function loadNative(): NativeSecp {
  if (!nativeModule) {
    try {
      // The package's bindings entry loads the prebuilt libsecp256k1 addon; its plain
      // entry would silently fall back to a slow JS implementation, which we do not want.
      nativeModule = require('secp256k1/bindings') as NativeSecp;
    } catch (e) {
      throw new CryptoError(
        'backend-unavailable',
        `native secp256k1 addon did not load: ${(e as Error).message}`,
      );
    }
  }
  return nativeModule;
}

export const nativeBackend: Secp256k1Backend = {
  name: 'native',
  publicKey(privateKey) {
    return new Uint8Array(loadNative().publicKeyCreate(checkPrivateKey(privateKey), true));
  },
  sign(digest, privateKey) {
    checkBytes(digest, 32, 'digest');
    // libsecp256k1 signs with RFC 6979 and normalises to low-S, as noble does.
    return new Uint8Array(loadNative().ecdsaSign(digest, checkPrivateKey(privateKey)).signature);
  },
  verify(signature, digest, publicKey) {
    checkSignatureInputs(signature, digest, publicKey);
    try {
      return loadNative().ecdsaVerify(signature, digest, publicKey);
    } catch {
      return false;
    }
  },
  ecdh(privateKey, publicKey) {
    checkPrivateKey(privateKey);
    checkPublicKeyLength(publicKey);
    try {
      // Its default hash is SHA-256 over the compressed point: exactly BOLT 8's ECDH.
      return new Uint8Array(loadNative().ecdh(publicKey, privateKey));
    } catch {
      throw new CryptoError('invalid-public-key', 'public key is not a valid curve point');
    }
  },
};

interface TinySecp {
  pointFromScalar(d: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointMultiply(p: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array | null;
  isPoint(p: Uint8Array): boolean;
  sign(h: Uint8Array, d: Uint8Array): Uint8Array;
  verify(h: Uint8Array, q: Uint8Array, signature: Uint8Array, strict?: boolean): boolean;
}

let wasmModule: TinySecp | undefined;
function loadWasm(): TinySecp {
  if (!wasmModule) {
    try {
      wasmModule = require('tiny-secp256k1') as TinySecp;
    } catch (e) {
      throw new CryptoError('backend-unavailable', `tiny-secp256k1 did not load: ${(e as Error).message}`);
    }
  }
  return wasmModule;
}

export const wasmBackend: Secp256k1Backend = {
  name: 'wasm',
  publicKey(privateKey) {
    return loadWasm().pointFromScalar(checkPrivateKey(privateKey), true)!;
  },
  sign(digest, privateKey) {
    checkBytes(digest, 32, 'digest');
    return loadWasm().sign(digest, checkPrivateKey(privateKey));
  },
  verify(signature, digest, publicKey) {
    checkSignatureInputs(signature, digest, publicKey);
    const tiny = loadWasm();
    if (!tiny.isPoint(publicKey)) return false;
    try {
      // strict: reject high-S, as BOLT signatures must be low-S like the other backends here.
      return tiny.verify(digest, publicKey, signature, true);
    } catch {
      return false;
    }
  },
  ecdh(privateKey, publicKey) {
    checkPrivateKey(privateKey);
    checkPublicKeyLength(publicKey);
    const tiny = loadWasm();
    const point = tiny.isPoint(publicKey) ? tiny.pointMultiply(publicKey, privateKey, true) : null;
    if (!point) throw new CryptoError('invalid-public-key', 'public key is not a valid curve point');
    return sha256(point);
  },
};

export const backends: Record<BackendName, Secp256k1Backend> = {
  noble: nobleBackend,
  native: nativeBackend,
  wasm: wasmBackend,
};

/** The backends that load on this machine (native and wasm are optional at run time). */
export function availableBackends(): Secp256k1Backend[] {
  const out: Secp256k1Backend[] = [nobleBackend];
  for (const b of [nativeBackend, wasmBackend]) {
    try {
      b.publicKey(new Uint8Array(32).fill(1));
      out.push(b);
    } catch {
      /* not available here */
    }
  }
  return out;
}
