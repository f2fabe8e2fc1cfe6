/** Every failure of @lnkit/monitor is a MonitorError with a stable `code`. */
export type MonitorErrorCode =
  /** An update whose id is not the next one: `expected` and `got` say which. */
  | 'update-out-of-order'
  /** An update the monitor cannot apply in its state (a second initial update, a step out of place). */
  | 'invalid-update'
  /** A commitment whose number is not the next one of its side, or a third unrevoked one of theirs. */
  | 'commitment-out-of-order'
  /** A commitment whose txid is not the transaction its outputs make (a caller bug, caught before it is stored). */
  | 'commitment-mismatch'
  /** A revocation secret out of order, inconsistent with the earlier ones, or not the secret of its commitment's point. */
  | 'bad-secret'
  /** A commitment update after the channel was force-closed. */
  | 'channel-closed'
  /** `watchChannel` with a funding outpoint that already has a monitor. */
  | 'duplicate-channel'
  /** No monitor for that funding outpoint. */
  | 'unknown-channel'
  /** The store holds what no sequence of persists makes (an update log without its monitor, a gap in the log). */
  | 'store-inconsistent'
  /** An argument of the wrong shape (lengths, ranges). */
  | 'invalid-argument';

export class MonitorError extends Error {
  override readonly name = 'MonitorError';
  /** For `update-out-of-order`: the update id the monitor expected, and the one it got. */
  readonly expected?: bigint;
  readonly got?: bigint;
  constructor(
    readonly code: MonitorErrorCode,
    message: string,
    ids?: { expected: bigint; got: bigint },
  ) {
    super(message);
    if (ids) {
      this.expected = ids.expected;
      this.got = ids.got;
    }
  }
}

export function checkBytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length)
    throw new MonitorError('invalid-argument', `${what} must be ${length} bytes`);
  return value;
}
