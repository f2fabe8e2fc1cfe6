/** Every failure of the gossip package is a GossipError with a stable `code`. */
export type GossipErrorCode =
  | 'invalid-argument' // a caller's mistake (an index never used, a bad node id)
  | 'unknown-chain' // a message for a chain this graph is not of
  | 'store-failed' // the graph could not be written or read back
  | 'closed'; // the gossip sync was stopped

export class GossipError extends Error {
  override readonly name = 'GossipError';
  constructor(
    readonly code: GossipErrorCode,
    message: string,
  ) {
    super(message);
  }
}
