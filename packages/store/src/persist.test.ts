import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  defineRecord,
  fieldCodec,
  isCompleted,
  isFailed,
  isInProgress,
  PersistStatus,
  persistPut,
  persistWith,
  recordDb,
  Store,
  StoreError,
} from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-persist-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('the three answers and their guards', () => {
  const all = [PersistStatus.completed(), PersistStatus.inProgress(), PersistStatus.failed('disk full')];
  assert.deepEqual(
    all.map((s) => [isCompleted(s), isInProgress(s), isFailed(s)]),
    [
      [true, false, false],
      [false, true, false],
      [false, false, true],
    ],
  );
  const failed = all[2] as PersistStatus;
  assert.ok(isFailed(failed));
  assert.equal(failed.reason, 'disk full');
  assert.ok(Object.isFrozen(PersistStatus.completed()), 'a shared answer cannot be changed by one caller');
});

test('persistWith: completed once the write resolved, failed with the reason when it did not', async () => {
  let written = false;
  const ok = await persistWith(async () => {
    await Promise.resolve();
    written = true;
  });
  assert.ok(isCompleted(ok));
  assert.ok(written, 'completed only after the write finished');
  const rejected = await persistWith(() =>
    Promise.reject(new StoreError('write-failed', 'write to monitors failed: EIO')),
  );
  assert.deepEqual(rejected, { status: 'failed', reason: 'write to monitors failed: EIO' });
  // A write that throws before returning a promise is a failure too, not an exception.
  const thrown = await persistWith(() => {
    throw new StoreError('closed', 'the store is closed');
  });
  assert.deepEqual(thrown, { status: 'failed', reason: 'the store is closed' });
});

test('persistPut on a store: completed is on disk; a refused write, a closed store or a bad record is failed', async () => {
  const dir = join(root, 'a');
  let store = await Store.open(dir, { schemaVersion: 1 });
  const db = store.db('monitors');
  assert.ok(isCompleted(await persistPut(db, 'k', Uint8Array.of(1, 2))));
  // lmdb refuses a key over 1978 bytes.
  const refused = await persistPut(db, 'k'.repeat(2000), Uint8Array.of(1));
  assert.ok(isFailed(refused));
  assert.match(refused.reason, /write to monitors failed/);
  // A value its record codec refuses never reaches the disk.
  const tips = recordDb(
    db,
    defineRecord<{ height: number }>({
      kind: 'chain-tip',
      version: 1,
      minReadVersion: 1,
      fields: { height: { type: 0, codec: fieldCodec.u32 } },
    }),
  );
  const bad = await persistPut(tips, 'tip', { height: -1 });
  assert.ok(isFailed(bad));
  assert.match(bad.reason, /chain-tip record: field height/);
  assert.equal(db.get('tip'), undefined);
  await store.close();
  const closed = await persistPut(db, 'k2', Uint8Array.of(3));
  assert.ok(isFailed(closed));
  assert.match(closed.reason, /closed/);

  store = await Store.open(dir, { schemaVersion: 1 });
  try {
    assert.deepEqual(store.db('monitors').get('k'), Uint8Array.of(1, 2));
    assert.equal(store.db('monitors').get('k2'), undefined);
  } finally {
    await store.close();
  }
});
