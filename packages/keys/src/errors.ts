/**
 * Every failure of @lnkit/keys is a KeysError with a stable `code`. Messages name what went
 * wrong and where, never the bytes of a seed, a secret or a private key.
 */
export type KeysErrorCode =
  /** The seed file exists but is not exactly 32 bytes. */
  | 'seed-wrong-length'
  /** The seed file exists but cannot be read (permissions, a directory, I/O error). */
  | 'seed-unreadable'
  /** A new seed was asked for where a seed file already is (it is never replaced). */
  | 'seed-exists'
  /** A new seed file could not be written durably. */
  | 'seed-write-failed'
  /** An argument has the wrong type, length or range. */
  | 'invalid-argument'
  /** A basepoint or per_commitment_point is not a curve point, or a secret or derived key is not a valid scalar. */
  | 'invalid-point'
  /** A per-commitment secret does not derive the secrets received before it (BOLT 3 storage). */
  | 'secret-mismatch'
  /** A per-commitment secret arrived out of order (not the next index). */
  | 'secret-out-of-order'
  /** A per-commitment secret was asked for that was never received. */
  | 'secret-unknown'
  /** A request to sign a holder commitment that has already been revoked. */
  | 'revoked-state'
  /** A request to release the secret of a state the holder has not moved past. */
  | 'state-not-revocable'
  /** A request to sign a commitment older than one already signed. */
  | 'stale-state'
  /** The signer pool is closed, or a worker failed. */
  | 'signer-unavailable'
  /** A signer pool worker failed on a task for a reason of its own (the message says which). */
  | 'signer-failed'
  /** A claim the signer's policy does not sign (claim-policy.ts): not a spend it recognises, or paying someone else. */
  | 'claim-refused';

export class KeysError extends Error {
  override readonly name = 'KeysError';
  constructor(
    readonly code: KeysErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function checkLength(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new KeysError('invalid-argument', `${what} must be a Uint8Array`);
  if (value.length !== length)
    throw new KeysError('invalid-argument', `${what} must be ${length} bytes, got ${value.length}`);
  return value;
}
