export type TestSupportErrorCode = 'timeout' | 'completed' | 'source-error';

/** Every failure of a test-support helper: `code` says which; `cause` holds the last error seen. */
export class TestSupportError extends Error {
  override readonly name = 'TestSupportError';
  readonly code: TestSupportErrorCode;

  constructor(code: TestSupportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
