/** Latency percentiles and the size of a data dir (and its payment databases), for the payments bench. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nodeStoreOptions } from '@lnkit/node';
import { Store } from '@lnkit/store';

/** The nearest-rank percentile `p` (0–100) of `values`, or NaN if there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface DirSize {
  /** The files' lengths added up (an lmdb file's length is its map's high-water mark). */
  bytes: number;
  /** What the disk gives them (allocated blocks). */
  diskBytes: number;
  files: number;
}

/** Every file under `dir`, recursively. */
export function dirSize(dir: string): DirSize {
  const total: DirSize = { bytes: 0, diskBytes: 0, files: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = dirSize(path);
      total.bytes += sub.bytes;
      total.diskBytes += sub.diskBytes;
      total.files += sub.files;
    } else if (entry.isFile()) {
      const s = statSync(path);
      total.bytes += s.size;
      total.diskBytes += s.blocks * 512;
      total.files++;
    }
  }
  return total;
}

/** The databases of a node's store a payment writes to. */
export const PAYMENT_DBS = ['payments', 'events', 'monitors', 'channel-monitor-updates', 'channel-manager'];

/** Entries and bytes (keys and values) of each of `names` in the stopped node's store at `dataDir`. */
export async function dbBreakdown(
  dataDir: string,
  names: readonly string[] = PAYMENT_DBS,
): Promise<Record<string, { entries: number; bytes: number }>> {
  const store = await Store.open(dataDir, nodeStoreOptions('regtest'));
  try {
    const out: Record<string, { entries: number; bytes: number }> = {};
    for (const name of names) {
      let bytes = 0;
      const entries = store.db(name).entries();
      for (const { key, value } of entries)
        bytes += (key instanceof Uint8Array ? key.length : String(key).length) + value.length;
      out[name] = { entries: entries.length, bytes };
    }
    return out;
  } finally {
    await store.close();
  }
}
