/**
 * KeysManager (guide step 7): everything secret derives from the 32-byte seed.
 *
 * Derivation scheme (documented in README.md; changing it changes every key of every node):
 *   node_secret        = HMAC-SHA256(key = seed, "lnkit/node")
 *   channel_seed(i)    = HMAC-SHA256(key = seed, "lnkit/channel" || u64be(i))
 *   <base>_secret(i)   = HMAC-SHA256(key = channel_seed(i), "<base>") for funding, revocation,
 *                        payment, delayed_payment, htlc
 *   commitment_seed(i) = HMAC-SHA256(key = channel_seed(i), "commitment_seed")   (shachain seed)
 *   wallet_secret(j)   = HMAC-SHA256(key = seed, "lnkit/wallet" || u64be(j))
 * A result that is not a valid secp256k1 scalar (probability ~2^-128) is rehashed with a
 * counter byte appended to the label until it is.
 *
 * Nonces and other random values come from `getSecureRandomBytes()`: SHA-256 over a key made
 * from the seed, the start time in nanoseconds and 32 fresh OS random bytes, and a counter;
 * so no two starts of the node, even with a broken clock, draw the same bytes.
 */
import {
  type CryptoService,
  hmacSha256,
  inThreadCrypto,
  isValidPublicKey,
  randomBytes,
  secp,
  sha256,
} from '@lnkit/crypto';
import { checkLength, KeysError } from './errors.ts';
import { type ChannelKeys, DefaultChannelSigner, type SignerState } from './signer.ts';

const encoder = new TextEncoder();

function u64be(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value);
  return out;
}

function label(text: string, suffix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const t = encoder.encode(text);
  const out = new Uint8Array(t.length + suffix.length);
  out.set(t, 0);
  out.set(suffix, t.length);
  return out;
}

function validScalar(candidate: Uint8Array): boolean {
  try {
    return isValidPublicKey(secp.publicKey(candidate));
  } catch {
    return false;
  }
}

/** HMAC-SHA256(key, data), rehashed with a counter until it is a valid private key. */
function deriveScalar(key: Uint8Array, data: Uint8Array): Uint8Array {
  let out = hmacSha256(key, data);
  for (let counter = 1; !validScalar(out); counter++) {
    const next = new Uint8Array(data.length + 1);
    next.set(data, 0);
    next[data.length] = counter;
    out = hmacSha256(key, next);
  }
  return out;
}

/**
 * The node secret (the key behind node_id) derived from the seed, for the one component that
 * must hold it outside the KeysManager: the transport's BOLT 8 handshake, which the node
 * hands it to once, at spawn, in its own thread. Callers should zero their copy after.
 */
export function nodeSecretFromSeed(seed: Uint8Array): Uint8Array {
  checkLength(seed, 32, 'seed');
  return deriveScalar(seed, label('lnkit/node'));
}

/**
 * Base secrets of channel `channelIndex` (the scheme above). Exported for the signer pool's
 * workers, which derive a channel's keys where they are used instead of receiving them.
 */
export function channelKeysFromSeed(seed: Uint8Array, channelIndex: bigint): ChannelKeys {
  checkLength(seed, 32, 'seed');
  if (typeof channelIndex !== 'bigint' || channelIndex < 0n || channelIndex >= 1n << 64n)
    throw new KeysError('invalid-argument', 'channel index out of range');
  const channelSeed = hmacSha256(seed, label('lnkit/channel', u64be(channelIndex)));
  return {
    fundingSecret: deriveScalar(channelSeed, label('funding')),
    revocationBaseSecret: deriveScalar(channelSeed, label('revocation')),
    paymentBaseSecret: deriveScalar(channelSeed, label('payment')),
    delayedPaymentBaseSecret: deriveScalar(channelSeed, label('delayed_payment')),
    htlcBaseSecret: deriveScalar(channelSeed, label('htlc')),
    commitmentSeed: hmacSha256(channelSeed, label('commitment_seed')),
  };
}

export interface KeysManagerOptions {
  /** Start time of this process in nanoseconds; default `process.hrtime`-anchored wall clock. */
  startTimeNanos?: bigint;
  /** Where signatures are computed; default in-thread. Pass the crypto pool in production. */
  crypto?: CryptoService;
}

export class KeysManager {
  readonly #seed: Uint8Array;
  readonly #nodeSecret: Uint8Array;
  readonly #entropyKey: Uint8Array;
  #entropyCounter = 0n;
  readonly #crypto: CryptoService;
  /** The node's public key (node_id). */
  readonly nodeId: Uint8Array;

  constructor(seed: Uint8Array, options: KeysManagerOptions = {}) {
    checkLength(seed, 32, 'seed');
    this.#seed = Uint8Array.from(seed);
    this.#nodeSecret = nodeSecretFromSeed(this.#seed);
    this.nodeId = secp.publicKey(this.#nodeSecret);
    const start =
      options.startTimeNanos ?? BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    const material = new Uint8Array(8 + 32);
    material.set(u64be(start & 0xffffffffffffffffn), 0);
    material.set(randomBytes(32), 8);
    this.#entropyKey = hmacSha256(this.#seed, label('lnkit/entropy', material));
    this.#crypto = options.crypto ?? inThreadCrypto;
  }

  /** 32 bytes unique to this call, this process start and this seed. */
  getSecureRandomBytes(): Uint8Array {
    this.#entropyCounter += 1n;
    const data = new Uint8Array(32 + 8);
    data.set(this.#entropyKey, 0);
    data.set(u64be(this.#entropyCounter), 32);
    return sha256(data);
  }

  /** Signs a 32-byte digest with the node key (gossip announcements, BOLT 7). */
  signWithNodeKey(digest: Uint8Array): Promise<Uint8Array> {
    checkLength(digest, 32, 'digest');
    return this.#crypto.sign(digest, this.#nodeSecret);
  }

  /** ECDH with the node key, for BOLT 8 handshakes and BOLT 4 onion peeling. */
  ecdhWithNodeKey(publicKey: Uint8Array): Promise<Uint8Array> {
    return this.#crypto.ecdh(this.#nodeSecret, publicKey);
  }

  /** Public key of on-chain wallet key `index` (funding inputs, shutdown scripts, sweeps). */
  walletPublicKey(index: bigint): Uint8Array {
    return secp.publicKey(this.#walletSecret(index));
  }

  /** Signs a sighash with wallet key `index`: this is how a funding transaction's inputs are signed. */
  signWithWalletKey(index: bigint, sighash: Uint8Array): Promise<Uint8Array> {
    checkLength(sighash, 32, 'sighash');
    return this.#crypto.sign(sighash, this.#walletSecret(index));
  }

  #walletSecret(index: bigint): Uint8Array {
    if (index < 0n || index >= 1n << 64n)
      throw new KeysError('invalid-argument', 'wallet key index out of range');
    return deriveScalar(this.#seed, label('lnkit/wallet', u64be(index)));
  }

  /** Base secrets of channel `channelIndex`: deterministic, so a restart finds the same keys. */
  deriveChannelKeys(channelIndex: bigint): ChannelKeys {
    return channelKeysFromSeed(this.#seed, channelIndex);
  }

  /** The default ChannelSigner of channel `channelIndex`, restored to `state` if given. */
  createChannelSigner(channelIndex: bigint, state?: SignerState): DefaultChannelSigner {
    return new DefaultChannelSigner(this.deriveChannelKeys(channelIndex), { crypto: this.#crypto, state });
  }
}
