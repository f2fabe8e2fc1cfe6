export type NodeErrorCode =
  | 'invalid-config'
  | 'wrong-chain'
  | 'chain-unreachable'
  | 'listen-failed'
  | 'not-running'
  | 'invalid-argument'
  | 'peer-error';

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
