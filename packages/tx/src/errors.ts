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

/** A 32-bit unsigned integer field (output index, sequence, locktime). */
export function checkUint32(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new TxError('invalid-argument', `${what} must be an integer from 0 to 2^32-1`);
  return value;
}

/** An outpoint: 32-byte txid (internal byte order) and a 32-bit output index. */
export function checkOutPoint(outpoint: { txid: unknown; vout: unknown }, what: string): void {
  checkBytes(outpoint.txid, 32, `${what} txid`);
  checkUint32(outpoint.vout, `${what} output index`);
}

/** An output script: any bytes, up to the consensus script size limit. */
export function checkScript(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TxError('invalid-argument', `${what} must be a Uint8Array`);
  if (value.length > 10_000) throw new TxError('invalid-argument', `${what} is longer than 10,000 bytes`);
  return value;
}
