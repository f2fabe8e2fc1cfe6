/**
 * Every failure of chain-sync is a ChainSyncError with a stable `code`. Messages name the source's
 * URL (without credentials) and never carry a password or cookie.
 */
export type ChainSyncErrorCode =
  | 'unauthorized' // the source rejected the credentials (HTTP 401/403)
  | 'unreachable' // connection refused/reset, DNS, or the source is shutting down
  | 'timeout' // no answer within the request timeout
  | 'rpc-error' // the source answered with a JSON-RPC error (see rpcCode)
  | 'not-found' // the block, header or transaction is unknown to the source
  | 'bad-response' // the answer could not be parsed or is inconsistent
  | 'invalid-argument'
  | 'no-common-ancestor'; // a reorg deeper than the source can walk back

export class ChainSyncError extends Error {
  override readonly name = 'ChainSyncError';
  constructor(
    readonly code: ChainSyncErrorCode,
    message: string,
    /** bitcoind's JSON-RPC error code when code is 'rpc-error' (e.g. -26 for a mempool rejection). */
    readonly rpcCode?: number,
  ) {
    super(message);
  }

  /** True when retrying later may succeed (the source is down or slow), false for a definite answer. */
  get transient(): boolean {
    return (
      this.code === 'unreachable' ||
      this.code === 'timeout' ||
      (this.code === 'rpc-error' && this.rpcCode === -28)
    );
  }
}

/** Removes any `user:password@` from a URL so it can be logged and put in errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid url>';
  }
}
