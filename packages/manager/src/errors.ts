/** Every failure of @lnkit/manager is a ManagerError with a stable `code`. */
export type ManagerErrorCode =
  /** A caller's argument is wrong (an amount out of range, a bad node id, an unknown option). */
  | 'invalid-argument'
  /** The peer is not connected, or not known. */
  | 'peer-not-connected'
  /** The peer did not offer a feature the request needs (anchors, large channels). */
  | 'feature-not-negotiated'
  /** No channel with that id. */
  | 'unknown-channel'
  /** The wallet could not fund the channel (too little money, no confirmed coins). */
  | 'funding-failed'
  /** The channel was refused or failed during establishment (the message says by whom and why). */
  | 'channel-failed'
  /** No HTLC held by the interceptor with that id. */
  | 'unknown-htlc'
  /** A payment found no route to its payee over the graph (the message says why). */
  | 'no-route'
  /** The manager is stopped. */
  | 'closed';

export class ManagerError extends Error {
  override readonly name = 'ManagerError';
  constructor(
    readonly code: ManagerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
