/**
 * End to end: lnkitd against a lost or swapped seed. The data dir records the node id it
 * belongs to; a start whose keys_seed is missing or gives another id prints one line naming the
 * id(s) and what to do, exits non-zero, and leaves the data dir as it was (no new seed).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KeysManager } from '@lnkit/keys';
import { Daemon, runToExit } from './daemon.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-identity-'));
const dataDir = join(root, 'node');
const args = ['--datadir', dataDir, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0'];
const seedPath = join(dataDir, 'keys_seed');
const backup = join(root, 'keys_seed.backup');
let nodeId: string;

before(async () => {
  const d = new Daemon(dataDir, args.slice(2));
  await d.start();
  nodeId = d.json<{ nodeId: string }>('getinfo').nodeId;
  assert.equal(await d.kill('SIGTERM'), 0);
  copyFileSync(seedPath, backup);
});

after(() => rmSync(root, { recursive: true, force: true }));

const noStack = /\n\s+at /;

test('a missing keys_seed with an existing store: refused naming the node, and no new seed made', async () => {
  rmSync(seedPath);
  const { code, output } = await runToExit(args);
  assert.notEqual(code, 0, output);
  assert.match(output, new RegExp(`keys_seed is missing from .*belongs to node ${nodeId}`));
  assert.match(output, /restore its keys_seed from your backup/);
  assert.match(output, /\(see --datadir\)/);
  assert.doesNotMatch(output, noStack);
  assert.equal(existsSync(seedPath), false, 'no seed was made over the store');
});

test('a keys_seed of another node: refused naming both ids, and the file left as it is', async () => {
  const other = randomBytes(32);
  writeFileSync(seedPath, other, { mode: 0o600 });
  const otherId = Buffer.from(new KeysManager(new Uint8Array(other)).nodeId).toString('hex');
  const { code, output } = await runToExit(args);
  assert.notEqual(code, 0, output);
  assert.match(output, new RegExp(`is of node ${otherId}, but the data dir .* belongs to node ${nodeId}`));
  assert.match(output, new RegExp(`restore the keys_seed of node ${nodeId} from your backup`));
  assert.deepEqual(readFileSync(seedPath), other);
});

test('with the seed restored from its backup, it is the same node again', async () => {
  copyFileSync(backup, seedPath);
  const d = new Daemon(dataDir, args.slice(2));
  await d.start();
  try {
    assert.equal(d.json<{ nodeId: string }>('getinfo').nodeId, nodeId);
  } finally {
    await d.kill('SIGTERM');
  }
});
