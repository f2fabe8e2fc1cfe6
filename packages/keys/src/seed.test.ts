import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KeysError } from './errors.ts';
import { createSeed, loadOrCreateSeed, readSeed, SEED_FILE_NAME } from './seed.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-keys-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};

test('creates a 32-byte seed with mode 0600 and reuses it on restart', () => {
  const dir = freshDir();
  const first = loadOrCreateSeed(dir);
  assert.equal(first.created, true);
  assert.equal(first.seed.length, 32);
  const st = statSync(join(dir, SEED_FILE_NAME));
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.size, 32);
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, SEED_FILE_NAME))), first.seed);
  const second = loadOrCreateSeed(dir);
  assert.equal(second.created, false);
  assert.deepEqual(second.seed, first.seed);
  // Two data dirs get two different seeds (the random source is used).
  assert.notDeepEqual(loadOrCreateSeed(freshDir()).seed, first.seed);
});

for (const length of [0, 31, 33, 64]) {
  test(`a ${length}-byte seed file is a typed error and is left untouched`, () => {
    const dir = freshDir();
    const bytes = new Uint8Array(length).fill(0xab);
    writeFileSync(join(dir, SEED_FILE_NAME), bytes);
    assert.throws(
      () => loadOrCreateSeed(dir),
      (e: unknown) => e instanceof KeysError && e.code === 'seed-wrong-length' && !/abab/i.test(e.message),
    );
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, SEED_FILE_NAME))), bytes);
  });
}

test('an unreadable seed is a typed error, never a new seed', () => {
  const dir = freshDir();
  mkdirSync(join(dir, SEED_FILE_NAME)); // a directory where the file should be
  assert.throws(
    () => loadOrCreateSeed(dir),
    (e: unknown) => e instanceof KeysError && e.code === 'seed-unreadable',
  );
  if (process.getuid?.() !== 0) {
    const dir2 = freshDir();
    writeFileSync(join(dir2, SEED_FILE_NAME), new Uint8Array(32).fill(7), { mode: 0o600 });
    chmodSync(join(dir2, SEED_FILE_NAME), 0o000);
    assert.throws(
      () => loadOrCreateSeed(dir2),
      (e: unknown) => e instanceof KeysError && e.code === 'seed-unreadable',
    );
  }
});

test('readSeed never creates a seed, and createSeed never replaces one', () => {
  const dir = freshDir();
  assert.equal(readSeed(dir), undefined);
  assert.equal(existsSync(join(dir, SEED_FILE_NAME)), false, 'reading a missing seed writes nothing');
  const made = createSeed(dir);
  assert.deepEqual(readSeed(dir)?.seed, made.seed);
  assert.throws(
    () => createSeed(dir),
    (e: unknown) => e instanceof KeysError && e.code === 'seed-exists' && e.message.includes(SEED_FILE_NAME),
  );
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, SEED_FILE_NAME))), made.seed, 'left as it was');
});

test('a temporary file left by a crash before the rename does not block the next start', () => {
  const dir = freshDir();
  const leftover = join(dir, `${SEED_FILE_NAME}.tmp-${process.pid}`);
  writeFileSync(leftover, new Uint8Array(5));
  const { seed, created } = loadOrCreateSeed(dir);
  assert.equal(created, true);
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, SEED_FILE_NAME))), seed);
  assert.equal(existsSync(leftover), false);
});

test('a data dir that cannot be written is a typed error', () => {
  assert.throws(
    () => loadOrCreateSeed(join(root, 'missing', 'dir')),
    (e: unknown) => e instanceof KeysError && e.code === 'seed-write-failed',
  );
});

test('a new seed is fsynced before it is renamed into place, and its directory after', async (t) => {
  // seed.ts imports these from node:fs; syncBuiltinESMExports makes the named imports see the mocks.
  const fs = (await import('node:fs')).default;
  const { syncBuiltinESMExports } = await import('node:module');
  const calls: string[] = [];
  const fdKind = new Map<number, string>();
  const realOpen = fs.openSync;
  t.mock.method(fs, 'openSync', (path: string, ...rest: unknown[]) => {
    const fd = (realOpen as (...a: unknown[]) => number)(path, ...rest);
    fdKind.set(fd, path.includes('.tmp-') ? 'file' : 'dir');
    return fd;
  });
  const realFsync = fs.fsyncSync;
  t.mock.method(fs, 'fsyncSync', (fd: number) => {
    calls.push(`fsync ${fdKind.get(fd)}`);
    realFsync(fd);
  });
  const realRename = fs.renameSync;
  t.mock.method(fs, 'renameSync', (from: string, to: string) => {
    calls.push('rename');
    realRename(from, to);
  });
  syncBuiltinESMExports();
  try {
    const dir = freshDir();
    loadOrCreateSeed(dir);
    assert.deepEqual(calls, ['fsync file', 'rename', 'fsync dir']);
    calls.length = 0;
    loadOrCreateSeed(dir); // a restart reads, never writes
    assert.deepEqual(calls, []);
  } finally {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  }
});
