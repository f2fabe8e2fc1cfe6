import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isCompleted, isFailed, type PersistStatus, Store, StoreError } from '@lnkit/store';
import { MonitorError } from './errors.ts';
import { applyMonitorUpdate, createMonitor } from './monitor.ts';
import { MONITORS_DB, type MonitorKv, MonitorStore } from './monitor-store.ts';
import { encodeMonitor } from './records.ts';
import { ChannelFixture, historyUpdates } from './test-fixtures.ts';
import type { ChannelMonitor, ChannelMonitorUpdate } from './types.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lnkit-monitor-'));
  dirs.push(d);
  return d;
}

const open = (dir: string) => Store.open(dir, { schemaVersion: 1 });

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

async function channel(updateCount: number) {
  const fx = new ChannelFixture();
  const { update } = await fx.initialUpdate();
  const updates = await historyUpdates(fx, updateCount);
  return { fx, first: createMonitor(update, fx.bestBlock), updates };
}

/** Applies and persists each update in order, as the ChainMonitor does; all must complete. */
async function persistAll(store: MonitorStore, m: ChannelMonitor, updates: ChannelMonitorUpdate[]) {
  for (const u of updates) {
    m = applyMonitorUpdate(m, u);
    assert.deepEqual(await store.updatePersistedChannel(m, u), { status: 'completed' });
  }
  return m;
}

const logged = (store: Store) => store.db(MONITORS_DB).count();

test('round trip: a new monitor and its updates read back, several channels apart', async () => {
  const store = await open(dataDir());
  const monitors = new MonitorStore(store);
  const a = await channel(6);
  const b = await channel(3);
  assert.deepEqual(await monitors.persistNewChannel(a.first), { status: 'completed' });
  assert.deepEqual(await monitors.persistNewChannel(b.first), { status: 'completed' });
  const lastA = await persistAll(monitors, a.first, a.updates);
  const lastB = await persistAll(monitors, b.first, b.updates);
  const read = await new MonitorStore(store).readAll();
  const byKey = new Map(read.map((m) => [m.fundingKey, m]));
  assert.equal(read.length, 2);
  assert.deepEqual(plain(byKey.get(lastA.fundingKey)), plain(lastA));
  assert.deepEqual(plain(byKey.get(lastB.fundingKey)), plain(lastB));
  assert.equal(byKey.get(lastA.fundingKey)?.latestUpdateId, 7n);
  await store.close();
});

test('restart mid-log: a crash after the log appends and before a compaction loses nothing', async () => {
  const dir = dataDir();
  let store = await open(dir);
  const { first, updates } = await channel(7);
  let monitors = new MonitorStore(store, { compactEvery: 100 });
  await monitors.persistNewChannel(first);
  const written = await persistAll(monitors, first, updates.slice(0, 5));
  assert.equal(logged(store), 1 + 5, 'the full record and five log entries, no compaction yet');
  // The process dies here: nothing but what is on disk survives.
  await store.close();
  store = await open(dir);
  monitors = new MonitorStore(store, { compactEvery: 4 });
  const [back] = await monitors.readAll();
  assert.deepEqual(plain(back), plain(written));
  // It carries on from there; the next update compacts the old log away with it.
  const after = await persistAll(monitors, back as ChannelMonitor, updates.slice(5));
  assert.equal(logged(store), 1 + 1, 'compacted at the first update, then one logged');
  await store.close();
  store = await open(dir);
  assert.deepEqual(plain((await new MonitorStore(store).readAll())[0]), plain(after));
  await store.close();
});

test('compaction: every compactEvery updates the whole monitor is rewritten and the log cleared, in one transaction', async () => {
  const store = await open(dataDir());
  const monitors = new MonitorStore(store, { compactEvery: 4 });
  const { first, updates } = await channel(8);
  await monitors.persistNewChannel(first);
  let m = first;
  const sizes: number[] = [];
  for (const u of updates) {
    m = applyMonitorUpdate(m, u);
    await monitors.updatePersistedChannel(m, u);
    sizes.push(logged(store));
  }
  // Three updates logged, the fourth compacts (1 record), and again.
  assert.deepEqual(sizes, [2, 3, 4, 1, 2, 3, 4, 1]);
  assert.deepEqual(plain((await new MonitorStore(store).readAll())[0]), plain(m));
  // A write with no update (the chain moved) is a compaction too.
  const m2 = await persistAll(monitors, m, []);
  assert.deepEqual(
    await monitors.updatePersistedChannel({ ...m2, bestBlock: { hashHex: 'cd'.repeat(32), height: 150 } }),
    {
      status: 'completed',
    },
  );
  assert.equal(logged(store), 1);
  assert.equal((await new MonitorStore(store).readAll())[0]?.bestBlock.height, 150);
  await store.close();
});

test('compaction on size: a log past compactBytes is folded into the full record', async () => {
  const store = await open(dataDir());
  const monitors = new MonitorStore(store, { compactEvery: 1000, compactBytes: 1500 });
  const { first, updates } = await channel(8);
  await monitors.persistNewChannel(first);
  let m = first;
  let compactions = 0;
  for (const u of updates) {
    m = applyMonitorUpdate(m, u);
    await monitors.updatePersistedChannel(m, u);
    if (logged(store) === 1) compactions++;
  }
  assert.ok(compactions >= 1, 'at least one compaction by size');
  assert.deepEqual(plain((await new MonitorStore(store).readAll())[0]), plain(m));
  await store.close();
});

test('a log that does not follow its monitor is refused at readAll, naming the ids', async () => {
  const store = await open(dataDir());
  const monitors = new MonitorStore(store, { compactEvery: 100 });
  const { first, updates } = await channel(3);
  await monitors.persistNewChannel(first);
  const m2 = applyMonitorUpdate(first, updates[0] as ChannelMonitorUpdate);
  await monitors.updatePersistedChannel(m2, updates[0]);
  // Update 4 logged after update 2: update 3 is missing.
  const m3 = applyMonitorUpdate(m2, updates[1] as ChannelMonitorUpdate);
  const m4 = applyMonitorUpdate(m3, updates[2] as ChannelMonitorUpdate);
  await monitors.updatePersistedChannel(m4, updates[2]);
  await assert.rejects(
    new MonitorStore(store).readAll(),
    (e: unknown) =>
      e instanceof MonitorError &&
      e.code === 'store-inconsistent' &&
      /expected update 3, got 4/.test(e.message),
  );
  await store.close();
});

test('a monitor record from a newer lnkit is refused at readAll, naming the channel, the kind and both versions', async () => {
  const store = await open(dataDir());
  const { first } = await channel(0);
  const monitors = new MonitorStore(store);
  await monitors.persistNewChannel(first);
  const [key] = store
    .db(MONITORS_DB)
    .entries()
    .map((e) => e.key);
  const newer = encodeMonitor(first);
  newer[0] = 2;
  newer[1] = 2;
  await store.db(MONITORS_DB).put(key as Uint8Array, newer);
  await assert.rejects(
    new MonitorStore(store).readAll(),
    (e: unknown) =>
      e instanceof StoreError &&
      e.code === 'record-too-new' &&
      e.message.includes(first.fundingKey) &&
      /channel-monitor record written by version 2 .* reads up to version 1/.test(e.message),
  );
  await store.close();
});

test('a store whose writes fail answers failed with the reason; nothing is half-written', async () => {
  const store = await open(dataDir());
  const { first, updates } = await channel(2);
  const failing: MonitorKv = {
    db: (name) => store.db(name),
    transaction: () => Promise.reject(new StoreError('write-failed', 'disk full')),
  };
  const monitors = new MonitorStore(failing);
  const status: PersistStatus = await monitors.persistNewChannel(first);
  assert.ok(isFailed(status) && /disk full/.test(status.reason), JSON.stringify(status));
  const m2 = applyMonitorUpdate(first, updates[0] as ChannelMonitorUpdate);
  const s2 = await monitors.updatePersistedChannel(m2, updates[0]);
  assert.ok(isFailed(s2) && /disk full/.test(s2.reason));
  assert.equal(logged(store), 0);
  // A closed store fails too, with its own words.
  const ok = new MonitorStore(store);
  assert.ok(isCompleted(await ok.persistNewChannel(first)));
  await store.close();
  const closed = await ok.updatePersistedChannel(m2, updates[0]);
  assert.ok(isFailed(closed) && /closed/.test(closed.reason), JSON.stringify(closed));
});
