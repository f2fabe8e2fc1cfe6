/**
 * Events are durable before the snapshot that moves past them (guide step 16, issue: "persisted
 * until handled, so that a crash never loses one"): the manager awaits its `eventSink` for each
 * event of a channel's step before that step's snapshot is written. A crash between the two
 * repeats an event at the next start; it can never leave a snapshot that is past an event the
 * sink never got. Two managers over an in-memory link, no threads or sockets.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { Transaction } from '@lnkit/tx';
import { ChannelManager } from './channel-manager.ts';
import type { ChannelEvent, ChannelPhase } from './channel-state.ts';
import { linkedPeers, type MemoryLink, testManagerOptions } from './manager-test-kit.ts';
import { LmdbMonitorPersister } from './monitor-persister.ts';
import type { ChannelSnapshot, ChannelSnapshotStore } from './snapshot.ts';

const logger = createRootLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

type Entry = { what: 'event'; type: ChannelEvent['type'] } | { what: 'snapshot'; phase: ChannelPhase };

/** Records, in one journal, each event the sink made durable and each snapshot written. */
function journaled(journal: Entry[], sinkGate?: () => Promise<void>) {
  const snapshot: ChannelSnapshotStore = {
    load: async () => ({ channels: [] }),
    saveChannel: async (s: ChannelSnapshot) => {
      journal.push({ what: 'snapshot', phase: s.phase });
    },
    removeChannel: async () => {},
    saveBestBlock: async () => {},
  };
  const eventSink = async (e: ChannelEvent) => {
    await sinkGate?.();
    journal.push({ what: 'event', type: e.type });
  };
  return { snapshot, eventSink };
}

async function manager(
  link: MemoryLink,
  keys: KeysManager,
  journal: Entry[],
  sinkGate?: () => Promise<void>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-event-sink-'));
  const store = await Store.open(dir, { schemaVersion: 1 });
  const { options, broadcasts } = testManagerOptions({
    keys,
    link,
    persister: new LmdbMonitorPersister(store),
    logger,
  });
  const m = new ChannelManager({ ...options, ...journaled(journal, sinkGate) });
  const heard: ChannelEvent[] = [];
  m.events$.subscribe((e) => heard.push(e));
  await m.start();
  cleanups.push(async () => {
    await m.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { m, broadcasts, heard, nodeId: link.nodeId };
}

/** The first snapshot in a phase at or after `phases`, and the event, as journal positions. */
function positions(journal: Entry[], type: ChannelEvent['type'], phases: ChannelPhase[]) {
  const event = journal.findIndex((e) => e.what === 'event' && e.type === type);
  const snapshot = journal.findIndex((e) => e.what === 'snapshot' && phases.includes(e.phase));
  return { event, snapshot };
}

test('ChannelPending and ChannelReady reach the sink before the snapshot that is past them, on both sides', async () => {
  const [{ keys: ka, link: la }, { keys: kb, link: lb }] = linkedPeers(
    () => new KeysManager(randomBytes(32)),
  );
  const ja: Entry[] = [];
  const jb: Entry[] = [];
  // The funder's sink is slow: a snapshot written without waiting for it would come first.
  let slow = true;
  const a = await manager(la, ka, ja, async () => {
    if (slow) await new Promise((r) => setImmediate(r));
  });
  const b = await manager(lb, kb, jb);
  await a.m.openChannel(b.nodeId, 250_000n, { pushMsat: 1_000_000n });
  await waitFor(() => b.heard.some((e) => e.type === 'ChannelPending'), {
    what: 'ChannelPending at the fundee',
  });
  const funding = Transaction.fromBuffer(Buffer.from(a.broadcasts[0] as Uint8Array));
  for (let h = 501; h < 504; h++)
    for (const n of [a, b]) await n.m.blockConnected({ txdata: h === 501 ? [funding] : [] }, h);
  await waitFor(
    () => a.heard.some((e) => e.type === 'ChannelReady') && b.heard.some((e) => e.type === 'ChannelReady'),
    { what: 'ChannelReady on both' },
  );
  slow = false;
  for (const [side, journal] of [
    ['funder', ja],
    ['fundee', jb],
  ] as const) {
    const pending = positions(journal, 'ChannelPending', ['awaiting-confirmation', 'ready']);
    assert.ok(pending.event >= 0, `${side}: the sink got ChannelPending`);
    assert.ok(pending.snapshot >= 0, `${side}: a snapshot past the funding was written`);
    assert.ok(
      pending.event < pending.snapshot,
      `${side}: ChannelPending durable before the snapshot past it`,
    );
    const ready = positions(journal, 'ChannelReady', ['ready']);
    assert.ok(ready.event >= 0 && ready.snapshot >= 0, `${side}: ChannelReady and a ready snapshot`);
    assert.ok(ready.event < ready.snapshot, `${side}: ChannelReady durable before the ready snapshot`);
  }
  // Live subscribers still hear every event once, in order.
  assert.deepEqual(
    a.heard.map((e) => e.type),
    ['ChannelPending', 'ChannelReady'],
  );
});

test('a sink that throws is logged and the channel goes on to ready', async () => {
  const [{ keys: ka, link: la }, { keys: kb, link: lb }] = linkedPeers(
    () => new KeysManager(randomBytes(32)),
  );
  const a = await manager(la, ka, [], async () => {
    throw new Error('disk gone');
  });
  const b = await manager(lb, kb, []);
  await a.m.openChannel(b.nodeId, 250_000n);
  const funding = Transaction.fromBuffer(Buffer.from(a.broadcasts[0] as Uint8Array));
  for (let h = 501; h < 504; h++)
    for (const n of [a, b]) await n.m.blockConnected({ txdata: h === 501 ? [funding] : [] }, h);
  await waitFor(() => a.m.listChannels()[0]?.state === 'ready', { what: 'the funder ready' });
});
