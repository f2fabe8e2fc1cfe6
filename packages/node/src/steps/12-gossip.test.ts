/**
 * Step 12 in a running node: gossip from a peer (an lnkit PeerManager serving a small signed
 * graph over TCP) reaches the node's graph through the handler step 13 wired, with
 * gossip_queries in the node's init features; the graph, its pages and a node read back; routes
 * from the node with their exact fees and the router's errors; the graph and the scorer kept
 * across a restart. Then the pieces a user may give: a scorer, a router of their own or one made
 * from the node's graph, and a block source that serves as the funding output check.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type BlockSource, RpcBlockSource } from '@lnkit/chain-sync';
import { randomBytes } from '@lnkit/crypto';
import {
  edgeChannel,
  GOSSIP_MESSAGE_TYPES,
  type GossipError,
  GossipSync,
  type GraphView,
  NetworkGraph,
  type Route,
  type Router,
  SCORER_DB,
  SCORER_SNAPSHOT_KEY,
  type Scorer,
} from '@lnkit/gossip';
import {
  REGTEST_CHAIN_HASH,
  signChannelAnnouncement,
  signChannelUpdate,
  signNodeAnnouncement,
  type TestKey,
  testKey,
} from '@lnkit/gossip/testing';
import { nodeSecretFromSeed } from '@lnkit/keys';
import { LNKIT_INIT_FEATURES, nodeKeyEcdh, PeerManager } from '@lnkit/peer-net';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { Features } from '@lnkit/wire';
import { type LnkitNode, NodeBuilder, nodeStoreOptions } from '../index.ts';
import { countingSource, inProcessRpc, nodeConfig, useTestChain } from '../test-fixtures.ts';

const { chain, dir } = useTestChain();
const silent = () => createRootLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

// An hour old: older than the node's gossip_timestamp_filter, so the graph comes by the range
// sync alone, each channel before its nodes.
const NOW = Math.floor(Date.now() / 1000) - 3600;
const A = testKey(1);
const B = testKey(2);
const C = testKey(3);
const D = testKey(4);
const hex = (k: TestKey) => Buffer.from(k.publicKey).toString('hex');
const scid = (block: number) => (BigInt(block) << 40n) | 1n;
const US_A = scid(700_001);
const A_B = scid(700_002);
const B_C = scid(700_003);
const A_D = scid(700_004);
const D_C = scid(700_005);

/** A channel with both updates: `fromA` is what nodeA charges to forward over it, `fromB` nodeB's. */
function channel(
  id: bigint,
  nodeA: TestKey,
  nodeB: TestKey,
  fromA: { base: number; ppm: number; cltv: number },
  fromB = fromA,
): Uint8Array[] {
  const first = Buffer.compare(Buffer.from(nodeA.publicKey), Buffer.from(nodeB.publicKey)) < 0;
  const update = (signer: TestKey, p: typeof fromA, aSide: boolean) =>
    signChannelUpdate({
      scid: id,
      signer,
      direction: aSide === first ? 0 : 1,
      timestamp: NOW,
      feeBaseMsat: p.base,
      feeProportionalMillionths: p.ppm,
      cltvExpiryDelta: p.cltv,
      // Three times the amount the tests route, not the helper's 990,000,000: a channel without
      // a funding output is as large as its htlc_maximum_msat to the scorer, and what it learns
      // of a failure fades toward that size (6-hour half-life). Toward 990,000,000 the failure
      // at A - B was forgotten enough within ~11 s to send the route back through it, and a
      // loaded machine took that long between the failure and the query after the restart.
      htlcMaximumMsat: 3_000_000n,
    });
  return [
    signChannelAnnouncement({ scid: id, nodeA, nodeB }),
    update(nodeA, fromA, true),
    update(nodeB, fromB, false),
  ];
}

/**
 * us - A - B - C, and A - D - C: A charges 1000 msat + 100 ppm towards B, B 2000 msat towards C;
 * A charges 5000 towards D and D 5000 towards C, so the way through B is the cheaper.
 */
function graphOf(us: TestKey): Uint8Array[] {
  const p = (base: number, ppm = 0, cltv = 40) => ({ base, ppm, cltv });
  return [
    ...channel(US_A, us, A, p(0), p(1)),
    ...channel(A_B, A, B, p(1000, 100, 40), p(1)),
    ...channel(B_C, B, C, p(2000, 0, 50), p(1)),
    ...channel(A_D, A, D, p(5000), p(1)),
    ...channel(D_C, D, C, p(5000), p(1)),
    ...[us, A, B, C, D].map((node, i) => signNodeAnnouncement({ node, timestamp: NOW, alias: `node ${i}` })),
  ];
}

/** The node's own key, from the seed step 7 wrote: its channel to A is announced with it. */
function nodeKeyOf(node: LnkitNode): TestKey {
  const seed = readFileSync(join(node.config.dataDir, 'keys_seed'));
  return { privateKey: nodeSecretFromSeed(seed), publicKey: Buffer.from(node.nodeId, 'hex') };
}

/** An lnkit peer with its own GossipSync holding `messages`, which it gives to whoever syncs from it. */
async function gossipPeer(messages: Uint8Array[]) {
  const pm = new PeerManager({
    nodeKey: nodeKeyEcdh(randomBytes(32)),
    features: LNKIT_INIT_FEATURES.or(Features.of({ optional: ['gossip_queries'] })),
    timerMs: 50,
  });
  const sync = new GossipSync({
    graph: new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH }),
    transport: {
      send: async (peer, list) => {
        await Promise.all(list.map((m) => pm.send(peer, m)));
      },
      disconnect: (peer) => void pm.disconnect(peer),
    },
  });
  const subs = [
    pm.messagesOfType(...GOSSIP_MESSAGE_TYPES).subscribe((m) => sync.receive(m.nodeId, m.raw)),
    pm.events$.subscribe((e) => {
      if (e.type === 'connected') sync.peerConnected(e.nodeId, Buffer.from(e.features.hex, 'hex'));
      else sync.peerDisconnected(e.nodeId);
    }),
  ];
  const seeded = await sync.broadcastLocal(messages);
  assert.equal(seeded.accepted, messages.length, 'the peer takes every message it serves');
  const close = async () => {
    for (const s of subs) s.unsubscribe();
    await sync.close();
    await pm.close();
  };
  cleanups.push(close);
  return { pm, close };
}

async function build(name: string, setup: (b: NodeBuilder) => NodeBuilder = (b) => b) {
  const node = await setup(
    new NodeBuilder(
      nodeConfig(chain(), dir(name), {
        listen: { host: '127.0.0.1', port: 0 },
        gossipVerifyThreads: 0,
      }),
    ).withLogger(silent()),
  ).build();
  cleanups.push(() => node.stop());
  return node;
}

/**
 * Builds a node, serves it the graph (with its own channel to A), and waits until it has it all.
 * The made-up channels have no funding output: the node must have no funding output check (a
 * block source of its own that cannot say whether an output is unspent).
 */
async function withGraph(name: string, setup?: (b: NodeBuilder) => NodeBuilder) {
  const node = await build(name, setup);
  const peer = await gossipPeer(graphOf(nodeKeyOf(node)));
  const { port } = (await node.info()).listening!;
  const info = await peer.pm.connect(node.nodeId, '127.0.0.1', port);
  await waitFor(
    async () => {
      const g = await node.graphInfo();
      return g.channels === 5 && g.directions === 10 && g.announcedNodes === 5 && g.pendingWrites === 0;
    },
    { what: "the peer's graph in the node's" },
  );
  return { node, peer, info };
}

// Amounts at each hop for 1,000,000 msat to C through A and B (BOLT 7 "HTLC Fees", rounded down):
// B forwards 1,000,000 for 2000 msat; A forwards 1,002,000 for 1000 + 1,002,000 × 100 / 10^6 = 1100.
const AMOUNT_MSAT = 1_000_000n;

test('gossip from a peer fills the graph; the node reads it back, finds routes with their exact fees, and keeps both across a restart', {
  timeout: 180_000,
}, async () => {
  // Its own block source cannot say whether an output is unspent: no funding output check.
  const source = countingSource(chain());
  const first = await withGraph('default', (b) => b.withBlockSource(source));
  const { peer, info } = first;
  let node = first.node;
  assert.ok(info.features.names.includes('gossip_queries/optional'), info.features.names.join());
  assert.ok(info.features.names.includes('gossip_queries_ex/optional'), info.features.names.join());

  // The sync is done once the peer said it sent all (reply_short_channel_ids_end), just after.
  const g = await waitFor(
    async () => {
      const i = await node.graphInfo();
      return i.lastSyncAt !== null ? i : undefined;
    },
    { what: 'the range sync with the peer to complete' },
  );
  assert.equal(g.nodes, 5);
  assert.equal(g.routableDirections, 10);
  assert.ok(g.memoryBytes > 0);
  assert.equal(g.counters.channel_announcement.accepted, 5);
  assert.equal(g.counters.channel_announcement['utxo-missing'], undefined);

  // Pages of 2: every node once, in index order.
  const ids: string[] = [];
  let after: number | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const p = await node.listNodes({ limit: 2, ...(after !== undefined ? { after } : {}) });
    ids.push(...p.items.map((n) => n.nodeId));
    if (p.next === null) break;
    after = p.next;
  }
  assert.deepEqual(ids.sort(), [node.nodeId, hex(A), hex(B), hex(C), hex(D)].sort());
  const channels = await node.listGraphChannels();
  assert.equal(channels.items.length, 5);
  assert.equal(channels.next, null);
  const c = await node.getNode(hex(C));
  assert.equal(c?.node.alias, 'node 3');
  assert.deepEqual(c?.channels.map((ch) => ch.shortChannelId).sort(), ['700003x0x1', '700005x0x1']);
  assert.equal(await node.getNode(`02${'00'.repeat(32)}`), undefined);

  const height = (await node.info()).blockHeight;
  const [route, ...more] = await node.queryRoutes(hex(C), AMOUNT_MSAT);
  assert.equal(more.length, 0);
  const hops = route!.hops.map((h) => [
    Buffer.from(h.nodeId).toString('hex'),
    h.shortChannelId,
    h.amountMsat,
    h.cltvExpiry,
  ]);
  assert.deepEqual(hops, [
    [hex(A), US_A, 1_003_100n, height + 18 + 50 + 40],
    [hex(B), A_B, 1_002_000n, height + 18 + 50],
    [hex(C), B_C, AMOUNT_MSAT, height + 18],
  ]);
  assert.equal(route!.feeMsat, 3100n);
  assert.ok(route!.probability > 0 && route!.probability <= 1);

  // The router's refusals, by code.
  await assert.rejects(node.queryRoutes(hex(C), AMOUNT_MSAT, { maxFeeMsat: 3000n }), (e: GossipError) => {
    assert.equal(e.code, 'route-fee-limit');
    return true;
  });
  await assert.rejects(node.queryRoutes(`02${'11'.repeat(32)}`, AMOUNT_MSAT), { code: 'no-route' });
  await assert.rejects(node.queryRoutes(hex(C), 2_000_000_000n), { code: 'no-route' });

  // A payment failed at A - B for want of liquidity: the scorer learns it, and the next route
  // goes around, through D. What it learned is written at stop and read at the next start.
  await node.router.pathFailed({ payer: Buffer.from(node.nodeId, 'hex'), hops: route!.hops }, A_B);
  const around = [US_A, A_D, D_C];
  const scids = async () =>
    (await node.queryRoutes(hex(C), AMOUNT_MSAT))[0]!.hops.map((h) => h.shortChannelId);
  assert.deepEqual(await scids(), around);

  // A restart: the same graph from the store, without the peer, and the same scorer.
  await peer.close();
  await node.stop();
  const store = await Store.open(dir('default'), nodeStoreOptions('regtest'));
  assert.ok(store.db(SCORER_DB).get(SCORER_SNAPSHOT_KEY), 'the scorer was saved when the node stopped');
  await store.close();
  node = await build('default', (b) => b.withBlockSource(source));
  const again = await node.graphInfo();
  assert.deepEqual(
    [again.nodes, again.announcedNodes, again.channels, again.directions, again.routableDirections],
    [g.nodes, g.announcedNodes, g.channels, g.directions, g.routableDirections],
  );
  assert.deepEqual(await scids(), around, 'the scorer read back what it learned');
});

test("the user's scorer decides which way the node's router goes; it is called inside the search", {
  timeout: 180_000,
}, async () => {
  let graph: GraphView | undefined;
  const scorer: Scorer = {
    beginSearch: (g) => {
      graph = g;
    },
    // The channel A - B is thought empty: the way through D, dearer in fees, wins.
    penaltyMsat: (edge) => (edge >= 0 && graph!.shortChannelIdAt(edgeChannel(edge)) === A_B ? 1e12 : 0),
    successProbability: () => 0.5,
    pathFailed: () => {},
    pathSucceeded: () => {},
    probeSucceeded: () => {},
  };
  const { node } = await withGraph('scorer', (b) =>
    b.withBlockSource(countingSource(chain())).withScorer(scorer),
  );
  const [route] = await node.queryRoutes(hex(C), AMOUNT_MSAT);
  assert.deepEqual(
    route!.hops.map((h) => h.shortChannelId),
    [US_A, A_D, D_C],
  );
  assert.equal(route!.feeMsat, 5000n + 5000n);
  assert.equal(route!.probability, 0.5 ** 3);
});

test("a router of the user's own answers queryRoutes; a factory is given the node's graph and scorer", {
  timeout: 180_000,
}, async () => {
  const asked: string[] = [];
  const fixed: Route = { hops: [], feeMsat: 42n, probability: 1 };
  const own: Router = {
    findRoute: () => fixed,
    findRoutes: (q) => {
      asked.push(`${q.payee}:${q.amountMsat}`);
      return [fixed];
    },
  };
  const plain = await build('own-router', (b) => b.withRouter(own));
  assert.deepEqual(await plain.queryRoutes(hex(C), 5n), [fixed]);
  assert.deepEqual(asked, [`${hex(C)}:5`]);

  let given: { graph: GraphView; scorer: Scorer } | undefined;
  const { node } = await withGraph('router-factory', (b) =>
    b.withBlockSource(countingSource(chain())).withRouter((graph, scorer) => {
      given = { graph, scorer };
      return {
        findRoute: () => fixed,
        findRoutes: () => [{ ...fixed, feeMsat: BigInt(graph.stats().channels) }],
      };
    }),
  );
  assert.ok(given && typeof given.scorer.penaltyMsat === 'function');
  assert.equal((await node.queryRoutes(hex(C), AMOUNT_MSAT))[0]!.feeMsat, 5n, "it searched the node's graph");
});

test('a block source that can say whether an output is unspent is the funding output check', {
  timeout: 180_000,
}, async () => {
  await chain().mine(10);
  const inner = new RpcBlockSource(inProcessRpc(chain()));
  const unspentAsked: string[] = [];
  const source: BlockSource & { isOutputUnspent(txid: string, vout: number): Promise<boolean> } = {
    ...countingSource(chain()),
    async isOutputUnspent(txidHex, vout) {
      unspentAsked.push(`${txidHex}:${vout}`);
      return (await inner.rpc.call('gettxout', [txidHex, vout, true])) !== null;
    },
  };
  const node = await build('utxo-source', (b) => b.withBlockSource(source));
  // Channels at coinbase outputs of blocks 1 to 3: they exist, unspent, but are not 2-of-2 P2WSH.
  const messages = [1, 2, 3].flatMap((h) =>
    channel((BigInt(h) << 40n) | 0n, A, B, { base: 1, ppm: 1, cltv: 40 }),
  );
  const peer = await gossipPeer(messages);
  await peer.pm.connect(node.nodeId, '127.0.0.1', (await node.info()).listening!.port);
  const g = await waitFor(
    async () => {
      const info = await node.graphInfo();
      return info.counters.channel_announcement['utxo-script-mismatch'] === 3 ? info : undefined;
    },
    { what: 'the three announcements checked on the chain' },
  );
  assert.equal(g.channels, 0);
  assert.equal(unspentAsked.length, 3, 'the outputs were looked up through the given source');
});
