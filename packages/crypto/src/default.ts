/**
 * The secp256k1 that the rest of lnkit calls. Secret-key operations (public key, signing)
 * use noble, which is audited; verification and ECDH use the fastest backend that loads
 * (libsecp256k1 natively, measured in test/bench), falling back to noble.
 */
import { availableBackends, nobleBackend, type Secp256k1Backend } from './secp256k1.ts';

export type Secp256k1 = Omit<Secp256k1Backend, 'name'> & { readonly verifyBackend: string };

const fastest: Secp256k1Backend =
  availableBackends().find((b) => b.name === 'native') ??
  availableBackends().find((b) => b.name === 'wasm') ??
  nobleBackend;

export const secp: Secp256k1 = {
  verifyBackend: fastest.name,
  publicKey: (privateKey) => nobleBackend.publicKey(privateKey),
  sign: (digest, privateKey) => nobleBackend.sign(digest, privateKey),
  verify: (signature, digest, publicKey) => fastest.verify(signature, digest, publicKey),
  ecdh: (privateKey, publicKey) => fastest.ecdh(privateKey, publicKey),
};
