/**
 * ChannelSigner: the one place a channel's secrets are used. The transactions themselves are
 * built by @lnkit/tx, which hands the signer BIP 143 sighashes together with the commitment
 * number they belong to; the signer enforces the state rules that keep funds safe:
 *   - it never signs a holder commitment that it has already revoked (broadcasting a revoked
 *     state hands the counterparty every output through the revocation key, BOLT 5);
 *   - it never releases the per-commitment secret of a state the holder has not moved past
 *     (BOLT 2: revoke_and_ack revokes the previous commitment only once the next one is held);
 *   - it never signs a counterparty commitment older than one it already signed.
 * Those rules live in `PolicyChannelSigner`; the secrets live in a `ChannelKeyHolder`: in this
 * thread (`DefaultChannelSigner`, signing through a CryptoService, one batch per commitment)
 * or resident in the signer pool's workers (`ChannelSignerPool`, signer-pool.ts).
 */
import { type CryptoService, inThreadCrypto, type SignRequest, secp, sha256d } from '@lnkit/crypto';
import { derivePrivateKey, perCommitmentPointFromSecret } from './derivation.ts';
import { checkLength, KeysError } from './errors.ts';
import { generateFromSeed, secretIndex } from './shachain.ts';

/** The secrets of one channel. Kept inside the signer; never logged or returned by an API. */
export interface ChannelKeys {
  fundingSecret: Uint8Array;
  revocationBaseSecret: Uint8Array;
  paymentBaseSecret: Uint8Array;
  delayedPaymentBaseSecret: Uint8Array;
  htlcBaseSecret: Uint8Array;
  /** The shachain seed of this channel's per-commitment secrets (BOLT 3). */
  commitmentSeed: Uint8Array;
}

/** What open_channel / accept_channel carry (BOLT 2). */
export interface ChannelPublicKeys {
  fundingPubkey: Uint8Array;
  revocationBasepoint: Uint8Array;
  paymentBasepoint: Uint8Array;
  delayedPaymentBasepoint: Uint8Array;
  htlcBasepoint: Uint8Array;
}

/** Persisted with the channel monitor, so a restarted signer is never older than its channel. */
export interface SignerState {
  /** Highest holder commitment number the holder holds a valid counterparty signature for; -1 before any. */
  holderCommitmentNumber: bigint;
  /** Every holder commitment number below this one has been revoked (its secret released). */
  revokedBelow: bigint;
  /** Highest counterparty commitment number signed; -1 before any. */
  counterpartyCommitmentNumber: bigint;
}

export interface CommitmentSignRequest {
  commitmentNumber: bigint;
  /** BIP 143 sighash (SIGHASH_ALL) of the commitment transaction's funding input. */
  commitmentSighash: Uint8Array;
  /** Sighashes of the HTLC-timeout/success transactions, in commitment output order. */
  htlcSighashes: readonly Uint8Array[];
}

export interface CounterpartyCommitmentSignRequest extends CommitmentSignRequest {
  /** The counterparty's per_commitment_point for this commitment. */
  perCommitmentPoint: Uint8Array;
}

export interface CommitmentSignatures {
  /** 64-byte compact signature with the funding key. */
  signature: Uint8Array;
  /** 64-byte compact signatures with the HTLC key, in the order of the request's sighashes. */
  htlcSignatures: Uint8Array[];
}

export interface ChannelSigner {
  readonly pubkeys: ChannelPublicKeys;
  /** The holder's per_commitment_point for commitment number `commitmentNumber`. */
  getPerCommitmentPoint(commitmentNumber: bigint): Promise<Uint8Array>;
  /** Records that the holder holds a valid signed commitment `commitmentNumber` (commitment_signed received). */
  validateHolderCommitment(commitmentNumber: bigint): Promise<void>;
  /** Releases the per_commitment_secret of holder commitment `commitmentNumber` (revoke_and_ack). */
  releaseCommitmentSecret(commitmentNumber: bigint): Promise<Uint8Array>;
  /** Signs the counterparty's commitment and our signatures for its HTLC transactions (commitment_signed). */
  signCounterpartyCommitment(request: CounterpartyCommitmentSignRequest): Promise<CommitmentSignatures>;
  /** Signs our own commitment and its HTLC transactions, to broadcast them (unilateral close). */
  signHolderCommitment(request: CommitmentSignRequest): Promise<CommitmentSignatures>;
  /** Signs a closing transaction's funding input (closing_signed / closing_complete). */
  signClosingTransaction(sighash: Uint8Array): Promise<Uint8Array>;
  /**
   * BOLT 7 bitcoin_signature: signs a channel_announcement of this channel (type and payload,
   * signatures zeroed) with the funding key. It takes the message, not a digest, and hashes it
   * itself, so it can never be made to sign a transaction with the funding key.
   */
  signChannelAnnouncement(unsigned: Uint8Array): Promise<Uint8Array>;
  /** The state to persist after each call that changed it. */
  state(): SignerState;
}

/**
 * Where a channel's secrets live and are used: in this thread (`DefaultChannelSigner`), in the
 * signer pool's workers (`ChannelSignerPool`), or in a device of your own. It does what it is
 * asked; the state rules are enforced by the `PolicyChannelSigner` that owns it, which never
 * hands it out.
 */
export interface ChannelKeyHolder {
  readonly pubkeys: ChannelPublicKeys;
  perCommitmentPoint(commitmentNumber: bigint): Promise<Uint8Array>;
  perCommitmentSecret(commitmentNumber: bigint): Promise<Uint8Array>;
  /**
   * Signs `commitmentSighash` with the funding key and each of `htlcSighashes` with the HTLC
   * key tweaked by `htlcPerCommitmentPoint` (BOLT 3 htlcpubkey), in that order.
   */
  signCommitment(
    commitmentSighash: Uint8Array,
    htlcSighashes: readonly Uint8Array[],
    htlcPerCommitmentPoint: Uint8Array | undefined,
  ): Promise<Uint8Array[]>;
  signWithFundingKey(sighash: Uint8Array): Promise<Uint8Array>;
}

/** A ChannelSigner made of a key holder and lnkit's state rules (see the top of this file). */
export class PolicyChannelSigner implements ChannelSigner {
  readonly #holder: ChannelKeyHolder;
  #state: SignerState;
  readonly pubkeys: ChannelPublicKeys;

  constructor(holder: ChannelKeyHolder, state?: SignerState) {
    this.#holder = holder;
    this.pubkeys = holder.pubkeys;
    this.#state = state
      ? { ...state }
      : { holderCommitmentNumber: -1n, revokedBelow: 0n, counterpartyCommitmentNumber: -1n };
  }

  state(): SignerState {
    return { ...this.#state };
  }

  async getPerCommitmentPoint(commitmentNumber: bigint): Promise<Uint8Array> {
    checkCommitmentNumber(commitmentNumber);
    return this.#holder.perCommitmentPoint(commitmentNumber);
  }

  async validateHolderCommitment(commitmentNumber: bigint): Promise<void> {
    checkCommitmentNumber(commitmentNumber);
    if (commitmentNumber < this.#state.revokedBelow) {
      throw new KeysError('revoked-state', `holder commitment ${commitmentNumber} is already revoked`);
    }
    if (commitmentNumber > this.#state.holderCommitmentNumber)
      this.#state.holderCommitmentNumber = commitmentNumber;
  }

  async releaseCommitmentSecret(commitmentNumber: bigint): Promise<Uint8Array> {
    checkCommitmentNumber(commitmentNumber);
    // BOLT 2: the secret of commitment n is sent in revoke_and_ack only after commitment n+1 is held.
    if (commitmentNumber >= this.#state.holderCommitmentNumber) {
      throw new KeysError(
        'state-not-revocable',
        `cannot release the secret of holder commitment ${commitmentNumber}: the latest held commitment is ${this.#state.holderCommitmentNumber}`,
      );
    }
    // Recorded before the secret exists outside the holder, so no await can reorder the two.
    if (commitmentNumber + 1n > this.#state.revokedBelow) this.#state.revokedBelow = commitmentNumber + 1n;
    return this.#holder.perCommitmentSecret(commitmentNumber);
  }

  async signCounterpartyCommitment(
    request: CounterpartyCommitmentSignRequest,
  ): Promise<CommitmentSignatures> {
    checkRequest(request);
    checkLength(request.perCommitmentPoint, 33, 'per_commitment_point');
    if (request.commitmentNumber < this.#state.counterpartyCommitmentNumber) {
      throw new KeysError(
        'stale-state',
        `counterparty commitment ${request.commitmentNumber} is older than commitment ${this.#state.counterpartyCommitmentNumber} already signed`,
      );
    }
    // BOLT 3: the HTLC transactions of the counterparty's commitment are signed with our
    // htlc key tweaked by *their* per_commitment_point (remote_htlcpubkey from their view).
    const result = await this.#sign(request, request.perCommitmentPoint);
    if (request.commitmentNumber > this.#state.counterpartyCommitmentNumber)
      this.#state.counterpartyCommitmentNumber = request.commitmentNumber;
    return result;
  }

  async signHolderCommitment(request: CommitmentSignRequest): Promise<CommitmentSignatures> {
    checkRequest(request);
    if (request.commitmentNumber < this.#state.revokedBelow) {
      throw new KeysError(
        'revoked-state',
        `refusing to sign holder commitment ${request.commitmentNumber}: it has been revoked`,
      );
    }
    if (request.commitmentNumber > this.#state.holderCommitmentNumber) {
      throw new KeysError(
        'invalid-argument',
        `holder commitment ${request.commitmentNumber} has not been validated (latest is ${this.#state.holderCommitmentNumber})`,
      );
    }
    const point =
      request.htlcSighashes.length > 0
        ? await this.#holder.perCommitmentPoint(request.commitmentNumber)
        : undefined;
    // The await above may have let a release of this very commitment run: check again.
    if (request.commitmentNumber < this.#state.revokedBelow) {
      throw new KeysError(
        'revoked-state',
        `refusing to sign holder commitment ${request.commitmentNumber}: it has been revoked`,
      );
    }
    return this.#sign(request, point);
  }

  async signClosingTransaction(sighash: Uint8Array): Promise<Uint8Array> {
    checkLength(sighash, 32, 'sighash');
    return this.#holder.signWithFundingKey(sighash);
  }

  async signChannelAnnouncement(unsigned: Uint8Array): Promise<Uint8Array> {
    const keys = channelAnnouncementBitcoinKeys(unsigned);
    const own = this.pubkeys.fundingPubkey;
    if (!keys.some((k) => Buffer.from(k).equals(Buffer.from(own))))
      throw new KeysError(
        'invalid-argument',
        'the channel_announcement is not for this channel: neither bitcoin key is ours',
      );
    return this.#holder.signWithFundingKey(sha256d(unsigned.subarray(2 + 4 * 64)));
  }

  async #sign(request: CommitmentSignRequest, point: Uint8Array | undefined): Promise<CommitmentSignatures> {
    const [signature, ...htlcSignatures] = await this.#holder.signCommitment(
      request.commitmentSighash,
      request.htlcSighashes,
      request.htlcSighashes.length > 0 ? point : undefined,
    );
    return { signature: signature as Uint8Array, htlcSignatures };
  }

  /** The signer may hold secrets: it prints as its public keys only. */
  toJSON(): { pubkeys: Record<string, string> } {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    return { pubkeys: Object.fromEntries(Object.entries(this.pubkeys).map(([k, v]) => [k, hex(v)])) };
  }
}

/**
 * The two bitcoin keys of a channel_announcement (BOLT 7 layout: type, four signatures,
 * features, chain_hash, short_channel_id, node_id_1, node_id_2, bitcoin_key_1, bitcoin_key_2).
 */
function channelAnnouncementBitcoinKeys(m: Uint8Array): [Uint8Array, Uint8Array] {
  const bad = (why: string) => new KeysError('invalid-argument', `not a channel_announcement: ${why}`);
  if (m.length < 2 + 256 + 2 || m[0] !== 0x01 || m[1] !== 0x00) throw bad('type is not 256');
  const featuresEnd = 2 + 256 + 2 + ((m[2 + 256]! << 8) | m[2 + 256 + 1]!);
  const keysAt = featuresEnd + 32 + 8 + 33 + 33;
  if (m.length < keysAt + 66) throw bad('too short');
  return [m.subarray(keysAt, keysAt + 33), m.subarray(keysAt + 33, keysAt + 66)];
}

/** Computes the public keys of a channel's secrets (what open_channel / accept_channel carry). */
export function channelPublicKeys(keys: ChannelKeys): ChannelPublicKeys {
  return {
    fundingPubkey: secp.publicKey(keys.fundingSecret),
    revocationBasepoint: secp.publicKey(keys.revocationBaseSecret),
    paymentBasepoint: secp.publicKey(keys.paymentBaseSecret),
    delayedPaymentBasepoint: secp.publicKey(keys.delayedPaymentBaseSecret),
    htlcBasepoint: secp.publicKey(keys.htlcBaseSecret),
  };
}

/** Sign requests for HTLC sighashes: our htlc key tweaked by `perCommitmentPoint` (BOLT 3). */
export function htlcSignRequests(
  keys: ChannelKeys,
  htlcSighashes: readonly Uint8Array[],
  perCommitmentPoint: Uint8Array | undefined,
): SignRequest[] {
  if (htlcSighashes.length === 0) return [];
  if (!perCommitmentPoint)
    throw new KeysError('invalid-argument', 'HTLC signatures need a per_commitment_point');
  const htlcKey = derivePrivateKey(keys.htlcBaseSecret, perCommitmentPoint);
  return htlcSighashes.map((digest) => ({ digest, privateKey: htlcKey }));
}

/** Secrets in this thread's memory, signatures through a CryptoService. */
class InMemoryKeyHolder implements ChannelKeyHolder {
  readonly #keys: ChannelKeys;
  readonly #crypto: CryptoService;
  readonly pubkeys: ChannelPublicKeys;

  constructor(keys: ChannelKeys, crypto: CryptoService) {
    for (const [name, value] of Object.entries(keys)) checkLength(value, 32, name);
    this.#keys = {
      fundingSecret: Uint8Array.from(keys.fundingSecret),
      revocationBaseSecret: Uint8Array.from(keys.revocationBaseSecret),
      paymentBaseSecret: Uint8Array.from(keys.paymentBaseSecret),
      delayedPaymentBaseSecret: Uint8Array.from(keys.delayedPaymentBaseSecret),
      htlcBaseSecret: Uint8Array.from(keys.htlcBaseSecret),
      commitmentSeed: Uint8Array.from(keys.commitmentSeed),
    };
    this.#crypto = crypto;
    this.pubkeys = channelPublicKeys(this.#keys);
  }

  async perCommitmentPoint(commitmentNumber: bigint): Promise<Uint8Array> {
    return perCommitmentPointFromSecret(await this.perCommitmentSecret(commitmentNumber));
  }

  async perCommitmentSecret(commitmentNumber: bigint): Promise<Uint8Array> {
    return generateFromSeed(this.#keys.commitmentSeed, secretIndex(commitmentNumber));
  }

  signCommitment(
    commitmentSighash: Uint8Array,
    htlcSighashes: readonly Uint8Array[],
    htlcPerCommitmentPoint: Uint8Array | undefined,
  ): Promise<Uint8Array[]> {
    // One CryptoService call for the whole commitment: with the crypto pool, one crossing.
    return this.#crypto.signBatch([
      { digest: commitmentSighash, privateKey: this.#keys.fundingSecret },
      ...htlcSignRequests(this.#keys, htlcSighashes, htlcPerCommitmentPoint),
    ]);
  }

  signWithFundingKey(sighash: Uint8Array): Promise<Uint8Array> {
    return this.#crypto.sign(sighash, this.#keys.fundingSecret);
  }
}

export interface DefaultChannelSignerOptions {
  crypto?: CryptoService;
  state?: SignerState | undefined;
}

/**
 * The default ChannelSigner: the channel's secrets in this thread's memory, signing through a
 * CryptoService. The secrets travel with each pool request; `ChannelSignerPool` keeps them in
 * the pool's workers instead.
 */
export class DefaultChannelSigner extends PolicyChannelSigner {
  constructor(keys: ChannelKeys, options: DefaultChannelSignerOptions = {}) {
    super(new InMemoryKeyHolder(keys, options.crypto ?? inThreadCrypto), options.state);
  }
}

function checkRequest(request: CommitmentSignRequest): void {
  checkCommitmentNumber(request.commitmentNumber);
  checkLength(request.commitmentSighash, 32, 'commitment sighash');
  for (const [i, sighash] of request.htlcSighashes.entries()) checkLength(sighash, 32, `HTLC sighash ${i}`);
}

function checkCommitmentNumber(n: unknown): void {
  if (typeof n !== 'bigint' || n < 0n || n >= 1n << 48n) {
    throw new KeysError('invalid-argument', 'commitment number must be a bigint in the 48-bit range');
  }
}
