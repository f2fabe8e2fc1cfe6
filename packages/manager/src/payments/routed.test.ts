/**
 * Payments through other nodes (issue: "sending through the network"), three ChannelManagers in
 * memory A–B–C: A has no channel with C, so `sendPayment` asks its router — lnkit's
 * DefaultRouter over a fixed graph — for a route over A's usable channels. The graph also has a
 * B–C channel B does not have, cheaper, which the router tries first: B answers
 * unknown_next_peer, A's scorer hears of it, and A pays over the real B–C channel instead; fee
 * and balances exact. A failure at the payee ends the payment at once (no retry); routes that
 * all fail end it with the last failure; no route at all is refused with nothing stored.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { DefaultRouter, FixedGraph, type FixedPolicy } from '@lnkit/gossip';
import { compactSigner, createInvoice, decodeInvoice } from '@lnkit/invoice';
import { KeysManager } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import { channelUpdate } from '@lnkit/wire';
import { ManagerError } from '../errors.ts';
import { channelWith, type LineNode, lineNode, openLine, scidOf } from '../forward/forward-test-kit.ts';
import type { PaymentRouteQuery, PaymentRouter } from './payments.ts';

const logger = createRootLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const CAPACITY_MSAT = 1_000_000_000n;
const POLICY: FixedPolicy = {
  feeBaseMsat: 1000,
  feeProportionalMillionths: 0,
  cltvExpiryDelta: 72,
  htlcMinimumMsat: 1n,
  htlcMaximumMsat: CAPACITY_MSAT,
};
/** A channel B–C that B does not have (made up), cheaper than the real one. */
const GHOST_SCID = (600n << 40n) | (1n << 16n);

/** A's router: DefaultRouter over the graph the test sets, counting what the scorer hears. */
class TestRouter implements PaymentRouter {
  graph: FixedGraph | undefined;
  readonly failedAt: bigint[] = [];
  readonly succeeded: number[] = [];
  readonly queries: PaymentRouteQuery[] = [];
  async findRoute(q: PaymentRouteQuery) {
    this.queries.push(q);
    if (!this.graph) throw new Error('no graph');
    return new DefaultRouter({ graph: this.graph }).findRoute(q);
  }
  async pathFailed(_path: unknown, scid: bigint) {
    this.failedAt.push(scid);
  }
  async pathSucceeded(path: { hops: readonly unknown[] }) {
    this.succeeded.push(path.hops.length);
  }
  /** The channel_updates failures carried, as the payments layer handed them over. */
  readonly applied: Uint8Array[] = [];
  async applyChannelUpdate(raw: Uint8Array) {
    this.applied.push(raw);
    return true;
  }
}

interface Line {
  a: LineNode;
  b: LineNode;
  c: LineNode;
  router: TestRouter;
}

async function line(): Promise<Line> {
  const router = new TestRouter();
  const a = await lineNode(logger, cleanups, undefined, undefined, {
    router,
    paymentRetry: { attempts: 5, timeoutMs: 60_000 },
  });
  const b = await lineNode(logger, cleanups);
  const c = await lineNode(logger, cleanups);
  await openLine(
    [
      [a, b],
      [b, c],
    ],
    [a, b, c],
  );
  return { a, b, c, router };
}

/** The graph A routes over: A–B and B–C as they are, and (unless `ghost` is false) the made-up B–C. */
function graphOf({ a, b, c }: Line, o: { ghost?: boolean; real?: boolean } = {}): FixedGraph {
  const channels = [
    { shortChannelId: scidOf(a, b), nodeA: a.keys.nodeId, nodeB: b.keys.nodeId, aToB: POLICY, bToA: POLICY },
  ];
  if (o.real !== false)
    channels.push({
      shortChannelId: scidOf(b, c),
      nodeA: b.keys.nodeId,
      nodeB: c.keys.nodeId,
      aToB: POLICY,
      bToA: POLICY,
    });
  if (o.ghost !== false)
    channels.push({
      shortChannelId: GHOST_SCID,
      nodeA: b.keys.nodeId,
      nodeB: c.keys.nodeId,
      aToB: { ...POLICY, feeBaseMsat: 0 },
      bToA: POLICY,
    });
  return new FixedGraph({ channels });
}

const balances = (n: LineNode, peer: LineNode) => {
  const ch = channelWith(n, peer);
  return { local: ch.localBalanceMsat, remote: ch.remoteBalanceMsat };
};

test("A pays C's invoice over the graph: the cheaper route's channel is unknown at B, so A tries the other; fee and balances exact", async () => {
  const l = await line();
  const { a, b, c, router } = l;
  router.graph = graphOf(l);
  const amount = 4_000_000n;
  const inv = await c.manager.payments.createInvoice(amount, { description: 'over the graph' });
  const outcome = await a.manager.payments.sendPayment(inv.bolt11);
  assert.equal(outcome.status, 'succeeded', outcome.reason);
  assert.equal(outcome.feeMsat, 1000n, "B's fee on the real channel");
  assert.equal(outcome.amountMsat, amount);
  // Two attempts: the ghost failed at B (the scorer heard of it), the real one went.
  assert.equal(router.queries.length, 2);
  assert.deepEqual(router.queries[1]?.avoidChannels, [GHOST_SCID]);
  assert.deepEqual(router.failedAt, [GHOST_SCID]);
  assert.deepEqual(router.succeeded, [2]);
  assert.equal(a.link.sentTo(b.nodeId, 128), 2, 'one update_add_htlc per attempt');
  // The first hops given were A's channels, with what one HTLC can carry now: the balance less
  // the 1 % reserve B asks (10,000 sat) and the commitment fee with its spike buffer.
  const [firstHop] = router.queries[0]?.firstHops ?? [];
  assert.equal(firstHop?.shortChannelId, scidOf(a, b));
  const reserveMsat = 10_000_000n;
  assert.ok(
    firstHop &&
      firstHop.outboundMsat < CAPACITY_MSAT - reserveMsat &&
      firstHop.outboundMsat > CAPACITY_MSAT - reserveMsat - 2_000_000n,
    `sendable ${firstHop?.outboundMsat}`,
  );
  const [view] = a.manager.payments.listPayments();
  assert.deepEqual([view?.status, view?.feeMsat], ['succeeded', 1000n]);
  await waitFor(() => c.payments.some((e) => e.type === 'PaymentClaimed'), { what: 'PaymentClaimed at C' });
  await waitFor(
    () =>
      balances(c, b).local === amount &&
      balances(a, b).local === CAPACITY_MSAT - amount - 1000n &&
      balances(b, a).local === amount + 1000n,
    {
      what: 'settled on both channels',
    },
  );
  assert.deepEqual(balances(b, a), { local: amount + 1000n, remote: CAPACITY_MSAT - amount - 1000n });
  assert.deepEqual(balances(b, c), { local: CAPACITY_MSAT - amount, remote: amount });

  // keysend goes the same way.
  const k = await a.manager.payments.keysend(c.nodeId, 1_000_000n);
  assert.equal(k.status, 'succeeded', k.reason);
  assert.equal(k.feeMsat, 1000n);
});

test('a failure at the payee ends the payment at once; no route at all is refused with nothing stored', async () => {
  const l = await line();
  const { a, b, c, router } = l;
  router.graph = graphOf(l, { ghost: false });
  // An invoice signed by C for a hash C never made: C answers incorrect_or_unknown_payment_details.
  const { invoice } = await createInvoice(
    {
      network: 'regtest',
      amountMsat: 2_000_000n,
      paymentHash: randomBytes(32),
      paymentSecret: randomBytes(32),
      description: 'unknown to C',
    },
    compactSigner((d) => c.keys.signWithNodeKey(d), c.keys.nodeId),
  );
  const outcome = await a.manager.payments.sendPayment(invoice);
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.reason, 'incorrect_or_unknown_payment_details');
  assert.equal(router.queries.length, 1, 'not tried again');
  assert.equal(a.link.sentTo(b.nodeId, 128), 1);

  // A node the graph does not know.
  const stranger = Buffer.from(new KeysManager(randomBytes(32)).nodeId).toString('hex');
  const refused = await a.manager.payments.keysend(stranger, 1000n).catch((e: unknown) => e);
  assert.ok(refused instanceof ManagerError, String(refused));
  assert.equal(refused.code, 'no-route');
  assert.match(refused.message, /no route to/);
  assert.equal(a.manager.payments.listPayments().length, 1, 'nothing stored for the refused one');
});

test('when every route fails on the way, the payment fails with the last failure', async () => {
  const l = await line();
  const { a, router } = l;
  router.graph = graphOf(l, { real: false });
  const outcome = await a.manager.payments.keysend(l.c.nodeId, 1_000_000n);
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.reason ?? '', /^unknown_next_peer at hop 0 .*; then no route to/);
  assert.equal(router.queries.length, 2);
  assert.deepEqual(router.failedAt, [GHOST_SCID]);
  assert.equal(a.manager.payments.listPayments()[0]?.status, 'failed');
});

test("C's invoice names its private channel from B as a route hint, with the policy B sent C; A pays over it, and B's setfees reaches C's next invoice", async () => {
  const { a, b, c, router } = await line();
  // C hears B's channel_update once the channel is ready; its invoices then carry the hint.
  const hintOf = async (amount: bigint) => {
    const inv = await c.manager.payments.createInvoice(amount, { description: 'hinted' });
    return { bolt11: inv.bolt11, hints: decodeInvoice(inv.bolt11).routeHints };
  };
  const first = await waitFor(
    async () => {
      const h = await hintOf(3_000_000n);
      return h.hints.length > 0 ? h : undefined;
    },
    { what: "B's channel_update at C" },
  );
  assert.equal(first.hints.length, 1);
  const [hop] = first.hints[0] ?? [];
  assert.deepEqual(
    [
      hop?.nodeId,
      hop?.shortChannelId,
      hop?.feeBaseMsat,
      hop?.feeProportionalMillionths,
      hop?.cltvExpiryDelta,
    ],
    [b.keys.nodeId, scidOf(b, c), 1000, 0, 72],
  );
  // A's graph knows only A–B: the B–C channel comes from the hint.
  router.graph = new FixedGraph({
    channels: [
      {
        shortChannelId: scidOf(a, b),
        nodeA: a.keys.nodeId,
        nodeB: b.keys.nodeId,
        aToB: POLICY,
        bToA: POLICY,
      },
    ],
  });
  const paid = await a.manager.payments.sendPayment(first.bolt11);
  assert.equal(paid.status, 'succeeded', paid.reason);
  assert.equal(paid.feeMsat, 1000n);
  assert.equal(router.queries[0]?.routeHints?.length, 1);

  await b.manager.setPolicy(channelWith(b, c).channelId, {
    feeBaseMsat: 2222,
    feeProportionalMillionths: 33,
  });
  const next = await waitFor(
    async () => {
      const h = await hintOf(1_000_000n);
      return h.hints[0]?.[0]?.feeBaseMsat === 2222 ? h : undefined;
    },
    { what: "B's new policy at C" },
  );
  assert.equal(next.hints[0]?.[0]?.feeProportionalMillionths, 33);
  const again = await a.manager.payments.sendPayment(next.bolt11);
  assert.equal(again.status, 'succeeded', again.reason);
  assert.equal(again.feeMsat, 2222n + (1_000_000n * 33n) / 1_000_000n);
});

test('B raised its fee: A’s first try fails with fee_insufficient, and the channel_update it carries goes to A’s router (BOLT 4: SHOULD apply it)', async () => {
  const l = await line();
  const { a, b, c, router } = l;
  router.graph = graphOf(l, { ghost: false });
  await b.manager.forwards.setPolicy(channelWith(b, c).channelId, { feeBaseMsat: 5000 });
  const inv = await c.manager.payments.createInvoice(2_000_000n, { description: 'fees' });
  const outcome = await a.manager.payments.sendPayment(inv.bolt11);
  // A's graph still says 1000 msat: the payment fails at B (a retry finds the same route).
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.reason ?? '', /fee_insufficient/);
  await waitFor(() => router.applied.length > 0, { what: 'the channel_update at A’s router' });
  const update = channelUpdate.decode(router.applied[0] as Uint8Array);
  assert.equal(update.shortChannelId, scidOf(b, c));
  assert.equal(update.feeBaseMsat, 5000, 'B’s new policy');
});
