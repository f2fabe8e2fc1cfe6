/**
 * Sending in parts (BOLT 4 basic_mpp), four ChannelManagers in memory: A reaches C through B and
 * through D, each channel 1,000,000 sat, and pays C's invoice of 1,400,000 sat, which no one path
 * can carry. A's router (lnkit's DefaultRouter over the four channels) splits it; both parts
 * reach C, which claims them together; A's outcome has the preimage and both paths' fees, and
 * every balance moved by exactly its part. A payment whose parts cannot all arrive (one path's
 * second channel is not there) fails whole: C fails the part it holds back with mpp_timeout.
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
  splits: number[] = [];
  #router = () => new DefaultRouter({ graph: this.graph ?? new FixedGraph({ channels: [] }) });
  async findRoute(q: PaymentRouteQuery): Promise<PaymentRoute> {
    return this.#router().findRoute(q);
  }
  async findRoutes(q: PaymentRouteQuery): Promise<readonly PaymentRoute[]> {
    const routes = this.#router().findRoutes(q);
    this.splits.push(routes.length);
    return routes;
  }
}

async function diamond(mppTimeoutMs?: number) {
  const router = new SplittingRouter();
  const a = await lineNode(logger, cleanups, undefined, undefined, { router });
  const b = await lineNode(logger, cleanups);
  const d = await lineNode(logger, cleanups);
  const c = await lineNode(logger, cleanups, undefined, undefined, mppTimeoutMs ? { mppTimeoutMs } : {});
  await openLine(
    [
      [a, b],
      [b, c],
      [a, d],
      [d, c],
    ],
    [a, b, c, d],
    CAPACITY_SAT,
  );
  const channel = (x: LineNode, y: LineNode, scid = scidOf(x, y)) => ({
    shortChannelId: scid,
    nodeA: x.keys.nodeId,
    nodeB: y.keys.nodeId,
    capacitySat: CAPACITY_SAT,
    aToB: POLICY,
    bToA: POLICY,
  });
  return { a, b, c, d, router, channel };
}

const local = (n: LineNode, peer: LineNode) => channelWith(n, peer).localBalanceMsat;

test("A pays C's invoice no one path can carry: split over B and D, claimed whole at C; fees and balances exact", async () => {
  const { a, b, c, d, router, channel } = await diamond();
  router.graph = new FixedGraph({ channels: [channel(a, b), channel(b, c), channel(a, d), channel(d, c)] });
  const amount = 1_400_000_000n;
  const before = { ab: local(a, b), ad: local(a, d), bc: local(b, c), dc: local(d, c) };
  const inv = await c.manager.payments.createInvoice(amount, { description: 'in two parts' });
  const out = await a.manager.payments.sendPayment(inv.bolt11);
  assert.equal(out.status, 'succeeded', out.reason);
  assert.deepEqual(router.splits, [2]);
  assert.equal(out.feeMsat, 2000n, "B's and D's base fees");
  const claimable = c.payments.filter((e) => e.type === 'PaymentClaimable') as { amountMsat: bigint }[];
  assert.deepEqual(
    claimable.map((e) => e.amountMsat),
    [amount],
  );
  await waitFor(() => local(c, b) + local(c, d) === amount || undefined, { what: 'both parts settled at C' });
  const viaB = local(c, b);
  const viaD = local(c, d);
  assert.ok(viaB > 0n && viaD > 0n, 'each path carried a part');
  await waitFor(
    () => (local(a, b) === before.ab - viaB - 1000n && local(a, d) === before.ad - viaD - 1000n) || undefined,
    {
      what: "A's channels settled",
    },
  );
  await waitFor(() => (local(b, c) === before.bc - viaB && local(d, c) === before.dc - viaD) || undefined, {
    what: "B's and D's outgoing channels settled",
  });
  await waitFor(() => (local(b, a) === viaB + 1000n && local(d, a) === viaD + 1000n) || undefined, {
    what: "B's and D's incoming channels settled",
  });
  assert.equal(a.manager.payments.listPayments()[0]?.feeMsat, 2000n);
});

test('a split whose one part cannot arrive fails whole: C fails the part it holds with mpp_timeout, and nothing moves', async () => {
  const { a, b, c, d, router, channel } = await diamond(500);
  router.graph = new FixedGraph({ channels: [channel(a, b), channel(b, c), channel(a, d), channel(d, c)] });
  // D cannot reach C: its part is failed at D, and the part through B waits at C for the rest.
  disconnectLinks(d.link, c.link);
  const before = { ab: local(a, b), ad: local(a, d), cb: local(c, b) };
  const inv = await c.manager.payments.createInvoice(1_400_000_000n, { description: 'never whole' });
  const out = await a.manager.payments.sendPayment(inv.bolt11);
  assert.equal(out.status, 'failed');
  assert.match(out.reason ?? '', /\(2 parts\)$/);
  assert.match(out.reason ?? '', /^(mpp_timeout at hop 1|temporary_channel_failure at hop 0) \(2 parts\)$/);
  assert.equal(c.payments.filter((e) => e.type === 'PaymentClaimable').length, 0);
  await waitFor(() => (local(a, b) === before.ab && local(a, d) === before.ad) || undefined, {
    what: "A's balances back where they were",
  });
  assert.equal(local(c, b), before.cb);
});
