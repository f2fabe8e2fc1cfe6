/**
 * Every failure of @lnkit/onion is an OnionError with a stable `code`.
 *
 * An error about an onion that came from a peer also carries `failure`: the BOLT 4 failure the
 * processing hop must send back, and `reply`, how: `'malformed'` is an update_fail_malformed_htlc
 * (the hop could not derive the shared secret the sender meant, or it sits inside a blinded
 * route), `'fail'` an update_fail_htlc whose reason is `createFailurePacket(sharedSecret, failure)`.
 * For `'fail'`, the shared secret is on the error as a non-enumerable property, so it is there
 * for the reply but not in logs, `util.inspect` or JSON. Messages never carry payload bytes.
 */
import type { FailureMessage } from './failure-messages.ts';

export type OnionErrorCode =
  // ---- An onion from a peer (each carries `failure`) ----
  /** BOLT 4: the version byte is not 0. */
  | 'invalid-onion-version'
  /** BOLT 4: the ephemeral public key is not a valid point. */
  | 'invalid-onion-key'
  /** BOLT 4: the HMAC does not match (tampered, or not for this node / payment hash). */
  | 'invalid-onion-hmac'
  /** BOLT 4: the hop payload is not a valid TLV stream or breaks the payload rules. */
  | 'invalid-onion-payload'
  /** BOLT 4: something is wrong inside a blinded route (every such error is reported so). */
  | 'invalid-onion-blinding'
  /** BOLT 4: a final hop got an HTLC expiring before the onion's outgoing_cltv_value. */
  | 'final-incorrect-cltv-expiry'
  /** BOLT 4: a final hop got less than the onion's amt_to_forward. */
  | 'final-incorrect-htlc-amount'
  /** The node's ECDH (the signer) failed for a reason that is not the peer's: temporary_node_failure. */
  | 'ecdh-failed'
  // ---- The caller's own input ----
  /** An argument has the wrong type, length or range. */
  | 'invalid-argument'
  /** The route's payloads do not fit in the packet. */
  | 'route-too-long'
  // ---- A failure coming back to the origin ----
  /** No hop's HMAC matches the returned failure packet: it cannot be attributed. */
  | 'unattributable-failure'
  /** A failure message (failuremsg) that is shorter than its code's data. */
  | 'invalid-failure-message'
  /** update_fail_malformed_htlc whose failure_code lacks the BADONION bit (BOLT 2: fail the channel). */
  | 'invalid-malformed-failure';

export type FailureReply = 'malformed' | 'fail';

export class OnionError extends Error {
  override readonly name = 'OnionError';
  /** For an onion from a peer: the failure to return. */
  readonly failure: FailureMessage | undefined;
  /** For an onion from a peer: update_fail_malformed_htlc or update_fail_htlc. */
  readonly reply: FailureReply | undefined;
  /** The hop's shared secret, for a `'fail'` reply (non-enumerable). */
  declare readonly sharedSecret: Uint8Array | undefined;

  constructor(
    readonly code: OnionErrorCode,
    message: string,
    peer?: { failure: FailureMessage; reply: FailureReply; sharedSecret?: Uint8Array },
  ) {
    super(message);
    this.failure = peer?.failure;
    this.reply = peer?.reply;
    Object.defineProperty(this, 'sharedSecret', { value: peer?.sharedSecret, enumerable: false });
  }
}

export function invalidArgument(message: string): OnionError {
  return new OnionError('invalid-argument', message);
}

export function checkBytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidArgument(`${what} must be a Uint8Array`);
  if (value.length !== length) throw invalidArgument(`${what} must be ${length} bytes, got ${value.length}`);
  return value;
}

export function checkUint(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw invalidArgument(`${what} must be an integer from 0 to ${max}`);
  return value;
}

export function checkUint64(value: unknown, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > 0xffff_ffff_ffff_ffffn)
    throw invalidArgument(`${what} must be a bigint from 0 to 2^64-1`);
  return value;
}
