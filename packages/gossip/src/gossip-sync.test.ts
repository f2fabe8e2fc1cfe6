// GossipSync between in-memory peers: an initial sync by range queries, a catch-up after a
// restart by timestamp filter, relaying with the staggered broadcast, and bad input (bad
// signatures, malformed replies, floods) warned about, counted, never applied.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inThreadCrypto } from '@lnkit/crypto';
import { waitFor } from '@lnkit/test-support';
import { Features } from '@lnkit/wire';
import { GossipSync, type GossipSyncOptions, type GossipTransport } from './gossip-sync.ts';
import { NetworkGraph } from './graph.ts';
import { messageType } from './layout.ts';
import {
  breakSignature,
  orderedNodes,
  REGTEST_CHAIN_HASH,
  signChannelAnnouncement,
  signChannelUpdate,
  signNodeAnnouncement,
  signRing,
  testKey,
} from './testing.ts';

const T0 = 1_800_000_000_000;
const GOSSIP_QUERIES = Features.of({ optional: ['gossip_queries', 'gossip_queries_ex'] });

/** Nodes wired to each other in memory; every message sent is delivered to the other's receive. */
class Network {
  readonly nodes = new Map<string, GossipSync>();
  readonly sent: { from: string; to: string; type: number }[] = [];
  readonly disconnects: { from: string; to: string }[] = [];
  now = T0;

  add(id: string, options: Partial<GossipSyncOptions> = {}): GossipSync {
    const transport: GossipTransport = {
      send: async (to, messages) => {
        for (const m of messages) {
          this.sent.push({ from: id, to, type: messageType(m) });
          this.nodes.get(to)?.receive(id, m);
        }
      },
      disconnect: (to) => {
        this.disconnects.push({ from: id, to });
      },
    };
    const sync = new GossipSync({
      graph: options.graph ?? new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH }),
      transport,
      now: () => this.now,
      ...options,
    });
    this.nodes.set(id, sync);
    return sync;
  }

  connect(a: string, b: string, features = GOSSIP_QUERIES): void {
    this.nodes.get(a)!.peerConnected(b, features);
    this.nodes.get(b)!.peerConnected(a, features);
  }

  async settle(): Promise<void> {
    // Idle everywhere, twice in a row (an answer may wake a node that was idle).
    for (let round = 0; round < 50; round++) {
      const before = this.sent.length;
      await Promise.all([...this.nodes.values()].map((n) => n.idle()));
      if (this.sent.length === before) return;
    }
    throw new Error('the network did not settle');
  }
}

/** A graph of n channels in a ring, signed with test keys, at time T0. */
const ringGossip = (n: number, ts = T0 / 1000) => signRing(n, { timestamp: ts });

async function seeded(
  net: Network,
  id: string,
  raws: Uint8Array[],
  options: Partial<GossipSyncOptions> = {},
) {
  const node = net.add(id, options);
  const r = await node.broadcastLocal(raws);
  assert.equal(r.accepted, raws.length);
  return node;
}

describe('GossipSync', () => {
  test('a first start syncs the whole graph from a peer by range queries', async () => {
    const net = new Network();
    const server = await seeded(net, 'server', ringGossip(30));
    const client = net.add('client');
    assert.equal(client.stats().initialSyncNeeded, true);
    net.connect('client', 'server');
    await net.settle();
    assert.deepEqual(client.graph.stats(), {
      ...server.graph.stats(),
      memoryBytes: client.graph.stats().memoryBytes,
    });
    assert.equal(client.stats().initialSyncNeeded, false);
    const types = net.sent.filter((s) => s.from === 'client').map((s) => s.type);
    assert.ok(
      types.includes(263) && types.includes(261),
      'query_channel_range, then query_short_channel_ids',
    );
    assert.equal(client.counters.get('channel_announcement', 'accepted'), 30);
  });

  test('the server side: LDK-style filter from the past gets the whole graph ("SHOULD send all gossip messages whose timestamp ...")', async () => {
    const net = new Network();
    await seeded(net, 'server', ringGossip(10));
    // A client that already had a graph (no range sync) but asks from far back.
    const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
    graph.addChannel(signChannelAnnouncement({ scid: 1n << 40n, nodeA: testKey(1), nodeB: testKey(2) }), {
      receivedAt: T0 / 1000,
    });
    const client = net.add('client', { graph, lastActiveAt: T0 / 1000 - 3 * 86_400 });
    assert.equal(client.stats().initialSyncNeeded, false);
    net.connect('client', 'server');
    await net.settle();
    assert.equal(client.graph.stats().channels, 11);
    assert.equal(client.graph.stats().directions, 20);
    assert.ok(!net.sent.some((s) => s.from === 'client' && s.type === 263), 'no range sync after a restart');
  });

  test('relay: accepted gossip reaches other peers at the next flush, not before, and not back to its sender', async () => {
    const net = new Network();
    const hub = net.add('hub');
    const a = net.add('a');
    const b = net.add('b');
    // All start with the same small graph, so nobody range-syncs.
    for (const n of [hub, a, b]) await n.broadcastLocal(ringGossip(3));
    net.connect('hub', 'a');
    net.connect('hub', 'b');
    await net.settle();
    net.sent.length = 0;
    // a's new channel, sent to the hub as a peer would.
    const [n1] = orderedNodes({ nodeA: testKey(100), nodeB: testKey(200) });
    const scid = 660_000n << 40n;
    for (const raw of [
      signChannelAnnouncement({ scid, nodeA: testKey(100), nodeB: testKey(200) }),
      signChannelUpdate({ scid, signer: n1, direction: 0, timestamp: T0 / 1000 + 5 }),
    ])
      hub.receive('a', raw);
    await net.settle();
    assert.equal(hub.graph.stats().channels, 4);
    assert.equal(b.graph.stats().channels, 3, 'not relayed before the flush');
    net.now += 60_000;
    hub.tick();
    await net.settle();
    assert.equal(b.graph.stats().channels, 4);
    assert.deepEqual(
      net.sent.filter((s) => s.from === 'hub' && s.type >= 256 && s.type <= 258).map((s) => [s.to, s.type]),
      [
        ['b', 256],
        ['b', 258],
      ],
    );
  });

  test('a bad channel_update signature: a warning, then the peer is disconnected; counted; the graph unchanged', async () => {
    const net = new Network();
    const node = await seeded(net, 'node', ringGossip(2));
    net.add('evil');
    net.connect('node', 'evil');
    await net.settle();
    net.sent.length = 0;
    const [n1] = orderedNodes({ nodeA: testKey(100), nodeB: testKey(101) });
    const before = node.graph.channel((650_000n << 40n) | 1n)!.directions[0];
    node.receive(
      'evil',
      breakSignature(
        signChannelUpdate({
          scid: (650_000n << 40n) | 1n,
          signer: n1,
          direction: 0,
          timestamp: T0 / 1000 + 1,
          feeBaseMsat: 1,
        }),
      ),
    );
    await net.settle();
    assert.deepEqual(node.graph.channel((650_000n << 40n) | 1n)!.directions[0], before);
    assert.deepEqual(
      net.sent.filter((s) => s.from === 'node').map((s) => s.type),
      [1],
    );
    assert.deepEqual(net.disconnects, [{ from: 'node', to: 'evil' }]);
    assert.equal(node.counters.get('channel_update', 'bad-signature'), 1);
  });

  test('a channel_update a payment failure carried: applied when newer and well signed, relayed; a stale or forged one is not, and no peer hears of it', async () => {
    const net = new Network();
    const node = await seeded(net, 'node', ringGossip(2));
    net.add('peer');
    net.connect('node', 'peer');
    await net.settle();
    net.sent.length = 0;
    const scid = (650_000n << 40n) | 1n;
    const [n1] = orderedNodes({ nodeA: testKey(100), nodeB: testKey(101) });
    const update = (timestamp: number, feeBaseMsat: number) =>
      signChannelUpdate({ scid, signer: n1, direction: 0, timestamp, feeBaseMsat });
    assert.equal(await node.applyFailureUpdate(update(T0 / 1000 + 5, 4242)), true);
    assert.equal(node.graph.channel(scid)!.directions[0]?.feeBaseMsat, 4242);
    // Stale (older than what the graph has), or forged: refused, the graph unchanged.
    assert.equal(await node.applyFailureUpdate(update(T0 / 1000 + 1, 1)), false);
    assert.equal(await node.applyFailureUpdate(breakSignature(update(T0 / 1000 + 9, 2))), false);
    assert.equal(
      await node.applyFailureUpdate(new Uint8Array([0x01, 0x00, 0x00])),
      false,
      'not a channel_update',
    );
    assert.equal(node.graph.channel(scid)!.directions[0]?.feeBaseMsat, 4242);
    assert.equal(node.counters.get('channel_update', 'bad-signature'), 1);
    // The accepted one goes out with the next broadcast; no warning went anywhere.
    net.now += 120_000;
    node.tick();
    await net.settle();
    assert.ok(net.sent.some((m) => m.from === 'node' && m.to === 'peer' && m.type === 258));
    assert.ok(!net.sent.some((m) => m.type === 1), 'no warning');
    assert.deepEqual(net.disconnects, []);
  });

  test('a malformed reply_channel_range ends the sync with a warning, and another peer is asked', async () => {
    const net = new Network();
    const good = await seeded(net, 'good', ringGossip(5));
    const client = net.add('client', { initialSyncPeers: 1 });
    net.add('liar');
    // The liar answers every query_channel_range with a zlib-encoded reply.
    net.nodes.get('liar')!.receive = (from, raw) => {
      if (messageType(raw) !== 263) return;
      const reply = Uint8Array.from(
        Buffer.from(
          // reply_channel_range: our chain, blocks 0..2^32-1, sync_complete, 1 byte of ids: encoding 1.
          `0108${Buffer.from(REGTEST_CHAIN_HASH).toString('hex')}00000000ffffffff01000101`,
          'hex',
        ),
      );
      client.receive(from === 'client' ? 'liar' : from, reply);
    };
    client.peerConnected('liar', GOSSIP_QUERIES);
    await net.settle();
    assert.deepEqual(
      net.sent.filter((s) => s.from === 'client' && s.to === 'liar').map((s) => s.type),
      [265, 263, 1],
      'filter, query, then the warning',
    );
    net.connect('client', 'good');
    await net.settle();
    assert.equal(client.graph.stats().channels, good.graph.stats().channels);
  });

  test("a flood beyond a peer's inbox is dropped and counted; what came before is still applied", async () => {
    const net = new Network();
    const node = net.add('node', { maxInboxPerPeer: 10, rateLimit: { burst: 1_000_000 } });
    net.add('flood');
    net.connect('node', 'flood');
    const raws = ringGossip(20).slice(0, 60);
    // Delivered in one go, faster than a batch is checked.
    for (const raw of raws) node.receive('flood', raw);
    await net.settle();
    const dropped = (['channel_announcement', 'channel_update', 'node_announcement'] as const).reduce(
      (n, kind) => n + node.counters.get(kind, 'rate-limited'),
      0,
    );
    assert.ok(dropped >= 40, `dropped ${dropped}`);
    assert.ok(node.graph.stats().channels >= 3);
  });

  test('copies of what the graph has, and copies of what is queued, are dropped on arrival: no batch, no signature check', async () => {
    const net = new Network();
    const raws = ringGossip(10);
    const node = await seeded(net, 'node', raws);
    net.add('peer');
    net.connect('node', 'peer');
    await net.settle();
    const before = node.counters.snapshot();
    for (const raw of raws) node.receive('peer', raw);
    await net.settle();
    const after = node.counters.snapshot();
    assert.equal(after.batches, before.batches, 'nothing queued');
    assert.equal(after.signaturesChecked, before.signaturesChecked);
    assert.equal(node.counters.get('channel_update', 'duplicate'), 20);
    // A new message twice in a row: the second copy never reaches a batch.
    const fresh = signRing(2, { timestamp: T0 / 1000, firstKey: 900, scidOffset: 100 })[0]!;
    const checked = after.signaturesChecked;
    node.receive('peer', fresh);
    node.receive('peer', new Uint8Array(fresh));
    await net.settle();
    assert.equal(node.counters.snapshot().signaturesChecked, checked + 4);
    assert.equal(node.counters.get('channel_announcement', 'accepted'), 11);
  });

  test('a node_announcement queued ahead of its channel, then again after it: the second copy is taken', async () => {
    // Signature checks held back, so everything below waits in the inbox together, as it does
    // while earlier batches wait on the chain.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const net = new Network();
    const node = net.add('node', {
      crypto: {
        ...inThreadCrypto,
        verifyBatch: async (r) => {
          await gate;
          return inThreadCrypto.verifyBatch(r);
        },
      },
      pipelineDepth: 1,
    });
    const [n1, n2] = orderedNodes({ nodeA: testKey(1), nodeB: testKey(2) });
    const scid = (700_000n << 40n) | 1n;
    const t = T0 / 1000 - 60;
    const announcement = signNodeAnnouncement({ node: n1, timestamp: t, alias: 'early' });
    node.receive('peer', signChannelAnnouncement({ scid: 1n << 40n, nodeA: testKey(3), nodeB: testKey(4) }));
    node.receive('peer', announcement); // a filter's answer: the node, alone
    node.receive('peer', signChannelAnnouncement({ scid, nodeA: n1, nodeB: n2 })); // a range sync's answer
    node.receive('peer', signChannelUpdate({ scid, signer: n1, direction: 0, timestamp: t }));
    node.receive('peer', new Uint8Array(announcement));
    release();
    await waitFor(() => node.stats().inbox === 0 && node.stats().batchesInFlight === 0, {
      what: 'the inbox done',
    });
    assert.equal(node.counters.get('node_announcement', 'unknown-node'), 1);
    assert.equal(node.counters.get('node_announcement', 'accepted'), 1);
    assert.equal(node.graph.node(n1.publicKey)?.announcement?.alias, 'early');
  });

  test('close() lets batches in flight finish; nothing is taken afterwards', async () => {
    const net = new Network();
    const node = net.add('node');
    net.add('peer');
    net.connect('node', 'peer');
    for (const raw of ringGossip(5)) node.receive('peer', raw);
    await node.close();
    const after = node.graph.stats().channels;
    node.receive('peer', signChannelAnnouncement({ scid: 5n << 40n, nodeA: testKey(1), nodeB: testKey(2) }));
    await waitFor(() => node.stats().inbox === 0, { what: 'an empty inbox' });
    assert.equal(node.graph.stats().channels, after);
  });
});
