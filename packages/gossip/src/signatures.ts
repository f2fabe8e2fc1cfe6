/**
 * Gossip signatures, checked in batches through a CryptoService (the Piscina CryptoPool, or
 * in-thread). Each check's signature, digest and key are copied into one arena per chunk of
 * CHUNK checks, and the VerifyRequests are views into it: a pool task then clones one 8 KB
 * buffer, not three small ArrayBuffers per check (structured clone copies each distinct
 * ArrayBuffer a view points into, so a view into a 64 KB socket chunk would copy all of it).
 */
import { hash } from 'node:crypto';
import type { CryptoService, VerifyRequest } from '@lnkit/crypto';

/** Checks per pool task: the pool pays a round trip per task, so a task must carry ~1 ms of work. */
export const CHUNK = 64;
const ITEM = 64 + 32 + 33;

/**
 * BOLT 7's double-SHA256 of `b[from..]`. Node's one-shot `crypto.hash` is about a third cheaper
 * than two `createHash` objects for these sizes (measured here), and this runs once per message.
 */
export function sha256dFrom(b: Uint8Array, from: number): Uint8Array {
  return hash('sha256', hash('sha256', b.subarray(from), 'buffer'), 'buffer');
}

export class SignatureBatch {
  private readonly arenas: Uint8Array[] = [];
  private readonly requests: VerifyRequest[] = [];

  get length(): number {
    return this.requests.length;
  }

  /** Adds a check of the signature at `sig[so..so+64]` over `digest` by the key at `key[ko..ko+33]`; returns its index. */
  add(sig: Uint8Array, so: number, digest: Uint8Array, key: Uint8Array, ko: number): number {
    const i = this.requests.length;
    const slot = i % CHUNK;
    if (slot === 0) this.arenas.push(new Uint8Array(CHUNK * ITEM));
    const arena = this.arenas[this.arenas.length - 1]!;
    const at = slot * ITEM;
    arena.set(sig.subarray(so, so + 64), at);
    arena.set(digest, at + 64);
    arena.set(key.subarray(ko, ko + 33), at + 96);
    this.requests.push({
      signature: arena.subarray(at, at + 64),
      digest: arena.subarray(at + 64, at + 96),
      publicKey: arena.subarray(at + 96, at + ITEM),
    });
    return i;
  }

  /** The key of check `index` (a view into the batch's arena). */
  publicKeyOf(index: number): Uint8Array {
    return this.requests[index]!.publicKey;
  }

  /** 1 for each check that verified, 0 otherwise, in the order added. Chunks run concurrently. */
  async verify(crypto: CryptoService): Promise<Uint8Array> {
    const out = new Uint8Array(this.requests.length);
    const runs: Promise<void>[] = [];
    for (let from = 0; from < this.requests.length; from += CHUNK) {
      const chunk = this.requests.slice(from, from + CHUNK);
      runs.push(
        crypto.verifyBatch(chunk).then((results) => {
          for (let j = 0; j < results.length; j++) out[from + j] = results[j] ? 1 : 0;
        }),
      );
    }
    await Promise.all(runs);
    return out;
  }
}
