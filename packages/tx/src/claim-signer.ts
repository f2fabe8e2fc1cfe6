/**
 * The keys a claim is signed with (BOLT 3 "Key Derivation"), named by what they are rather
 * than handed out: a monitor, which never holds a secret, asks for a signature with "the
 * holder's delayed payment key at this per_commitment_point" and gets 64 bytes back.
 *
 * `ChannelKeysClaimSigner` signs from a channel's base secrets in this thread (through a
 * CryptoService, one batch per call). The signer pool's workers can offer the same interface
 * for channels whose secrets they keep.
 */
import { type CryptoService, inThreadCrypto } from '@lnkit/crypto';
import { type ChannelKeys, derivePrivateKey, deriveRevocationPrivateKey } from '@lnkit/keys';
import { checkBytes, TxError } from './errors.ts';

export type ClaimKey =
  /** delayed_privkey: the holder's delayed_payment_basepoint secret tweaked by the holder's point. */
  | { kind: 'delayed-payment'; perCommitmentPoint: Uint8Array }
  /** The payment_basepoint secret itself: to_remote under option_static_remotekey (and anchors). */
  | { kind: 'payment' }
  /** htlc_privkey: the htlc_basepoint secret tweaked by the commitment owner's point. */
  | { kind: 'htlc'; perCommitmentPoint: Uint8Array }
  /** revocationprivkey: the holder's revocation_basepoint secret with the counterparty's revealed secret. */
  | { kind: 'revocation'; perCommitmentSecret: Uint8Array }
  /** The funding key: only for the holder's anchor output (option_anchors), spent to bump its commitment (CPFP). */
  | { kind: 'funding' };

export interface ClaimSignRequest {
  key: ClaimKey;
  /** BIP 143 sighash (32 bytes). */
  sighash: Uint8Array;
  /**
   * The spend the sighash is of, for a signer that checks what it signs (the signer pool's
   * workers recompute the sighash and check every output pays the node): the unsigned
   * transaction, the input, its BIP 143 scriptCode and value, and for a holder HTLC
   * transaction the witness script of its output 0.
   */
  spend?: {
    tx: Uint8Array;
    inputIndex: number;
    scriptCode: Uint8Array;
    valueSat: bigint;
    outputWitnessScript?: Uint8Array;
  };
}

export interface ClaimSigner {
  /** 64-byte compact signatures, in request order. */
  signClaims(requests: readonly ClaimSignRequest[]): Promise<Uint8Array[]>;
}

/** The private key a claim key names, from the channel's base secrets. */
export function claimPrivateKey(keys: ChannelKeys, key: ClaimKey): Uint8Array {
  switch (key.kind) {
    case 'delayed-payment':
      return derivePrivateKey(keys.delayedPaymentBaseSecret, checkBytes(key.perCommitmentPoint, 33, 'point'));
    case 'payment':
      return keys.paymentBaseSecret;
    case 'funding':
      return keys.fundingSecret;
    case 'htlc':
      return derivePrivateKey(keys.htlcBaseSecret, checkBytes(key.perCommitmentPoint, 33, 'point'));
    case 'revocation':
      return deriveRevocationPrivateKey(
        keys.revocationBaseSecret,
        checkBytes(key.perCommitmentSecret, 32, 'per_commitment_secret'),
      );
    default:
      throw new TxError('invalid-argument', `unknown claim key ${(key as { kind: string }).kind}`);
  }
}

export class ChannelKeysClaimSigner implements ClaimSigner {
  readonly #keys: ChannelKeys;
  readonly #crypto: CryptoService;

  constructor(keys: ChannelKeys, crypto: CryptoService = inThreadCrypto) {
    this.#keys = keys;
    this.#crypto = crypto;
  }

  signClaims(requests: readonly ClaimSignRequest[]): Promise<Uint8Array[]> {
    return this.#crypto.signBatch(
      requests.map((r) => ({
        digest: checkBytes(r.sighash, 32, 'sighash'),
        privateKey: claimPrivateKey(this.#keys, r.key),
      })),
    );
  }

  /** It holds secrets: it prints as nothing. */
  toJSON(): Record<string, never> {
    return {};
  }
}
