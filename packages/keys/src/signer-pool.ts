/**
 * ChannelSignerPool: a Piscina pool of signer workers that hold the channel secrets resident.
 *
 * DESIGN.md asks that the node key and channel secrets stay in the signer's pool workers, away
 * from the threads that parse peer input. The DefaultChannelSigner over the crypto pool sends
 * the private keys with every request; here each worker reads the `keys_seed` file itself and
 * derives a channel's base secrets on first use, so requests carry only a channel index,
 * sighashes and points, and the calling thread never holds a secret. The state rules stay in
 * the calling thread (PolicyChannelSigner): the state is not secret, is persisted with the
 * channel monitor, and one place must decide, whichever worker runs the task.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { PoolCloseGuard } from '@lnkit/crypto';
import { Piscina } from 'piscina';
import { checkLength, KeysError, type KeysErrorCode } from './errors.ts';
import { SEED_FILE_NAME } from './seed.ts';
import {
  type ChannelKeyHolder,
  type ChannelPublicKeys,
  PolicyChannelSigner,
  type SignerState,
} from './signer.ts';
import { PooledClaimSigner, type WalletPathOf } from './signer-pool-claims.ts';
import { createLaneBuffer, NodeKeyLane } from './signer-pool-lane.ts';
import type { SignerPoolResult, SignerPoolTask } from './signer-pool-tasks.ts';

export interface ChannelSignerPoolOptions {
  /** The node's data dir, holding `keys_seed` (the workers read it; this thread does not). */
  dataDir: string;
  threads?: number;
  /** HTLC signatures per task: a commitment with more is split across the workers. */
  chunkSize?: number;
  /**
   * The node key's ECDH through shared memory (signer-pool-lane.ts) rather than one pool task
   * per call. Default true; false is for comparing the two (`pnpm bench peer-net`).
   */
  nodeKeyLane?: boolean;
}

type Run = <T>(task: SignerPoolTask) => Promise<T>;

export interface PooledNodeKey {
  /** 33-byte compressed node_id. */
  readonly publicKey: Uint8Array;
  /** BOLT 8 ECDH: SHA-256 of the compressed shared point. */
  ecdh(publicKey: Uint8Array): Promise<Uint8Array>;
  /** Low-S compact signature over a 32-byte digest. */
  sign(digest: Uint8Array): Promise<Uint8Array>;
}

export class ChannelSignerPool {
  readonly #pool: Piscina;
  readonly #chunkSize: number;
  readonly #lane: NodeKeyLane | undefined;
  readonly #guard: PoolCloseGuard;
  #closed = false;

  constructor(options: ChannelSignerPoolOptions) {
    const threads = options.threads ?? availableParallelism();
    this.#chunkSize = options.chunkSize ?? 64;
    if (!Number.isInteger(this.#chunkSize) || this.#chunkSize < 1)
      throw new KeysError('invalid-argument', 'chunkSize must be a positive integer');
    this.#lane = options.nodeKeyLane === false ? undefined : new NodeKeyLane(createLaneBuffer());
    this.#guard = new PoolCloseGuard(threads);
    this.#pool = new Piscina({
      filename: new URL('./signer-pool-worker.mjs', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      // An idle worker waits for tasks with Atomics.waitAsync, not a blocking Atomics.wait, so
      // its event loop also serves the node key lane.
      atomics: this.#lane ? 'async' : 'sync',
      workerData: {
        seedFile: join(options.dataDir, SEED_FILE_NAME),
        nodeKeyLane: this.#lane?.buffer,
        readyChannel: this.#guard.channelName,
      },
    });
  }

  get threads(): number {
    return this.#pool.threads.length;
  }

  readonly #run: Run = async <T>(task: SignerPoolTask): Promise<T> => {
    if (this.#closed) throw new KeysError('signer-unavailable', 'the signer pool is closed');
    let r: SignerPoolResult;
    try {
      r = (await this.#guard.track(this.#pool.run(task))) as SignerPoolResult;
    } catch (err) {
      throw new KeysError('signer-unavailable', `signer pool task failed: ${(err as Error).message}`);
    }
    if (!r.ok) throw new KeysError(r.code as KeysErrorCode, r.message);
    return r.value as T;
  };

  /**
   * The node key, held by the workers: its public key (node_id), ECDH for BOLT 8 handshakes and
   * signatures for BOLT 7 announcements. The shape fits the transport's `NodeKeyEcdh`, so a
   * PeerManager can run handshakes without the node secret ever being in its thread.
   */
  async nodeKey(): Promise<PooledNodeKey> {
    const publicKey = await this.#run<Uint8Array>({ op: 'node-id' });
    return {
      publicKey,
      ecdh: async (peerPublicKey) => {
        checkLength(peerPublicKey, 33, 'public key');
        // The lane answers unless all its slots are taken; then, or once closed, a task.
        return (
          this.#lane?.ecdh(peerPublicKey) ??
          this.#run<Uint8Array>({ op: 'node-ecdh', publicKey: peerPublicKey })
        );
      },
      sign: async (digest) =>
        this.#run<Uint8Array>({ op: 'node-sign', digest: checkLength(digest, 32, 'digest') }),
    };
  }

  /** The ChannelSigner of channel `channelIndex`, restored to `state` if given. */
  async createChannelSigner(channelIndex: bigint, state?: SignerState): Promise<PolicyChannelSigner> {
    if (typeof channelIndex !== 'bigint' || channelIndex < 0n || channelIndex >= 1n << 64n)
      throw new KeysError('invalid-argument', 'channel index out of range');
    const pubkeys = await this.#run<ChannelPublicKeys>({ op: 'pubkeys', channelIndex });
    return new PolicyChannelSigner(
      new PooledKeyHolder(channelIndex, pubkeys, this.#run, this.#chunkSize),
      state,
    );
  }

  /**
   * The ClaimSigner of channel `channelIndex`'s on-chain claims (BOLT 5), signed in the workers
   * under claim-policy.ts's rule; `walletPathOf` names the wallet key each output pays.
   */
  claimSigner(channelIndex: bigint, walletPathOf: WalletPathOf): PooledClaimSigner {
    if (typeof channelIndex !== 'bigint' || channelIndex < 0n || channelIndex >= 1n << 64n)
      throw new KeysError('invalid-argument', 'channel index out of range');
    return new PooledClaimSigner(channelIndex, this.#run, walletPathOf);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#lane?.close();
    // Never terminate a thread that is loading the secp256k1 addon or calling into it
    // (@lnkit/crypto's PoolCloseGuard says why): all loaded, tasks done, then close.
    await this.#guard.safeToClose(30_000);
    this.#guard.close();
    await this.#pool.close();
  }
}

/** A key holder whose keys are in the pool: each call is one or more tasks naming the channel. */
class PooledKeyHolder implements ChannelKeyHolder {
  readonly #channelIndex: bigint;
  readonly #run: Run;
  readonly #chunkSize: number;
  readonly pubkeys: ChannelPublicKeys;

  constructor(channelIndex: bigint, pubkeys: ChannelPublicKeys, run: Run, chunkSize: number) {
    this.#channelIndex = channelIndex;
    this.pubkeys = pubkeys;
    this.#run = run;
    this.#chunkSize = chunkSize;
  }

  perCommitmentPoint(commitmentNumber: bigint): Promise<Uint8Array> {
    return this.#run({ op: 'point', channelIndex: this.#channelIndex, commitmentNumber });
  }

  perCommitmentSecret(commitmentNumber: bigint): Promise<Uint8Array> {
    return this.#run({ op: 'secret', channelIndex: this.#channelIndex, commitmentNumber });
  }

  async signCommitment(
    commitmentSighash: Uint8Array,
    htlcSighashes: readonly Uint8Array[],
    htlcPerCommitmentPoint: Uint8Array | undefined,
  ): Promise<Uint8Array[]> {
    if (htlcPerCommitmentPoint) checkLength(htlcPerCommitmentPoint, 33, 'per_commitment_point');
    // The first task carries the commitment sighash; the HTLC sighashes are split in chunks so
    // a commitment with many HTLCs is signed by every worker at once.
    const tasks: Promise<Uint8Array[]>[] = [];
    const first = htlcSighashes.slice(0, Math.max(0, this.#chunkSize - 1));
    tasks.push(this.#signTask(commitmentSighash, first, htlcPerCommitmentPoint));
    for (let i = first.length; i < htlcSighashes.length; i += this.#chunkSize) {
      tasks.push(
        this.#signTask(undefined, htlcSighashes.slice(i, i + this.#chunkSize), htlcPerCommitmentPoint),
      );
    }
    return (await Promise.all(tasks)).flat();
  }

  async #signTask(
    commitmentSighash: Uint8Array | undefined,
    htlcSighashes: readonly Uint8Array[],
    htlcPerCommitmentPoint: Uint8Array | undefined,
  ): Promise<Uint8Array[]> {
    // End to end, one buffer each way (see the task's definition).
    const packed = new Uint8Array(32 * htlcSighashes.length);
    for (const [i, sighash] of htlcSighashes.entries())
      packed.set(checkLength(sighash, 32, 'HTLC sighash'), 32 * i);
    const signatures = await this.#run<Uint8Array>({
      op: 'sign-commitment',
      channelIndex: this.#channelIndex,
      commitmentSighash,
      htlcSighashes: packed,
      htlcPerCommitmentPoint: htlcSighashes.length > 0 ? htlcPerCommitmentPoint : undefined,
    });
    const out: Uint8Array[] = [];
    for (let at = 0; at < signatures.length; at += 64) out.push(signatures.slice(at, at + 64));
    return out;
  }

  signWithFundingKey(sighash: Uint8Array): Promise<Uint8Array> {
    return this.#run({ op: 'sign-funding', channelIndex: this.#channelIndex, sighash });
  }
}
