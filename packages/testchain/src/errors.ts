/**
 * Every failure of the test chain is a TestChainError. `code` is the bitcoind JSON-RPC error code
 * (RPC_VERIFY_REJECTED = -26, RPC_VERIFY_ERROR = -25, RPC_VERIFY_ALREADY_IN_CHAIN = -27 ...), so a
 * caller handles the in-process API and the HTTP JSON-RPC the same way.
 */
export const RpcErrorCode = {
  miscError: -1,
  typeError: -3,
  invalidAddressOrKey: -5,
  walletInsufficientFunds: -6,
  invalidParameter: -8,
  deserializationError: -22,
  verifyError: -25,
  verifyRejected: -26,
  verifyAlreadyInChain: -27,
  inWarmup: -28,
  methodNotFound: -32601,
  internalError: -32603,
} as const;

export class TestChainError extends Error {
  override readonly name = 'TestChainError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
