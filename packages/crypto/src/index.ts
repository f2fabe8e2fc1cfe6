export { type AeadEncryptRequest, bolt8Nonce, decryptWithAd, encryptBatch, encryptWithAd } from './aead.ts';
export { generateKeyPair, type KeyPair, type Secp256k1, secp } from './default.ts';
export { CryptoError, type CryptoErrorCode, checkBytes } from './errors.ts';
export { hmacSha256, randomBytes, sha256, sha256d } from './hash.ts';
export { hkdfSha256 } from './hkdf.ts';
export {
  isValidPublicKey,
  pointAdd,
  pointAddScalar,
  pointMultiply,
  privateAdd,
  privateMultiply,
} from './keys.ts';
export { CryptoPool, type CryptoPoolOptions } from './pool.ts';
export { PoolCloseGuard } from './pool-close-guard.ts';
export {
  availableBackends,
  type BackendName,
  backends,
  nativeBackend,
  nobleBackend,
  type Secp256k1Backend,
  wasmBackend,
} from './secp256k1.ts';
export {
  type CryptoService,
  type EcdhRequest,
  inThreadCrypto,
  type SignRequest,
  type VerifyRequest,
} from './service.ts';
