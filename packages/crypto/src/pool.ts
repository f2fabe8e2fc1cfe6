/**
 * CryptoPool: the CryptoService run in a Piscina pool of worker threads.
 *
 * A pool task costs a round trip (tens of microseconds) however little it does, so the
 * pool only pays for batches: callers hand over many operations at once and the pool
 * splits them into chunks of `chunkSize`, one task per chunk, spread over the threads.
 * A single verify is faster in-thread (see test/bench/foundation.bench.ts for the figures).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { AeadEncryptRequest } from './aead.ts';
import { CryptoError, type CryptoErrorCode } from './errors.ts';
import { PoolCloseGuard } from './pool-close-guard.ts';
import type { PoolResult, PoolTask } from './pool-tasks.ts';
import type { CryptoService, SignRequest, VerifyRequest } from './service.ts';

export interface CryptoPoolOptions {
  threads?: number;
  /** Operations per pool task. */
  chunkSize?: number;
}

/** How long close() waits for workers still starting and tasks still running (seconds on a loaded machine). */
const CLOSE_WAIT_MS = 30_000;

export class CryptoPool implements CryptoService {
  private readonly pool: Piscina;
  private readonly chunkSize: number;
  private readonly guard: PoolCloseGuard;
  private closed = false;

  constructor(options: CryptoPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    this.chunkSize = options.chunkSize ?? 64;
    this.guard = new PoolCloseGuard(threads);
    this.pool = new Piscina({
      filename: new URL('./pool-worker.mjs', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      workerData: { readyChannel: this.guard.channelName },
    });
  }

  get threads(): number {
    return this.pool.threads.length;
  }

  /** Workers that have loaded their tasks (and the addon). */
  get loadedThreads(): number {
    return this.guard.loaded;
  }

  private async run<T>(task: PoolTask): Promise<T[]> {
    if (this.closed) throw new CryptoError('pool-closed', 'the crypto pool is closed');
    const r = (await this.guard.track(this.pool.run(task))) as PoolResult;
    if (!r.ok) throw new CryptoError(r.code as CryptoErrorCode, r.message);
    return r.value as T[];
  }

  private async chunked<R, T>(op: PoolTask['op'], items: readonly R[]): Promise<T[]> {
    if (items.length === 0) return [];
    const tasks: Promise<T[]>[] = [];
    for (let i = 0; i < items.length; i += this.chunkSize) {
      tasks.push(this.run<T>({ op, items: items.slice(i, i + this.chunkSize) } as PoolTask));
    }
    return (await Promise.all(tasks)).flat();
  }

  async sign(digest: Uint8Array, privateKey: Uint8Array): Promise<Uint8Array> {
    const [sig] = await this.run<Uint8Array>({ op: 'sign', items: [{ digest, privateKey }] });
    return sig!;
  }

  signBatch(requests: readonly SignRequest[]): Promise<Uint8Array[]> {
    return this.chunked('sign', requests);
  }

  verifyBatch(requests: readonly VerifyRequest[]): Promise<boolean[]> {
    return this.chunked('verify', requests);
  }

  async ecdh(privateKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
    const [secret] = await this.run<Uint8Array>({ op: 'ecdh', items: [{ privateKey, publicKey }] });
    return secret!;
  }

  /**
   * ChaCha20-Poly1305 over a batch (bulk BOLT 8 frames), results in request order. Not part of
   * CryptoService: callers that may use it take it as an option (see @lnkit/peer-net).
   */
  encryptBatch(requests: readonly AeadEncryptRequest[]): Promise<Uint8Array[]> {
    return this.chunked('aead-encrypt', requests);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Never terminate a thread that is loading the secp256k1 addon or calling into it.
    await this.guard.safeToClose(CLOSE_WAIT_MS);
    this.guard.close();
    await this.pool.close();
  }
}
