/**
 * secp256k1 behind one small interface with interchangeable backends.
 *
 * - `noble`  (@noble/secp256k1): audited pure JS; the fallback where neither build of
 *            libsecp256k1 loads.
 * - `native` (the `secp256k1` addon: libsecp256k1 compiled for Node): the fastest at everything,
 *            what `secp` (default.ts) runs on.
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
  /** Whether bytes (33 or 65) encode a point on the curve. Never throws. */
  isPoint(publicKey: Uint8Array): boolean;
  /** k·P, compressed; k in 1..n-1 (else 'invalid-private-key'), P on the curve (else 'invalid-public-key'). */
  pointMultiply(publicKey: Uint8Array, scalar: Uint8Array): Uint8Array;
  /** P + Q, compressed; 'invalid-public-key' for a bad point or a sum at infinity. */
  pointAdd(p: Uint8Array, q: Uint8Array): Uint8Array;
  /** P + t·G, compressed (BOLT 3's derived keys); t in 0..n-1. */
  pointAddScalar(publicKey: Uint8Array, tweak: Uint8Array): Uint8Array;
}

/** The curve order n, big-endian: scalars are compared with it byte by byte (no bigint on the hot path). */
const CURVE_N_BYTES = Uint8Array.from(
  Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex'),
);

/** Whether a 32-byte big-endian number is below n. */
function belowCurveOrder(key: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) {
    const a = key[i]!;
    const b = CURVE_N_BYTES[i]!;
    if (a !== b) return a < b;
  }
  return false;
}

function checkPrivateKey(key: Uint8Array): Uint8Array {
  checkBytes(key, 32, 'private key', 'invalid-private-key');
  if (!belowCurveOrder(key) || key.every((b) => b === 0))
    throw new CryptoError('invalid-private-key', 'private key is out of range');
  return key;
}

/** A tweak of P + t·G: 32 bytes below n (zero allowed). */
function checkTweak(tweak: Uint8Array): Uint8Array {
  checkBytes(tweak, 32, 'tweak', 'invalid-private-key');
  if (!belowCurveOrder(tweak)) throw new CryptoError('invalid-private-key', 'tweak is out of range');
  return tweak;
}

function notAPoint(): CryptoError {
  return new CryptoError('invalid-public-key', 'public key is not a valid curve point');
}

function checkPublicKeyLength(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || (key.length !== 33 && key.length !== 65)) {
    throw new CryptoError('invalid-public-key', `public key must be 33 or 65 bytes, got ${key?.length}`);
  }
  return key;
}

/**
 * SEC 1 compressed (02/03, 33 bytes) or uncompressed (04, 65 bytes). libsecp256k1 would also
 * parse the "hybrid" 06/07 form that noble refuses; refusing it here keeps every backend's
 * answer the same.
 */
function hasPointEncoding(key: Uint8Array): boolean {
  if (!(key instanceof Uint8Array)) return false;
  if (key.length === 33) return key[0] === 2 || key[0] === 3;
  return key.length === 65 && key[0] === 4;
}

/** checkPublicKeyLength, and the encoding every backend parses (for the point arithmetic). */
function checkPointEncoding(key: Uint8Array): Uint8Array {
  checkPublicKeyLength(key);
  if (!hasPointEncoding(key)) throw notAPoint();
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
  isPoint(publicKey) {
    if (!hasPointEncoding(publicKey)) return false;
    try {
      noble.Point.fromBytes(publicKey);
      return true;
    } catch {
      return false;
    }
  },
  pointMultiply(publicKey, scalar) {
    const k = noble.etc.bytesToNumberBE(checkPrivateKey(scalar));
    return nobleResult(() => noblePoint(publicKey).multiply(k));
  },
  pointAdd(p, q) {
    return nobleResult(() => noblePoint(p).add(noblePoint(q)));
  },
  pointAddScalar(publicKey, tweak) {
    const t = noble.etc.bytesToNumberBE(checkTweak(tweak));
    const base = noblePoint(publicKey);
    return nobleResult(() => (t === 0n ? base : base.add(noble.Point.BASE.multiply(t))));
  },
};

function noblePoint(bytes: Uint8Array): noble.Point {
  checkPointEncoding(bytes);
  try {
    return noble.Point.fromBytes(bytes);
  } catch {
    throw notAPoint();
  }
}

function nobleResult(f: () => noble.Point): Uint8Array {
  const point = f();
  if (point.equals(noble.Point.ZERO))
    throw new CryptoError('invalid-public-key', 'result is the point at infinity');
  return point.toBytes(true);
}

const require = createRequire(import.meta.url);

/** The addon's JS layer; every result is a fresh plain Uint8Array of its own (no copy needed). */
interface NativeSecp {
  publicKeyCreate(key: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyVerify(key: Uint8Array): boolean;
  publicKeyTweakMul(key: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyTweakAdd(key: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyCombine(keys: Uint8Array[], compressed?: boolean): Uint8Array;
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
    return loadNative().publicKeyCreate(checkPrivateKey(privateKey), true);
  },
  sign(digest, privateKey) {
    checkBytes(digest, 32, 'digest');
    // libsecp256k1 signs with RFC 6979 and normalises to low-S, as noble does.
    return loadNative().ecdsaSign(digest, checkPrivateKey(privateKey)).signature;
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
      return loadNative().ecdh(publicKey, privateKey);
    } catch {
      throw notAPoint();
    }
  },
  isPoint(publicKey) {
    return hasPointEncoding(publicKey) && loadNative().publicKeyVerify(publicKey);
  },
  pointMultiply(publicKey, scalar) {
    checkPrivateKey(scalar);
    checkPointEncoding(publicKey);
    // The scalar is checked above: the addon's only other failure is a point that does not parse.
    return nativeResult(() => loadNative().publicKeyTweakMul(publicKey, scalar, true));
  },
  pointAdd(p, q) {
    checkPointEncoding(p);
    checkPointEncoding(q);
    return nativeResult(() => loadNative().publicKeyCombine([p, q], true));
  },
  pointAddScalar(publicKey, tweak) {
    checkTweak(tweak);
    checkPointEncoding(publicKey);
    return nativeResult(() => loadNative().publicKeyTweakAdd(publicKey, tweak, true));
  },
};

/** A point from the addon; its errors (a point that does not parse, a sum at infinity) become one code. */
function nativeResult(f: () => Uint8Array): Uint8Array {
  try {
    return f();
  } catch {
    throw new CryptoError(
      'invalid-public-key',
      'not a valid curve point, or the result is the point at infinity',
    );
  }
}

interface TinySecp {
  pointFromScalar(d: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointMultiply(p: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointAdd(p: Uint8Array, q: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointAddScalar(p: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array | null;
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
    if (!point) throw notAPoint();
    return sha256(point);
  },
  isPoint(publicKey) {
    return hasPointEncoding(publicKey) && loadWasm().isPoint(publicKey);
  },
  pointMultiply(publicKey, scalar) {
    checkPrivateKey(scalar);
    return wasmPoint(publicKey, (tiny) => tiny.pointMultiply(publicKey, scalar, true));
  },
  pointAdd(p, q) {
    checkPointEncoding(q);
    if (!loadWasm().isPoint(q)) throw notAPoint();
    return wasmPoint(p, (tiny) => tiny.pointAdd(p, q, true));
  },
  pointAddScalar(publicKey, tweak) {
    checkTweak(tweak);
    return wasmPoint(publicKey, (tiny) => tiny.pointAddScalar(publicKey, tweak, true));
  },
};

/** tiny-secp256k1 throws for a point that does not parse and returns null at infinity. */
function wasmPoint(publicKey: Uint8Array, f: (tiny: TinySecp) => Uint8Array | null): Uint8Array {
  checkPointEncoding(publicKey);
  const tiny = loadWasm();
  if (!tiny.isPoint(publicKey)) throw notAPoint();
  const out = f(tiny);
  if (!out) throw new CryptoError('invalid-public-key', 'result is the point at infinity');
  return out;
}

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
