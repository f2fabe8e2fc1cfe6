/**
 * The node's storage: one lmdb environment per data dir, with named databases.
 *
 * Durability: a write's promise resolves only after lmdb committed the transaction and
 * the commit was flushed to disk (fsync), so a caller that awaited it may send a message
 * that depends on it (DESIGN.md, the durability rule). Several keys written in one
 * `transaction()` commit atomically: all or none survive a crash.
 */
import { accessSync, constants, mkdirSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, open, type RootDatabase } from 'lmdb';
import { checkDataFile } from './data-file.ts';
import { StoreError } from './errors.ts';
import { writeFailure } from './write-errors.ts';

export type Key = string | number | Uint8Array | (string | number)[];

/** Values are bytes (versioned TLV records) or, for small metadata, structured data. */
export type Encoding = 'binary' | 'structured';

export interface StoreOptions {
  /** The schema version this code writes; an older data dir is migrated, a newer one refused. */
  schemaVersion: number;
  /** Runs once per version step when the data dir's schema is older (from → from + 1). */
  migrate?: (store: Store, fromVersion: number) => Promise<void>;
  /** The network the data dir belongs to; opening it for another network is refused. */
  network?: string;
  mapSizeBytes?: number;
  /**
   * Writes are refused (write-failed, osCode ENOSPC) while the data dir's filesystem has less
   * than this free, before lmdb is asked. lmdb's own path through a commit the disk refuses is
   * not safe to take twice: in lmdb 3.5.6 a second failed commit corrupted the heap and aborted
   * the process (mdb_txn_end after a failed mdb_txn_commit). Kept free, the space also lets the
   * node say what is wrong. Default DEFAULT_MIN_FREE_BYTES; 0: no check.
   */
  minFreeBytes?: number;
}

/** 1 MiB: many commits' worth (a commit writes a few pages), small beside any real disk. */
export const DEFAULT_MIN_FREE_BYTES = 1024 * 1024;

export interface NamedDb<V> {
  readonly name: string;
  get(key: Key): V | undefined;
  /** Resolves once the value is committed and flushed to disk. */
  put(key: Key, value: V): Promise<void>;
  remove(key: Key): Promise<void>;
  /** Keys in order; `start` inclusive, `end` exclusive. */
  entries(range?: { start?: Key; end?: Key; limit?: number }): { key: Key; value: V }[];
  count(): number;
}

/**
 * The outcome of a write (put, remove, transaction), as `onWrite` reports it: a node watches
 * them to know whether its storage works, whichever component wrote.
 */
export type WriteOutcome = { readonly ok: true } | { readonly ok: false; readonly error: StoreError };

const META = '__meta';
const DATA_FILE = 'lnkit.mdb';

/** Maps a file-system error on the data dir to the StoreError a user can act on. */
function dataDirError(dataDir: string, e: unknown): StoreError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
    return new StoreError('read-only', `data dir ${dataDir} is not writable (${code})`, dataDir);
  }
  if (code === 'ENOTDIR') {
    return new StoreError('not-a-directory', `data dir ${dataDir} is under a file, not a directory`, dataDir);
  }
  return new StoreError(
    'cannot-open',
    `data dir ${dataDir} cannot be used: ${(e as Error).message}`,
    dataDir,
  );
}

function checkDataDir(dataDir: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dataDir, { throwIfNoEntry: false });
  } catch (e) {
    throw dataDirError(dataDir, e);
  }
  if (st && !st.isDirectory()) {
    throw new StoreError('not-a-directory', `data dir ${dataDir} exists but is not a directory`, dataDir);
  }
  try {
    if (!st) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.W_OK);
  } catch (e) {
    throw dataDirError(dataDir, e);
  }
}

export class Store {
  private closed = false;
  private readonly dbs = new Map<string, Database>();
  private readonly writeListeners = new Set<(outcome: WriteOutcome) => void>();

  private constructor(
    readonly dataDir: string,
    private readonly env: RootDatabase,
    private readonly minFreeBytes: number,
  ) {}

  /** Opens (creating if needed) the store in `dataDir` and checks its schema version. */
  static async open(dataDir: string, options: StoreOptions): Promise<Store> {
    checkDataDir(dataDir);
    const path = join(dataDir, DATA_FILE);
    try {
      checkDataFile(dataDir, path);
    } catch (e) {
      throw e instanceof StoreError ? e : dataDirError(dataDir, e);
    }
    let env: RootDatabase;
    try {
      env = open({
        path,
        maxDbs: 32,
        ...(options.mapSizeBytes ? { mapSize: options.mapSizeBytes } : {}),
        // A write resolves once flushed to disk, not merely committed.
        overlappingSync: false,
        noSync: false,
        // With event-turn batching, lmdb-js starts each batch with a write of its own whose
        // promise nobody holds: when the commit fails (a full disk) that promise rejects
        // unhandled, which kills a worker thread. Writes still share commits (its default
        // commit delay batches those queued together); only transaction() is atomic anyway.
        eventTurnBatching: false,
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS' || /permission|read-only/i.test((e as Error).message)) {
        throw new StoreError(
          'read-only',
          `data dir ${dataDir} is not writable: ${(e as Error).message}`,
          dataDir,
        );
      }
      throw new StoreError(
        'cannot-open',
        `cannot open the store in ${dataDir}: ${(e as Error).message}`,
        dataDir,
      );
    }
    const store = new Store(dataDir, env, options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES);
    try {
      await store.checkSchema(options);
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  private async checkSchema(options: StoreOptions): Promise<void> {
    const meta = this.db<{ schemaVersion: number; network?: string }>(META, 'structured');
    const found = meta.get('schema');
    if (!found) {
      await meta.put('schema', {
        schemaVersion: options.schemaVersion,
        ...(options.network ? { network: options.network } : {}),
      });
      return;
    }
    if (options.network && found.network && found.network !== options.network) {
      throw new StoreError(
        'wrong-network',
        `data dir ${this.dataDir} belongs to network ${found.network}, not ${options.network}`,
        this.dataDir,
      );
    }
    if (found.schemaVersion > options.schemaVersion) {
      throw new StoreError(
        'schema-too-new',
        `data dir ${this.dataDir} was written by a newer lnkit (schema ${found.schemaVersion}); this lnkit reads schema ${options.schemaVersion} and older. Upgrade lnkit or use another data dir.`,
        this.dataDir,
      );
    }
    for (let v = found.schemaVersion; v < options.schemaVersion; v++) {
      if (!options.migrate) {
        throw new StoreError(
          'schema-too-old',
          `data dir ${this.dataDir} has schema ${found.schemaVersion} and no migration to ${options.schemaVersion} exists`,
          this.dataDir,
        );
      }
      await options.migrate(this, v);
      await meta.put('schema', { ...found, schemaVersion: v + 1 });
    }
  }

  /**
   * Calls `listener` after every write with its outcome (a failure as the StoreError the
   * writer gets). Returns the function that removes it. A listener that throws is ignored.
   */
  onWrite(listener: (outcome: WriteOutcome) => void): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }

  private reportWrite(outcome: WriteOutcome): void {
    for (const listener of this.writeListeners) {
      try {
        listener(outcome);
      } catch {
        // A watcher's fault must not change what the writer is told.
      }
    }
  }

  /**
   * Refuses a write while the filesystem has less than minFreeBytes free (see StoreOptions):
   * lmdb is not asked, so a full disk never reaches its failure path.
   */
  private checkFreeSpace(what: string): void {
    if (this.minFreeBytes <= 0) return;
    let free: number;
    try {
      const fs = statfsSync(this.dataDir);
      free = fs.bavail * fs.bsize;
    } catch {
      return; // a filesystem that cannot say: lmdb's answer decides
    }
    if (free >= this.minFreeBytes) return;
    const error = new StoreError(
      'write-failed',
      `${what} refused: no space left on the device (ENOSPC): ${free} bytes free, under the ${this.minFreeBytes} the store keeps free`,
      this.dataDir,
      'ENOSPC',
    );
    this.reportWrite({ ok: false, error });
    throw error;
  }

  /** The StoreError for a failed lmdb write, with the system's reason (ENOSPC, EIO) when there is one. */
  private async writeFailed(what: string, e: unknown): Promise<StoreError> {
    const { osCode, detail } = await writeFailure(e);
    const error = new StoreError('write-failed', `${what} failed: ${detail}`, this.dataDir, osCode);
    this.reportWrite({ ok: false, error });
    return error;
  }

  /** The schema version stored in the data dir. */
  schemaVersion(): number {
    return this.db<{ schemaVersion: number }>(META, 'structured').get('schema')?.schemaVersion ?? 0;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('closed', `the store in ${this.dataDir} is closed`, this.dataDir);
  }

  private raw(name: string, encoding: Encoding): Database {
    this.assertOpen();
    // One handle per name and encoding: a migration reads a database's old structured values
    // and writes its new records to the same database, through two handles.
    const id = `${encoding}:${name}`;
    let db = this.dbs.get(id);
    if (!db) {
      db = this.env.openDB({ name, encoding: encoding === 'binary' ? 'binary' : 'msgpack' });
      this.dbs.set(id, db);
    }
    return db;
  }

  /** A named database. Binary values by default; 'structured' stores plain objects (msgpack). */
  db<V = Uint8Array>(name: string, encoding: Encoding = 'binary'): NamedDb<V> {
    const db = this.raw(name, encoding);
    // The write is started inside the try: lmdb throws synchronously for some bad writes
    // (a key over its size limit), and that must be a StoreError too.
    const flushed = async (write: () => Promise<boolean>) => {
      this.checkFreeSpace(`write to ${name}`);
      try {
        await write();
        await this.env.flushed;
      } catch (e) {
        throw await this.writeFailed(`write to ${name}`, e);
      }
      this.reportWrite({ ok: true });
    };
    return {
      name,
      get: (key) => {
        this.assertOpen();
        const v = db.get(key as never) as V | undefined;
        return v instanceof Uint8Array ? (new Uint8Array(v) as V) : v;
      },
      put: (key, value) => {
        this.assertOpen();
        return flushed(() => db.put(key as never, value as never));
      },
      remove: (key) => {
        this.assertOpen();
        return flushed(() => db.remove(key as never));
      },
      entries: (range = {}) => {
        this.assertOpen();
        const out: { key: Key; value: V }[] = [];
        for (const { key, value } of db.getRange({
          ...(range.start !== undefined ? { start: range.start as never } : {}),
          ...(range.end !== undefined ? { end: range.end as never } : {}),
          ...(range.limit !== undefined ? { limit: range.limit } : {}),
        })) {
          out.push({
            key: key as Key,
            value: (value instanceof Uint8Array ? new Uint8Array(value) : value) as V,
          });
        }
        return out;
      },
      count: () => {
        this.assertOpen();
        return db.getCount();
      },
    };
  }

  /**
   * Writes several keys, possibly in several databases, atomically: `fn` stages writes
   * through `put`/`remove`, and all of them commit together, durably, or none does.
   */
  async transaction<T>(
    fn: (txn: {
      put(db: string, key: Key, value: unknown, encoding?: Encoding): void;
      remove(db: string, key: Key): void;
    }) => T,
  ): Promise<T> {
    this.assertOpen();
    const staged: (() => void)[] = [];
    // Stage first (opening databases as needed), then apply everything in one write transaction.
    const result = fn({
      put: (db, key, value, encoding = 'binary') => {
        const d = this.raw(db, encoding);
        staged.push(() => d.putSync(key as never, value as never));
      },
      remove: (db, key) => {
        // Keys are encoded alike whatever the values' encoding, so any handle removes.
        const d = this.raw(db, 'binary');
        staged.push(() => d.removeSync(key as never));
      },
    });
    this.checkFreeSpace('transaction');
    try {
      // lmdb's async transaction() commits whatever was written before its callback threw, so
      // a write that fails half-way (a key over lmdb's size limit, say) would leave the first
      // keys committed. A child transaction is aborted as a whole when its callback throws.
      await this.env.transaction(() =>
        this.env.childTransaction(() => {
          for (const apply of staged) apply();
        }),
      );
      await this.env.flushed;
    } catch (e) {
      throw await this.writeFailed('transaction', e);
    }
    this.reportWrite({ ok: true });
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
  }
}
