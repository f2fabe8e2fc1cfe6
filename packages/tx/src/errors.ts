/** Every failure of @lnkit/tx is a TxError with a stable `code`. */
export type TxErrorCode =
  /** An argument has the wrong type, length or range. */
  | 'invalid-argument'
  /** The amounts do not add up (balances above the funding amount, negative balances). */
  | 'invalid-amounts'
  /** A signature does not have the expected form. */
  | 'invalid-signature';

export class TxError extends Error {
  override readonly name = 'TxError';
  constructor(
    readonly code: TxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function checkBytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TxError('invalid-argument', `${what} must be a Uint8Array`);
  if (value.length !== length)
    throw new TxError('invalid-argument', `${what} must be ${length} bytes, got ${value.length}`);
  return value;
}
