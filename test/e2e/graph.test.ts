/**
 * End to end, the network graph: two lnkitd on one regtest chain (A embeds it, B reaches it
 * through --bitcoind-rpc), and a test peer — an lnkit PeerManager with its own GossipSync —
 * serving a small signed graph whose channels are real funding outputs on that chain (each the
 * coinbase of a block mined to the P2WSH of its two bitcoin keys), one of them A's own channel,
 * announced with A's node key. A range-syncs the graph from the peer, checking every signature
 * and every funding output on the chain; B then range-syncs it from A. Both answer graphinfo,
 * listnodes, getnode, listgraphchannels and queryroutes with the exact nodes, channels, route and
 * fee, through lnkit-cli and the REST API; and A, killed with SIGKILL and started again, still
 * has the graph.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { fundingScriptPubKey, GOSSIP_MESSAGE_TYPES, GossipSync, NetworkGraph } from '@lnkit/gossip';
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
import { waitFor } from '@lnkit/test-support';
import { Features } from '@lnkit/wire';
import { address } from 'bitcoinjs-lib';
import { CLI_POLL_MS, Daemon, request } from './daemon.ts';

interface Info {
  nodeId: string;
  blockHeight: number;
  listening: { host: string; port: number };
}
interface GraphInfo {
  nodes: number;
  announcedNodes: number;
  channels: number;
  directions: number;
  routableDirections: number;
  memoryBytes: number;
  lastSyncAt: string | null;
  peers: number;
  inbox: number;
  batchesInFlight: number;
  pendingWrites: number;
  counters: Record<string, Record<string, number>>;
}
interface Policy {
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
}
interface Channel {
  shortChannelId: string;
  nodeId1: string;
  nodeId2: string;
  capacitySat: string | null;
  directions: [Policy | null, Policy | null];
}
interface RouteOut {
  hops: { nodeId: string; shortChannelId: string; amountMsat: string; cltvExpiry: number }[];
  feeMsat: string;
  probability: number;
}

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-graph-'));
const fast = ['--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', '--log-level', 'debug'];
let a: Daemon;
let b: Daemon;
const cleanups: (() => Promise<unknown>)[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** The embedded chain's JSON-RPC (its address and credentials are in A's embedded-chain.json). */
async function chainRpc<T>(method: string, params: unknown[]): Promise<T> {
  const c = JSON.parse(readFileSync(join(a.dataDir, 'embedded-chain.json'), 'utf8'));
  const r = await request(c.rpcUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.rpcUser}:${c.rpcPassword}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
  });
  const reply = (await r.json()) as { result: T; error: { message: string } | null };
  if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
  return reply.result;
}

/**
 * A funding output on the chain: a block whose coinbase pays the 2-of-2 P2WSH of the two bitcoin
 * keys (bcoin's regtest addresses are rb1...). Its short_channel_id is that block, tx 0, output 0.
 */
async function fund(bitcoinA: TestKey, bitcoinB: TestKey): Promise<bigint> {
  const spk = fundingScriptPubKey(bitcoinA.publicKey, 0, bitcoinB.publicKey, 0);
  const to = address.toBech32(Buffer.from(spk.subarray(2)), 0, 'rb');
  const [hash] = await chainRpc<string[]>('generatetoaddress', [1, to]);
  const block = await chainRpc<{ height: number }>('getblock', [hash, true]);
  return BigInt(block.height) << 40n;
}

/**
 * An hour old: older than the first_timestamp of the gossip_timestamp_filter a node sends a new
 * peer (the present less a minute), so the graph comes by one way only, the range sync's
 * answers, in their order (announcement, updates, then its nodes). Newer node announcements
 * would also come in the peer's answer to the filter, alone, ahead of their channels.
 */
const NOW = () => Math.floor(Date.now() / 1000) - 3600;
/** A valid node id (the public key of secret 2) that is not in the graph. */
const NOBODY = '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5';
const X = testKey(11);
const Y = testKey(12);
const Z = testKey(13);
const W = testKey(14);
const hexOf = (k: TestKey) => Buffer.from(k.publicKey).toString('hex');
const fee = (base: number, ppm = 0, cltv = 40) => ({ base, ppm, cltv });

/** A channel funded on the chain, announced, and both its updates: `fromA` what nodeA charges over it. */
async function channel(
  nodeA: TestKey,
  nodeB: TestKey,
  fromA: ReturnType<typeof fee>,
  fromB: ReturnType<typeof fee>,
  keyBase: number,
): Promise<{ scid: bigint; messages: Uint8Array[] }> {
  const bitcoinA = testKey(keyBase);
  const bitcoinB = testKey(keyBase + 1);
  const scid = await fund(bitcoinA, bitcoinB);
  const first = Buffer.compare(Buffer.from(nodeA.publicKey), Buffer.from(nodeB.publicKey)) < 0;
  const update = (signer: TestKey, p: ReturnType<typeof fee>, aSide: boolean) =>
    signChannelUpdate({
      scid,
      signer,
      direction: aSide === first ? 0 : 1,
      timestamp: NOW(),
      feeBaseMsat: p.base,
      feeProportionalMillionths: p.ppm,
      cltvExpiryDelta: p.cltv,
    });
  return {
    scid,
    messages: [
      signChannelAnnouncement({ scid, nodeA, nodeB, bitcoinA, bitcoinB }),
      update(nodeA, fromA, true),
      update(nodeB, fromB, false),
    ],
  };
}

/** An lnkit peer with its own GossipSync holding `messages`, given to whoever syncs from it. */
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
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const s of subs) s.unsubscribe();
    await sync.close();
    await pm.close();
  };
  cleanups.push(close);
  return { pm, close };
}

/** Graph info once nothing the node took in waits to be checked or written (what a crash would keep). */
async function settledGraph(d: Daemon, done: (g: GraphInfo) => boolean, what: string): Promise<GraphInfo> {
  let last: GraphInfo | undefined;
  try {
    return await waitFor(
      () => {
        const g = d.json<GraphInfo>('graphinfo');
        last = g;
        return done(g) && g.inbox === 0 && g.batchesInFlight === 0 && g.pendingWrites === 0 ? g : undefined;
      },
      { what, intervalMs: CLI_POLL_MS, timeoutMs: 60_000 },
    );
  } catch (e) {
    // What it had got to says which messages it refused and why (the counters).
    throw new Error(`${(e as Error).message}; the last graphinfo: ${JSON.stringify(last)}`);
  }
}

const full = (g: GraphInfo) => g.channels === 5 && g.directions === 10 && g.announcedNodes === 5;
const AMOUNT_MSAT = 1_000_000;

let ia: Info;
let scids: Record<'AX' | 'XY' | 'YZ' | 'XW' | 'WZ', string>;
let peer: Awaited<ReturnType<typeof gossipPeer>>;

before(async () => {
  a = new Daemon(join(root, 'a'), [...fast, '--embedded-rpc-port', String(await freePort())]);
  await a.start();
  const chain = JSON.parse(readFileSync(join(a.dataDir, 'embedded-chain.json'), 'utf8'));
  b = new Daemon(join(root, 'b'), [
    ...fast,
    '--bitcoind-rpc',
    chain.rpcUrl,
    '--bitcoind-rpcuser',
    chain.rpcUser,
    '--bitcoind-rpcpassword',
    chain.rpcPassword,
  ]);
  await b.start();
  ia = a.json<Info>('getinfo');
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await b?.kill('SIGKILL');
  await a?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('the network graph in two lnkitd', () => {
  test('A range-syncs a signed graph from a peer, each funding output checked on the chain', {
    timeout: 240_000,
  }, async () => {
    // A's own key, from its seed: its channel to X is announced as a peer would see it.
    const seed = readFileSync(join(a.dataDir, 'keys_seed'));
    const A: TestKey = { privateKey: nodeSecretFromSeed(seed), publicKey: Buffer.from(ia.nodeId, 'hex') };
    // A - X - Y - Z, and X - W - Z: X charges 1000 msat + 100 ppm towards Y, Y 2000 towards Z;
    // X charges 5000 towards W and W 5000 towards Z, so the way through Y is the cheaper.
    const ax = await channel(A, X, fee(0), fee(1), 100);
    const xy = await channel(X, Y, fee(1000, 100, 40), fee(1), 102);
    const yz = await channel(Y, Z, fee(2000, 0, 50), fee(1), 104);
    const xw = await channel(X, W, fee(5000), fee(1), 106);
    const wz = await channel(W, Z, fee(5000), fee(1), 108);
    // Six confirmations (BOLT 7: an announcement with fewer "SHOULD" be ignored).
    a.json('mine', '6');
    const name = (s: bigint) => `${s >> 40n}x0x0`;
    scids = { AX: name(ax.scid), XY: name(xy.scid), YZ: name(yz.scid), XW: name(xw.scid), WZ: name(wz.scid) };
    const aliases = ['A', 'X', 'Y', 'Z', 'W'];
    const messages = [
      ...[ax, xy, yz, xw, wz].flatMap((c) => c.messages),
      ...[A, X, Y, Z, W].map((node, i) =>
        signNodeAnnouncement({ node, timestamp: NOW(), alias: aliases[i] }),
      ),
    ];

    peer = await gossipPeer(messages);
    const theirs = await peer.pm.connect(ia.nodeId, '127.0.0.1', ia.listening.port);
    assert.ok(theirs.features.names.includes('gossip_queries/optional'), theirs.features.names.join());

    const g = await settledGraph(a, full, "the peer's graph in A's");
    assert.deepEqual(
      [g.nodes, g.announcedNodes, g.channels, g.directions, g.routableDirections],
      [5, 5, 5, 10, 10],
    );
    assert.equal(g.counters.channel_announcement?.accepted, 5);
    assert.equal(g.counters.channel_update?.accepted, 10);
    assert.equal(g.counters.node_announcement?.accepted, 5);
    assert.ok(g.memoryBytes > 0);
    const human = a.cli('graphinfo');
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /channels: +5\n/);
    assert.match(human.stdout, /directions: +10 \(10 routable\)/);
    assert.match(human.stdout, /memory: +[\d.]+ (B|KiB|MiB)/);
  });

  test('listnodes, getnode and listgraphchannels show what was announced, with capacities from the chain', () => {
    const nodes = a.json<{
      nodes: { nodeId: string; alias: string; channels: number }[];
      next: number | null;
    }>('listnodes');
    assert.equal(nodes.next, null);
    assert.deepEqual(
      nodes.nodes.map((n) => [n.nodeId, n.alias, n.channels]).sort(),
      [
        [ia.nodeId, 'A', 1],
        [hexOf(X), 'X', 3],
        [hexOf(Y), 'Y', 2],
        [hexOf(Z), 'Z', 2],
        [hexOf(W), 'W', 2],
      ].sort(),
    );
    // Pages: two, then the rest from where the first ended.
    const first = a.json<{ nodes: { nodeId: string }[]; next: number }>('listnodes', '--limit', '2');
    assert.equal(first.nodes.length, 2);
    const rest = a.json<{ nodes: { nodeId: string }[]; next: null }>(
      'listnodes',
      '--after',
      String(first.next),
    );
    assert.deepEqual(
      [...first.nodes, ...rest.nodes].map((n) => n.nodeId).sort(),
      nodes.nodes.map((n) => n.nodeId).sort(),
    );
    assert.equal(a.cli('listnodes').stdout.trim().split('\n').length, 5);

    const y = a.json<{ node: { nodeId: string; alias: string }; channels: Channel[] }>('getnode', hexOf(Y));
    assert.equal(y.node.alias, 'Y');
    assert.deepEqual(y.channels.map((c) => c.shortChannelId).sort(), [scids.XY, scids.YZ].sort());
    assert.match(a.cli('getnode', hexOf(Y)).stdout, /alias: +"Y"/);
    const unknown = a.cli('--json', 'getnode', NOBODY);
    assert.equal(unknown.status, 1);
    assert.equal(JSON.parse(unknown.stdout).error.code, 'unknown-node');

    const channels = a.json<{ channels: Channel[]; next: null }>('listgraphchannels').channels;
    assert.deepEqual(channels.map((c) => c.shortChannelId).sort(), Object.values(scids).sort());
    // Each capacity is its funding output's value: a regtest coinbase below the first halving
    // (block 150), 50 BTC.
    for (const c of channels) assert.equal(c.capacitySat, '5000000000', c.shortChannelId);
    const yz = channels.find((c) => c.shortChannelId === scids.YZ)!;
    const fromY = yz.nodeId1 === hexOf(Y) ? yz.directions[0] : yz.directions[1];
    assert.deepEqual(
      [fromY?.feeBaseMsat, fromY?.feeProportionalMillionths, fromY?.cltvExpiryDelta],
      [2000, 0, 50],
    );
    assert.match(a.cli('listgraphchannels').stdout, new RegExp(`${scids.YZ}  \\d+ sat`));
  });

  test('queryroutes from A: the exact route and fee; refusals with the router code; bad input a 400 naming it', async () => {
    const height = a.json<Info>('getinfo').blockHeight;
    const { routes } = a.json<{ routes: RouteOut[] }>('queryroutes', hexOf(Z), String(AMOUNT_MSAT));
    assert.equal(routes.length, 1);
    // BOLT 7 "HTLC Fees": Y forwards 1,000,000 for 2000 msat; X forwards 1,002,000 for
    // 1000 + 1,002,000 * 100 / 10^6 = 1100. A pays no fee on its own channel.
    assert.deepEqual(routes[0]!.hops, [
      {
        nodeId: hexOf(X),
        shortChannelId: scids.AX,
        amountMsat: '1003100',
        cltvExpiry: height + 18 + 50 + 40,
      },
      { nodeId: hexOf(Y), shortChannelId: scids.XY, amountMsat: '1002000', cltvExpiry: height + 18 + 50 },
      { nodeId: hexOf(Z), shortChannelId: scids.YZ, amountMsat: '1000000', cltvExpiry: height + 18 },
    ]);
    assert.equal(routes[0]!.feeMsat, '3100');
    assert.ok(routes[0]!.probability > 0 && routes[0]!.probability <= 1);
    const human = a.cli('queryroutes', hexOf(Z), String(AMOUNT_MSAT));
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /route: 3 hops, fee 3100 msat/);

    // Within a fee limit below 3100: refused, naming the limit; the CLI says so and exits 1.
    const capped = a.cli('--json', 'queryroutes', hexOf(Z), String(AMOUNT_MSAT), '--max-fee-msat', '3000');
    assert.equal(capped.status, 1);
    assert.equal(JSON.parse(capped.stdout).error.code, 'route-fee-limit');
    const said = a.cli('queryroutes', hexOf(Z), String(AMOUNT_MSAT), '--max-fee-msat', '3000');
    assert.match(said.stderr, /fee limit of 3000 msat/);

    // Through the API: a bad amount or node id is a 400 naming it; no route a 404 'no-route'.
    const { url, token } = a.api();
    const post = (body: unknown) =>
      request(`${url}/v1/queryroutes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const [body, param] of [
      [{ nodeId: hexOf(Z), amountMsat: '1e6' }, 'amountMsat'],
      [{ nodeId: hexOf(Z), amountMsat: '-5' }, 'amountMsat'],
      [{ nodeId: 'Z', amountMsat: '1000' }, 'nodeId'],
      [{ nodeId: hexOf(Z), amountMsat: '1000', maxFeeMsat: '0x10' }, 'maxFeeMsat'],
    ] as const) {
      const r = await post(body);
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, new RegExp(`parameter \\\\"${param}\\\\"`), r.text);
    }
    const self = await post({ nodeId: ia.nodeId, amountMsat: '1000' });
    assert.equal(self.status, 400, self.text);
    for (const body of [
      { nodeId: NOBODY, amountMsat: '1000' },
      // More than any channel's htlc_maximum_msat.
      { nodeId: hexOf(Z), amountMsat: '5000000000000' },
    ]) {
      const r = await post(body);
      assert.equal(r.status, 404, r.text);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'no-route');
    }
  });

  test('B range-syncs the same graph from A; routes need B in the graph, which it is not', async () => {
    const connected = b.json<{ peer: { nodeId: string } }>(
      'connect',
      `${ia.nodeId}@127.0.0.1:${ia.listening.port}`,
    );
    assert.equal(connected.peer.nodeId, ia.nodeId);
    const peers = b.json<{ peers: { nodeId: string; features: { names: string[] } }[] }>('listpeers');
    assert.ok(
      peers.peers.find((p) => p.nodeId === ia.nodeId)?.features.names.includes('gossip_queries/optional'),
    );
    const gb = await settledGraph(b, full, "A's graph in B's");
    const ga = a.json<GraphInfo>('graphinfo');
    assert.deepEqual(
      [gb.nodes, gb.channels, gb.directions, gb.routableDirections],
      [ga.nodes, ga.channels, ga.directions, ga.routableDirections],
    );
    assert.deepEqual(
      b
        .json<{ channels: Channel[] }>('listgraphchannels')
        .channels.map((c) => [c.shortChannelId, c.capacitySat])
        .sort(),
      a
        .json<{ channels: Channel[] }>('listgraphchannels')
        .channels.map((c) => [c.shortChannelId, c.capacitySat])
        .sort(),
    );
    const r = b.cli('--json', 'queryroutes', hexOf(Z), String(AMOUNT_MSAT));
    assert.equal(r.status, 1);
    assert.equal(JSON.parse(r.stdout).error.code, 'no-route');
  });

  test('SIGKILL A and start it again, alone: the same graph, and the same route', async () => {
    const before = await settledGraph(a, full, 'everything A holds written');
    const route = a.json<{ routes: RouteOut[] }>('queryroutes', hexOf(Z), String(AMOUNT_MSAT)).routes[0]!;
    // Nobody could hand A the graph again: the peer is gone and B is stopped.
    await peer.close();
    await b.kill('SIGKILL');
    await a.kill('SIGKILL');
    await a.start();
    const g = a.json<GraphInfo>('graphinfo');
    assert.deepEqual(
      [g.nodes, g.announcedNodes, g.channels, g.directions, g.routableDirections],
      [before.nodes, before.announcedNodes, before.channels, before.directions, before.routableDirections],
    );
    assert.equal(g.peers, 0);
    const again = a.json<{ routes: RouteOut[] }>('queryroutes', hexOf(Z), String(AMOUNT_MSAT)).routes[0]!;
    assert.deepEqual(
      again.hops.map((h) => [h.nodeId, h.shortChannelId, h.amountMsat]),
      route.hops.map((h) => [h.nodeId, h.shortChannelId, h.amountMsat]),
    );
    assert.equal(again.feeMsat, '3100');
  });
});
