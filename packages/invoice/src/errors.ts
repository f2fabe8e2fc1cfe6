/**
 * Every failure of @lnkit/invoice is an InvoiceError with a stable `code`; the message names
 * what is wrong (the field, the rule) so it can be shown to the user as it is. Messages never
 * carry key bytes; they may quote a tagged field's letter, a length or a feature bit.
 */
export type InvoiceErrorCode =
  /** Not a bech32 string (BIP 173): no separator, a character outside the charset, mixed case. */
  | 'invalid-bech32'
  /** The bech32 checksum does not match (BOLT 11: "if the checksum is incorrect: MUST fail"). */
  | 'bad-checksum'
  /** The human-readable part is not `ln` + a currency prefix this reader understands. */
  | 'unknown-prefix'
  /** The amount has a non-digit, a bad multiplier, sub-millisatoshi precision, or is out of range. */
  | 'invalid-amount'
  /** The data part ends before the timestamp, a tagged field or the signature is complete. */
  | 'truncated'
  /** A tagged field's value breaks its rule (padding, UTF-8, pubkey, fallback, route hint...). */
  | 'invalid-field'
  /** A `c`, `x` or `9` field begins with zero field elements (BOLT 11: SHOULD treat as invalid). */
  | 'non-minimal-field'
  /** A field the BOLT requires is absent (`p`, `s`, or one of `d` / `h`). */
  | 'missing-field'
  /** Fields that must not appear together (`d` and `h`). */
  | 'conflicting-fields'
  /** The `9` field sets an unknown even bit, or a feature without the feature it depends on. */
  | 'invalid-features'
  /** The signature is not recoverable, not valid for `n`, high-S with `n`, or has a bad recovery id. */
  | 'invalid-signature'
  /** A value given to the encoder has the wrong type, length or range. */
  | 'invalid-argument'
  /** The signer failed or returned a signature that does not sign this invoice. */
  | 'signer-failed';

export class InvoiceError extends Error {
  override readonly name = 'InvoiceError';
  constructor(
    readonly code: InvoiceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function checkBytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new InvoiceError('invalid-argument', `${what} must be a Uint8Array`);
  if (value.length !== length)
    throw new InvoiceError('invalid-argument', `${what} must be ${length} bytes, got ${value.length}`);
  return value;
}

/** A whole number in [min, max] (timestamps, expiry, cltv deltas, fees). */
export function checkInteger(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InvoiceError('invalid-argument', `${what} must be a whole number from ${min} to ${max}`);
  return value;
}
