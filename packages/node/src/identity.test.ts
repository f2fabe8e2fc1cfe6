/**
 * The node's identity against its data dir: the store records the node id it belongs to, and a
 * start whose seed does not give it — the seed missing, replaced, or another node's — is
 * refused with both ids and what to do, and never makes a new seed over an existing store.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager, readSeed } from '@lnkit/keys';
import { recordDb, Store } from '@lnkit/store';
import { captureLogger } from '@lnkit/test-support';
import { NODE_ID, NodeBuilder, NodeError, nodeIdentityRecord, nodeStoreOptions } from './index.ts';
import { nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();

const build = (dataDir: string) =>
  new NodeBuilder(nodeConfig(chain(), dataDir)).withLogger(captureLogger({ level: 'warn' }).logger).build();

/** Starts a node on a fresh data dir and stops it: its node id. */
async function firstStart(dataDir: string): Promise<string> {
  const node = await build(dataDir);
  const id = node.nodeId;
  await node.stop();
  return id;
}

async function recordedId(dataDir: string): Promise<string | undefined> {
  const store = await Store.open(dataDir, nodeStoreOptions('regtest'));
  try {
    return recordDb(store.db(NODE_ID.db), nodeIdentityRecord).get(NODE_ID.key)?.nodeId;
  } finally {
    await store.close();
  }
}

test('the first start records the node id, and a restart with the same seed is the same node', async () => {
  const dataDir = dir('same');
  const id = await firstStart(dataDir);
  assert.equal(await recordedId(dataDir), id);
  const again = await build(dataDir);
  try {
    assert.equal(again.nodeId, id);
  } finally {
    await again.stop();
  }
});

test('a missing seed with an existing store is refused naming the node, and no seed is made', async () => {
  const dataDir = dir('missing');
  const id = await firstStart(dataDir);
  rmSync(join(dataDir, 'keys_seed'));
  await assert.rejects(
    build(dataDir),
    (e: NodeError) =>
      e instanceof NodeError &&
      e.code === 'seed-missing' &&
      e.message.includes(id) &&
      e.message.includes('keys_seed is missing') &&
      /restore .* from your backup/.test(e.message) &&
      /another data dir/.test(e.message),
  );
  assert.equal(existsSync(join(dataDir, 'keys_seed')), false, 'no new seed was made');
  assert.equal(await recordedId(dataDir), id, 'the store still belongs to the same node');
});

test('another seed is refused naming both node ids, and is left as it is', async () => {
  const dataDir = dir('replaced');
  const id = await firstStart(dataDir);
  const other = randomBytes(32);
  writeFileSync(join(dataDir, 'keys_seed'), other, { mode: 0o600 });
  const otherId = Buffer.from(new KeysManager(other).nodeId).toString('hex');
  await assert.rejects(
    build(dataDir),
    (e: NodeError) =>
      e instanceof NodeError &&
      e.code === 'seed-mismatch' &&
      e.message.includes(`node ${otherId}`) &&
      e.message.includes(`belongs to node ${id}`) &&
      /restore the keys_seed of node/.test(e.message),
  );
  assert.deepEqual(new Uint8Array(readFileSync(join(dataDir, 'keys_seed'))), other);
});

test('a data dir from before node ids were recorded gets its id at the next start, from the seed it had', async () => {
  const dataDir = dir('upgraded');
  const id = await firstStart(dataDir);
  // As the code before this change left it: no node-id record.
  const store = await Store.open(dataDir, nodeStoreOptions('regtest'));
  await store.db(NODE_ID.db).remove(NODE_ID.key);
  await store.close();
  const node = await build(dataDir);
  try {
    assert.equal(node.nodeId, id);
  } finally {
    await node.stop();
  }
  assert.equal(await recordedId(dataDir), id);
});

test('such an old data dir without its seed is refused too: it holds a node, whichever it was', async () => {
  const dataDir = dir('old-missing');
  await firstStart(dataDir);
  const store = await Store.open(dataDir, nodeStoreOptions('regtest'));
  await store.db(NODE_ID.db).remove(NODE_ID.key);
  await store.close();
  rmSync(join(dataDir, 'keys_seed'));
  await assert.rejects(
    build(dataDir),
    (e: NodeError) => e.code === 'seed-missing' && /from before node ids were recorded/.test(e.message),
  );
  assert.equal(readSeed(dataDir), undefined, 'no new seed was made');
});
