/**
 * `pnpm bench route [--graph FILE] [--queries FILE]`: pathfinding on a real graph, lnkit's
 * DefaultRouter beside LDK 0.1.0's `find_route` with its default ProbabilisticScorer, on the same
 * graph and the same queries in the same run.
 *
 * Defaults: `../shared/data/graph/mainnet-2026-02-03.json` and `route-queries-2026-02-03.json`
 * (their README says how the 1,000 queries were drawn); without them the bench prints a skip line.
 * The topology has no short_channel_ids: both graphs get the same made-up ones
 * (test/support/graph-topology.ts), and LDK's graph is built from unsigned announcements with the
 * file's capacities (test/support/ldk/ldk-graph.ts).
 *
 * Per query: fee limit 1 % + 50 sat, CLTV limit 1008 (both routers' default), single path. The
 * queries run interleaved (lnkit then LDK, then LDK then lnkit on the next), so both see the same
 * load on this shared machine; the first 20 run once untimed on each to warm up (JIT, WASM).
 * Every lnkit route is checked hop by hop against the graph before it counts as found.
 *
 * Output, one line per router: `{name: "route", impl, found, queries, p50Ms, p99Ms, feePpmP50,
 * probabilityP50, probabilityMean}`, `value` = p50Ms; lnkit's line carries LDK's figures and the
 * ratios. The probability of both routers' routes is lnkit's scorer's estimate with nothing
 * learned (one model for both, to compare what the fees bought). Then `route.mpp`: how many of the
 * queries lnkit found no single path for it splits (findRoutes), which LDK does not try for a
 * payee without features.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DefaultRouter,
  type FixedGraph,
  forwardingFeeMsat,
  GossipError,
  ProbabilisticScorer,
  type Route,
} from '@lnkit/gossip';
import {
  fixedGraphOf,
  nodeIdBytes,
  type RouteQueryFile,
  readRouteQueries,
  readTopology,
} from '../support/graph-topology.ts';
import { ldkGraphOf, ldkRouter } from '../support/ldk/ldk-graph.ts';
import { type Emit, round } from './harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const DATA = join(here, '../../../shared/data/graph');
const WARM_UP = 20;

function option(name: string, fallback: string): string {
  const args = process.argv;
  const at = args.indexOf(name);
  const value = at >= 0 ? args[at + 1] : undefined;
  // pnpm runs the bench from test/: a relative path is the caller's.
  return value === undefined ? fallback : resolve(process.env.INIT_CWD ?? process.cwd(), value);
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

interface Tally {
  found: number;
  times: number[];
  feePpm: number[];
  probability: number[];
}
const tally = (): Tally => ({ found: 0, times: [], feePpm: [], probability: [] });

type Hops = readonly { nodeId: Uint8Array; shortChannelId: bigint; amountMsat: bigint }[];

/** A route as the graph's policies say each hop will check it: fees, htlc limits, capacity. Throws if not. */
function checkRoute(g: FixedGraph, payer: Uint8Array, r: Route, amountMsat: bigint, finalCltv: number): void {
  let from = payer;
  r.hops.forEach((h, k) => {
    const ch = g.channel(h.shortChannelId);
    if (!ch) throw new Error(`route uses unknown channel ${h.shortChannelId}`);
    const dir = Buffer.compare(Buffer.from(from), Buffer.from(h.nodeId)) < 0 ? 0 : 1;
    const ends = dir === 0 ? [ch.nodeId1, ch.nodeId2] : [ch.nodeId2, ch.nodeId1];
    if (Buffer.compare(ends[0]!, from) !== 0 || Buffer.compare(ends[1]!, h.nodeId) !== 0)
      throw new Error(`hop ${k} is not along channel ${h.shortChannelId}`);
    const p = ch.directions[dir];
    if (!p?.routable) throw new Error(`hop ${k} uses an unroutable direction`);
    if (h.amountMsat < p.htlcMinimumMsat || h.amountMsat > p.htlcMaximumMsat)
      throw new Error(`hop ${k} htlc limits`);
    if (ch.capacitySat !== undefined && h.amountMsat > ch.capacitySat * 1000n)
      throw new Error(`hop ${k} capacity`);
    if (k > 0) {
      const prev = r.hops[k - 1]!;
      const fee = BigInt(forwardingFeeMsat(p.feeBaseMsat, p.feeProportionalMillionths, Number(h.amountMsat)));
      if (prev.amountMsat !== h.amountMsat + fee) throw new Error(`hop ${k - 1} fee`);
      if (prev.cltvExpiry !== h.cltvExpiry + p.cltvExpiryDelta) throw new Error(`hop ${k - 1} cltv`);
    }
    from = h.nodeId;
  });
  const last = r.hops.at(-1)!;
  if (last.amountMsat !== amountMsat || last.cltvExpiry !== finalCltv) throw new Error('last hop');
  if (r.feeMsat > amountMsat / 100n + 50_000n) throw new Error('over the fee limit');
  if (r.hops[0]!.cltvExpiry > 1008) throw new Error('over the CLTV limit');
}

/** lnkit's scorer's estimate for a path (nothing learned), so both routers' routes are judged alike. */
function probabilityOf(g: FixedGraph, scorer: ProbabilisticScorer, payer: Uint8Array, hops: Hops): number {
  scorer.beginSearch(g, 0);
  let p = 1;
  let from = payer;
  for (const h of hops) {
    const c = g.channelIndex(h.shortChannelId);
    const dir = Buffer.compare(Buffer.from(from), Buffer.from(h.nodeId)) < 0 ? 0 : 1;
    const edge = 2 * c + dir;
    const cols = g.columns();
    const cap = cols.channelCapacitySat[c]! * 1000;
    p *= scorer.successProbability(
      edge,
      Number(h.amountMsat),
      0,
      Number.isNaN(cap) ? cols.htlcMaximumMsat[edge]! : cap,
    );
    from = h.nodeId;
  }
  return p;
}

export default async function route(emit: Emit): Promise<void> {
  const graphFile = option('--graph', join(DATA, 'mainnet-2026-02-03.json'));
  const queryFile = option('--queries', join(DATA, 'route-queries-2026-02-03.json'));
  for (const f of [graphFile, queryFile]) {
    if (!existsSync(f)) {
      process.stderr.write(`# route: skipped, ${f} not found (give --graph FILE --queries FILE)\n`);
      return;
    }
  }
  const topology = readTopology(graphFile);
  const file: RouteQueryFile = readRouteQueries(queryFile);
  const queries = file.queries;
  const finalCltv = file.final_cltv_expiry_delta;

  let t = performance.now();
  const ids = nodeIdBytes(topology);
  const graph = fixedGraphOf(topology, ids);
  const lnkitBuildMs = performance.now() - t;
  t = performance.now();
  const ldkGraph = await ldkGraphOf(topology, Math.floor(Date.now() / 1000));
  const ldkBuildMs = performance.now() - t;
  if (ldkGraph.refusedChannels + ldkGraph.refusedUpdates > 0)
    process.stderr.write(
      `# route: LDK refused ${ldkGraph.refusedChannels} channels and ${ldkGraph.refusedUpdates} updates (${ldkGraph.firstRefusal})\n`,
    );
  process.stderr.write(
    `# route: ${queries.length} queries on ${graph.stats().channels} channels; graphs built: lnkit ${round(lnkitBuildMs, 0)} ms, LDK ${round(ldkBuildMs, 0)} ms\n`,
  );

  const router = new DefaultRouter({ graph, now: () => 0 });
  const ldkr = ldkRouter(ldkGraph);
  const judge = new ProbabilisticScorer();
  const asked = queries.map((q) => ({
    payer: Buffer.from(q.payer, 'hex'),
    payee: Buffer.from(q.payee, 'hex'),
    amountMsat: BigInt(q.amount_msat),
  }));
  const lnkitQuery = (q: (typeof asked)[number]) => ({
    payer: q.payer,
    payee: q.payee,
    amountMsat: q.amountMsat,
    finalCltvExpiryDelta: finalCltv,
    currentBlockHeight: 0,
  });
  const tryLnkit = (q: (typeof asked)[number]): Route | undefined => {
    try {
      return router.findRoute(lnkitQuery(q));
    } catch (e) {
      if (e instanceof GossipError && e.code !== 'invalid-argument') return undefined;
      throw e;
    }
  };

  for (const q of asked.slice(0, WARM_UP)) {
    tryLnkit(q);
    ldkr.findRoute(q.payer, q.payee, q.amountMsat, finalCltv);
  }

  const lnkit = tally();
  const ldk = tally();
  const unfound: number[] = [];
  asked.forEach((q, i) => {
    const runLnkit = () => {
      const t0 = performance.now();
      const r = tryLnkit(q);
      lnkit.times.push(performance.now() - t0);
      if (!r) {
        unfound.push(i);
        return;
      }
      checkRoute(graph, q.payer, r, q.amountMsat, finalCltv);
      lnkit.found++;
      lnkit.feePpm.push((Number(r.feeMsat) * 1e6) / Number(q.amountMsat));
      lnkit.probability.push(probabilityOf(graph, judge, q.payer, r.hops));
    };
    const runLdk = () => {
      const t0 = performance.now();
      const r = ldkr.findRoute(q.payer, q.payee, q.amountMsat, finalCltv);
      ldk.times.push(performance.now() - t0);
      if (!r) return;
      ldk.found++;
      ldk.feePpm.push((Number(r.feeMsat) * 1e6) / Number(q.amountMsat));
      ldk.probability.push(probabilityOf(graph, judge, q.payer, r.hops));
    };
    if (i % 2 === 0) {
      runLnkit();
      runLdk();
    } else {
      runLdk();
      runLnkit();
    }
  });

  const figures = (x: Tally) => ({
    found: x.found,
    queries: queries.length,
    foundPct: round((100 * x.found) / queries.length, 1),
    p50Ms: round(percentile(x.times, 0.5), 3),
    p99Ms: round(percentile(x.times, 0.99), 3),
    maxMs: round(percentile(x.times, 1), 1),
    feePpmP50: round(percentile(x.feePpm, 0.5), 1),
    probabilityP50: round(percentile(x.probability, 0.5), 3),
    probabilityMean: round(x.probability.reduce((a, b) => a + b, 0) / Math.max(1, x.probability.length), 3),
  });
  const ours = figures(lnkit);
  const theirs = figures(ldk);
  emit({
    name: 'route',
    impl: 'lnkit',
    value: ours.p50Ms,
    unit: 'ms',
    ...ours,
    ldk: theirs.p50Ms,
    ratio: round(ours.p50Ms / theirs.p50Ms, 3),
    p99Ratio: round(ours.p99Ms / theirs.p99Ms, 3),
    ldkFound: theirs.found,
    ldkP99Ms: theirs.p99Ms,
    ldkFeePpmP50: theirs.feePpmP50,
    graphBuildMs: round(lnkitBuildMs, 0),
  });
  emit({
    name: 'route',
    impl: 'ldk-0.1.0',
    value: theirs.p50Ms,
    unit: 'ms',
    ...theirs,
    graphBuildMs: round(ldkBuildMs, 0),
  });

  // What splitting adds: the queries with no single path, tried with findRoutes.
  let split = 0;
  let parts = 0;
  const splitTimes: number[] = [];
  for (const i of unfound) {
    const t0 = performance.now();
    try {
      const routes = router.findRoutes(lnkitQuery(asked[i]!));
      split++;
      parts += routes.length;
    } catch (e) {
      if (!(e instanceof GossipError)) throw e;
    }
    splitTimes.push(performance.now() - t0);
  }
  emit({
    name: 'route.mpp',
    impl: 'lnkit',
    value: split,
    unit: 'queries',
    tried: unfound.length,
    partsMean: round(parts / Math.max(1, split), 2),
    p50Ms: round(percentile(splitTimes, 0.5), 3),
    p99Ms: round(percentile(splitTimes, 0.99), 3),
    foundWithSplitPct: round((100 * (lnkit.found + split)) / queries.length, 1),
  });
}
