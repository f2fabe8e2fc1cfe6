/**
 * What a signer pool worker does. The worker reads the seed file itself, once, and derives a
 * channel's secrets when a task first names the channel; the secrets never leave the worker
 * except a per-commitment secret that the caller's PolicyChannelSigner has agreed to release.
 */
import { secp } from '@lnkit/crypto';
import { checkClaimRequest, type PolicyClaimRequest, WalletKeyPaths } from './claim-policy.ts';
import { perCommitmentPointFromSecret } from './derivation.ts';
import { KeysError } from './errors.ts';
import { channelKeysFromSeed, nodeSecretFromSeed } from './keys-manager.ts';
import { readSeedFile } from './seed.ts';
import { generateFromSeed, secretIndex } from './shachain.ts';
import { type ChannelKeys, channelPublicKeys, htlcSignRequests } from './signer.ts';
import { serveNodeKeyLane } from './signer-pool-lane.ts';

export type SignerPoolTask =
  | { op: 'pubkeys'; channelIndex: bigint }
  | { op: 'point'; channelIndex: bigint; commitmentNumber: bigint }
  | { op: 'secret'; channelIndex: bigint; commitmentNumber: bigint }
  | {
      op: 'sign-commitment';
      channelIndex: bigint;
      /** Absent in the tasks that carry only HTLC sighashes (a large commitment is split). */
      commitmentSighash: Uint8Array | undefined;
      /**
       * The HTLC sighashes end to end, 32 bytes each: one buffer crosses the thread boundary
       * rather than one per HTLC (structured clone measured here at about 40 us for 31 small
       * arrays against 2-5 us for one of the same bytes).
       */
      htlcSighashes: Uint8Array;
      htlcPerCommitmentPoint: Uint8Array | undefined;
    }
  | { op: 'sign-funding'; channelIndex: bigint; sighash: Uint8Array }
  /** On-chain claims (BOLT 5), each checked by claim-policy.ts's rule; 64-byte signatures end to end. */
  | { op: 'sign-claim'; channelIndex: bigint; requests: PolicyClaimRequest[] }
  // The node key (node_id): BOLT 8 handshakes and BOLT 7 announcements.
  | { op: 'node-id' }
  | { op: 'node-ecdh'; publicKey: Uint8Array }
  | { op: 'node-sign'; digest: Uint8Array };

export type SignerPoolResult =
  | { ok: true; value: Uint8Array | Uint8Array[] | Record<string, Uint8Array> }
  | { ok: false; code: string; message: string };

/** Channels whose secrets a worker keeps derived; beyond this the oldest is dropped. */
const CACHED_CHANNELS = 4096;

let seed: Uint8Array | undefined;
let nodeSecret: Uint8Array | undefined;
let walletPaths: WalletKeyPaths | undefined;
const cache = new Map<bigint, ChannelKeys>();

function loadSeed(seedFile: string): Uint8Array {
  if (!seed) {
    seed = readSeedFile(seedFile);
    if (!seed) throw new KeysError('seed-unreadable', `seed file ${seedFile} does not exist`);
  }
  return seed;
}

function nodeKey(seedFile: string): Uint8Array {
  nodeSecret ??= nodeSecretFromSeed(loadSeed(seedFile));
  return nodeSecret;
}

function channelKeys(seedFile: string, channelIndex: bigint): ChannelKeys {
  const seed = loadSeed(seedFile);
  let keys = cache.get(channelIndex);
  if (!keys) {
    keys = channelKeysFromSeed(seed, channelIndex);
    if (cache.size >= CACHED_CHANNELS) cache.delete(cache.keys().next().value as bigint);
    cache.set(channelIndex, keys);
  }
  return keys;
}

/** Serves the node key's ECDH lane (signer-pool-lane.ts) from this worker, when the pool has one. */
export function startNodeKeyLane(seedFile: string, lane: SharedArrayBuffer | undefined): void {
  if (lane) serveNodeKeyLane(lane, (publicKey) => secp.ecdh(nodeKey(seedFile), publicKey));
}

export function runSignerTask(seedFile: string, task: SignerPoolTask): SignerPoolResult {
  try {
    switch (task.op) {
      case 'node-id':
        return { ok: true, value: secp.publicKey(nodeKey(seedFile)) };
      case 'node-ecdh':
        return { ok: true, value: secp.ecdh(nodeKey(seedFile), task.publicKey) };
      case 'node-sign':
        return { ok: true, value: secp.sign(task.digest, nodeKey(seedFile)) };
    }
    const keys = channelKeys(seedFile, task.channelIndex);
    switch (task.op) {
      case 'pubkeys':
        return { ok: true, value: { ...channelPublicKeys(keys) } };
      case 'point':
        return {
          ok: true,
          value: perCommitmentPointFromSecret(
            generateFromSeed(keys.commitmentSeed, secretIndex(task.commitmentNumber)),
          ),
        };
      case 'secret':
        return { ok: true, value: generateFromSeed(keys.commitmentSeed, secretIndex(task.commitmentNumber)) };
      case 'sign-commitment': {
        const sighashes: Uint8Array[] = [];
        for (let at = 0; at < task.htlcSighashes.length; at += 32)
          sighashes.push(task.htlcSighashes.subarray(at, at + 32));
        const requests = htlcSignRequests(keys, sighashes, task.htlcPerCommitmentPoint);
        if (task.commitmentSighash)
          requests.unshift({ digest: task.commitmentSighash, privateKey: keys.fundingSecret });
        // The signatures end to end, 64 bytes each, in request order (one buffer back).
        const signatures = new Uint8Array(64 * requests.length);
        for (const [i, r] of requests.entries()) signatures.set(secp.sign(r.digest, r.privateKey), 64 * i);
        return { ok: true, value: signatures };
      }
      case 'sign-funding':
        return { ok: true, value: secp.sign(task.sighash, keys.fundingSecret) };
      case 'sign-claim': {
        walletPaths ??= new WalletKeyPaths(loadSeed(seedFile));
        const wallet = walletPaths;
        // Every request checked before any is signed: a refused one signs nothing of the batch.
        const checked = task.requests.map((r) => checkClaimRequest(keys, wallet, r));
        const signatures = new Uint8Array(64 * checked.length);
        for (const [i, c] of checked.entries()) signatures.set(secp.sign(c.digest, c.privateKey), 64 * i);
        return { ok: true, value: signatures };
      }
    }
  } catch (e) {
    // Errors cross as data (code and message; messages never carry key bytes).
    const err = e as Error & { code?: unknown };
    return {
      ok: false,
      code: e instanceof KeysError ? (err.code as string) : 'signer-failed',
      message: err.message,
    };
  }
}
