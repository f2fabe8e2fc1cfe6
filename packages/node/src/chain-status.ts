/** Where the node stands against the chain beyond its durable tip: caught up or not. */
export class ChainStatus {
  synced = false;
}
