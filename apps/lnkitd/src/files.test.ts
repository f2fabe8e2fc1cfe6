import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { nextEvent, waitFor } from '@lnkit/test-support';
import { ConfigError } from './errors.ts';
import {
  claimDataDir,
  LOCK_FILE,
  loadOrCreateToken,
  lockHeldMessage,
  prepareDataDir,
  releaseDataDir,
  worldWritable,
} from './files.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkitd-files-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A live process whose command line does (or does not) name lnkitd. */
async function sleeper(named: boolean): Promise<number> {
  const args = ['-e', 'setTimeout(() => {}, 60_000)', ...(named ? ['lnkitd'] : [])];
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  children.push(child);
  await nextEvent(child, 'spawn', undefined, { what: 'the sleeper to start' });
  // Until it has exec'd, the child's command line is this test runner's (whose path names lnkitd).
  const cmdline = `/proc/${child.pid}/cmdline`;
  await waitFor(() => readFileSync(cmdline, 'utf8').includes('setTimeout'), {
    what: "the sleeper's own command line in /proc",
  });
  return child.pid!;
}

test('the data dir lock: claimed once, refused while a live lnkitd holds it, taken over otherwise', async () => {
  const dir = mkdtempSync(join(root, 'lock-'));
  const lock = join(dir, LOCK_FILE);
  assert.equal(claimDataDir(dir), null);
  assert.equal(readFileSync(lock, 'utf8').split('\n')[0], String(process.pid));

  // A lock of the old form, the pid alone.
  const holder = await sleeper(true);
  writeFileSync(lock, `${holder}\n`);
  assert.deepEqual(claimDataDir(dir), { pid: holder }, 'a running lnkitd keeps it');
  releaseDataDir(dir);
  assert.ok(existsSync(lock), 'release leaves a lock that is not ours');

  writeFileSync(lock, `${await sleeper(false)}\n`);
  assert.equal(claimDataDir(dir), null, 'a reused pid of another program does not hold it');
  writeFileSync(lock, '2147483646\n');
  assert.equal(claimDataDir(dir), null, 'a dead pid (SIGKILL) does not hold it');
  writeFileSync(lock, 'garbage\n');
  assert.equal(claimDataDir(dir), null);
  releaseDataDir(dir);
  assert.equal(existsSync(lock), false);
});

test('the API token: made once with mode 0600, reused, and a damaged one is refused', () => {
  const dir = mkdtempSync(join(root, 'token-'));
  const token = loadOrCreateToken(dir);
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(statSync(join(dir, 'api-token')).mode & 0o777, 0o600);
  assert.equal(loadOrCreateToken(dir), token);
  writeFileSync(join(dir, 'api-token'), 'short\n');
  assert.throws(() => loadOrCreateToken(dir), /does not hold a valid API token; delete it/);
});

/** The start time /proc gives a pid (field 22 of its stat). */
const startTime = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};

test('a lock with the start time: held only by the very process that wrote it, whatever its command line', async () => {
  const dir = mkdtempSync(join(root, 'start-'));
  const lock = join(dir, LOCK_FILE);
  // `pnpm start` runs `node --import tsx src/main.ts`: no "lnkitd" on its command line.
  const unnamed = await sleeper(false);
  writeFileSync(lock, `${unnamed}\n${startTime(unnamed)}\n${dir}\n`);
  assert.deepEqual(claimDataDir(dir), { pid: unnamed });
  writeFileSync(lock, `${unnamed}\n1\n${dir}\n`);
  assert.equal(claimDataDir(dir), null, 'the pid was reused: the start time differs');
});

test('the lock of a copied data dir names the other data dir, and the message says what happened', async () => {
  const original = mkdtempSync(join(root, 'original-'));
  const copy = mkdtempSync(join(root, 'copy-'));
  const holder = await sleeper(false);
  writeFileSync(join(copy, LOCK_FILE), `${holder}\n${startTime(holder)}\n${original}\n`);
  const held = claimDataDir(copy);
  assert.deepEqual(held, { pid: holder, otherDataDir: original });
  assert.match(
    lockHeldMessage(copy, held!),
    new RegExp(`names pid ${holder}, another lnkitd, which is running with --datadir ${original}: .*copied`),
  );
  // The same folder through a symbolic link is not a copy.
  const link = join(root, 'link-to-original');
  symlinkSync(original, link);
  writeFileSync(join(original, LOCK_FILE), `${holder}\n${startTime(holder)}\n${original}\n`);
  const same = claimDataDir(link);
  assert.deepEqual(same, { pid: holder });
  assert.match(
    lockHeldMessage(link, same!),
    new RegExp(`another lnkitd \\(pid ${holder}\\) is running with --datadir ${link} \\(its pid is in `),
  );
});

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
    assert.equal(e.code, 'data-dir');
    return e.message;
  }
  assert.fail('expected an error');
}

test('prepareDataDir: made with mode 0700; a file in its place is named', () => {
  const dir = join(root, 'made', 'deeper');
  prepareDataDir(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const file = join(root, 'a-file');
  writeFileSync(file, '');
  assert.match(
    configError(() => prepareDataDir(file)),
    /--datadir .*a-file is not a directory/,
  );
  assert.match(
    configError(() => prepareDataDir(join(file, 'under'))),
    /--datadir .*a-file\/under cannot be created: .*a part of its path that is not a directory/,
  );
});

test('worldWritable: o+w only', () => {
  const dir = mkdtempSync(join(root, 'mode-'));
  assert.equal(worldWritable(dir), false);
  chmodSync(dir, 0o770);
  assert.equal(worldWritable(dir), false);
  chmodSync(dir, 0o1777);
  assert.equal(worldWritable(dir), true);
});

/** A read-only tmpfs, or a reason it cannot be had here (mounting needs root and a kernel that lets it). */
function readOnlyMount(): { path: string; done: () => void } | string {
  const path = mkdtempSync(join(root, 'ro-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k,mode=0700', 'tmpfs', path], {
    encoding: 'utf8',
  });
  if (r.status !== 0) return `cannot mount a read-only tmpfs here: ${(r.stderr || String(r.error)).trim()}`;
  return { path, done: () => spawnSync('umount', [path]) };
}

test('a data dir on a read-only filesystem: a message naming it, not a raw EROFS or ENOENT', (t) => {
  const ro = readOnlyMount();
  if (typeof ro === 'string') return t.skip(ro);
  try {
    // The folder exists: the lock cannot be written.
    assert.equal(
      configError(() => prepareDataDir(ro.path)),
      `--datadir ${ro.path} is on a read-only filesystem; lnkitd keeps its lock, keys, store and log there`,
    );
    // It does not: Node's mkdir says ENOENT, the message names the read-only parent.
    const missing = join(ro.path, 'missing', 'deeper');
    assert.equal(
      configError(() => prepareDataDir(missing)),
      `--datadir ${missing} cannot be created: ${ro.path} is on a read-only filesystem`,
    );
    assert.doesNotMatch(
      configError(() => claimDataDir(ro.path)),
      /EROFS|tmp-\d+/,
    );
  } finally {
    ro.done();
  }
});
