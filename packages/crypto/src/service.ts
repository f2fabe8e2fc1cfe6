/**
 * The asynchronous face of the crypto package: callers that may run their work in the
 * Piscina pool (see pool.ts) program against these interfaces, so an in-thread
 * implementation and the pool are interchangeable.
 */
import { secp } from './default.ts';

export interface SignRequest {
  digest: Uint8Array;
  privateKey: Uint8Array;
}

export interface VerifyRequest {
  signature: Uint8Array;
  digest: Uint8Array;
  publicKey: Uint8Array;
}

export interface EcdhRequest {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface CryptoService {
  sign(digest: Uint8Array, privateKey: Uint8Array): Promise<Uint8Array>;
  signBatch(requests: readonly SignRequest[]): Promise<Uint8Array[]>;
  /** False for a bad signature; a malformed request (wrong length, bad key) also gives false. */
  verifyBatch(requests: readonly VerifyRequest[]): Promise<boolean[]>;
  ecdh(privateKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>;
}

function verifyOrFalse(r: VerifyRequest): boolean {
  try {
    return secp.verify(r.signature, r.digest, r.publicKey);
  } catch {
    return false;
  }
}

/** Runs everything on the calling thread. */
export const inThreadCrypto: CryptoService = {
  async sign(digest, privateKey) {
    return secp.sign(digest, privateKey);
  },
  async signBatch(requests) {
    return requests.map((r) => secp.sign(r.digest, r.privateKey));
  },
  async verifyBatch(requests) {
    return requests.map(verifyOrFalse);
  },
  async ecdh(privateKey, publicKey) {
    return secp.ecdh(privateKey, publicKey);
  },
};

export { verifyOrFalse };
