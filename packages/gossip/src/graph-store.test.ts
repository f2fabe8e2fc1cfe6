// The graph in lmdb: a restart keeps it (from records, from a snapshot, from a snapshot and the
// journal after it), damaged records are skipped, and another chain's graph is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { inThreadCrypto } from '@lnkit/crypto';
import { type Key, Store } from '@lnkit/store';
import { NetworkGraph } from './graph.ts';
import { LmdbGraphStore, loadGraph } from './graph-store.ts';
import { channelKey, GRAPH_DB, updateKey } from './records.ts';
import {
  orderedNodes,
  REGTEST_CHAIN_HASH,
  signChannelAnnouncement,
  signChannelUpdate,
  signNodeAnnouncement,
  testKey,
} from './testing.ts';
import { GossipValidator, runBatch } from './validate.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-gossip-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;
const scid = (i: number) => (BigInt(700_000 + i) << 40n) | 1n;

/** n channels in a ring of n nodes, each with both updates and each node announced. */
function ring(n: number, timestamp = NOW): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const a = testKey(i);
    const b = testKey((i + 1) % n);
    const [n1, n2] = orderedNodes({ nodeA: a, nodeB: b });
    out.push(signChannelAnnouncement({ scid: scid(i), nodeA: a, nodeB: b }));
    out.push(signChannelUpdate({ scid: scid(i), signer: n1, direction: 0, timestamp, feeBaseMsat: i }));
    out.push(
      signChannelUpdate({ scid: scid(i), signer: n2, direction: 1, timestamp, feeBaseMsat: 1000 + i }),
    );
  }
  for (let i = 0; i < n; i++)
    out.push(signNodeAnnouncement({ node: testKey(i), timestamp, alias: `node ${i}` }));
  return out;
}

async function ingest(store: Store, raws: Uint8Array[], graph?: NetworkGraph) {
  const messages =
    (graph?.messages as LmdbGraphStore | undefined) ?? new LmdbGraphStore(store, REGTEST_CHAIN_HASH);
  const g = graph ?? new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH, messages });
  const v = new GossipValidator(g);
  await runBatch(
    v,
    raws.map((raw) => ({ peer: 'p', raw })),
    { crypto: inThreadCrypto, now: () => NOW_MS },
  );
  await messages.flush();
  return { graph: g, messages };
}

/** Everything a reader can see of a graph, to compare two graphs. */
function view(g: NetworkGraph) {
  return {
    stats: { ...g.stats(), memoryBytes: 0 },
    channels: [...g.channels()]
      .map((c) => ({ ...c, index: 0 }))
      .sort((a, b) => (a.shortChannelId < b.shortChannelId ? -1 : 1)),
    nodes: [...g.nodes()]
      .map((n) => ({ ...n, index: 0 }))
      .sort((a, b) => Buffer.compare(Buffer.from(a.nodeId), Buffer.from(b.nodeId))),
  };
}

test('a restart keeps the graph: loaded record by record, then from a snapshot, the same graph', async () => {
  const dir = freshDir();
  let store = await Store.open(dir, { schemaVersion: 1 });
  const { graph } = await ingest(store, ring(12));
  const before = view(graph);
  assert.equal(before.stats.channels, 12);
  assert.equal(before.stats.directions, 24);
  assert.equal(before.stats.announcedNodes, 12);
  const sentUpdate = graph.messages.update(scid(3), 1);
  assert.ok(sentUpdate);
  await store.close();

  store = await Store.open(dir, { schemaVersion: 1 });
  const fromRecords = loadGraph(store, REGTEST_CHAIN_HASH);
  assert.equal(fromRecords.from, 'records');
  assert.deepEqual(view(fromRecords.graph), before);
  // The messages are served from the store as they came.
  assert.deepEqual(fromRecords.graph.messages.update(scid(3), 1), sentUpdate);
  await fromRecords.messages.flush({ snapshot: () => fromRecords.graph.toSnapshot(), nowSec: NOW });
  assert.equal(fromRecords.messages.journalLength, 0);
  await store.close();

  store = await Store.open(dir, { schemaVersion: 1 });
  const fromSnapshot = loadGraph(store, REGTEST_CHAIN_HASH);
  assert.equal(fromSnapshot.from, 'snapshot');
  assert.equal(fromSnapshot.replayed, 0);
  assert.deepEqual(view(fromSnapshot.graph), before);
  await store.close();
});

test('changes after the snapshot are replayed from the journal: new, updated and removed channels', async () => {
  const dir = freshDir();
  let store = await Store.open(dir, { schemaVersion: 1 });
  const first = await ingest(store, ring(8));
  await first.messages.flush({ snapshot: () => first.graph.toSnapshot() });
  // After the snapshot: a newer update, a removed channel, a channel spent, a new channel.
  await ingest(
    store,
    [
      signChannelUpdate({
        scid: scid(2),
        signer: orderedNodes({ nodeA: testKey(2), nodeB: testKey(3) })[0],
        direction: 0,
        timestamp: NOW + 10,
        feeBaseMsat: 4242,
      }),
      signChannelAnnouncement({ scid: scid(50), nodeA: testKey(0), nodeB: testKey(50) }),
    ],
    first.graph,
  );
  first.graph.removeChannel(first.graph.channelIndex(scid(5)));
  first.graph.markSpent(first.graph.channelIndex(scid(6)), 800_000);
  await first.messages.flush();
  assert.ok(first.messages.journalLength > 0);
  const before = view(first.graph);
  await store.close();

  store = await Store.open(dir, { schemaVersion: 1 });
  const loaded = loadGraph(store, REGTEST_CHAIN_HASH);
  assert.equal(loaded.from, 'snapshot');
  assert.ok(loaded.replayed >= 4);
  assert.deepEqual(view(loaded.graph), before);
  assert.equal(loaded.graph.channel(scid(2))!.directions[0]!.feeBaseMsat, 4242);
  assert.equal(loaded.graph.channel(scid(5)), undefined);
  assert.equal(loaded.graph.channel(scid(6))!.spentAtHeight, 800_000);
  // Writes go on numbering the journal after what was there.
  loaded.graph.removeChannel(loaded.graph.channelIndex(scid(1)));
  await loaded.messages.flush();
  await store.close();
  store = await Store.open(dir, { schemaVersion: 1 });
  assert.equal(loadGraph(store, REGTEST_CHAIN_HASH).graph.channel(scid(1)), undefined);
  await store.close();
});

test('records that do not decode are skipped and counted, the rest loads', async () => {
  const dir = freshDir();
  let store = await Store.open(dir, { schemaVersion: 1 });
  await ingest(store, ring(5));
  const db = store.db(GRAPH_DB);
  await db.put(channelKey(scid(1)) as Key, Uint8Array.of(1, 1, 0xff));
  await db.put(updateKey(scid(2), 0) as Key, Uint8Array.of(9, 9));
  // A record written by a newer lnkit that this one cannot read is skipped the same way.
  await db.put(updateKey(scid(3), 1) as Key, Uint8Array.of(3, 2, 0, 0));
  await store.close();
  store = await Store.open(dir, { schemaVersion: 1 });
  const r = loadGraph(store, REGTEST_CHAIN_HASH);
  assert.equal(r.graph.stats().channels, 4);
  // Channel 1's two updates have no channel, plus the two broken updates.
  assert.equal(r.skipped, 1 + 2 + 2);
  await store.close();
});

test('a graph of another chain is refused', async () => {
  const dir = freshDir();
  let store = await Store.open(dir, { schemaVersion: 1 });
  const m = new LmdbGraphStore(store, REGTEST_CHAIN_HASH);
  m.putMeta(NOW);
  await m.flush();
  await store.close();
  store = await Store.open(dir, { schemaVersion: 1 });
  assert.throws(() => loadGraph(store, new Uint8Array(32).fill(1)), {
    name: 'GossipError',
    code: 'unknown-chain',
  });
  assert.equal(loadGraph(store, REGTEST_CHAIN_HASH).meta?.lastActiveAt, NOW);
  await store.close();
});
