/**
 * A look at the lmdb data file before lmdb maps it. lmdb trusts its file: one that is not an
 * lmdb file, or was cut short (a bad copy, a full disk), makes it read past the end of the
 * mapping and the whole process dies of SIGSEGV or SIGBUS, with no error to catch. The two
 * meta pages at the start of the file say enough to refuse those files with a StoreError.
 *
 * Layout read here (lmdb's MDB_page header, then MDB_meta, little-endian as written on x86
 * and ARM): page header 24 bytes; magic u32 at 24; format version u32 at 28; the free-list
 * database's md_pad u32 at 48 holds the page size; the two databases' root pages u64 at 88
 * and 136; the last page in use u64 at 144; the transaction id u64 at 152. Meta page 0 is at
 * offset 0, meta page 1 at offset pageSize; lmdb uses the one with the higher transaction id.
 *
 * This is a sanity check, not a proof: lmdb keeps no checksums, so damage inside the data
 * pages can still crash the process (keep backups of a node's data dir).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StoreError } from './errors.ts';

const MAGIC = 0xbeefc0de;
const FORMAT_VERSION = 2;
const NO_PAGE = 0xffff_ffff_ffff_ffffn;

interface Meta {
  pageSize: number;
  lastPage: bigint;
  txnId: bigint;
  roots: bigint[];
}

function readMeta(page: DataView): Meta | undefined {
  if (page.byteLength < 160) return undefined;
  if (page.getUint32(24, true) !== MAGIC || page.getUint32(28, true) !== FORMAT_VERSION) return undefined;
  return {
    pageSize: page.getUint32(48, true),
    roots: [page.getBigUint64(88, true), page.getBigUint64(136, true)],
    lastPage: page.getBigUint64(144, true),
    txnId: page.getBigUint64(152, true),
  };
}

/** Throws StoreError('corrupt') when `path` exists, is not empty and is not a whole lmdb file. */
export function checkDataFile(dataDir: string, path: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size === 0) return; // absent or empty: lmdb creates it
  const corrupt = (why: string) =>
    new StoreError(
      'corrupt',
      `data file ${path} is not a usable lmdb file (${why}); restore the data dir from a backup or use another one`,
      dataDir,
    );
  const head = new Uint8Array(Math.min(st.size, 2 * 65_536));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const view = (offset: number) =>
    new DataView(head.buffer, offset, Math.max(0, Math.min(4096, head.length - offset)));
  const first = readMeta(view(0));
  if (!first) throw corrupt('no lmdb header');
  const pageSize = first.pageSize;
  if (pageSize < 512 || pageSize > 65_536 || (pageSize & (pageSize - 1)) !== 0)
    throw corrupt(`page size ${pageSize}`);
  if (st.size < 2 * pageSize) throw corrupt(`${st.size} bytes, shorter than its two header pages`);
  const second = readMeta(view(pageSize));
  if (!second) throw corrupt('second header page damaged');
  const meta = second.txnId > first.txnId ? second : first;
  const pagesOnDisk = BigInt(Math.floor(st.size / pageSize));
  if (meta.lastPage + 1n > pagesOnDisk)
    throw corrupt(`cut short: ${pagesOnDisk} pages on disk, ${meta.lastPage + 1n} in use`);
  for (const root of meta.roots) {
    if (root !== NO_PAGE && root > meta.lastPage) throw corrupt(`a database root points past the end`);
  }
}
