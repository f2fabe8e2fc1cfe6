/**
 * The node's own persisted records (DESIGN.md: versioned TLV records, even = required, odd =
 * optional), declared once here with the database and key each lives under. How to change one
 * without breaking older data dirs: packages/store/README.md, "The rules".
 */
import type { BestBlock } from '@lnkit/chain-sync';
import { defineRecord, fieldCodec as f } from '@lnkit/store';

/** The best block the node has processed (tip-listener.ts): db `meta`, key `chain-tip`. */
export const CHAIN_TIP = { db: 'meta', key: 'chain-tip' } as const;

export const chainTipRecord = defineRecord<BestBlock>({
  kind: 'chain-tip',
  version: 1,
  minReadVersion: 1,
  fields: {
    height: { type: 0, codec: f.u32 },
    /** Display order, as bitcoind shows it (BlockSource's byte order). */
    hashHex: { type: 2, codec: f.hex(32) },
  },
});

/**
 * The node this data dir belongs to (steps/07-keys.ts): db `meta`, key `node-id`, written at
 * the first start, when the seed is made; a data dir from before it gets it at its first start
 * with this code, with the seed it had. A start whose seed gives another node id is refused.
 */
export const NODE_ID = { db: 'meta', key: 'node-id' } as const;

export interface NodeIdentity {
  /** Hex of the 33-byte node public key. */
  nodeId: string;
}

export const nodeIdentityRecord = defineRecord<NodeIdentity>({
  kind: 'node-identity',
  version: 1,
  minReadVersion: 1,
  fields: {
    nodeId: { type: 0, codec: f.hex(33) },
  },
});

/** A peer the node redials after a drop or a restart (persistent-peers.ts): db `peers`, key its node id. */
export const PERSISTENT_PEERS_DB = 'peers';

export interface PeerAddress {
  host: string;
  port: number;
}

export const persistentPeerRecord = defineRecord<PeerAddress>({
  kind: 'persistent-peer',
  version: 1,
  minReadVersion: 1,
  fields: {
    /** A host name, IPv4 or IPv6 address (without brackets), as the user gave it. */
    host: { type: 0, codec: f.utf8 },
    port: { type: 2, codec: f.u16 },
  },
});

/**
 * The durable event log (event-log.ts, guide step 16): db `events`, key the event's `seq` (a
 * number, so lmdb keeps them in order). An event is written before anything is told of it, and
 * stays until handled; the last handled ones stay for replay (server-sent events' Last-Event-ID).
 */
export const EVENTS_DB = 'events';

export interface StoredNodeEvent {
  seq: number;
  /** ISO 8601 time of writing. */
  at: string;
  kind: string;
  /**
   * The event's fields as JSON text of a flat object (strings, numbers, booleans, null): each
   * kind has its own fields, and a new field must not need a new record version.
   */
  dataJson: string;
  handled: boolean;
}

export const nodeEventRecord = defineRecord<StoredNodeEvent>({
  kind: 'node-event',
  version: 1,
  minReadVersion: 1,
  fields: {
    seq: { type: 0, codec: f.u32 },
    at: { type: 2, codec: f.utf8 },
    kind: { type: 4, codec: f.utf8 },
    dataJson: { type: 6, codec: f.utf8 },
    handled: { type: 8, codec: f.bool },
  },
});
