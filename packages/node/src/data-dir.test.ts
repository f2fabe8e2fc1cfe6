/**
 * Data dirs across versions: one written before records (schema 1) opens with its chain tip
 * and persistent peers; one of a newer schema, or holding a record that needs a newer reader,
 * is refused with a message naming both versions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RpcBlockSource } from '@lnkit/chain-sync';
import { createSeed } from '@lnkit/keys';
import { defineRecord, fieldCodec as f, recordDb, Store, StoreError } from '@lnkit/store';
import { captureLogger } from '@lnkit/test-support';
import {
  CHAIN_TIP,
  chainTipRecord,
  migrateNodeStore,
  NodeBuilder,
  nodeStoreOptions,
  PERSISTENT_PEERS_DB,
  persistentPeerRecord,
  SCHEMA_VERSION,
} from './index.ts';
import { countingSource, inProcessRpc, nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();

/** Two valid node ids (the public keys of secrets 2 and 3) that nothing listens as. */
const PEERS = {
  '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5': { host: '127.0.0.1', port: 1 },
  '02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9': { host: 'localhost', port: 2 },
};

/**
 * A data dir as the code before records wrote it: schema 1, msgpack values, the same keys, and
 * the seed it ran with (made at step 7, before anything was stored).
 */
async function writeSchema1(dataDir: string): Promise<{ hashHex: string; height: number }> {
  const tip = await new RpcBlockSource(inProcessRpc(chain())).getBestBlock();
  const store = await Store.open(dataDir, { schemaVersion: 1, network: 'regtest' });
  createSeed(dataDir);
  await store.db<object>('meta', 'structured').put('chain-tip', { hashHex: tip.hashHex, height: tip.height });
  for (const [id, address] of Object.entries(PEERS))
    await store.db<object>('peers', 'structured').put(id, address);
  await store.close();
  return tip;
}

async function readBack(dataDir: string) {
  const store = await Store.open(dataDir, nodeStoreOptions('regtest'));
  try {
    return {
      schema: store.schemaVersion(),
      tip: recordDb(store.db(CHAIN_TIP.db), chainTipRecord).get(CHAIN_TIP.key),
      peers: Object.fromEntries(
        recordDb(store.db(PERSISTENT_PEERS_DB), persistentPeerRecord)
          .entries()
          .map(({ key, value }) => [String(key), value]),
      ),
    };
  } finally {
    await store.close();
  }
}

/** Builds on `dataDir`, checks it resumed from `tip` and dialled the schema-1 peers, stops. */
async function openAndCheck(dataDir: string, tip: { hashHex: string; height: number }) {
  // Blocks mined while the node was down: a node that kept its tip fetches exactly these.
  const mined = await chain().mine(2);
  const source = countingSource(chain());
  const log = captureLogger({ level: 'info' });
  const node = await new NodeBuilder(nodeConfig(chain(), dataDir))
    .withLogger(log.logger)
    .withBlockSource(source)
    .build();
  try {
    assert.deepEqual(source.blocks, mined, 'synchronised from the stored tip, not from the source tip');
    assert.equal((await node.info()).blockHeight, tip.height + 2);
    for (const id of Object.keys(PEERS)) {
      await log.waitForLine((l) => l.peer === id && /persistent peer/.test(String(l.msg)), {
        what: `the node to dial persistent peer ${id}`,
      });
    }
  } finally {
    await node.stop();
  }
}

test('a schema-1 data dir opens with its chain tip and persistent peers, rewritten as records', async () => {
  const dataDir = dir('v1');
  const tip = await writeSchema1(dataDir);
  await openAndCheck(dataDir, tip);
  const after = await readBack(dataDir);
  assert.equal(after.schema, SCHEMA_VERSION);
  assert.equal(after.tip?.height, tip.height + 2);
  assert.deepEqual(after.peers, PEERS);
});

test('a migration cut short after its writes (records under schema 1) opens too', async () => {
  const dataDir = dir('v1-half');
  const tip = await writeSchema1(dataDir);
  // The records are written but the process dies before the store records schema 2.
  const store = await Store.open(dataDir, { schemaVersion: 1, network: 'regtest' });
  await migrateNodeStore(store, 1);
  await store.close();
  await openAndCheck(dataDir, tip);
  assert.deepEqual((await readBack(dataDir)).peers, PEERS);
});

test('a data dir of a newer schema is refused, naming both versions', async () => {
  const dataDir = dir('newer-schema');
  await (await Store.open(dataDir, { schemaVersion: SCHEMA_VERSION + 1, network: 'regtest' })).close();
  await assert.rejects(
    new NodeBuilder(nodeConfig(chain(), dataDir)).withLogger(captureLogger().logger).build(),
    (e: StoreError) =>
      e instanceof StoreError &&
      e.code === 'schema-too-new' &&
      e.message.includes(`schema ${SCHEMA_VERSION + 1}`) &&
      e.message.includes(`reads schema ${SCHEMA_VERSION} and older`),
  );
});

test('a record that needs a newer reader is refused, naming both versions', async () => {
  // The chain tip and the peer as a future lnkit might write them: version 3, readable from 2.
  const futureTip = defineRecord<{ height: number; hashHex: string }>({
    ...chainTipRecord,
    version: 3,
    minReadVersion: 2,
    fields: { height: { type: 0, codec: f.u32 }, hashHex: { type: 2, codec: f.hex(32) } },
  });
  const futurePeer = defineRecord<{ host: string; port: number }>({
    ...persistentPeerRecord,
    version: 3,
    minReadVersion: 2,
    fields: { host: { type: 0, codec: f.utf8 }, port: { type: 2, codec: f.u16 } },
  });
  const tip = await new RpcBlockSource(inProcessRpc(chain())).getBestBlock();
  const cases = [
    {
      name: 'tip',
      kind: 'chain-tip',
      write: (s: Store) => s.db('meta').put('chain-tip', futureTip.encode(tip)),
    },
    {
      name: 'peer',
      kind: 'persistent-peer',
      write: async (s: Store) => {
        await s.db('meta').put('chain-tip', chainTipRecord.encode(tip));
        await s.db('peers').put(Object.keys(PEERS)[0]!, futurePeer.encode({ host: 'h', port: 1 }));
      },
    },
  ];
  for (const c of cases) {
    const dataDir = dir(`newer-${c.name}`);
    const store = await Store.open(dataDir, nodeStoreOptions('regtest'));
    createSeed(dataDir);
    await c.write(store);
    await store.close();
    await assert.rejects(
      new NodeBuilder(nodeConfig(chain(), dataDir)).withLogger(captureLogger().logger).build(),
      (e: StoreError) =>
        e instanceof StoreError &&
        e.code === 'record-too-new' &&
        e.message.startsWith(`${c.kind} record written by version 3 needs a reader of version 2 or newer`) &&
        e.message.includes('reads up to version 1'),
      c.name,
    );
  }
});

test('a store given to withStore must have the schema the node writes', async () => {
  const store = await Store.open(dir('own-v1'), { schemaVersion: 1, network: 'regtest' });
  try {
    await assert.rejects(
      new NodeBuilder(nodeConfig(chain(), dir('own-v1-node')))
        .withLogger(captureLogger().logger)
        .withStore(store)
        .build(),
      /has schema 1; this node uses schema 2: open it with nodeStoreOptions/,
    );
  } finally {
    await store.close();
  }
});
