/**
 * The peers the node keeps connections to, remembered in the store (db `peers`, key: node id)
 * so that a restarted node dials them again.
 */
import type { Store } from '@lnkit/store';

const PEERS_DB = 'peers';

export interface PeerAddress {
  host: string;
  port: number;
}

export class PersistentPeers {
  constructor(private readonly store: Store) {}

  list(): { nodeId: string; address: PeerAddress }[] {
    return this.db()
      .entries()
      .map(({ key, value }) => ({ nodeId: String(key), address: value }));
  }

  /** Resolves once durable: a peer the user was told is remembered survives a crash. */
  remember(nodeId: string, address: PeerAddress): Promise<void> {
    return this.db().put(nodeId.toLowerCase(), { host: address.host, port: address.port });
  }

  forget(nodeId: string): Promise<void> {
    return this.db().remove(nodeId.toLowerCase());
  }

  private db() {
    return this.store.db<PeerAddress>(PEERS_DB, 'structured');
  }
}
