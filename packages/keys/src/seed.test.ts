import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KeysError } from './errors.ts';
import { loadOrCreateSeed, SEED_FILE_NAME } from './seed.ts';

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

test('a data dir that cannot be written is a typed error', () => {
  assert.throws(
    () => loadOrCreateSeed(join(root, 'missing', 'dir')),
    (e: unknown) => e instanceof KeysError && e.code === 'seed-write-failed',
  );
});
