import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { nextEvent, waitFor } from '@lnkit/test-support';
import { claimDataDir, LOCK_FILE, loadOrCreateToken, releaseDataDir } from './files.ts';

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
  assert.equal(readFileSync(lock, 'utf8').trim(), String(process.pid));

  const holder = await sleeper(true);
  writeFileSync(lock, `${holder}\n`);
  assert.equal(claimDataDir(dir), holder, 'a running lnkitd keeps it');
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
