/**
 * A public channel between two ChannelManagers in memory: at six confirmations each hands out
 * its gossip (announcements$, ownGossip) — the one channel_announcement both built and its own
 * channel_update — which lnkit's gossip validator takes as a peer would. While the peer is away
 * longer than disableAfterMs, our channel_update goes out disabled (channelUpdates$, and a
 * refresh keeps it so); when the peer is back, enabled again. A private channel hands out none.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { inThreadCrypto } from '@lnkit/crypto';
import { GossipValidator, NetworkGraph, runBatch } from '@lnkit/gossip';
import { KeysManager } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import { CHANNEL_FLAG_DISABLE, channelUpdate } from '@lnkit/wire';
import type { OwnChannelGossip } from './channel-manager.ts';
import { connectBlocks, linkedPeers, startTestManager, type TestManager } from './manager-test-kit.ts';

const logger = createRootLogger({ level: 'silent' });
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

const CHAIN_HASH = new Uint8Array(32).fill(6);
const disabledOf = (g: OwnChannelGossip) =>
  (channelUpdate.decode(g.channelUpdate).channelFlags & CHANNEL_FLAG_DISABLE) !== 0;

async function pair(announce: boolean) {
  const [pa, pb] = linkedPeers(() => new KeysManager(crypto.getRandomValues(new Uint8Array(32))));
  const start = (p: typeof pa) =>
    startTestManager({ ...p, logger, overrides: () => ({ disableAfterMs: 100 }) }).then((m) => {
      closers.push(() => m.close());
      return m;
    });
  const a = await start(pa);
  const b = await start(pb);
  const seen = {
    a: [] as OwnChannelGossip[],
    b: [] as OwnChannelGossip[],
    aUpdates: [] as OwnChannelGossip[],
  };
  a.manager.announcements$.subscribe((g) => seen.a.push(g));
  b.manager.announcements$.subscribe((g) => seen.b.push(g));
  a.manager.channelUpdates$.subscribe((g) => seen.aUpdates.push(g));
  await a.manager.openChannel(b.nodeId, 1_000_000n, { public: announce });
  await connectBlocks([a, b], 501, 503, [a.broadcasts.at(-1) as Uint8Array]);
  await waitFor(() => a.manager.listChannels()[0]?.usable && b.manager.listChannels()[0]?.usable, {
    what: 'usable on both sides',
  });
  return { a, b, seen };
}

const deepen = (a: TestManager, b: TestManager, to: number) => connectBlocks([a, b], 504, to);

test('at six confirmations both hand out the same announcement and their own update, which a gossip validator takes', async () => {
  const { a, b, seen } = await pair(true);
  await deepen(a, b, 505);
  assert.deepEqual([seen.a.length, seen.b.length], [0, 0], 'not at five');
  await deepen(a, b, 506);
  await waitFor(() => (seen.a.length === 1 && seen.b.length === 1) || undefined, { what: 'both announced' });
  const [ga] = seen.a;
  const [gb] = seen.b;
  assert.deepEqual(ga!.channelAnnouncement, gb!.channelAnnouncement);
  assert.equal(ga!.shortChannelId, a.manager.listChannels()[0]?.shortChannelId);
  assert.deepEqual(await a.manager.ownGossip().then((g) => g.map((x) => x.shortChannelId)), [
    ga!.shortChannelId,
  ]);
  const graph = new NetworkGraph({ chainHash: CHAIN_HASH });
  await runBatch(
    new GossipValidator(graph),
    [ga!.channelAnnouncement, ga!.channelUpdate, gb!.channelUpdate].map((raw) => ({ peer: 't', raw })),
    { crypto: inThreadCrypto },
  );
  const c = [...graph.channels()][0];
  assert.ok(c?.directions[0] && c.directions[1], 'the channel and both directions');
  assert.equal(disabledOf(ga!), false);
});

test('while the peer is away our update goes out disabled (a refresh keeps it so); back, enabled again', async () => {
  const { a, b, seen } = await pair(true);
  await deepen(a, b, 506);
  await waitFor(() => seen.a.length === 1 || undefined, { what: 'announced' });
  a.link.disconnect();
  const off = await waitFor(() => seen.aUpdates[0], { what: 'the disabled update' });
  assert.equal(disabledOf(off), true);
  const [refreshed] = await a.manager.ownGossip();
  assert.equal(disabledOf(refreshed!), true, 'a refresh while away stays disabled');
  a.link.connect();
  const on = await waitFor(() => seen.aUpdates[1], { what: 'the enabled update' });
  assert.equal(disabledOf(on), false);
  // Each newer than the last: a peer takes each of them.
  const ts = [off, refreshed!, on].map((g) => channelUpdate.decode(g.channelUpdate).timestamp);
  assert.ok(ts[0]! < ts[1]! && ts[1]! < ts[2]!, `timestamps ${ts}`);
  // A short blip (reconnected before the delay) tells the network nothing.
  a.link.disconnect();
  a.link.connect();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(seen.aUpdates.length, 2);
});

test('a private channel is never announced, nor disabled for gossip', async () => {
  const { a, b, seen } = await pair(false);
  await deepen(a, b, 510);
  a.link.disconnect();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual([seen.a.length, seen.b.length, seen.aUpdates.length], [0, 0, 0]);
  assert.deepEqual(await a.manager.ownGossip(), []);
});
