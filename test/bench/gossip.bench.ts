/**
 * `pnpm bench gossip [--graph FILE] [--channels N] [--rounds R]`: BOLT 7 gossip over the mainnet
 * topology, lnkit beside LDK 0.1.0 on the same messages in the same run.
 *
 * The topology (default `../shared/data/graph/mainnet-2026-02-03.json`; without it a skip line)
 * has no signatures: its first N channels (default 5,000 of 50,808, about 18,000 messages: lnkit
 * works for more than 2 s even on an idle machine, and LDK, at a few hundred messages a second on
 * this busy one, under a minute a round; `--channels all` for the whole graph) are signed with test
 * keys by @lnkit/gossip/testing's signTopology — each channel_announcement, its channel_updates
 * (each sent by the node the file says), then a node_announcement per node — as the wire bytes
 * (type + payload) a peer sends after BOLT 8.
 *
 * 1. `gossip.ingest`: messages/s decoded, validated (all signatures) and applied, end to end from
 *    the bytes, each arm into an empty graph: lnkit's GossipSync (the actor's core: `receive` per
 *    message, then `idle()`), signatures checked in this thread and in a CryptoPool of 2 threads;
 *    LDK's P2PGossipSync without a UTXO lookup (`handle_*` after `*_read`). No funding output check
 *    on either side (lnkit has none given, LDK none). lnkit's peer is exempt from the rate limit,
 *    as a peer it asked for a full sync is. Arms run in turn, R rounds (default 2), the median.
 *    Every arm must apply every message (each channel, direction and node is in its graph), or
 *    the bench fails.
 * 2. `gossip.load`: the same graph loaded at start, each in a fresh process (so one's memory is
 *    not the other's): lnkit's lmdb store (written once by a GossipSync with the store, closed with
 *    its snapshot; measured: `Store.open` + `loadGraph`) beside LDK's `NetworkGraph.read` of the
 *    bytes its `write()` gave after the ingest. Time, and the RSS grown by the load after full
 *    GCs; three loads of each, the medians. RSS is the figure to compare: LDK's graph lives in its
 *    WASM memory, which no heap figure of node's counts, so only lnkit's line has a heap figure
 *    (JS heap + external).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CryptoPool, type CryptoService, inThreadCrypto } from '@lnkit/crypto';
import { GossipSync, type GossipTransport, LmdbGraphStore, loadGraph, NetworkGraph } from '@lnkit/gossip';
import { REGTEST_CHAIN_HASH, signTopology, type Topology } from '@lnkit/gossip/testing';
import { Store } from '@lnkit/store';
import * as ldk from 'lightningdevkit';
import { feedLdkGossip } from '../support/ldk/ldk-gossip.ts';
import { initLdk } from '../support/ldk/ldk-peer.ts';
import { type Emit, median, round } from './harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const DATA = join(here, '../../../shared/data/graph');
const DEFAULT_CHANNELS = 5000;
const LOADS = 3;
const PEER = '02'.padEnd(66, 'ab');

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const quietTransport: GossipTransport = { send: async () => {}, disconnect: () => {} };

/** lnkit's GossipSync on an empty graph (with a store when given), every message from one peer. */
async function lnkitIngest(
  messages: readonly Uint8Array[],
  crypto: CryptoService,
  store?: LmdbGraphStore,
): Promise<{ ms: number; sync: GossipSync }> {
  const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH, ...(store ? { messages: store } : {}) });
  const sync = new GossipSync({
    graph,
    transport: quietTransport,
    crypto,
    ...(store ? { store } : {}),
    // The one peer is a full sync we asked for: no rate limit, and its whole graph may queue.
    rateLimit: { burst: 1e9, perSecond: 1e9 },
    maxInboxPerPeer: 1e9,
  });
  const t0 = performance.now();
  for (const m of messages) sync.receive(PEER, m);
  await sync.idle();
  return { ms: performance.now() - t0, sync };
}

function lnkitApplied(sync: GossipSync): number {
  const s = sync.graph.stats();
  return s.channels + s.directions + s.announcedNodes;
}

/** LDK's P2PGossipSync on an empty regtest graph; how many messages it took. */
function ldkIngest(messages: readonly Uint8Array[]): {
  ms: number;
  applied: number;
  graph: ldk.NetworkGraph;
} {
  const logger = ldk.Logger.new_impl({ log: () => {} });
  const graph = ldk.NetworkGraph.constructor_new(ldk.Network.LDKNetwork_Regtest, logger);
  const sync = ldk.P2PGossipSync.constructor_new(graph, ldk.Option_UtxoLookupZ.constructor_none(), logger);
  const handler = sync.as_RoutingMessageHandler();
  const t0 = performance.now();
  const applied = feedLdkGossip(handler, messages);
  return { ms: performance.now() - t0, applied, graph };
}

// ============================================================ the load, in a child process

interface LoadFigures {
  ms: number;
  rssBytes: number;
  /** JS heap + external (lnkit only: LDK's graph is in WASM memory). */
  heapBytes?: number;
  channels: number;
}

/** After full GCs, a turn of the event loop apart (what start-up left behind is swept first). */
async function memory(): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

async function childLoad(kind: string, path: string): Promise<LoadFigures> {
  if (kind === 'lnkit') {
    const before = await memory();
    const t0 = performance.now();
    const store = await Store.open(path, { schemaVersion: 1 });
    const loaded = loadGraph(store, REGTEST_CHAIN_HASH);
    const ms = performance.now() - t0;
    const after = await memory();
    const out = {
      ms,
      rssBytes: after.rss - before.rss,
      heapBytes: after.heap - before.heap,
      channels: loaded.channels,
    };
    if (loaded.from !== 'snapshot') throw new Error(`lnkit loaded from ${loaded.from}, not its snapshot`);
    await store.close();
    return out;
  }
  await initLdk();
  const bytes = readFileSync(path);
  const logger = ldk.Logger.new_impl({ log: () => {} });
  const before = await memory();
  const t0 = performance.now();
  const r = ldk.NetworkGraph.constructor_read(bytes, logger);
  const ms = performance.now() - t0;
  const after = await memory();
  if (!(r instanceof ldk.Result_NetworkGraphDecodeErrorZ_OK)) throw new Error('LDK could not read its graph');
  return { ms, rssBytes: after.rss - before.rss, channels: r.res.read_only().list_channels().length };
}

function loadIn(kind: 'lnkit' | 'ldk', path: string): LoadFigures {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), '--load-child', kind, path],
    { cwd: join(here, '..'), encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`the ${kind} load failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as LoadFigures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--load-child');
  const figures = await childLoad(process.argv[at + 1]!, process.argv[at + 2]!);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}

// ============================================================ the bench

export default async function gossip(emit: Emit): Promise<void> {
  const graphArg = option('--graph');
  const graphFile = graphArg
    ? resolve(process.env.INIT_CWD ?? process.cwd(), graphArg)
    : join(DATA, 'mainnet-2026-02-03.json');
  if (!existsSync(graphFile)) {
    process.stderr.write(`# gossip: skipped, ${graphFile} not found (give --graph FILE)\n`);
    return;
  }
  const topology = JSON.parse(readFileSync(graphFile, 'utf8')) as Topology;
  const channelsArg = option('--channels');
  const limit =
    channelsArg === 'all'
      ? topology.channels.length
      : Math.min(topology.channels.length, Number(channelsArg ?? DEFAULT_CHANNELS));
  const rounds = Number(option('--rounds') ?? 2);
  const subset = limit === topology.channels.length ? 'all' : `first ${limit}`;

  let t = performance.now();
  // Timestamps a minute old: fresh for both (neither takes an update from the future or two weeks old).
  const signed = signTopology(topology, { timestamp: Math.floor(Date.now() / 1000) - 60, limit });
  const messages = signed.messages;
  const total = messages.length;
  process.stderr.write(
    `# gossip: ${subset} of ${topology.channels.length} channels: ${signed.channelAnnouncements} channel_announcements, ${signed.channelUpdates} channel_updates, ${signed.nodeAnnouncements} node_announcements, signed in ${round((performance.now() - t) / 1000, 1)} s\n`,
  );
  await initLdk();
  const pool = new CryptoPool({ threads: 2 });
  const times: Record<'thread' | 'pool' | 'ldk', number[]> = { thread: [], pool: [], ldk: [] };
  const applied = { thread: 0, pool: 0, ldk: 0 };
  let ldkGraph: ldk.NetworkGraph | undefined;
  let signaturesChecked = 0;
  try {
    // A short warm-up of each (JIT, WASM) on the first thousand messages.
    await lnkitIngest(messages.slice(0, 1000), inThreadCrypto);
    await lnkitIngest(messages.slice(0, 1000), pool);
    ldkIngest(messages.slice(0, 1000));
    for (let r = 0; r < rounds; r++) {
      const a = await lnkitIngest(messages, inThreadCrypto);
      times.thread.push(a.ms);
      applied.thread = lnkitApplied(a.sync);
      signaturesChecked = a.sync.stats().counters.signaturesChecked;
      await a.sync.close();
      const b = await lnkitIngest(messages, pool);
      times.pool.push(b.ms);
      applied.pool = lnkitApplied(b.sync);
      await b.sync.close();
      const c = ldkIngest(messages);
      times.ldk.push(c.ms);
      applied.ldk = c.applied;
      ldkGraph = c.graph;
      process.stderr.write(
        `# gossip: round ${r + 1}: lnkit ${round(a.ms, 0)} ms in-thread, ${round(b.ms, 0)} ms with the pool; LDK ${round(c.ms, 0)} ms\n`,
      );
    }
  } finally {
    await pool.close();
  }
  for (const [arm, n] of Object.entries(applied))
    if (n !== total) throw new Error(`${arm} applied ${n} of ${total} messages`);

  const rate = (ms: number[]) => round((total * 1000) / median(ms), 0);
  const ldkRate = rate(times.ldk);
  const common = { messages: total, channels: limit, subset, rounds, ldk: ldkRate, ldkUnit: 'msg/s' };
  emit({
    name: 'gossip.ingest',
    impl: 'lnkit',
    crypto: 'in-thread',
    value: rate(times.thread),
    unit: 'msg/s',
    ...common,
    ratio: round(rate(times.thread) / ldkRate, 2),
    signaturesChecked,
  });
  emit({
    name: 'gossip.ingest',
    impl: 'lnkit',
    crypto: 'pool-2',
    value: rate(times.pool),
    unit: 'msg/s',
    ...common,
    ratio: round(rate(times.pool) / ldkRate, 2),
  });

  // The load: lnkit's store written once, LDK's graph serialized once, each read in a fresh process.
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-gossip-bench-'));
  try {
    t = performance.now();
    const store = await Store.open(join(dir, 'lnkit'), { schemaVersion: 1 });
    const written = await lnkitIngest(
      messages,
      inThreadCrypto,
      new LmdbGraphStore(store, REGTEST_CHAIN_HASH),
    );
    await written.sync.close();
    await store.close();
    const ldkFile = join(dir, 'ldk-graph.bin');
    const ldkBytes = ldkGraph!.write();
    writeFileSync(ldkFile, ldkBytes);
    process.stderr.write(`# gossip: stores written in ${round((performance.now() - t) / 1000, 1)} s\n`);
    // Three loads of each, in turn, the median of each figure: one load is a few hundred ms, and
    // this machine's load moves that much.
    const runs = { lnkit: [] as LoadFigures[], ldk: [] as LoadFigures[] };
    for (let i = 0; i < LOADS; i++) {
      runs.lnkit.push(loadIn('lnkit', join(dir, 'lnkit')));
      runs.ldk.push(loadIn('ldk', ldkFile));
    }
    const mid = (xs: LoadFigures[]): LoadFigures => ({
      ms: median(xs.map((x) => x.ms)),
      rssBytes: median(xs.map((x) => x.rssBytes)),
      heapBytes: median(xs.map((x) => x.heapBytes ?? 0)),
      channels: xs[0]!.channels,
    });
    const ours = mid(runs.lnkit);
    const theirs = mid(runs.ldk);
    const mib = (b: number) => round(b / 2 ** 20, 1);
    emit({
      name: 'gossip.load',
      impl: 'lnkit',
      value: round(ours.ms, 1),
      unit: 'ms',
      channels: ours.channels,
      subset,
      loads: LOADS,
      rssMiB: mib(ours.rssBytes),
      heapMiB: mib(ours.heapBytes ?? 0),
      ldk: round(theirs.ms, 1),
      ldkChannels: theirs.channels,
      ldkRssMiB: mib(theirs.rssBytes),
      ldkSource: 'NetworkGraph.read of its write()',
      ldkBytes: ldkBytes.length,
      ratio: round(ours.ms / theirs.ms, 3),
      rssRatio: round(ours.rssBytes / theirs.rssBytes, 3),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
