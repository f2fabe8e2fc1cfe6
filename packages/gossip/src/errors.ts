/** Every failure of the gossip package is a GossipError with a stable `code`. */
export type GossipErrorCode =
  | 'invalid-argument' // a caller's mistake (an index never used, a bad node id)
  | 'unknown-chain' // a message for a chain this graph is not of
  | 'store-failed' // the graph could not be written or read back
  | 'closed' // the gossip sync was stopped
  | 'no-route' // no path admits the amount (htlc limits, capacities, hops), or none reaches the payer
  | 'route-fee-limit' // paths exist, but every one costs more than the query's fee limit
  | 'route-cltv-limit'; // paths exist, but every one needs more CLTV than the query's limit

export class GossipError extends Error {
  override readonly name = 'GossipError';
  constructor(
    readonly code: GossipErrorCode,
    message: string,
  ) {
    super(message);
  }
}
