/** Every failure of this package is a PeerNetError with a stable `code`. Messages never carry key bytes. */
export type PeerNetErrorCode =
  /** BOLT 8: an act shorter than its fixed size (the connection closed mid-act). */
  | 'handshake-short-read'
  /** BOLT 8: the act's version byte is not 0. */
  | 'handshake-bad-version'
  /** BOLT 8: the act carries a public key that does not parse. */
  | 'handshake-bad-pubkey'
  /** BOLT 8: an act's MAC does not verify. */
  | 'handshake-bad-tag'
  /** BOLT 8 act three: the encrypted static key does not decrypt. */
  | 'handshake-bad-ciphertext'
  /** A handshake step called out of order. */
  | 'handshake-state'
  /** BOLT 8: a transport message's length or body MAC does not verify. */
  | 'bad-mac'
  /** More than 65535 bytes of message, or a frame larger than allowed. */
  | 'message-too-long'
  /** BOLT 1: a message that does not decode, or an unknown even type. */
  | 'protocol'
  /** BOLT 1: the peer requires a feature lnkit does not know. */
  | 'feature-mismatch'
  | 'timeout'
  /** BOLT 1 ping flood: far more pings than this node answers, sent before their pongs could go. */
  | 'ping-flood'
  /** The peer read nothing for `sendStallTimeoutMs` while messages for it waited. */
  | 'send-stalled'
  | 'connect-failed'
  | 'wrong-node-id'
  | 'not-connected'
  | 'queue-full'
  | 'disconnected'
  | 'closed'
  | 'invalid-argument';

export class PeerNetError extends Error {
  override readonly name = 'PeerNetError';
  constructor(
    readonly code: PeerNetErrorCode,
    message: string,
  ) {
    super(message);
  }
}
