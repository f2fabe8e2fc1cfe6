/**
 * The peers the node keeps connections to, remembered in the store as records (records.ts) so
 * that a restarted node dials them again.
 */
import { type NamedDb, recordDb, type Store } from '@lnkit/store';
import { PERSISTENT_PEERS_DB, type PeerAddress, persistentPeerRecord } from './records.ts';

export type { PeerAddress };

export class PersistentPeers {
  private readonly db: NamedDb<PeerAddress>;

  constructor(store: Store) {
    this.db = recordDb(store.db(PERSISTENT_PEERS_DB), persistentPeerRecord);
  }

  /** Throws StoreError record-too-new for a peer written by a newer lnkit in a form this one cannot read. */
  list(): { nodeId: string; address: PeerAddress }[] {
    return this.db.entries().map(({ key, value }) => ({ nodeId: String(key), address: value }));
  }

  /** Resolves once durable: a peer the user was told is remembered survives a crash. */
  remember(nodeId: string, address: PeerAddress): Promise<void> {
    return this.db.put(nodeId.toLowerCase(), { host: address.host, port: address.port });
  }

  forget(nodeId: string): Promise<void> {
    return this.db.remove(nodeId.toLowerCase());
  }
}
