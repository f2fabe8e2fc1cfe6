/** Every failure of this package is a CryptoError with a stable `code`. Messages never carry key bytes. */
export type CryptoErrorCode =
  | 'invalid-private-key'
  | 'invalid-public-key'
  | 'invalid-signature'
  | 'invalid-length'
  | 'bad-mac'
  | 'backend-unavailable'
  | 'pool-closed';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function checkBytes(
  value: unknown,
  length: number,
  what: string,
  code: CryptoErrorCode = 'invalid-length',
): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CryptoError(code, `${what} must be a Uint8Array`);
  if (value.length !== length)
    throw new CryptoError(code, `${what} must be ${length} bytes, got ${value.length}`);
  return value;
}
