/**
 * The data dir's schema (Store.open refuses a newer one naming both versions, and migrates an
 * older one a step at a time through migrateNodeStore).
 *
 *   1  the chain tip and the persistent peers as msgpack ('structured') values
 *   2  the same keys as versioned records (records.ts)
 */
import { type RecordCodec, type Store, StoreError, type StoreOptions } from '@lnkit/store';
import type { Network } from './network.ts';
import { CHAIN_TIP, chainTipRecord, PERSISTENT_PEERS_DB, persistentPeerRecord } from './records.ts';

export const SCHEMA_VERSION = 2;

/** How the node opens its store; a user opening the store for withStore() passes the same. */
export function nodeStoreOptions(network: Network): StoreOptions {
  return { schemaVersion: SCHEMA_VERSION, migrate: migrateNodeStore, network };
}

export async function migrateNodeStore(store: Store, fromVersion: number): Promise<void> {
  try {
    if (fromVersion === 1) return await recordsFromStructured(store);
  } catch (e) {
    const err = e as StoreError;
    throw new StoreError(
      err.code ?? 'schema-too-old',
      `data dir ${store.dataDir}: migrating from schema ${fromVersion} to ${fromVersion + 1} failed: ${err.message}`,
      store.dataDir,
    );
  }
  throw new StoreError(
    'schema-too-old',
    `data dir ${store.dataDir} has schema ${fromVersion}, which this lnkit cannot migrate`,
    store.dataDir,
  );
}

/**
 * Schema 1 to 2: every value rewritten in place as its record, all in one transaction. The
 * store records the new schema in a write of its own once this resolves; if the process dies
 * in between, the next start finds records under schema 1 and keeps them as they are.
 */
async function recordsFromStructured(store: Store): Promise<void> {
  const writes: { db: string; key: string; bytes: Uint8Array }[] = [];
  const tip = toRecord(store, CHAIN_TIP.db, CHAIN_TIP.key, chainTipRecord, isBestBlock);
  if (tip) writes.push({ db: CHAIN_TIP.db, key: CHAIN_TIP.key, bytes: tip });
  for (const { key } of store.db(PERSISTENT_PEERS_DB).entries()) {
    const peer = toRecord(store, PERSISTENT_PEERS_DB, String(key), persistentPeerRecord, isPeerAddress);
    if (peer) writes.push({ db: PERSISTENT_PEERS_DB, key: String(key), bytes: peer });
  }
  await store.transaction((t) => {
    for (const w of writes) t.put(w.db, w.key, w.bytes);
  });
}

/**
 * The record bytes for a schema-1 value, or undefined when there is none or it is a record
 * already. A msgpack value never reads as a record: its first two bytes (0xd4 0x72, or a map
 * or string prefix) would claim a reader version far above any record's.
 */
function toRecord<T>(
  store: Store,
  db: string,
  key: string,
  codec: RecordCodec<T>,
  isOld: (v: unknown) => v is T,
): Uint8Array | undefined {
  const bytes = store.db(db).get(key);
  if (bytes === undefined) return undefined;
  try {
    codec.decode(bytes);
    return undefined;
  } catch {
    // Not a record: the schema-1 value, below.
  }
  let old: unknown;
  try {
    old = store.db(db, 'structured').get(key);
  } catch (e) {
    throw new StoreError(
      'record-malformed',
      `${db}/${key} is neither msgpack nor a ${codec.kind} record: ${(e as Error).message}`,
    );
  }
  if (!isOld(old)) throw new StoreError('record-malformed', `${db}/${key} does not hold a ${codec.kind}`);
  return codec.encode(old);
}

function isBestBlock(v: unknown): v is { hashHex: string; height: number } {
  const o = v as { hashHex?: unknown; height?: unknown } | null;
  return typeof o?.hashHex === 'string' && typeof o.height === 'number';
}

function isPeerAddress(v: unknown): v is { host: string; port: number } {
  const o = v as { host?: unknown; port?: unknown } | null;
  return typeof o?.host === 'string' && typeof o.port === 'number';
}
