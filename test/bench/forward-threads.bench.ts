/**
 * Where a forward's work goes, by placement of B's channels: three ChannelManagers in this
 * process (in-memory peer links, lmdb monitors, snapshots and forwards: the manager's forward
 * test kit), A pays C through B, IN_FLIGHT at once over a route it gives. Two arms differ only in
 * B: its channels in the manager's thread (the default), or on two channel threads. A's and
 * C's channels stay in this thread in both, so what changes in this thread's busy time is B's.
 * Figures per arm: forwards/s; this thread's busy ms per forward (every manager's work here);
 * B's channel threads' busy ms per forward. 1000 / (this thread's ms per forward) is the rate at
 * which this thread would be full. No LDK arm: LDK steps every channel on one thread, and the
 * LDK comparison is `pnpm bench forward`.
 * Counts (env): LNKIT_BENCH_QUICK=1; LNKIT_BENCH_ROUNDS (5), LNKIT_BENCH_IN_FLIGHT (30);
 * LNKIT_BENCH_ARM=in-thread|'channel threads' runs one arm (to profile it alone).
 */
import { performance } from 'node:perf_hooks';
import { decodeInvoice } from '@lnkit/invoice';
import { ChannelHosts } from '@lnkit/manager';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import {
  channelWith,
  type LineNode,
  lineNode,
  openLine,
  routeThrough,
} from '../../packages/manager/src/forward/forward-test-kit.ts';
import { type Emit, median, round } from './harness.ts';

const QUICK = process.env.LNKIT_BENCH_QUICK === '1';
const ROUNDS = Number(process.env.LNKIT_BENCH_ROUNDS ?? (QUICK ? 2 : 5));
const IN_FLIGHT = Number(process.env.LNKIT_BENCH_IN_FLIGHT ?? (QUICK ? 10 : 30));
const AMOUNT_MSAT = 1_000_000n;
const FEE_MSAT = 1000n;
const logger = createRootLogger({ level: 'silent' });

/** Until every HTLC of the `paid` payments so far is gone from both channels: the balances say so. */
async function settled(a: LineNode, b: LineNode, c: LineNode, paid: number): Promise<void> {
  const n = BigInt(paid);
  await waitFor(
    () =>
      channelWith(c, b).localBalanceMsat === n * AMOUNT_MSAT &&
      channelWith(b, c).remoteBalanceMsat === n * AMOUNT_MSAT &&
      channelWith(b, a).localBalanceMsat === n * (AMOUNT_MSAT + FEE_MSAT) &&
      channelWith(a, b).remoteBalanceMsat === n * (AMOUNT_MSAT + FEE_MSAT),
    { what: 'the line settled', timeoutMs: 120_000, intervalMs: 5 },
  );
}

async function batch(a: LineNode, b: LineNode, c: LineNode): Promise<void> {
  const invoices = await Promise.all(
    Array.from({ length: IN_FLIGHT }, () =>
      c.manager.payments.createInvoice(AMOUNT_MSAT, { description: 'bench' }),
    ),
  );
  const outcomes = await Promise.all(
    invoices.map((inv) => {
      const d = decodeInvoice(inv.bolt11);
      return a.manager.forwards.sendToRoute(routeThrough(a, b, c, AMOUNT_MSAT), d.paymentHash, {
        paymentSecret: d.paymentSecret,
        totalMsat: AMOUNT_MSAT,
      });
    }),
  );
  const failed = outcomes.filter((o) => o.status !== 'succeeded').length;
  if (failed > 0) throw new Error(`${failed} of ${IN_FLIGHT} payments failed`);
}

export default async function forwardThreadsBench(emit: Emit): Promise<void> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const only = process.env.LNKIT_BENCH_ARM;
    for (const arm of ['in-thread', 'channel threads'] as const) {
      if (only && only !== arm) continue;
      const hosts = arm === 'channel threads' ? new ChannelHosts({ threads: 2, logger }) : undefined;
      const a = await lineNode(logger, cleanups);
      const b = await lineNode(logger, cleanups, undefined, undefined, hosts ? { channelHosts: hosts } : {});
      const c = await lineNode(logger, cleanups);
      await openLine(
        [
          [a, b],
          [b, c],
        ],
        [a, b, c],
        10_000_000n,
      );
      let paid = 0;
      await batch(a, b, c); // warm-up
      paid += IN_FLIGHT;
      await settled(a, b, c, paid);
      const rates: number[] = [];
      const mainMs: number[] = [];
      const hostMs: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        await hosts?.metrics(); // from here
        const elu = performance.eventLoopUtilization();
        const t0 = performance.now();
        await batch(a, b, c);
        const ms = performance.now() - t0;
        const busy = performance.eventLoopUtilization(elu);
        const host = (await hosts?.metrics()) ?? [];
        const hostWindow = performance.now() - t0;
        rates.push((IN_FLIGHT * 1000) / ms);
        mainMs.push((busy.utilization * ms) / IN_FLIGHT);
        hostMs.push((host.reduce((s, m) => s + m.eventLoopUtilization, 0) * hostWindow) / IN_FLIGHT);
        paid += IN_FLIGHT;
        await settled(a, b, c, paid);
      }
      const tag = arm === 'in-thread' ? '' : '.channel-threads';
      emit({
        name: `forward-threads.throughput${tag}`,
        value: round(median(rates)),
        unit: 'forwards/s',
        arm,
        inFlight: IN_FLIGHT,
      });
      emit({
        name: `forward-threads.manager-thread-ms${tag}`,
        value: round(median(mainMs), 2),
        unit: 'ms busy per forward (A, B and C managers)',
        arm,
      });
      if (hosts)
        emit({
          name: 'forward-threads.channel-threads-ms',
          value: round(median(hostMs), 2),
          unit: "ms busy per forward (B's two channel threads)",
          arm,
        });
      for (const c of cleanups.splice(0).reverse()) await c();
    }
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}
