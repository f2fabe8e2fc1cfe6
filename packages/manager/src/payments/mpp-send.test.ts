/**
 * Sending in parts (BOLT 4 basic_mpp), five ChannelManagers in memory: A reaches C through each
 * of three middle nodes, every channel 1,000,000 sat, and pays C's invoice of 2,400,000 sat,
 * which no one path can carry. A's router (lnkit's DefaultRouter over the six channels) splits
 * it; every part reaches C, which claims them together; A's outcome has the preimage and every
 * path's fee, and each balance moved by exactly its part. A payment whose parts cannot all
 * arrive (one middle node cannot reach C) fails whole: C fails the parts it holds back with
 * mpp_timeout, and nothing moves.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DefaultRouter, FixedGraph, type FixedPolicy } from '@lnkit/gossip';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import {
  channelWith,
  disconnectLinks,
  type LineNode,
  lineNode,
  openLine,
  scidOf,
} from '../forward/forward-test-kit.ts';
import type { PaymentRoute, PaymentRouteQuery, PaymentRouter } from './payments.ts';

const logger = createRootLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const CAPACITY_SAT = 1_000_000n;
const POLICY: FixedPolicy = {
  feeBaseMsat: 1000,
  feeProportionalMillionths: 0,
  cltvExpiryDelta: 72,
  htlcMinimumMsat: 1n,
  htlcMaximumMsat: CAPACITY_SAT * 1000n,
};

class SplittingRouter implements PaymentRouter {
  graph: FixedGraph | undefined;
  /** What a part sent again is routed over, when set (the graph the split was made on otherwise). */
  retryGraph: FixedGraph | undefined;
  splits: number[] = [];
  retries: PaymentRouteQuery[] = [];
  #router = () => new DefaultRouter({ graph: this.graph ?? new FixedGraph({ channels: [] }) });
  async findRoute(q: PaymentRouteQuery): Promise<PaymentRoute> {
    this.retries.push(q);
    if (this.retryGraph) return new DefaultRouter({ graph: this.retryGraph }).findRoute(q);
    return this.#router().findRoute(q);
  }
  async findRoutes(q: PaymentRouteQuery): Promise<readonly PaymentRoute[]> {
    const routes = this.#router().findRoutes(q);
    this.splits.push(routes.length);
    return routes;
  }
}

/** A, three nodes between (B, D, E), and the payee C: five nodes, three paths of one channel each way. */
async function fiveNodes(mppTimeoutMs?: number, middleCount = 3) {
  const router = new SplittingRouter();
  const a = await lineNode(logger, cleanups, undefined, undefined, { router });
  const middles: LineNode[] = [];
  for (let i = 0; i < middleCount; i++) middles.push(await lineNode(logger, cleanups));
  const c = await lineNode(logger, cleanups, undefined, undefined, mppTimeoutMs ? { mppTimeoutMs } : {});
  await openLine(
    middles.flatMap((m): [LineNode, LineNode][] => [
      [a, m],
      [m, c],
    ]),
    [a, ...middles, c],
    CAPACITY_SAT,
  );
  const channel = (x: LineNode, y: LineNode) => ({
    shortChannelId: scidOf(x, y),
    nodeA: x.keys.nodeId,
    nodeB: y.keys.nodeId,
    capacitySat: CAPACITY_SAT,
    aToB: POLICY,
    bToA: POLICY,
  });
  // The split is made over the first three paths; a part sent again may take any.
  router.graph = new FixedGraph({
    channels: middles.slice(0, 3).flatMap((m) => [channel(a, m), channel(m, c)]),
  });
  router.retryGraph =
    middleCount > 3
      ? new FixedGraph({ channels: middles.flatMap((m) => [channel(a, m), channel(m, c)]) })
      : undefined;
  return { a, middles, c, router };
}

const local = (n: LineNode, peer: LineNode) => channelWith(n, peer).localBalanceMsat;

test("five nodes: A pays C's invoice no one path can carry; split over the three middle nodes, claimed whole at C; fees and balances exact", async () => {
  const { a, middles, c, router } = await fiveNodes();
  const amount = 2_400_000_000n;
  const before = middles.map((m) => ({ am: local(a, m), mc: local(m, c) }));
  const inv = await c.manager.payments.createInvoice(amount, { description: 'in parts' });
  const out = await a.manager.payments.sendPayment(inv.bolt11);
  assert.equal(out.status, 'succeeded', out.reason);
  const parts = router.splits[0] ?? 0;
  assert.ok(parts >= 3, `split in ${parts} parts`);
  assert.equal(out.feeMsat, BigInt(parts) * 1000n, "each middle node's base fee, once per part");
  const claimable = c.payments.filter((e) => e.type === 'PaymentClaimable') as { amountMsat: bigint }[];
  assert.deepEqual(
    claimable.map((e) => e.amountMsat),
    [amount],
  );
  await waitFor(() => middles.reduce((sum, m) => sum + local(c, m), 0n) === amount || undefined, {
    what: 'every part settled at C',
  });
  const via = middles.map((m) => local(c, m));
  assert.ok(
    via.every((v) => v > 0n),
    'each path carried a part',
  );
  // What each middle node passed on, and what A paid it (its part and its fee).
  await waitFor(
    () =>
      middles.every((m, k) => local(m, c) === before[k]!.mc - via[k]! && local(m, a) === via[k]! + 1000n) ||
      undefined,
    { what: 'every middle node settled' },
  );
  for (const [k, m] of middles.entries()) assert.equal(local(a, m), before[k]!.am - via[k]! - 1000n);
  assert.equal(a.manager.payments.listPayments()[0]?.feeMsat, out.feeMsat);
});

test('five nodes: a split whose one part cannot arrive fails whole: C fails the parts it holds with mpp_timeout, and nothing moves', async () => {
  const { a, middles, c } = await fiveNodes(500);
  // One middle node cannot reach C: its part fails there; the others wait at C for it.
  disconnectLinks(middles[1]!.link, c.link);
  const before = middles.map((m) => local(a, m));
  const inv = await c.manager.payments.createInvoice(2_400_000_000n, { description: 'never whole' });
  const out = await a.manager.payments.sendPayment(inv.bolt11);
  assert.equal(out.status, 'failed');
  assert.match(out.reason ?? '', /^(mpp_timeout at hop 1|temporary_channel_failure at hop 0) \(\d parts\)$/);
  assert.equal(c.payments.filter((e) => e.type === 'PaymentClaimable').length, 0);
  await waitFor(() => middles.every((m, k) => local(a, m) === before[k]) || undefined, {
    what: "A's balances back where they were",
  });
  for (const m of middles) assert.equal(local(c, m), 0n);
});

test('six nodes: a part that fails on the way is sent again over a fourth middle node, avoiding the channel that failed; the payment arrives whole', async () => {
  const { a, middles, c, router } = await fiveNodes(undefined, 4);
  // The second middle node cannot reach C: its part fails there and is sent again.
  disconnectLinks(middles[1]!.link, c.link);
  const amount = 2_400_000_000n;
  const before = middles.map((m) => local(a, m));
  const inv = await c.manager.payments.createInvoice(amount, { description: 'a part again' });
  const out = await a.manager.payments.sendPayment(inv.bolt11);
  assert.equal(out.status, 'succeeded', out.reason);
  const parts = router.splits[0] ?? 0;
  assert.equal(parts, 3, 'split over the three paths the first graph had');
  assert.equal(router.retries.length, 1, 'one part sent again');
  assert.deepEqual(
    router.retries[0]?.avoidChannels,
    [scidOf(middles[1]!, c)],
    'avoiding the channel that failed',
  );
  const claimable = c.payments.filter((e) => e.type === 'PaymentClaimable') as { amountMsat: bigint }[];
  assert.deepEqual(
    claimable.map((e) => e.amountMsat),
    [amount],
  );
  await waitFor(() => [0, 2, 3].reduce((sum, k) => sum + local(c, middles[k]!), 0n) === amount || undefined, {
    what: 'every part settled at C',
  });
  assert.equal(local(a, middles[1]!), before[1], 'nothing moved over the path that failed');
  assert.ok(local(c, middles[3]!) > 0n, 'the fourth middle node carried the part sent again');
  assert.equal(out.feeMsat, 3000n, 'three parts paid, each one middle node’s base fee');
});
