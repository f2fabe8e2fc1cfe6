/**
 * Every failure of @lnkit/wallet is a WalletError with a stable `code`. Messages name amounts,
 * outpoints and indexes, never a seed, an extended key or a private key.
 */
export type WalletErrorCode =
  /** An argument has the wrong type, length or range (a message says which). */
  | 'invalid-argument'
  /** An address that is not a valid address of the wallet's network. */
  | 'invalid-address'
  /** The spendable coins do not cover the outputs and the fee (the message gives both amounts). */
  | 'insufficient-funds'
  /** An output would be under its dust limit (a funding output, or an amount sent). */
  | 'dust-output'
  /** The store holds a wallet of another seed or network. */
  | 'wrong-wallet'
  /** A key the wallet was asked to sign with is none of its own. */
  | 'not-mine'
  /** The network refused a transaction the wallet built (its inputs were released). */
  | 'broadcast-rejected'
  /** A transaction could not be sent (the source is down): its inputs stay reserved. */
  | 'broadcast-failed'
  /** A write to the store failed: the wallet's memory is ahead of its disk; reopen it. */
  | 'store-failed'
  /** The wallet was closed, or stopped after a failed write. */
  | 'closed';

export class WalletError extends Error {
  override readonly name = 'WalletError';
  constructor(
    readonly code: WalletErrorCode,
    message: string,
    /** For insufficient-funds: what the transaction needed and what was spendable (sat). */
    readonly details?: { neededSat: bigint; availableSat: bigint },
  ) {
    super(message);
  }

  /** Amounts as decimal strings: JSON has no bigint, and a logger must not throw on this error. */
  toJSON(): {
    name: string;
    code: WalletErrorCode;
    message: string;
    details?: { neededSat: string; availableSat: string };
  } {
    const { details } = this;
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(details
        ? {
            details: {
              neededSat: details.neededSat.toString(),
              availableSat: details.availableSat.toString(),
            },
          }
        : {}),
    };
  }
}
