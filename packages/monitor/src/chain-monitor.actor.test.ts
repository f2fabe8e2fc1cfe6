/**
 * The ChainMonitor actor, in both placements: in-process with a persister object, and in a
 * worker thread opening the data dir itself. Updates and blocks (raw transactions, as the
 * chain stream carries them) go in; the funding spend comes out on its event stream and is on disk.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRootLogger, spawn } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { nextEvent } from '@lnkit/test-support';
import { chainMonitorActor } from './chain-monitor.module.ts';
import { MonitorStore } from './monitor-store.ts';
import { ChannelFixture, historyUpdates } from './test-fixtures.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const logger = createRootLogger({ level: 'silent' });
const TIP = { hashHex: `${'00'.repeat(31)}64`, height: 100 };
const header = { hashHex: `${'00'.repeat(31)}65`, prevHashHex: TIP.hashHex };

for (const placement of ['in-process', 'worker'] as const) {
  test(`${placement}: updates persisted, a block's funding spend said on events$`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lnkit-cm-actor-'));
    dirs.push(dataDir);
    // In-process, the test hands it a persister over its own Store; in a worker, it opens the data dir.
    const store = placement === 'in-process' ? await Store.open(dataDir, { schemaVersion: 1 }) : undefined;
    const config = store
      ? { bestBlock: TIP, persister: new MonitorStore(store) }
      : { bestBlock: TIP, store: { dataDir, schemaVersion: 1 } };
    const handle = await spawn(chainMonitorActor, { placement, config, logger });
    try {
      const fx = new ChannelFixture();
      const first = await fx.initialUpdate();
      const spent = nextEvent(handle.ref.events$(), (e) => e.type === 'FundingSpent', {
        what: 'FundingSpent',
      });
      assert.deepEqual(await handle.ref.updateChannel(first.update), { status: 'completed' });
      for (const u of await historyUpdates(fx, 3))
        assert.deepEqual(await handle.ref.updateChannel(u), { status: 'completed' });
      await handle.ref.blockConnected(header, 101, [new Uint8Array(first.holder.built.tx.toBuffer())]);
      const e = await spent;
      assert.equal(e.type === 'FundingSpent' && e.kind, 'holder-commitment');
      const [m] = await handle.ref.monitors();
      assert.equal(m?.latestUpdateId, 4n);
      assert.equal(m?.fundingSpend?.height, 101);
      // Its resolution, across the thread boundary too: to_local pending until to_self_delay.
      const [balance] = await handle.ref.claimableBalances();
      assert.equal(balance?.kind, 'holder-commitment');
      assert.equal(
        balance?.pending.find((p) => p.output === 'to_local')?.claimableAtHeight,
        101 + fx.channel.holderToSelfDelay,
      );
    } finally {
      await handle.stop();
      await store?.close();
    }
    const reopened = await Store.open(dataDir, { schemaVersion: 1 });
    const [back] = await new MonitorStore(reopened).readAll();
    assert.equal(back?.latestUpdateId, 4n);
    assert.equal(back?.fundingSpend?.kind, 'holder-commitment');
    assert.equal(back?.resolution?.resolution.kind, 'holder-commitment');
    await reopened.close();
  });
}
