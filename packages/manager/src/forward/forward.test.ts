/**
 * Forwarding between three ChannelManagers in memory (lmdb monitors and forwards), A–B–C:
 * A sends along a two-hop route it builds itself (sendToRoute), B forwards, C claims its
 * invoice; the preimage flows back, balances are exact on all three and B earned its fee.
 * Each failure B can return is returned and decoded at A as that failure (with B's
 * channel_update where BOLT 4 asks for one), and C's final-hop failure comes back through B
 * wrapped. The pairing is durable before the downstream HTLC leaves B, and B fails upstream
 * only after the downstream HTLC is gone.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { inspect } from 'node:util';
import { randomBytes, sha256 } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { parseFailureChannelUpdate, type RouteHop } from '@lnkit/onion';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import type { ChannelManagerOptions } from '../channel-manager.ts';
import {
  channelWith,
  connectLinks,
  disconnectLinks,
  invoiceOf,
  LINE_DELTA,
  LINE_FEE_MSAT,
  LINE_HEIGHT,
  type LineNode,
  lineNode,
  openLine,
  routeThrough,
  scidOf,
  stopLineNode,
} from './forward-test-kit.ts';
import type { RouteOutcome } from './forwarder.ts';
import type { ForwardRecord } from './store.ts';

const logger = createRootLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const CAPACITY_MSAT = 1_000_000_000n;
const FEE_MSAT = LINE_FEE_MSAT;
const DELTA = LINE_DELTA;
const HEIGHT = LINE_HEIGHT;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Line {
  a: LineNode;
  b: LineNode;
  c: LineNode;
  /** B's forwards store writes, with how many update_add_htlc B had sent C at each. */
  bSaves: { record: ForwardRecord; addsToC: number }[];
  /** While set, B's store refuses to write a pairing (an 'offered' record). */
  failPairings: { on: boolean };
}

async function line(bOverrides: Partial<ChannelManagerOptions> = {}): Promise<Line> {
  const bSaves: Line['bSaves'] = [];
  const failPairings = { on: false };
  let b!: LineNode;
  let cId = '';
  const a = await lineNode(logger, cleanups);
  b = await lineNode(
    logger,
    cleanups,
    (store) => {
      const save = store.save.bind(store);
      store.save = (r) => {
        if (failPairings.on && r.status === 'offered')
          return Promise.reject(new Error('the disk refused the write'));
        bSaves.push({ record: { ...r }, addsToC: b.link.sentTo(cId, 128) });
        return save(r);
      };
      return store;
    },
    undefined,
    bOverrides,
  );
  const c = await lineNode(logger, cleanups);
  cId = c.nodeId;
  await openLine(
    [
      [a, b],
      [b, c],
    ],
    [a, b, c],
  );
  return { a, b, c, bSaves, failPairings };
}

/** A's route to C through B, for `amountMsat` at C; each field can be made wrong. */
const route = (
  { a, b, c }: Line,
  amountMsat: bigint,
  o: Parameters<typeof routeThrough>[4] = {},
): RouteHop[] => routeThrough(a, b, c, amountMsat, o);

const balances = (n: LineNode, peer: LineNode) => {
  const ch = channelWith(n, peer);
  return { local: ch.localBalanceMsat, remote: ch.remoteBalanceMsat };
};

test('A pays C through B: B forwards, C claims, the preimage flows back; balances exact, B earned its fee', async () => {
  const l = await line();
  const { a, b, c } = l;
  const amount = 5_000_000n;
  const { paymentHash, recipient } = await invoiceOf(c, amount);
  const outcome = await a.manager.forwards.sendToRoute(route(l, amount), paymentHash, recipient);
  assert.equal(outcome.status, 'succeeded', inspect(outcome.failure));
  assert.equal(hex(sha256(outcome.preimage as Uint8Array)), hex(paymentHash));

  await waitFor(() => b.forwards.some((e) => e.type === 'PaymentForwarded'), {
    what: 'PaymentForwarded at B',
  });
  const fwd = b.forwards.find((e) => e.type === 'PaymentForwarded');
  assert.deepEqual(fwd, {
    type: 'PaymentForwarded',
    inChannelId: channelWith(b, a).channelId,
    outChannelId: channelWith(b, c).channelId,
    paymentHash: hex(paymentHash),
    amountInMsat: amount + FEE_MSAT,
    amountOutMsat: amount,
    feeMsat: FEE_MSAT,
  });
  await waitFor(() => c.payments.some((e) => e.type === 'PaymentClaimed'), { what: 'PaymentClaimed at C' });
  await waitFor(
    () => balances(a, b).local === CAPACITY_MSAT - amount - FEE_MSAT && balances(c, b).local === amount,
    {
      what: 'settled on every channel',
    },
  );
  assert.deepEqual(balances(a, b), { local: CAPACITY_MSAT - amount - FEE_MSAT, remote: amount + FEE_MSAT });
  assert.deepEqual(balances(b, a), { local: amount + FEE_MSAT, remote: CAPACITY_MSAT - amount - FEE_MSAT });
  assert.deepEqual(balances(b, c), { local: CAPACITY_MSAT - amount, remote: amount });
  assert.deepEqual(balances(c, b), { local: amount, remote: CAPACITY_MSAT - amount });

  // The pairing was durable before B offered the downstream HTLC (no update_add_htlc to C yet).
  const first = l.bSaves[0];
  assert.ok(first);
  assert.equal(first.record.status, 'offered');
  assert.equal(first.record.outHtlcId, 0n);
  assert.equal(hex(first.record.outChannelId as Uint8Array), channelWith(b, c).channelId);
  assert.equal(first.addsToC, 0);

  const history = b.manager.forwards.listForwards();
  assert.equal(history.length, 1);
  assert.deepEqual(
    { ...history[0], createdAt: 0, resolvedAt: history[0]?.resolvedAt !== null },
    {
      inChannel: channelWith(b, a).channelId,
      outChannel: channelWith(b, c).channelId,
      paymentHash: hex(paymentHash),
      amountInMsat: amount + FEE_MSAT,
      amountOutMsat: amount,
      feeMsat: FEE_MSAT,
      status: 'settled',
      failure: null,
      createdAt: 0,
      resolvedAt: true,
    },
  );
  // A second payment the same way: B's HTLC ids go on, and the fee is earned again.
  const second = await invoiceOf(c, 7_000_000n);
  const again = await a.manager.forwards.sendToRoute(
    route(l, 7_000_000n),
    second.paymentHash,
    second.recipient,
  );
  assert.equal(again.status, 'succeeded');
  await waitFor(() => b.forwards.filter((e) => e.type === 'PaymentForwarded').length === 2, {
    what: 'two forwarded',
  });
  await waitFor(
    () => balances(b, a).local === 12_000_000n + 2n * FEE_MSAT && balances(b, c).remote === 12_000_000n,
    {
      what: 'the second settled',
    },
  );
  // The metrics count both by their outgoing channel, with the fees earned.
  await waitFor(() => b.manager.forwards.metrics()[0]?.settled === 2 || undefined, {
    what: 'both counted settled',
  });
  assert.deepEqual(b.manager.forwards.metrics(), [
    {
      channel: channelWith(b, c).channelId,
      settled: 2,
      failed: 0,
      inFlight: 0,
      feeMsat: 2n * FEE_MSAT,
      failures: {},
    },
  ]);
});

test('each failure B can return is decoded at A as that failure; C’s failure comes back through B; balances unchanged', async () => {
  const l = await line();
  const { a, b, c } = l;
  const bc = channelWith(b, c);
  const startA = balances(a, b);
  const send = async (amount: bigint, o: Parameters<typeof route>[2] = {}): Promise<RouteOutcome> => {
    const { paymentHash, recipient } = await invoiceOf(c, amount);
    return a.manager.forwards.sendToRoute(route(l, amount, o), paymentHash, recipient);
  };
  /** The failure came from B (hop 0) with that name; its channel_update names the onion's scid. */
  const fromB = (o: RouteOutcome, name: string) => {
    assert.equal(o.status, 'failed');
    assert.equal(o.failure?.hopIndex, 0, inspect(o));
    assert.equal(o.failure?.name, name);
    const m = o.failure?.message;
    assert.ok(m && m.name === name);
    return m;
  };
  const updateIn = (m: unknown) => {
    const bytes = (m as { channelUpdate: Uint8Array }).channelUpdate;
    const u = parseFailureChannelUpdate(bytes);
    assert.ok(u, 'a channel_update in the failure');
    assert.equal(u.shortChannelId, scidOf(b, c));
    return u;
  };

  // fee_insufficient: one msat short; the incoming amount and our fee in the update.
  const fee = fromB(await send(4_000_000n, { feeMsat: FEE_MSAT - 1n }), 'fee_insufficient');
  assert.ok(fee.name === 'fee_insufficient');
  assert.equal(fee.htlcMsat, 4_000_000n + FEE_MSAT - 1n);
  const u = updateIn(fee);
  assert.equal(u.feeBaseMsat, 1000);
  assert.equal(u.feeProportionalMillionths, 0);
  assert.equal(u.cltvExpiryDelta, DELTA);

  // incorrect_cltv_expiry: one block short of the delta; the outgoing expiry reported.
  const cltv = fromB(await send(4_000_000n, { delta: DELTA - 1 }), 'incorrect_cltv_expiry');
  assert.ok(cltv.name === 'incorrect_cltv_expiry');
  assert.equal(cltv.cltvExpiry, HEIGHT + 21);
  updateIn(cltv);

  // expiry_too_soon: the outgoing HTLC would expire within 3 blocks.
  updateIn(fromB(await send(4_000_000n, { outCltv: HEIGHT + 3 }), 'expiry_too_soon'));

  // unknown_next_peer: no channel with that scid.
  fromB(await send(4_000_000n, { bcScid: (700_000n << 40n) | 1n }), 'unknown_next_peer');

  // amount_below_minimum: B's minimum for B–C raised to 10,000 msat; 5,000 asked.
  await b.manager.forwards.setPolicy(bc.channelId, { htlcMinimumMsat: 10_000n });
  const min = fromB(await send(5_000n), 'amount_below_minimum');
  assert.ok(min.name === 'amount_below_minimum');
  assert.equal(min.htlcMsat, 5_000n);
  assert.equal(updateIn(min).htlcMinimumMsat, 10_000n);
  await b.manager.forwards.setPolicy(bc.channelId, { htlcMinimumMsat: 1n });

  // channel_disabled: B disables B–C; the update has the disable bit.
  await b.manager.forwards.setPolicy(bc.channelId, { enabled: false });
  const disabled = fromB(await send(4_000_000n), 'channel_disabled');
  assert.equal(updateIn(disabled).channelFlags & 2, 2);
  await b.manager.forwards.setPolicy(bc.channelId, { enabled: true });

  // temporary_channel_failure: C is away; then more than B can send on B–C.
  disconnectLinks(b.link, c.link);
  await waitFor(() => !channelWith(b, c).usable, { what: 'B–C down at B' });
  updateIn(fromB(await send(4_000_000n), 'temporary_channel_failure'));
  connectLinks(b.link, c.link);
  await waitFor(() => channelWith(b, c).usable && channelWith(c, b).usable, { what: 'B–C back' });
  await b.manager.forwards.setPolicy(bc.channelId, { htlcMaximumMsat: 3_000_000n });
  updateIn(fromB(await send(4_000_000n), 'temporary_channel_failure'));
  await b.manager.forwards.setPolicy(bc.channelId, { htlcMaximumMsat: 0xffff_ffff_ffff_ffffn });

  // C's own failure (a payment secret it never gave): hop 1, wrapped by B on the way back;
  // B fails upstream only once the downstream HTLC left B's commitment.
  let bcLocalWhenFailedUp: bigint | undefined;
  b.link.onSend = (to, type) => {
    if (to === a.nodeId && type === 131) bcLocalWhenFailedUp = channelWith(b, c).localBalanceMsat;
  };
  const { paymentHash } = await invoiceOf(c, 4_000_000n);
  const wrong = await a.manager.forwards.sendToRoute(route(l, 4_000_000n), paymentHash, {
    paymentSecret: randomBytes(32),
    totalMsat: 4_000_000n,
  });
  b.link.onSend = undefined;
  assert.equal(wrong.status, 'failed');
  assert.equal(wrong.failure?.hopIndex, 1);
  assert.equal(wrong.failure?.name, 'incorrect_or_unknown_payment_details');
  assert.equal(bcLocalWhenFailedUp, CAPACITY_MSAT);
  const failed = b.forwards.filter((e) => e.type === 'ForwardFailed');
  assert.deepEqual(
    failed.map((e) => e.type === 'ForwardFailed' && [e.failure, e.local]),
    [
      ['fee_insufficient', true],
      ['incorrect_cltv_expiry', true],
      ['expiry_too_soon', true],
      ['unknown_next_peer', true],
      ['amount_below_minimum', true],
      ['channel_disabled', true],
      ['temporary_channel_failure', true],
      ['temporary_channel_failure', true],
      ['downstream', false],
    ],
  );
  assert.ok(b.manager.forwards.listForwards().every((f) => f.status === 'failed' && f.feeMsat === 0n));
  assert.equal(b.forwards.filter((e) => e.type === 'PaymentForwarded').length, 0);

  // Every HTLC failed back: nobody paid anything.
  await waitFor(() => balances(a, b).local === startA.local && balances(b, c).local === CAPACITY_MSAT, {
    what: 'every failed HTLC gone',
  });
  assert.deepEqual(balances(a, b), { local: CAPACITY_MSAT, remote: 0n });
  assert.deepEqual(balances(c, b), { local: 0n, remote: CAPACITY_MSAT });
});

test('A–B drops as B forwards: C’s preimage is kept at B and given to A once A–B is back; balances exact', async () => {
  const l = await line();
  const { a, b, c } = l;
  const amount = 3_000_000n;
  const { paymentHash, recipient } = await invoiceOf(c, amount);
  let dropped = false;
  b.link.onSend = (to, type) => {
    // The downstream add leaves: A goes away before the fulfil can come back.
    if (to === c.nodeId && type === 128 && !dropped) {
      dropped = true;
      disconnectLinks(a.link, b.link);
    }
  };
  const paying = a.manager.forwards.sendToRoute(route(l, amount), paymentHash, recipient);
  await waitFor(() => c.payments.some((e) => e.type === 'PaymentClaimed'), { what: 'C claimed' });
  await waitFor(() => channelWith(b, c).remoteBalanceMsat === amount, { what: 'B–C settled' });
  assert.equal(b.link.sentTo(a.nodeId, 130), 0, 'no fulfil to A while it is away');
  assert.equal(b.forwards.length, 0);
  b.link.onSend = undefined;
  connectLinks(a.link, b.link);
  const outcome = await paying;
  assert.equal(outcome.status, 'succeeded');
  assert.equal(hex(sha256(outcome.preimage as Uint8Array)), hex(paymentHash));
  await waitFor(() => b.forwards.some((e) => e.type === 'PaymentForwarded'), {
    what: 'PaymentForwarded at B',
  });
  await waitFor(() => balances(a, b).local === CAPACITY_MSAT - amount - FEE_MSAT, { what: 'A–B settled' });
  assert.deepEqual(balances(b, a), { local: amount + FEE_MSAT, remote: CAPACITY_MSAT - amount - FEE_MSAT });
  assert.deepEqual(balances(b, c), { local: CAPACITY_MSAT - amount, remote: amount });
});

test('C cannot read the onion B sent (update_fail_malformed_htlc): B makes the failure for A, attributed to B', async () => {
  const l = await line();
  const { a, b, c } = l;
  const { paymentHash, recipient } = await invoiceOf(c, 2_000_000n);
  const hops = route(l, 2_000_000n);
  // C's layer encrypted to another key: C's HMAC check fails.
  const wrong = new KeysManager(randomBytes(32)).nodeId;
  const outcome = await a.manager.forwards.sendToRoute(
    [hops[0] as RouteHop, { ...(hops[1] as RouteHop), nodeId: wrong }],
    paymentHash,
    recipient,
  );
  assert.equal(outcome.status, 'failed');
  assert.equal(
    outcome.failure?.hopIndex,
    0,
    'B made the failure (BOLT 2: the hop that got the malformed one)',
  );
  assert.equal(outcome.failure?.name, 'invalid_onion_hmac');
  const m = outcome.failure?.message;
  assert.ok(m?.name === 'invalid_onion_hmac');
  assert.equal(m.sha256OfOnion.length, 32);
  await waitFor(() => b.forwards.some((e) => e.type === 'ForwardFailed'), { what: 'ForwardFailed at B' });
  assert.deepEqual(
    b.forwards.map((e) => e.type === 'ForwardFailed' && [e.failure, e.local]),
    [['downstream invalid_onion_hmac', false]],
  );
  await waitFor(() => balances(a, b).local === CAPACITY_MSAT && balances(b, c).local === CAPACITY_MSAT, {
    what: 'every HTLC gone',
  });
  assert.ok(!c.payments.some((e) => e.type === 'PaymentClaimable'));
});

test('B cannot store the pairing: nothing is offered to C, and A hears temporary_channel_failure at once', async () => {
  const l = await line();
  const { a, b, c } = l;
  l.failPairings.on = true;
  const { paymentHash, recipient } = await invoiceOf(c, 2_000_000n);
  const outcome = await a.manager.forwards.sendToRoute(route(l, 2_000_000n), paymentHash, recipient);
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.failure?.hopIndex, 0);
  assert.equal(outcome.failure?.name, 'temporary_channel_failure');
  assert.equal(b.link.sentTo(c.nodeId, 128), 0, 'no update_add_htlc to C');
  await waitFor(() => balances(a, b).local === CAPACITY_MSAT, { what: 'the HTLC failed back' });
  // The store works again: the next forward goes through.
  l.failPairings.on = false;
  const next = await invoiceOf(c, 2_000_000n);
  const ok = await a.manager.forwards.sendToRoute(route(l, 2_000_000n), next.paymentHash, next.recipient);
  assert.equal(ok.status, 'succeeded');
});

test('B stops as C’s fulfil is on its way: restarted from its data dir, B finds the pairing in its books and C’s retransmitted fulfil reaches A; balances exact', async () => {
  const l = await line();
  const { a, b, c } = l;
  const amount = 4_000_000n;
  const { paymentHash, recipient } = await invoiceOf(c, amount);
  let cut = false;
  c.link.onSend = (to, type) => {
    // C's update_fulfill_htlc is lost with the connection: B's process ends with the forward offered.
    if (to === b.nodeId && type === 130 && !cut) {
      cut = true;
      disconnectLinks(c.link, b.link);
      disconnectLinks(a.link, b.link);
    }
  };
  const paying = a.manager.forwards.sendToRoute(route(l, amount), paymentHash, recipient);
  await waitFor(() => cut, { what: 'C fulfils' });
  c.link.onSend = undefined;
  await b.manager.idle();
  await stopLineNode(b);
  assert.equal(b.forwards.length, 0, 'nothing forwarded before the stop');

  const b2 = await lineNode(logger, cleanups, undefined, { seed: b.seed, dir: b.dir });
  const [inFlight] = b2.manager.forwards.listForwards();
  assert.equal(inFlight?.status, 'in-flight', 'the pairing is in the books after the restart');
  assert.equal(inFlight?.paymentHash, hex(paymentHash));
  connectLinks(b2.link, a.link);
  connectLinks(b2.link, c.link);
  const outcome = await paying;
  assert.equal(outcome.status, 'succeeded');
  assert.equal(hex(sha256(outcome.preimage as Uint8Array)), hex(paymentHash));
  await waitFor(() => b2.forwards.some((e) => e.type === 'PaymentForwarded'), {
    what: 'PaymentForwarded at B',
  });
  await waitFor(
    () =>
      balances(a, b2).local === CAPACITY_MSAT - amount - FEE_MSAT &&
      balances(b2, c).remote === amount &&
      balances(c, b2).local === amount,
    { what: 'settled on both channels after the restart' },
  );
  assert.deepEqual(balances(b2, a), { local: amount + FEE_MSAT, remote: CAPACITY_MSAT - amount - FEE_MSAT });
  assert.equal(b2.manager.forwards.listForwards()[0]?.status, 'settled');
});

test('B stops as C’s failure is on its way: restarted, B wraps it with the shared secret from its books, and A decodes C’s failure', async () => {
  const l = await line();
  const { a, b, c } = l;
  const { paymentHash } = await invoiceOf(c, 3_000_000n);
  let cut = false;
  c.link.onSend = (to, type) => {
    if (to === b.nodeId && type === 131 && !cut) {
      cut = true;
      disconnectLinks(c.link, b.link);
      disconnectLinks(a.link, b.link);
    }
  };
  // A payment secret C never gave: C fails it (incorrect_or_unknown_payment_details).
  const paying = a.manager.forwards.sendToRoute(route(l, 3_000_000n), paymentHash, {
    paymentSecret: randomBytes(32),
    totalMsat: 3_000_000n,
  });
  await waitFor(() => cut, { what: 'C fails the HTLC' });
  c.link.onSend = undefined;
  await b.manager.idle();
  await stopLineNode(b);
  const b2 = await lineNode(logger, cleanups, undefined, { seed: b.seed, dir: b.dir });
  connectLinks(b2.link, a.link);
  connectLinks(b2.link, c.link);
  const outcome = await paying;
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.failure?.hopIndex, 1, 'C’s failure, wrapped by B after its restart');
  assert.equal(outcome.failure?.name, 'incorrect_or_unknown_payment_details');
  await waitFor(() => balances(a, b2).local === CAPACITY_MSAT && balances(b2, c).local === CAPACITY_MSAT, {
    what: 'every HTLC gone',
  });
  assert.deepEqual(
    b2.manager.forwards.listForwards().map((f) => [f.status, f.failure]),
    [['failed', 'downstream']],
  );
});

test('per-peer limits: with A’s one forward allowed in flight at B held at C, A’s next is failed at once with temporary_channel_failure from B; once the first ends, the next goes', async () => {
  const l = await line({ forwardPeerLimits: { maxInFlight: 1, perSecond: 0 } });
  const { a, b, c } = l;
  const amount = 2_000_000n;
  // C takes B's HTLC and answers nothing: the forward stays in flight at B.
  c.link.hold = () => true;
  const first = await invoiceOf(c, amount);
  const firstOutcome = a.manager.forwards.sendToRoute(route(l, amount), first.paymentHash, first.recipient);
  await waitFor(() => b.link.sentTo(c.nodeId, 132) === 1 || undefined, {
    what: 'B’s HTLC and commitment to C',
  });

  const second = await invoiceOf(c, amount);
  const refused = await a.manager.forwards.sendToRoute(
    route(l, amount),
    second.paymentHash,
    second.recipient,
  );
  assert.equal(refused.status, 'failed');
  assert.equal(refused.failure?.name, 'temporary_channel_failure');
  assert.equal(refused.failure?.hopIndex, 0, 'B’s own failure');
  assert.equal(b.link.sentTo(c.nodeId, 128), 1, 'nothing more offered to C');

  c.link.release();
  assert.equal((await firstOutcome).status, 'succeeded');
  const third = await invoiceOf(c, amount);
  const outcome = await a.manager.forwards.sendToRoute(route(l, amount), third.paymentHash, third.recipient);
  assert.equal(outcome.status, 'succeeded', inspect(outcome.failure));
});

test('A–B goes on chain as B forwards: C’s late fulfil gives the preimage to A–B’s monitor, which claims A’s HTLC on chain', async () => {
  const l = await line();
  const { a, b, c } = l;
  const given: { channelId: string; preimage: Uint8Array }[] = [];
  b.monitors.providePaymentPreimage = async (channelId, preimage) => {
    given.push({ channelId: hex(channelId), preimage });
    return true;
  };
  const amount = 2_000_000n;
  const { paymentHash, recipient } = await invoiceOf(c, amount);
  // C claims, but its fulfil (and all after it) is held on the way to B.
  c.link.hold = (to, type) => to === b.nodeId && (type === 130 || c.link.held.length > 0);
  void a.manager.forwards.sendToRoute(route(l, amount), paymentHash, recipient);
  await waitFor(() => c.link.held.length > 0, { what: 'C’s fulfil on its way' });
  const upstream = channelWith(b, a).channelId;
  await b.manager.closeChannel(upstream, { force: true });
  // Closing: our commitment broadcast, the channel takes no more updates.
  await waitFor(() => channelWith(b, a).state === 'closing', { what: 'A–B closing at B' });
  assert.equal(given.length, 0);
  c.link.release();
  await waitFor(() => given.length > 0, { what: 'the preimage at A–B’s monitor' });
  assert.equal(given[0]?.channelId, upstream);
  assert.equal(hex(sha256(given[0]?.preimage as Uint8Array)), hex(paymentHash));
});

test('B’s HTLC to C timed out on chain (final): B fails A’s HTLC back with permanent_channel_failure', async () => {
  const l = await line();
  const { a, b, c } = l;
  const amount = 1_500_000n;
  const { paymentHash, recipient } = await invoiceOf(c, amount);
  // C never answers: everything it sends B is held.
  c.link.hold = (to) => to === b.nodeId;
  const paying = a.manager.forwards.sendToRoute(route(l, amount), paymentHash, recipient);
  await waitFor(() => c.link.held.length > 0, { what: 'C holds the HTLC' });
  const downstream = channelWith(b, c).channelId;
  // What B's ChainMonitor says once its timeout claim is 6 deep.
  b.manager.htlcFailedOnChain(Buffer.from(downstream, 'hex'), 0n, paymentHash);
  const outcome = await paying;
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.failure?.name, 'permanent_channel_failure');
  assert.equal(outcome.failure?.hopIndex, 0, 'made by B');
  await waitFor(() => b.forwards.some((e) => e.type === 'ForwardFailed'), { what: 'ForwardFailed at B' });
  const failed = b.forwards.find((e) => e.type === 'ForwardFailed');
  assert.ok(
    failed?.type === 'ForwardFailed' && failed.local && failed.failure === 'permanent_channel_failure',
  );
  // Said again after a restart: nothing more happens.
  b.manager.htlcFailedOnChain(Buffer.from(downstream, 'hex'), 0n, paymentHash);
  await waitFor(() => balances(a, b).local === CAPACITY_MSAT, { what: 'A’s HTLC gone, its balance whole' });
});
