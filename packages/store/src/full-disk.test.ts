/**
 * A full disk under the store, on a small tmpfs: the store refuses writes while less than
 * minFreeBytes are free, before lmdb is asked (write-failed, ENOSPC); a write lmdb itself finds
 * no room for is the same StoreError with the system's code, never an unhandled rejection
 * (which would kill a worker thread); and the store writes again once space is freed.
 * Mounting needs root (or CAP_SYS_ADMIN); elsewhere the test is skipped, saying so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Store, StoreError, type WriteOutcome } from './index.ts';

const mountPoint = mkdtempSync(join(tmpdir(), 'lnkit-store-full-'));
let mounted: string | undefined;

before(() => {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mountPoint], {
    encoding: 'utf8',
  });
  if (r.status === 0) mounted = mountPoint;
  else console.log(`# cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()}): skipping`);
});

after(() => {
  if (mounted) spawnSync('umount', [mounted]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Writes zeros to `path` until the filesystem is full. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

test('the store keeps space free: a write is refused before lmdb while less is free, and goes through once it is', async (t) => {
  if (!mounted) return t.skip('mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)');
  const dataDir = join(mounted, 'reserve');
  mkdirSync(dataDir);
  const store = await Store.open(dataDir, { schemaVersion: 1, minFreeBytes: 256 * 1024 });
  const outcomes: WriteOutcome[] = [];
  store.onWrite((o) => outcomes.push(o));
  try {
    const db = store.db('meta');
    for (let i = 0; i < 20; i++) await db.put('tip', new Uint8Array(40).fill(i));
    fill(join(mounted, 'filler'));
    const sizeBefore = statSync(join(dataDir, 'lnkit.mdb')).size;
    // lmdb would take this one (it reuses its free pages): the store refuses it all the same.
    for (const write of [
      () => db.put('tip', new Uint8Array(40)),
      () => store.transaction((txn) => txn.put('meta', 'tip', new Uint8Array(40))),
    ]) {
      await assert.rejects(
        write(),
        (e: unknown) =>
          e instanceof StoreError &&
          e.code === 'write-failed' &&
          e.osCode === 'ENOSPC' &&
          /refused: no space left on the device \(ENOSPC\): \d+ bytes free, under the 262144/.test(e.message),
      );
    }
    assert.equal(statSync(join(dataDir, 'lnkit.mdb')).size, sizeBefore, 'lmdb was not asked');
    assert.deepEqual(db.get('tip'), new Uint8Array(40).fill(19));
    rmSync(join(mounted, 'filler'));
    await db.put('tip', new Uint8Array(40).fill(99));
    assert.deepEqual(db.get('tip'), new Uint8Array(40).fill(99));
    assert.deepEqual(
      outcomes.slice(-3).map((o) => (o.ok ? 'ok' : o.error.osCode)),
      ['ENOSPC', 'ENOSPC', 'ok'],
    );
  } finally {
    await store.close();
  }
});

test('a write lmdb finds no room for is write-failed with ENOSPC, never an unhandled rejection, and writes resume once space is freed', async (t) => {
  if (!mounted) return t.skip('mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)');
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const dataDir = join(mounted, 'node');
  mkdirSync(dataDir);
  // No space kept free: lmdb itself meets the full disk.
  const store = await Store.open(dataDir, { schemaVersion: 1, minFreeBytes: 0 });
  const outcomes: WriteOutcome[] = [];
  store.onWrite((o) => outcomes.push(o));
  try {
    const db = store.db('meta');
    await db.put('before', new Uint8Array(8));
    fill(join(mounted, 'filler'));
    for (const write of [
      () => db.put('big', new Uint8Array(200_000)),
      () => db.put('small', new Uint8Array(8)),
      () => store.transaction((txn) => txn.put('meta', 'txn', new Uint8Array(200_000))),
    ]) {
      await assert.rejects(
        write(),
        (e: unknown) =>
          e instanceof StoreError &&
          e.code === 'write-failed' &&
          (e.osCode === 'ENOSPC' || e.osCode === 'EIO') &&
          /no space left on the device \(ENOSPC\)|an I\/O error/.test(e.message),
      );
    }
    // Unhandled rejections are reported once the microtask queue has drained.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, [], 'no promise left rejected unhandled');
    rmSync(join(mounted, 'filler'));
    await db.put('after', new Uint8Array(1000));
    assert.equal(db.get('after')?.length, 1000);
    assert.equal(db.get('before')?.length, 8, 'what was durable before the disk filled is still there');
    assert.equal(db.get('big'), undefined, 'a refused write left nothing behind');
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
      ['ok', 'write-failed', 'write-failed', 'write-failed', 'ok'],
      'each write reported to the watcher, the refused ones as the writer saw them',
    );
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await store.close();
  }
});

test('a listener learns the outcome of every write, and one that throws changes nothing for the writer', async () => {
  const store = await Store.open(join(mountPoint, 'plain'), { schemaVersion: 1 });
  try {
    const seen: string[] = [];
    store.onWrite(() => {
      throw new Error('a broken watcher');
    });
    const off = store.onWrite((o) => seen.push(o.ok ? 'ok' : o.error.code));
    await store.db('a').put('k', new Uint8Array(1));
    await assert.rejects(store.db('a').put('k'.repeat(2000), new Uint8Array(1)), /write-failed|failed/);
    await store.transaction((txn) => txn.put('a', 'j', new Uint8Array(1)));
    off();
    await store.db('a').put('x', new Uint8Array(1));
    assert.deepEqual(seen, ['ok', 'write-failed', 'ok']);
  } finally {
    await store.close();
  }
});
