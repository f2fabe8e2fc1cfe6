/**
 * Payments over a direct channel, lnkit beside LDK 0.1.0 in the same run, every node with
 * durable persistence (payments-nodes.ts) over TCP loopback on one bcoin regtest chain:
 * - payments/s and p50/p99 latency (the pay call to its success: the preimage back), 5,000 sat
 *   each, a fresh invoice each (made before the clock starts):
 *   sequential (the next payment when the last succeeded), and IN_FLIGHT at once (batches of
 *   IN_FLIGHT paid together; between batches, untimed, the channel settles: lnkit allows 30
 *   HTLCs in flight, LDK 50, and a removed HTLC holds its slot until the peer revokes);
 * - arms: lnkit→lnkit with the node's actors in worker threads (its default: the peer manager,
 *   chain sync and gossip each in a worker; the channel manager and the ChainMonitor are on the
 *   node's thread in both placements) and with every actor in this thread (`in-process`);
 *   LDK→LDK; lnkit→LDK and LDK→lnkit. Each round runs every arm in turn, so that the machine's
 *   load falls on all alike, and `ratio` is the median of the round-by-round ratios to LDK→LDK;
 * - the data dir's size after STORE_PAYMENTS payments on one channel (lnkit→lnkit, worker
 *   placement, IN_FLIGHT at once each way, both ways at once), and the time to restart that node from it: build()
 *   until it serves, and until the channel is usable again with its peer.
 * Counts (env): LNKIT_BENCH_QUICK=1 for a quick run; LNKIT_BENCH_ROUNDS, LNKIT_BENCH_SEQUENTIAL
 * (payments per arm per round), LNKIT_BENCH_BATCHES (batches per arm per round),
 * LNKIT_BENCH_IN_FLIGHT, LNKIT_BENCH_STORE_PAYMENTS (0: none), LNKIT_BENCH_ARMS (a subset).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@lnkit/test-support';
import { startTestChain } from '@lnkit/testchain';
import { initLdk } from '../support/ldk/ldk-node.ts';
import { type Emit, median, medianRatio, round } from './harness.ts';
import { LdkSide, LnkitSide, openChannels, type Side, WAIT_MS } from './payments-nodes.ts';
import { dbBreakdown, dirSize, percentile } from './payments-stats.ts';

const QUICK = process.env.LNKIT_BENCH_QUICK === '1';
function count(name: string, full: number, quick: number, least = 1): number {
  const v = process.env[name];
  if (v === undefined || v === '') return QUICK ? quick : full;
  const n = Number(v);
  if (!Number.isInteger(n) || n < least)
    throw new Error(`${name} must be a whole number of at least ${least}; got ${v}`);
  return n;
}

const AMOUNT_MSAT = 5_000_000n;
const ROUNDS = count('LNKIT_BENCH_ROUNDS', 3, 1);
const SEQUENTIAL = count('LNKIT_BENCH_SEQUENTIAL', 50, 20);
const BATCHES = count('LNKIT_BENCH_BATCHES', 3, 2);
const IN_FLIGHT = count('LNKIT_BENCH_IN_FLIGHT', 30, 5);
/** 0: no data-dir and restart figures. */
const STORE_PAYMENTS = count('LNKIT_BENCH_STORE_PAYMENTS', 10_000, 200, 0);
/** Only the arms whose names contain one of these (comma-separated; LDK→LDK always runs), e.g. to profile one. */
const ONLY = (process.env.LNKIT_BENCH_ARMS ?? '').split(',').filter((x) => x !== '');
/** Under 2^24 sat (LDK's limit without large channels); half pushed, so either side can pay ~1,600 times. */
const CAPACITY_SAT = 16_000_000n;
const PUSH_MSAT = 8_000_000_000n;

/** One channel and the msat each end holds on it, as the payments so far left them. */
class Channel {
  constructor(
    readonly a: Side,
    readonly b: Side,
    public aMsat: bigint,
    public bMsat: bigint,
  ) {}
  payments = 0;

  paid(from: Side, msat: bigint, n: number): void {
    if (from === this.a) {
      this.aMsat -= msat;
      this.bMsat += msat;
    } else {
      this.aMsat += msat;
      this.bMsat -= msat;
    }
    this.payments += n;
  }

  /** Until neither end has an HTLC pending (lnkit's end: its balance where the payments put it). */
  async settled(): Promise<void> {
    await waitFor(
      async () => {
        for (const [side, peer, msat] of [
          [this.a, this.b, this.aMsat],
          [this.b, this.a, this.bMsat],
        ] as const) {
          const done =
            side instanceof LnkitSide
              ? await side.settledWith(peer.nodeId, msat)
              : await side.settledWith(peer.nodeId);
          if (!done) return false;
        }
        return true;
      },
      { what: `${this.a.label} - ${this.b.label} settled`, timeoutMs: WAIT_MS, intervalMs: 5 },
    );
  }
}

interface Arm {
  name: string;
  payer: Side;
  payee: Side;
  channel: Channel;
  placement?: string;
}

interface Measured {
  /** payments/s of each round */
  perRound: number[];
  latenciesMs: number[];
}

/** `n` fresh invoices of the payee's, asked for together (untimed: before a measurement starts). */
function invoices(arm: Arm, n: number, tag: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => arm.payee.invoice(AMOUNT_MSAT, `${arm.name} ${tag} ${i}`)),
  );
}

/**
 * Each arm's last sequential payment whose nodes log their writes: how long it took, and both
 * nodes' durable writes while it ran (ms from the pay call).
 */
const timelines = new Map<
  string,
  { ms: number; spans: { node: string; db: string; start: number; end: number }[] }
>();

function keepTimeline(arm: Arm, start: number, end: number): void {
  const logs = [
    ['payer', arm.payer],
    ['payee', arm.payee],
  ] as const;
  const spans = logs.flatMap(([node, side]) =>
    side instanceof LnkitSide
      ? side.writeLog
          .filter((w) => w.end >= start && w.start <= end)
          .map((w) => ({ node, db: w.db, start: w.start - start, end: w.end - start }))
      : [],
  );
  if (spans.length > 0)
    timelines.set(arm.name, { ms: end - start, spans: spans.sort((x, y) => x.start - y.start) });
}

/** `n` payments one after the other: the wall time, and each one's latency. */
async function sequential(arm: Arm, n: number): Promise<{ ms: number; latenciesMs: number[] }> {
  const list = await invoices(arm, n, 'sequential');
  const latenciesMs: number[] = [];
  const start = performance.now();
  let last = start;
  for (const bolt11 of list) {
    last = performance.now();
    await arm.payer.pay(bolt11);
    latenciesMs.push(performance.now() - last);
  }
  const ms = performance.now() - start;
  keepTimeline(arm, last, start + ms);
  arm.channel.paid(arm.payer, AMOUNT_MSAT * BigInt(n), n);
  await arm.channel.settled();
  return { ms, latenciesMs };
}

/** `batches` batches of `inFlight` payments at once, the channel settled (untimed) after each. */
async function concurrent(
  arm: Arm,
  batches: number,
  inFlight: number,
): Promise<{ ms: number; latenciesMs: number[] }> {
  let ms = 0;
  const latenciesMs: number[] = [];
  for (let b = 0; b < batches; b++) {
    const list = await invoices(arm, inFlight, `batch ${b}`);
    const start = performance.now();
    await Promise.all(
      list.map(async (bolt11) => {
        const t = performance.now();
        await arm.payer.pay(bolt11);
        latenciesMs.push(performance.now() - t);
      }),
    );
    ms += performance.now() - start;
    arm.channel.paid(arm.payer, AMOUNT_MSAT * BigInt(inFlight), inFlight);
    await arm.channel.settled();
  }
  return { ms, latenciesMs };
}

function progress(text: string): void {
  process.stderr.write(`#   ${new Date().toISOString().slice(11, 23)} ${text}\n`);
}

/** Runs every arm in turn, round after round, sequential then in flight. */
async function measure(
  arms: Arm[],
): Promise<{ seq: Record<string, Measured>; par: Record<string, Measured> }> {
  const empty = () =>
    Object.fromEntries(arms.map((a) => [a.name, { perRound: [], latenciesMs: [] } as Measured]));
  const seq = empty();
  const par = empty();
  // Warm-up (untimed): the JIT, the first invoice and payment code paths of each node.
  for (const arm of arms) {
    await sequential(arm, Math.min(5, SEQUENTIAL));
    await concurrent(arm, 1, IN_FLIGHT);
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const arm of arms) {
      const s = await sequential(arm, SEQUENTIAL);
      seq[arm.name]!.perRound.push((SEQUENTIAL * 1000) / s.ms);
      seq[arm.name]!.latenciesMs.push(...s.latenciesMs);
      progress(`round ${r + 1} ${arm.name} sequential: ${round((SEQUENTIAL * 1000) / s.ms)} payments/s`);
    }
    for (const arm of arms) {
      const p = await concurrent(arm, BATCHES, IN_FLIGHT);
      const n = BATCHES * IN_FLIGHT;
      par[arm.name]!.perRound.push((n * 1000) / p.ms);
      par[arm.name]!.latenciesMs.push(...p.latenciesMs);
      progress(`round ${r + 1} ${arm.name} ${IN_FLIGHT} in flight: ${round((n * 1000) / p.ms)} payments/s`);
    }
  }
  return { seq, par };
}

const LDK_ARM = 'LDK→LDK';

function emitFigures(emit: Emit, arms: Arm[], byArm: Record<string, Measured>, inFlight: number): string[] {
  const base = byArm[LDK_ARM]!;
  const lines: string[] = [];
  for (const arm of arms) {
    const m = byArm[arm.name]!;
    const figure = {
      name: inFlight === 1 ? 'payments.sequential' : 'payments.in-flight',
      value: round(median(m.perRound)),
      unit: 'payments/s',
      arm: arm.name,
      ...(arm.placement ? { placement: arm.placement } : {}),
      inFlight,
      amountSat: Number(AMOUNT_MSAT / 1000n),
      p50Ms: round(percentile(m.latenciesMs, 50), 1),
      p99Ms: round(percentile(m.latenciesMs, 99), 1),
      payments: m.latenciesMs.length,
      ldk: round(median(base.perRound)),
      ldkP50Ms: round(percentile(base.latenciesMs, 50), 1),
      ldkP99Ms: round(percentile(base.latenciesMs, 99), 1),
      ratio: round(medianRatio(m.perRound, base.perRound), 2),
      rounds: m.perRound.length,
      perRound: m.perRound.map((v) => round(v)).join(' '),
      loadAverage: round(loadavg()[0]!, 1),
    };
    emit(figure);
    lines.push(
      `${arm.name.padEnd(26)} ${String(figure.value).padStart(8)}/s  p50 ${String(figure.p50Ms).padStart(7)} ms  p99 ${String(figure.p99Ms).padStart(7)} ms  ×${figure.ratio} LDK→LDK`,
    );
  }
  return lines;
}

/** The durable writes of both nodes during one sequential payment, in the order they started. */
function printTimeline(arm: Arm | undefined): void {
  const t = arm && timelines.get(arm.name);
  if (!arm || !t) return;
  const lines = [`one sequential payment (${arm.name}), ${round(t.ms, 1)} ms, its nodes' durable writes:`];
  for (const w of t.spans)
    lines.push(
      `${String(round(w.start, 1)).padStart(7)} → ${String(round(w.end, 1)).padStart(7)} ms  ${w.node} ${w.db}`,
    );
  process.stderr.write(`${lines.map((l) => `#   ${l}`).join('\n')}\n`);
}

/** The in-process nodes' store writes per payment, by database, and the ms each took to be durable. */
function emitWrites(emit: Emit, sides: LnkitSide[], payments: number): void {
  const lines: string[] = [];
  for (const [i, side] of sides.entries()) {
    const role = i === 0 ? 'payer' : 'payee';
    let total = 0;
    for (const [db, w] of [...(side.writes ?? [])].sort((x, y) => y[1].count - x[1].count)) {
      total += w.count;
      emit({
        name: 'payments.store-writes',
        value: round(w.count / payments, 2),
        unit: 'writes/payment',
        node: role,
        db,
        msPerWrite: round(w.ms / w.count, 2),
        payments,
        placement: 'in-process',
      });
      lines.push(
        `${role} ${db}: ${round(w.count / payments, 2)} writes/payment, ${round(w.ms / w.count, 2)} ms each`,
      );
    }
    lines.push(`${role}: ${round(total / payments, 2)} durable writes per payment in all`);
  }
  process.stderr.write(`${lines.map((l) => `#   ${l}`).join('\n')}\n`);
}

/**
 * Payments on the channel until it carried `total`: IN_FLIGHT at once each way, both ways at the
 * same time (each side may offer 30 HTLCs), so that the balances stay where they were.
 */
async function fillChannel(channel: Channel, total: number): Promise<void> {
  const ab: Arm = { name: 'store a→b', payer: channel.a, payee: channel.b, channel };
  const ba: Arm = { name: 'store b→a', payer: channel.b, payee: channel.a, channel };
  let last = performance.now();
  while (channel.payments < total) {
    const left = total - channel.payments;
    const n = Math.min(IN_FLIGHT, Math.ceil(left / 2));
    await Promise.all([
      concurrent(ab, 1, n),
      left - n > 0 ? concurrent(ba, 1, Math.min(n, left - n)) : undefined,
    ]);
    if (performance.now() - last > 10_000) {
      last = performance.now();
      progress(`${channel.payments} of ${total} payments on the channel`);
    }
  }
}

async function storeAndRestart(emit: Emit, a: LnkitSide, b: LnkitSide, channel: Channel) {
  const before = { payments: channel.payments, size: dirSize(a.config.dataDir) };
  const start = performance.now();
  await fillChannel(channel, STORE_PAYMENTS);
  const fillS = (performance.now() - start) / 1000;
  // Stopped, so that what is measured is what a restart reads.
  await a.node.stop();
  const size = dirSize(a.config.dataDir);
  const peerSize = dirSize(b.config.dataDir);
  const dbs = await dbBreakdown(a.config.dataDir);
  for (const [db, d] of Object.entries(dbs))
    emit({
      name: 'payments.data-dir.db',
      value: d.bytes,
      unit: 'bytes',
      db,
      entries: d.entries,
      payments: channel.payments,
    });
  progress(
    `what the payments left: ${Object.entries(dbs)
      .map(([db, d]) => `${db} ${d.entries} entries ${round(d.bytes / 1024, 1)} KiB`)
      .join(', ')}`,
  );
  const t = performance.now();
  a.node = await LnkitSide.build(a.config);
  const buildMs = performance.now() - t;
  await waitFor(async () => (await a.channelWith(b.nodeId))?.usable, {
    what: 'the channel usable after the restart',
    timeoutMs: WAIT_MS,
    intervalMs: 5,
  });
  const usableMs = performance.now() - t;
  // And it pays: one more payment after the restart.
  const arm: Arm = { name: 'after restart', payer: a, payee: b, channel };
  const after = await sequential(arm, 1);
  emit({
    name: 'payments.data-dir',
    value: size.bytes,
    unit: 'bytes',
    payments: channel.payments - 1,
    diskBytes: size.diskBytes,
    files: size.files,
    peerBytes: peerSize.bytes,
    peerDiskBytes: peerSize.diskBytes,
    bytesPerPayment: round(
      (size.diskBytes - before.size.diskBytes) / (channel.payments - 1 - before.payments),
      1,
    ),
    fillSeconds: round(fillS, 1),
    note: `lnkit→lnkit (worker placement), ${IN_FLIGHT} in flight each way, both ways at once; the data dir of the node restarted, stopped`,
  });
  emit({
    name: 'payments.restart',
    value: round(buildMs, 0),
    unit: 'ms',
    payments: channel.payments - 1,
    untilUsableMs: round(usableMs, 0),
    firstBuildMs: round(a.firstBuildMs, 0),
    firstPaymentMs: round(after.latenciesMs[0]!, 1),
    note: 'build() from the data dir until the node serves; untilUsableMs: until the channel is usable with its peer again; firstBuildMs: the same node’s first build(), its data dir empty',
  });
  return { size, peerSize, buildMs, usableMs };
}

/**
 * LNKIT_BENCH_CPU_PROF=1: a CPU profile of this thread (the in-process nodes, LDK's and every
 * node's channel manager) over the measured rounds only, not the chain's set-up.
 */
async function startProfile(): Promise<{ stop(): Promise<string> }> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: object };
      session.disconnect();
      const path = join(tmpdir(), `lnkit-bench-payments-${Date.now()}.cpuprofile`);
      writeFileSync(path, JSON.stringify(profile));
      return path;
    },
  };
}

export default async function paymentsBench(emit: Emit): Promise<void> {
  await initLdk();
  const root = mkdtempSync(join(tmpdir(), 'lnkit-bench-payments-'));
  const chain = await startTestChain();
  const stops: (() => Promise<void>)[] = [];
  const ldkNodes: LdkSide[] = [];
  try {
    await chain.activateSegwit();
    progress(
      `rounds ${ROUNDS}, ${SEQUENTIAL} sequential and ${BATCHES}×${IN_FLIGHT} in flight per arm per round, ${STORE_PAYMENTS} on the store channel`,
    );
    const lnkit = async (label: string, placement: 'worker' | 'in-process') => {
      // The in-process nodes count their store's writes (payments-nodes.ts): where a payment's
      // durable writes go.
      const s = await LnkitSide.create(label, chain, join(root, label), placement, {
        countWrites: placement === 'in-process',
      });
      stops.push(() => s.stop());
      return s;
    };
    const ldkNode = async (label: string) => {
      const s = await LdkSide.create(label, chain, join(root, label));
      stops.push(() => s.node.stop());
      ldkNodes.push(s);
      return s;
    };
    // Built together: a node's start is mostly waiting for its worker threads to load.
    // w1 first and alone: its build() with an empty data dir is the restart's yardstick.
    const w1 = await lnkit('w1', 'worker');
    const [w2, p1, p2, x] = await Promise.all([
      lnkit('w2', 'worker'),
      lnkit('p1', 'in-process'),
      lnkit('p2', 'in-process'),
      lnkit('x', 'worker'),
    ]);
    const [l1, l2, l3] = await Promise.all([ldkNode('l1'), ldkNode('l2'), ldkNode('l3')]);
    progress('every node up');
    const pairs = [
      { from: w1, to: w2 },
      { from: p1, to: p2 },
      { from: l1, to: l2 },
      { from: x, to: l3 },
    ];
    await openChannels(chain, pairs, CAPACITY_SAT, PUSH_MSAT);
    progress('every channel usable');
    const funderMsat = CAPACITY_SAT * 1000n - PUSH_MSAT;
    const [cw, cp, cl, cx] = pairs.map(({ from, to }) => new Channel(from, to, funderMsat, PUSH_MSAT)) as [
      Channel,
      Channel,
      Channel,
      Channel,
    ];
    const arms: Arm[] = [
      { name: LDK_ARM, payer: l1, payee: l2, channel: cl },
      { name: 'lnkit→lnkit', placement: 'worker', payer: w1, payee: w2, channel: cw },
      { name: 'lnkit→lnkit', placement: 'in-process', payer: p1, payee: p2, channel: cp },
      { name: 'lnkit→LDK', placement: 'worker', payer: x, payee: l3, channel: cx },
      { name: 'LDK→lnkit', placement: 'worker', payer: l3, payee: x, channel: cx },
    ]
      .map((a) => ({ ...a, name: a.placement ? `${a.name} ${a.placement}` : a.name }))
      .filter((a) => a.name === LDK_ARM || ONLY.length === 0 || ONLY.some((x) => a.name.includes(x)));
    const profile = process.env.LNKIT_BENCH_CPU_PROF ? await startProfile() : undefined;
    p1.writes?.clear();
    p2.writes?.clear();
    const paymentsBefore = cp.payments;
    const ldkBefore = { payments: cl.payments, l1: l1.writes(), l2: l2.writes() };
    const { seq, par } = await measure(arms);
    if (profile) progress(`CPU profile of this thread while measuring: ${await profile.stop()}`);
    const table = [
      `payments of ${AMOUNT_MSAT / 1000n} sat over TCP loopback, durable persistence, load average ${round(loadavg()[0]!, 1)}`,
      'sequential:',
      ...emitFigures(emit, arms, seq, 1),
      `${IN_FLIGHT} in flight:`,
      ...emitFigures(emit, arms, par, IN_FLIGHT),
    ];
    process.stderr.write(`${table.map((l) => `# ${l}`).join('\n')}\n`);
    if (arms.some((a) => a.channel === cp)) {
      emitWrites(emit, [p1, p2], cp.payments - paymentsBefore);
      printTimeline(arms.find((a) => a.channel === cp));
    }
    // LDK's, for comparison: each a whole monitor written and fsynced (file and folder).
    const ldkPayments = cl.payments - ldkBefore.payments;
    for (const [role, n] of [
      ['payer', l1.writes() - ldkBefore.l1],
      ['payee', l2.writes() - ldkBefore.l2],
    ] as const) {
      emit({
        name: 'payments.store-writes',
        value: round(n / ldkPayments, 2),
        unit: 'writes/payment',
        node: role,
        db: 'LDK monitor files',
        payments: ldkPayments,
      });
      progress(`LDK ${role}: ${round(n / ldkPayments, 2)} monitor writes per payment`);
    }
    if (STORE_PAYMENTS === 0) return;
    const s = await storeAndRestart(emit, w1, w2, cw);
    process.stderr.write(
      `# after ${cw.payments - 1} payments on one channel: data dir ${round(s.size.diskBytes / 2 ** 20, 1)} MiB on disk (${round(s.size.bytes / 2 ** 20, 1)} MiB of files), the peer's ${round(s.peerSize.diskBytes / 2 ** 20, 1)} MiB; restart ${round(s.buildMs)} ms, channel usable after ${round(s.usableMs)} ms\n`,
    );
  } catch (err) {
    // What LDK said of it, when one of its nodes failed a payment: its whole log in the temp folder.
    for (const n of ldkNodes) {
      const path = join(tmpdir(), `lnkit-bench-payments-${n.label}.log`);
      writeFileSync(path, n.node.logs.join('\n'));
      process.stderr.write(`# ${n.label}'s log: ${path}\n`);
    }
    throw err;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await chain.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
