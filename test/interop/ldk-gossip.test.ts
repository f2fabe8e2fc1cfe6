/**
 * Gossip interop with LDK (lightningdevkit 0.1.0, WASM, its own P2PGossipSync and NetworkGraph)
 * over TCP loopback, both directions: lnkit takes LDK's whole graph into its own, and LDK takes
 * lnkit's. The gossip is signed here with test keys; each side checks every signature.
 *
 * What LDK 0.1 does of BOLT 7's queries, seen here: it answers query_channel_range, but not
 * query_short_channel_ids (its P2PGossipSync returns "Not implemented" and sends no
 * reply_short_channel_ids_end); it sends no range queries itself; and it answers any
 * gossip_timestamp_filter, whatever its range, by sending its whole graph. So lnkit's range sync
 * gets LDK's ids but the gossip comes in LDK's dump, and lnkit gives LDK its graph by answering
 * LDK's filter.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { GossipSync, type GossipSyncOptions, type GossipTransport, NetworkGraph } from '@lnkit/gossip';
import { REGTEST_CHAIN_HASH, signRing } from '@lnkit/gossip/testing';
import { LNKIT_INIT_FEATURES, nodeKeyEcdh, PeerManager } from '@lnkit/peer-net';
import { waitFor } from '@lnkit/test-support';
import { Features } from '@lnkit/wire';
import { attachGossip, ldkGossipPeer } from '../support/ldk/ldk-gossip.ts';
import { initLdk } from '../support/ldk/ldk-peer.ts';

const cleanups: (() => Promise<void> | void)[] = [];
before(async () => {
  await initLdk();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const NOW = Math.floor(Date.now() / 1000);
/** lnkit's init features with gossip_queries: LDK queries, and answers queries of, only peers that offer it. */
const FEATURES = LNKIT_INIT_FEATURES.or(Features.of({ optional: ['gossip_queries'] }));
const LDK_WAIT_MS = 60_000;

/** An lnkit PeerManager running a GossipSync, counting the message types it sends. */
function lnkit(options: Partial<GossipSyncOptions> = {}) {
  const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
  const pm = new PeerManager({ nodeKey: nodeKeyEcdh(randomBytes(32)), features: FEATURES, timerMs: 50 });
  const glue = attachGossip(pm);
  const sent = new Map<number, number>();
  const transport: GossipTransport = {
    send: (peer, messages) => {
      for (const m of messages) {
        const t = (m[0]! << 8) | m[1]!;
        sent.set(t, (sent.get(t) ?? 0) + 1);
      }
      return glue.transport.send(peer, messages);
    },
    disconnect: (peer, reason) => glue.transport.disconnect(peer, reason),
  };
  const sync = new GossipSync({ graph, transport, ...options });
  const subs = glue.attach(sync);
  cleanups.push(async () => {
    for (const s of subs) s.unsubscribe();
    await sync.close();
    await pm.close();
  });
  return { pm, sync, sent };
}

async function ldkWith(messages: Uint8Array[]) {
  const l = await ldkGossipPeer({ traceLogs: true });
  cleanups.push(() => l.peer.stop());
  assert.equal(l.feed(messages), messages.length, 'LDK takes every message signed here');
  return l;
}

test("LDK → lnkit: lnkit syncs LDK's whole graph over TCP by range queries, checking every signature", {
  timeout: 120_000,
}, async () => {
  const ldk = await ldkWith(signRing(25, { timestamp: NOW - 60, firstKey: 500 }));
  const port = await ldk.peer.start();
  const { pm, sync, sent } = lnkit();
  assert.equal(sync.stats().initialSyncNeeded, true);
  await pm.connect(ldk.peer.nodeId, '127.0.0.1', port);
  const stats = await waitFor(
    () => {
      const s = sync.graph.stats();
      return s.channels === 25 && s.directions === 50 && s.announcedNodes === 25 ? s : undefined;
    },
    { timeoutMs: LDK_WAIT_MS, what: "LDK's graph in lnkit's" },
  );
  assert.equal(stats.nodes, 25);
  // lnkit asked: a timestamp filter and query_channel_range; LDK's reply_channel_range was taken
  // (lnkit then asked for the ids it listed with query_short_channel_ids, which LDK leaves unanswered).
  assert.equal(sent.get(265), 1, 'gossip_timestamp_filter sent');
  assert.equal(sent.get(263), 1, 'query_channel_range sent');
  await waitFor(() => sent.get(261), { what: "query_short_channel_ids after LDK's reply_channel_range" });
  const counters = sync.counters.snapshot();
  assert.equal(counters.channel_announcement.accepted, 25);
  assert.equal(counters.channel_announcement['bad-signature'], undefined);
  assert.equal(counters.channel_update['bad-signature'], undefined);
  // The policies came through intact.
  const one = [...sync.graph.channels()][0]!;
  assert.equal(one.directions[0]?.feeBaseMsat, 1000);
  assert.equal(one.directions[1]?.cltvExpiryDelta, 40);
});

test("lnkit → LDK: LDK syncs lnkit's graph; lnkit answers its gossip_timestamp_filter with it", {
  timeout: 120_000,
}, async () => {
  const ldk = await ldkWith([]);
  const { pm, sync, sent } = lnkit();
  const seeded = await sync.broadcastLocal(signRing(30, { timestamp: NOW - 60, firstKey: 700 }));
  assert.equal(seeded.accepted, 30 * 3 + 30);
  const { port } = await pm.listen('127.0.0.1', 0);
  await ldk.peer.connect(pm.nodeId, '127.0.0.1', port, LDK_WAIT_MS);
  await ldk.peer.waitFor(
    () => ldk.channels() === 30 && ldk.nodes() === 30 && ldk.directions() === 60,
    LDK_WAIT_MS,
    "lnkit's graph in LDK's",
  );
  assert.ok((sent.get(256) ?? 0) >= 30);
  assert.ok((sent.get(258) ?? 0) >= 60);
  assert.equal(
    ldk.peer.logs.filter((l) => /Failed|invalid|Invalid/.test(l) && /gossip|announcement|update/i.test(l))
      .length,
    0,
    'LDK found nothing wrong with what lnkit sent',
  );
});
