/**
 * MonitorStore: the default MonitorPersister, on the node's lmdb store (DESIGN.md "Storage":
 * the `monitors` database, "one record per channel, full monitor + update log, compacted").
 *
 * Layout, in the `monitors` database; lmdb orders array keys element by element, so each
 * channel's records sit together, the full record first and the log in update order:
 *
 *   [fundingKey, 0]          channel-monitor record (the whole monitor)
 *   [fundingKey, updateId]   channel-monitor-update record (the log)
 *
 * (`fundingKey` is `<funding txid, display order>:<vout>`.)
 *
 * An update is one durable write of its log entry. Every `compactEvery` updates (or when the log
 * passes `compactBytes`) the whole monitor is written instead and the log removed, in one store
 * transaction, so a crash leaves either the old full record and its log or the new full record
 * alone. `readAll` rebuilds each monitor from its full record and the log after it.
 */
import {
  isCompleted,
  type NamedDb,
  type PersistStatus,
  persistWith,
  type Store,
  StoreError,
} from '@lnkit/store';
import { MonitorError } from './errors.ts';
import { applyMonitorUpdate } from './monitor.ts';
import type { MonitorPersister } from './persister.ts';
import { decodeMonitor, decodeMonitorUpdate, encodeMonitor, encodeMonitorUpdate } from './records.ts';
import type { ChannelMonitor, ChannelMonitorUpdate, FundingKey } from './types.ts';

export const MONITORS_DB = 'monitors';
/** Archived monitors (archivePersistedChannel): `fundingKey` → the whole monitor, never read at start. */
export const ARCHIVED_MONITORS_DB = 'archived-monitors';

/** What the MonitorStore needs of a Store: a binary named database and atomic transactions. */
export type MonitorKv = Pick<Store, 'db' | 'transaction'>;

export interface MonitorStoreOptions {
  /** Compact after this many logged updates (default 32). */
  compactEvery?: number;
  /** Compact once the log of a channel holds this many bytes (default 256 KiB). */
  compactBytes?: number;
}

type MonitorKey = [FundingKey, number];

/** Update ids stay far below 2^53 (one per commitment step), so they are exact as numbers. */
function keyOf(fundingKey: FundingKey, updateId: bigint): MonitorKey {
  return [fundingKey, Number(updateId)];
}

function isMonitorKey(k: unknown): k is MonitorKey {
  return (
    Array.isArray(k) &&
    k.length === 2 &&
    typeof k[0] === 'string' &&
    Number.isSafeInteger(k[1]) &&
    (k[1] as number) >= 0
  );
}

interface LogState {
  ids: bigint[];
  bytes: number;
}

export class MonitorStore implements MonitorPersister {
  readonly #kv: MonitorKv;
  readonly #db: NamedDb<Uint8Array>;
  readonly #compactEvery: number;
  readonly #compactBytes: number;
  /** Each channel's log as this store knows it: filled by readAll, or read on first write. */
  readonly #logs = new Map<FundingKey, LogState>();

  constructor(kv: MonitorKv, options: MonitorStoreOptions = {}) {
    this.#kv = kv;
    this.#db = kv.db(MONITORS_DB);
    this.#compactEvery = options.compactEvery ?? 32;
    this.#compactBytes = options.compactBytes ?? 256 * 1024;
  }

  persistNewChannel(monitor: ChannelMonitor): Promise<PersistStatus> {
    return this.#writeFull(monitor);
  }

  async updatePersistedChannel(
    monitor: ChannelMonitor,
    update?: ChannelMonitorUpdate,
  ): Promise<PersistStatus> {
    if (!update) return this.#writeFull(monitor);
    let bytes: Uint8Array;
    try {
      bytes = encodeMonitorUpdate(update);
    } catch (e) {
      return persistWith(() => Promise.reject(e));
    }
    const log = this.#log(monitor);
    if (log.ids.length + 1 >= this.#compactEvery || log.bytes + bytes.length >= this.#compactBytes)
      return this.#writeFull(monitor);
    const key = keyOf(monitor.fundingKey, update.updateId);
    const status = await persistWith(() => this.#kv.transaction((t) => t.put(MONITORS_DB, key, bytes)));
    if (isCompleted(status)) {
      log.ids.push(update.updateId);
      log.bytes += bytes.length;
    }
    return status;
  }

  /** The whole monitor written and its log removed, atomically. */
  async #writeFull(monitor: ChannelMonitor): Promise<PersistStatus> {
    const { fundingKey } = monitor;
    const log = this.#log(monitor);
    const status = await persistWith(() => {
      const bytes = encodeMonitor(monitor);
      return this.#kv.transaction((t) => {
        t.put(MONITORS_DB, keyOf(fundingKey, 0n), bytes);
        for (const id of log.ids) t.remove(MONITORS_DB, keyOf(fundingKey, id));
      });
    });
    if (isCompleted(status)) this.#logs.set(monitor.fundingKey, { ids: [], bytes: 0 });
    return status;
  }

  /** The whole monitor into the archive and its records out of `monitors`, in one transaction. */
  async archivePersistedChannel(monitor: ChannelMonitor): Promise<PersistStatus> {
    const { fundingKey } = monitor;
    const keys = this.#db
      .entries({ start: keyOf(fundingKey, 0n), end: [fundingKey, Number.MAX_SAFE_INTEGER] })
      .map((e) => e.key);
    const status = await persistWith(() => {
      const bytes = encodeMonitor(monitor);
      return this.#kv.transaction((t) => {
        t.put(ARCHIVED_MONITORS_DB, fundingKey, bytes);
        for (const key of keys) t.remove(MONITORS_DB, key as MonitorKey);
      });
    });
    if (isCompleted(status)) this.#logs.delete(fundingKey);
    return status;
  }

  /** An archived monitor, for the record (undefined if none). */
  archived(fundingKey: FundingKey): ChannelMonitor | undefined {
    const bytes = this.#kv.db(ARCHIVED_MONITORS_DB).get(fundingKey);
    return bytes ? decodeMonitor(bytes) : undefined;
  }

  #log(monitor: ChannelMonitor): LogState {
    let log = this.#logs.get(monitor.fundingKey);
    if (!log) {
      const { fundingKey } = monitor;
      const entries = this.#db.entries({
        start: keyOf(fundingKey, 1n),
        end: [fundingKey, Number.MAX_SAFE_INTEGER],
      });
      log = {
        ids: entries.map((e) => BigInt((e.key as MonitorKey)[1])),
        bytes: entries.reduce((n, e) => n + e.value.length, 0),
      };
      this.#logs.set(monitor.fundingKey, log);
    }
    return log;
  }

  /**
   * Every monitor, from its full record and the log after it. A record this lnkit cannot read
   * (written by a newer one, or damaged) is a StoreError naming the channel, the record kind
   * and both versions; a log that does not follow its monitor is `store-inconsistent`.
   */
  async readAll(): Promise<ChannelMonitor[]> {
    const out: ChannelMonitor[] = [];
    let current: { monitor: ChannelMonitor; log: LogState } | undefined;
    const finish = () => {
      if (!current) return;
      out.push(current.monitor);
      this.#logs.set(current.monitor.fundingKey, current.log);
      current = undefined;
    };
    for (const { key, value } of this.#db.entries()) {
      if (!isMonitorKey(key))
        throw new MonitorError(
          'store-inconsistent',
          `the ${MONITORS_DB} database holds a key that is not a monitor's`,
        );
      const [fundingKey, id] = key;
      const updateId = BigInt(id);
      const where = `monitor ${fundingKey}`;
      if (updateId === 0n) {
        finish();
        const monitor = named(where, () => decodeMonitor(value));
        if (monitor.fundingKey !== fundingKey)
          throw new MonitorError('store-inconsistent', `${where} holds the monitor of ${monitor.fundingKey}`);
        current = { monitor, log: { ids: [], bytes: 0 } };
        continue;
      }
      if (current?.monitor.fundingKey !== fundingKey)
        throw new MonitorError(
          'store-inconsistent',
          `${where}: update ${updateId} is logged without its monitor`,
        );
      current.log.ids.push(updateId);
      current.log.bytes += value.length;
      // An entry at or below the full record's id was already folded in by a compaction that
      // could not remove it; it changes nothing.
      if (updateId <= current.monitor.latestUpdateId) continue;
      const update = named(where, () => decodeMonitorUpdate(value));
      try {
        current.monitor = applyMonitorUpdate(current.monitor, update);
      } catch (e) {
        if (e instanceof MonitorError)
          throw new MonitorError(
            'store-inconsistent',
            `${where}: logged update ${updateId} does not apply: ${e.message}`,
          );
        throw e;
      }
    }
    finish();
    return out;
  }
}

/** Store errors keep their code (record-too-new, record-malformed, …) and gain the channel. */
function named<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof StoreError) throw new StoreError(e.code, `${where}: ${e.message}`);
    throw e;
  }
}
