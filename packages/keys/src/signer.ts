/**
 * ChannelSigner: the one place a channel's secrets are used. The transactions themselves are
 * built by @lnkit/tx, which hands the signer BIP 143 sighashes together with the commitment
 * number they belong to; the signer enforces the state rules that keep funds safe:
 *   - it never signs a holder commitment that it has already revoked (broadcasting a revoked
 *     state hands the counterparty every output through the revocation key, BOLT 5);
 *   - it never releases the per-commitment secret of a state the holder has not moved past
 *     (BOLT 2: revoke_and_ack revokes the previous commitment only once the next one is held);
 *   - it never signs a counterparty commitment older than one it already signed.
 * Signatures are computed through a CryptoService (the crypto pool in production), in one
 * batch per commitment: the commitment signature and every HTLC signature together.
 */
import { type CryptoService, inThreadCrypto, type SignRequest, secp } from '@lnkit/crypto';
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
  /** The state to persist after each call that changed it. */
  state(): SignerState;
}

export interface DefaultChannelSignerOptions {
  crypto?: CryptoService;
  state?: SignerState | undefined;
}

/** The default ChannelSigner: keys in memory, signing through a CryptoService. */
export class DefaultChannelSigner implements ChannelSigner {
  readonly #keys: ChannelKeys;
  readonly #crypto: CryptoService;
  #state: SignerState;
  readonly pubkeys: ChannelPublicKeys;

  constructor(keys: ChannelKeys, options: DefaultChannelSignerOptions = {}) {
    for (const [name, value] of Object.entries(keys)) checkLength(value, 32, name);
    this.#keys = {
      fundingSecret: Uint8Array.from(keys.fundingSecret),
      revocationBaseSecret: Uint8Array.from(keys.revocationBaseSecret),
      paymentBaseSecret: Uint8Array.from(keys.paymentBaseSecret),
      delayedPaymentBaseSecret: Uint8Array.from(keys.delayedPaymentBaseSecret),
      htlcBaseSecret: Uint8Array.from(keys.htlcBaseSecret),
      commitmentSeed: Uint8Array.from(keys.commitmentSeed),
    };
    this.#crypto = options.crypto ?? inThreadCrypto;
    this.#state = options.state
      ? { ...options.state }
      : { holderCommitmentNumber: -1n, revokedBelow: 0n, counterpartyCommitmentNumber: -1n };
    this.pubkeys = {
      fundingPubkey: secp.publicKey(this.#keys.fundingSecret),
      revocationBasepoint: secp.publicKey(this.#keys.revocationBaseSecret),
      paymentBasepoint: secp.publicKey(this.#keys.paymentBaseSecret),
      delayedPaymentBasepoint: secp.publicKey(this.#keys.delayedPaymentBaseSecret),
      htlcBasepoint: secp.publicKey(this.#keys.htlcBaseSecret),
    };
  }

  state(): SignerState {
    return { ...this.#state };
  }

  #perCommitmentSecret(commitmentNumber: bigint): Uint8Array {
    return generateFromSeed(this.#keys.commitmentSeed, secretIndex(commitmentNumber));
  }

  async getPerCommitmentPoint(commitmentNumber: bigint): Promise<Uint8Array> {
    return perCommitmentPointFromSecret(this.#perCommitmentSecret(commitmentNumber));
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
    if (commitmentNumber + 1n > this.#state.revokedBelow) this.#state.revokedBelow = commitmentNumber + 1n;
    return this.#perCommitmentSecret(commitmentNumber);
  }

  async signCounterpartyCommitment(
    request: CounterpartyCommitmentSignRequest,
  ): Promise<CommitmentSignatures> {
    checkCommitmentNumber(request.commitmentNumber);
    checkLength(request.perCommitmentPoint, 33, 'per_commitment_point');
    if (request.commitmentNumber < this.#state.counterpartyCommitmentNumber) {
      throw new KeysError(
        'stale-state',
        `counterparty commitment ${request.commitmentNumber} is older than commitment ${this.#state.counterpartyCommitmentNumber} already signed`,
      );
    }
    // BOLT 3: the HTLC transactions of the counterparty's commitment are signed with our
    // htlc key tweaked by *their* per_commitment_point (remote_htlcpubkey from their view).
    const htlcKey =
      request.htlcSighashes.length > 0
        ? derivePrivateKey(this.#keys.htlcBaseSecret, request.perCommitmentPoint)
        : undefined;
    const result = await this.#signBatch(request, htlcKey);
    this.#state.counterpartyCommitmentNumber = request.commitmentNumber;
    return result;
  }

  async signHolderCommitment(request: CommitmentSignRequest): Promise<CommitmentSignatures> {
    checkCommitmentNumber(request.commitmentNumber);
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
    const htlcKey =
      request.htlcSighashes.length > 0
        ? derivePrivateKey(
            this.#keys.htlcBaseSecret,
            await this.getPerCommitmentPoint(request.commitmentNumber),
          )
        : undefined;
    return this.#signBatch(request, htlcKey);
  }

  async signClosingTransaction(sighash: Uint8Array): Promise<Uint8Array> {
    checkLength(sighash, 32, 'sighash');
    return this.#crypto.sign(sighash, this.#keys.fundingSecret);
  }

  async #signBatch(
    request: CommitmentSignRequest,
    htlcKey: Uint8Array | undefined,
  ): Promise<CommitmentSignatures> {
    checkLength(request.commitmentSighash, 32, 'commitment sighash');
    const batch: SignRequest[] = [
      { digest: request.commitmentSighash, privateKey: this.#keys.fundingSecret },
    ];
    for (const [i, sighash] of request.htlcSighashes.entries()) {
      checkLength(sighash, 32, `HTLC sighash ${i}`);
      batch.push({ digest: sighash, privateKey: htlcKey as Uint8Array });
    }
    const [signature, ...htlcSignatures] = await this.#crypto.signBatch(batch);
    return { signature: signature as Uint8Array, htlcSignatures };
  }

  /** The signer holds secrets: it prints as its public keys only. */
  toJSON(): { pubkeys: Record<string, string> } {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    return { pubkeys: Object.fromEntries(Object.entries(this.pubkeys).map(([k, v]) => [k, hex(v)])) };
  }
}

function checkCommitmentNumber(n: unknown): void {
  if (typeof n !== 'bigint' || n < 0n || n >= 1n << 48n) {
    throw new KeysError('invalid-argument', 'commitment number must be a bigint in the 48-bit range');
  }
}
