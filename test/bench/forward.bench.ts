/**
 * Forwarding throughput, lnkit as B beside LDK 0.1.0 as B in the same run: A pays C's invoices
 * through B, IN_FLIGHT at once, over private channels A→B and B→C on one bcoin regtest chain,
 * every node with durable persistence (payments-nodes.ts). A and C are lnkit nodes in every arm
 * (worker placement, the node's default); A finds its route from C's invoice, whose route hint
 * names B's channel with the policy B sent C. So the arms differ only in B. Three arms: lnkit B
 * with its channels in the manager's thread (the default), lnkit B with its two channels on two
 * channel threads (`channelThreads: 2`), and LDK B.
 * B's threads: for each lnkit B, the share of the timed batches' wall time each of its threads
 * was busy (event-loop utilisation, from the node's actor metrics). The channel manager's is the
 * bench process's main thread, which every node here shares; the others are B's own.
 * Figures: forwards/s through B (payments settled at C per second of a batch's wall time, each
 * batch IN_FLIGHT payments sent together, the channels settled untimed between batches), and
 * p50/p99 of one payment's latency (A's pay call to its success), per arm; `ratio` is the
 * median of the round-by-round ratios lnkit B / LDK B.
 * Counts (env): LNKIT_BENCH_QUICK=1; LNKIT_BENCH_ROUNDS (3), LNKIT_BENCH_BATCHES (batches per arm
 * per round, 3), LNKIT_BENCH_IN_FLIGHT (30).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeInvoice } from '@lnkit/invoice';
import { waitFor } from '@lnkit/test-support';
import { startTestChain } from '@lnkit/testchain';
import { initLdk } from '../support/ldk/ldk-node.ts';
import { type Emit, median, medianRatio, round } from './harness.ts';
import { LdkSide, LnkitSide, openChannels, WAIT_MS } from './payments-nodes.ts';
import { percentile } from './payments-stats.ts';

const QUICK = process.env.LNKIT_BENCH_QUICK === '1';
function count(name: string, full: number, quick: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return QUICK ? quick : full;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a whole number of at least 1; got ${v}`);
  return n;
}

const ROUNDS = count('LNKIT_BENCH_ROUNDS', 3, 1);
const BATCHES = count('LNKIT_BENCH_BATCHES', 3, 1);
const IN_FLIGHT = count('LNKIT_BENCH_IN_FLIGHT', 30, 10);
const AMOUNT_MSAT = 5_000_000n;
/** lnkit's and LDK's default relay fee: 1000 msat base, 0 ppm. */
const FEE_MSAT = 1000n;
const CAPACITY_SAT = 16_000_000n;

interface Arm {
  name: string;
  /** Gives B's actors' utilisation since the last call (lnkit B). */
  bThreads?: () => Promise<Record<string, number>>;
  a: LnkitSide;
  b: LnkitSide | LdkSide;
  c: LnkitSide;
  /** What A and C hold on their channels now (msat), as the payments so far left them. */
  aMsat: bigint;
  cMsat: bigint;
}

function progress(text: string): void {
  process.stderr.write(`#   ${new Date().toISOString().slice(11, 23)} ${text}\n`);
}

/** Until neither channel of the line has an HTLC pending: A's and C's balances where the payments put them, B quiet. */
async function settled(arm: Arm): Promise<void> {
  await waitFor(
    async () =>
      (await arm.a.settledWith(arm.b.nodeId, arm.aMsat)) &&
      (await arm.c.settledWith(arm.b.nodeId, arm.cMsat)) &&
      (await arm.b.settledWith(arm.a.nodeId)) &&
      (await arm.b.settledWith(arm.c.nodeId)),
    { what: `${arm.name}: the line settled`, timeoutMs: WAIT_MS, intervalMs: 5 },
  );
}

/** One batch: IN_FLIGHT of C's invoices paid by A at once; the wall time and each latency. */
async function batch(arm: Arm, tag: string): Promise<{ ms: number; latenciesMs: number[] }> {
  const list = await Promise.all(
    Array.from({ length: IN_FLIGHT }, (_, i) => arm.c.invoice(AMOUNT_MSAT, `${tag} ${i}`)),
  );
  const latenciesMs: number[] = [];
  const start = performance.now();
  await Promise.all(
    list.map(async (bolt11) => {
      const t = performance.now();
      await arm.a.pay(bolt11);
      latenciesMs.push(performance.now() - t);
    }),
  );
  const ms = performance.now() - start;
  arm.aMsat -= (AMOUNT_MSAT + FEE_MSAT) * BigInt(IN_FLIGHT);
  arm.cMsat += AMOUNT_MSAT * BigInt(IN_FLIGHT);
  await settled(arm);
  return { ms, latenciesMs };
}

export default async function forwardBench(emit: Emit): Promise<void> {
  await initLdk();
  const chain = await startTestChain();
  const root = mkdtempSync(join(tmpdir(), 'lnkit-bench-forward-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    await chain.activateSegwit();
    const lnkit = async (label: string) => {
      const s = await LnkitSide.create(label, chain, join(root, label), 'worker');
      stops.push(() => s.stop());
      return s;
    };
    const a1 = await lnkit('A1');
    const b1 = await lnkit('B-lnkit');
    const c1 = await lnkit('C1');
    const a3 = await lnkit('A3');
    const b3 = await LnkitSide.create('B-lnkit-threads', chain, join(root, 'B-lnkit-threads'), 'worker', {
      channelThreads: 2,
    });
    stops.push(() => b3.stop());
    const c3 = await lnkit('C3');
    const a2 = await lnkit('A2');
    // LDK forwards over private channels only when told to (its default is not to).
    const b2 = await LdkSide.create('B-LDK', chain, join(root, 'B-LDK'), { forwardToPrivateChannels: true });
    stops.push(() => b2.node.stop());
    const c2 = await lnkit('C2');
    progress('nodes up; opening A→B and B→C in each line');
    await openChannels(
      chain,
      [
        { from: a1, to: b1 },
        { from: b1, to: c1 },
        { from: a2, to: b2 },
        { from: b2, to: c2 },
        { from: a3, to: b3 },
        { from: b3, to: c3 },
      ],
      CAPACITY_SAT,
      0n,
    );
    const threadsOf = (side: LnkitSide) => async () => {
      const m = await side.node.metrics();
      return Object.fromEntries(m.actors.map((x) => [x.actor, round(x.eventLoopUtilization, 2)]));
    };
    const arms: Arm[] = [
      { name: 'lnkit B', a: a1, b: b1, c: c1, aMsat: 0n, cMsat: 0n, bThreads: threadsOf(b1) },
      { name: 'LDK B', a: a2, b: b2, c: c2, aMsat: 0n, cMsat: 0n },
      {
        name: 'lnkit B, 2 channel threads',
        a: a3,
        b: b3,
        c: c3,
        aMsat: 0n,
        cMsat: 0n,
        bThreads: threadsOf(b3),
      },
    ];
    for (const arm of arms) {
      arm.aMsat = (await arm.a.channelWith(arm.b.nodeId))?.localBalanceMsat ?? 0n;
      arm.cMsat = (await arm.c.channelWith(arm.b.nodeId))?.localBalanceMsat ?? 0n;
      // C's invoices name B's channel once C has B's policy for it.
      await waitFor(
        async () => {
          const inv = await arm.c.invoice(AMOUNT_MSAT, 'probe');
          return decodeInvoice(inv).routeHints.length > 0 || undefined;
        },
        { what: `${arm.name}: C's invoices carry the hint through B`, timeoutMs: WAIT_MS, intervalMs: 200 },
      );
    }
    // Warm-up (untimed): each line's code paths, the JIT.
    for (const arm of arms) await batch(arm, 'warm-up');
    const perRound = new Map<string, number[]>(arms.map((a) => [a.name, []]));
    const latencies = new Map<string, number[]>(arms.map((a) => [a.name, []]));
    const busy = new Map<string, Record<string, number[]>>();
    const hostMsPerForward = new Map<string, number[]>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const arm of arms) {
        let ms = 0;
        for (let k = 0; k < BATCHES; k++) {
          await arm.bThreads?.(); // from here
          const windowStart = performance.now();
          const out = await batch(arm, `round ${r} batch ${k}`);
          ms += out.ms;
          latencies.get(arm.name)!.push(...out.latenciesMs);
          // Read as the batch ends (settled() adds little), the utilisation over its wall time.
          const u = await arm.bThreads?.();
          const windowMs = performance.now() - windowStart;
          if (u) {
            const rec = busy.get(arm.name) ?? {};
            for (const [actor, x] of Object.entries(u)) rec[actor] = [...(rec[actor] ?? []), x];
            busy.set(arm.name, rec);
            // What B's channel threads spent per forward (busy share × the window it was read over).
            const hostShare = Object.entries(u)
              .filter(([actor]) => actor.startsWith('channel-host-'))
              .reduce((sum, [, x]) => sum + x, 0);
            if (hostShare > 0) {
              const list = hostMsPerForward.get(arm.name) ?? [];
              list.push((hostShare * windowMs) / IN_FLIGHT);
              hostMsPerForward.set(arm.name, list);
            }
          }
        }
        const rate = (BATCHES * IN_FLIGHT * 1000) / ms;
        perRound.get(arm.name)!.push(rate);
        progress(
          `round ${r + 1}/${ROUNDS} ${arm.name}: ${round(rate)} forwards/s (load ${round(loadavg()[0]!)})`,
        );
      }
    }
    const theirs = perRound.get('LDK B')!;
    for (const [arm, suffix] of [
      ['lnkit B', ''],
      ['lnkit B, 2 channel threads', '.channel-threads'],
    ] as const) {
      const ours = perRound.get(arm)!;
      emit({
        name: `forward.throughput${suffix}`,
        value: round(median(ours)),
        unit: 'forwards/s',
        ldk: round(median(theirs)),
        ratio: round(medianRatio(ours, theirs), 2),
        inFlight: IN_FLIGHT,
        rounds: ROUNDS,
        payments: ROUNDS * BATCHES * IN_FLIGHT,
      });
      for (const p of [50, 99]) {
        const l = percentile(latencies.get(arm)!, p);
        const d = percentile(latencies.get('LDK B')!, p);
        emit({
          name: `forward.latency${suffix}.p${p}`,
          value: round(l),
          unit: 'ms',
          ldk: round(d),
          ratio: round(l / d, 2),
          inFlight: IN_FLIGHT,
        });
      }
      // B's threads, each busy this share of a batch (median over the batches).
      for (const [actor, xs] of Object.entries(busy.get(arm) ?? {}))
        emit({ name: `forward.b-threads${suffix}`, value: round(median(xs), 2), unit: 'busy share', actor });
      const hostMs = hostMsPerForward.get(arm);
      if (hostMs)
        emit({
          name: `forward.b-channel-threads-ms${suffix}`,
          value: round(median(hostMs), 2),
          unit: 'ms of channel-thread time per forward',
        });
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await chain.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
