export type StoreErrorCode =
  | 'not-a-directory'
  | 'read-only'
  | 'cannot-open'
  | 'corrupt'
  | 'schema-too-new'
  | 'schema-too-old'
  | 'wrong-network'
  | 'closed'
  | 'write-failed'
  /** A record's bytes are not a valid record (cut short, bad TLV stream, a field not its codec's encoding, a required field missing). */
  | 'record-malformed'
  /** A record written by a newer lnkit, in a form this one cannot read (its minimum reader version is above ours). */
  | 'record-too-new'
  /** A record carries an even TLV type this lnkit does not know (BOLT 1: it must not be ignored). */
  | 'record-unknown-required-field'
  /** A value cannot be written as its record (out of range, wrong length, a required field missing). */
  | 'record-invalid-value'
  /** A record declaration is wrong (a TLV type used twice, versions out of order): a programming error. */
  | 'record-bad-definition';

/**
 * Every failure of the store is a StoreError with a stable `code` and the path involved. A
 * write that the machine refused (a full disk, an I/O error) also carries the system's code in
 * `osCode` (`ENOSPC`, `EIO`, ...): the node treats those as a fault of the machine that may
 * clear, apart from a write that can never succeed.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly path?: string,
    readonly osCode?: string,
  ) {
    super(message);
  }
}
