export type NodeErrorCode =
  | 'invalid-config'
  | 'wrong-chain'
  | 'chain-unreachable'
  | 'listen-failed'
  | 'not-running'
  | 'invalid-argument'
  | 'peer-error'
  /** keys_seed is missing from a data dir that already belongs to a node: no new seed is made over it. */
  | 'seed-missing'
  /** keys_seed gives another node id than the one the data dir belongs to. */
  | 'seed-mismatch'
  /** The data dir's storage refuses writes (a full disk, an I/O error): what needs a durable write waits. */
  | 'storage-unavailable'
  /** openChannel: the peer is not connected (connect first; the channel is opened over the connection). */
  | 'peer-not-connected'
  /** openChannel: the wallet cannot pay the funding amount and its fee (the message gives both). */
  | 'insufficient-funds'
  /** The peer refused the channel, or it failed before its funding went out (the message says why). */
  | 'channel-failed'
  /** closeChannel: the node has no open channel with that id. */
  | 'unknown-channel'
  /** A payment found no route to its payee (the message says why). */
  | 'no-route'
  /** No HTLC held by the interceptor with that id. */
  | 'unknown-htlc';

/** Failures of the node as a whole; `code` is stable, the message names what is wrong. */
export class NodeError extends Error {
  override readonly name = 'NodeError';
  constructor(
    readonly code: NodeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
