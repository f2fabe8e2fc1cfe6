/** What a crypto pool worker does with one task: a whole batch, so one round trip pays for many operations. */
import { type AeadEncryptRequest, encryptBatch } from './aead.ts';
import { secp } from './default.ts';
import { type EcdhRequest, type SignRequest, type VerifyRequest, verifyOrFalse } from './service.ts';

export type PoolTask =
  | { op: 'sign'; items: SignRequest[] }
  | { op: 'verify'; items: VerifyRequest[] }
  | { op: 'ecdh'; items: EcdhRequest[] }
  | { op: 'aead-encrypt'; items: AeadEncryptRequest[] };

export type PoolResult =
  | { ok: true; value: Uint8Array[] | boolean[] }
  | { ok: false; code: string; message: string };

export function runTask(task: PoolTask): PoolResult {
  try {
    switch (task.op) {
      case 'sign':
        return { ok: true, value: task.items.map((r) => secp.sign(r.digest, r.privateKey)) };
      case 'verify':
        return { ok: true, value: task.items.map(verifyOrFalse) };
      case 'ecdh':
        return { ok: true, value: task.items.map((r) => secp.ecdh(r.privateKey, r.publicKey)) };
      case 'aead-encrypt':
        return { ok: true, value: encryptBatch(task.items) };
    }
  } catch (e) {
    // Errors cross as data so the caller gets its CryptoError code back.
    const err = e as Error & { code?: string };
    return { ok: false, code: err.code ?? 'internal', message: err.message };
  }
}
