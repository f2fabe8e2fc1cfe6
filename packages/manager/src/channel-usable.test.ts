/**
 * `usable` in listChannels(): ready with a connected, reestablished peer. After a disconnect a
 * ready channel is not usable, and it is again only once both channel_reestablish were handled
 * (a payment asked for in between is refused "the peer is not connected").
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
import { linkedPeers, type MemoryLink, testManagerOptions } from './manager-test-kit.ts';
import { LmdbMonitorPersister } from './monitor-persister.ts';

const logger = createRootLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function manager(link: MemoryLink, keys: KeysManager) {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-usable-'));
  const store = await Store.open(dir, { schemaVersion: 1 });
  const { options, broadcasts } = testManagerOptions({
    keys,
    link,
    persister: new LmdbMonitorPersister(store),
    logger,
  });
  const m = new ChannelManager(options);
  await m.start();
  cleanups.push(async () => {
    await m.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { m, broadcasts, nodeId: link.nodeId };
}

test('a ready channel is usable; not after a disconnect; usable again after the reestablish', async () => {
  const [pa, pb] = linkedPeers(() => new KeysManager(randomBytes(32)));
  const la = pa.link;
  const a = await manager(la, pa.keys);
  const b = await manager(pb.link, pb.keys);
  await a.m.openChannel(b.nodeId, 250_000n, { pushMsat: 10_000_000n });
  await waitFor(() => b.m.listChannels()[0]?.state === 'awaiting-confirmation', {
    what: 'pending at the fundee',
  });
  assert.equal(a.m.listChannels()[0]?.usable, false, 'not usable before the funding is deep enough');
  const funding = Transaction.fromBuffer(Buffer.from(a.broadcasts[0] as Uint8Array));
  for (let h = 501; h < 504; h++)
    for (const n of [a, b]) await n.m.blockConnected({ txdata: h === 501 ? [funding] : [] }, h);
  await waitFor(() => a.m.listChannels()[0]?.usable && b.m.listChannels()[0]?.usable, {
    what: 'usable on both',
  });

  la.disconnect();
  await waitFor(() => a.m.listChannels()[0]?.usable === false, { what: 'not usable after the disconnect' });
  assert.equal(a.m.listChannels()[0]?.state, 'ready', 'still ready: only the link went');

  la.connect();
  await waitFor(() => a.m.listChannels()[0]?.usable && b.m.listChannels()[0]?.usable, {
    what: 'usable again after reestablish',
  });
});
