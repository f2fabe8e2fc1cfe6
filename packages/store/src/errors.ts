export type StoreErrorCode =
  | 'not-a-directory'
  | 'read-only'
  | 'cannot-open'
  | 'corrupt'
  | 'schema-too-new'
  | 'schema-too-old'
  | 'wrong-network'
  | 'closed'
  | 'write-failed';

/** Every failure of the store is a StoreError with a stable `code` and the path involved. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}
