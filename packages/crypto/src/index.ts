export { CryptoError, type CryptoErrorCode, checkBytes } from './errors.ts';
export { sha256, sha256d, hmacSha256, randomBytes } from './hash.ts';
export { encryptWithAd, decryptWithAd, bolt8Nonce } from './aead.ts';
export {
  type BackendName,
  type Secp256k1Backend,
  nobleBackend,
  nativeBackend,
  wasmBackend,
  backends,
  availableBackends,
} from './secp256k1.ts';
export { privateAdd, privateMultiply, pointAdd, pointMultiply, isValidPublicKey } from './keys.ts';
export { secp, type Secp256k1 } from './default.ts';
export {
  type CryptoService,
  type SignRequest,
  type VerifyRequest,
  type EcdhRequest,
  inThreadCrypto,
} from './service.ts';
