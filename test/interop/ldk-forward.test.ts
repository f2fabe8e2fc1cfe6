/**
 * lnkit forwarding between two LDK 0.1.0 (WASM) nodes over TCP loopback on bcoin regtest:
 * LDK A → lnkit B → LDK C. A opens A–B, B opens B–C (both private,
 * static-remotekey, 50,000 sat pushed); A pays
 * C's invoice over a route it is given explicitly — the payee C with one route hint, B's
 * B–C short_channel_id with B's fee and cltv_expiry_delta (LDK's router then has one path:
 * its own channel to B, then the hint) — B forwards, C claims, A gets PaymentSent with B's fee,
 * B's PaymentForwarded says it; balances exact on all three. Then the hint pays B one msat
 * less than its fee: B refuses with fee_insufficient, which LDK A decodes as that failure
 * (its "Onion Error" line names B, the code and the name) and reports PaymentPathFailed /
 * PaymentFailed; nobody's balance moves. Last, C refuses a payment secret it never gave: its
 * incorrect_or_unknown_payment_details comes back through B wrapped with B's shared secret, and
 * A attributes it to C (RecipientRejected).
 * Run: node scripts/test.mjs test/interop/ldk-forward.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeInvoice } from '@lnkit/invoice';
import type { ForwardEvent } from '@lnkit/manager';
import { waitFor } from '@lnkit/test-support';
import { parseShortChannelId } from '@lnkit/wire';
import * as ldk from 'lightningdevkit';
import { interopChain, WAIT_MS } from '../support/ldk/interop.ts';
import { LdkNode } from '../support/ldk/ldk-node.ts';
import { LnkitNode } from '../support/ldk/lnkit-node.ts';

const env = interopChain();
const CAPACITY_SAT = 1_000_000n;
/** Each opener pushes this to the other side: both then hold more than their reserve (1%), so LDK's capacities move by exactly what is paid. */
const PUSH_MSAT = 50_000_000n;
/** lnkit's default policy (LDK 0.1.0's defaults): 1000 msat base, 0 ppm, cltv_expiry_delta 72. */
const FEE_BASE_MSAT = 1000;
const CLTV_DELTA = 72;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Line {
  a: LdkNode;
  b: LnkitNode;
  c: LdkNode;
  forwards: ForwardEvent[];
}

/** Mines `n` blocks and feeds them to all three nodes. */
async function mine({ a, b, c }: Line, n: number): Promise<void> {
  await env.chain.mine(n);
  await a.syncToTip();
  await c.syncToTip();
  await b.syncToTip();
}

async function line(): Promise<Line> {
  const b = await LnkitNode.create({ chain: env.chain });
  env.defer(() => b.stop());
  const a = await LdkNode.create({ chain: env.chain, funding: b.funding, minimumDepth: 3 });
  env.defer(() => a.stop());
  const c = await LdkNode.create({ chain: env.chain, funding: b.funding, minimumDepth: 3 });
  env.defer(() => c.stop());
  const forwards: ForwardEvent[] = [];
  b.manager.forwards.events$.subscribe((e) => forwards.push(e));
  const l = { a, b, c, forwards };
  for (const ldkNode of [a, c]) {
    await ldkNode.connect(b.nodeId, '127.0.0.1', b.port);
    await waitFor(() => b.pm.listPeers().some((p) => p.nodeId === ldkNode.nodeId), {
      what: 'lnkit sees the LDK node',
    });
  }
  // One coin for A's funding (LDK builds it through the same test funding), one for B's.
  await b.funding.addCoins(2, 1_200_000n);
  await mine(l, 1);
  a.openChannel(b.nodeId, CAPACITY_SAT, PUSH_MSAT);
  await b.manager.openChannel(c.nodeId, CAPACITY_SAT, { pushMsat: PUSH_MSAT });
  await waitFor(() => b.events.filter((e) => e.type === 'ChannelPending').length === 2, {
    what: 'both channels pending at lnkit',
    timeoutMs: WAIT_MS,
  });
  for (const n of [a, c]) {
    await n.waitFor(
      () => n.events.some((e) => e.type === 'ChannelPending'),
      WAIT_MS,
      'ChannelPending at LDK',
    );
    await n.settled();
  }
  await mine(l, 3);
  await waitFor(
    () => b.manager.listChannels().length === 2 && b.manager.listChannels().every((ch) => ch.usable),
    {
      what: 'both channels usable at lnkit',
      timeoutMs: WAIT_MS,
    },
  );
  for (const n of [a, c]) await n.waitFor(() => n.channels()[0]?.isUsable === true, WAIT_MS, 'usable at LDK');
  return l;
}

const channelOf = (b: LnkitNode, peer: LdkNode) => {
  const ch = b.manager.listChannels().find((x) => x.peer === peer.nodeId);
  assert.ok(ch, `lnkit has a channel with ${peer.nodeId}`);
  return ch;
};

const capacities = (n: LdkNode) => {
  const ch = n.channels()[0];
  assert.ok(ch);
  return { outboundMsat: ch.outboundCapacityMsat, inboundMsat: ch.inboundCapacityMsat };
};

/** No HTLC pending in LDK's channel, either way. */
const ldkSettled = (n: LdkNode) => {
  const d = n.chanMan.list_channels()[0];
  return (
    d !== undefined &&
    d.get_pending_inbound_htlcs().length === 0 &&
    d.get_pending_outbound_htlcs().length === 0
  );
};

/**
 * A pays C's invoice along A → B → C: the payee with one route hint from B over the B–C
 * channel (its short_channel_id, fee and cltv_expiry_delta as given) — LDK 0.1.0's way to be
 * given a route (send_payment_with_route is not in its bindings); its router finds A's own
 * channel to B as the first hop. The payment id is the hash.
 */
function payThroughB(
  { a, b }: Line,
  bolt11: string,
  hint: { shortChannelId: bigint; feeBaseMsat: number; cltvExpiryDelta: number },
  paymentSecret?: Uint8Array,
): string {
  const inv = decodeInvoice(bolt11);
  const amountMsat = inv.amountMsat;
  assert.ok(amountMsat);
  const payee = inv.payee;
  const routeHint = ldk.RouteHint.constructor_new([
    ldk.RouteHintHop.constructor_new(
      Buffer.from(b.nodeId, 'hex'),
      hint.shortChannelId,
      ldk.RoutingFees.constructor_new(hint.feeBaseMsat, 0),
      hint.cltvExpiryDelta,
      ldk.Option_u64Z.constructor_none(),
      ldk.Option_u64Z.constructor_none(),
    ),
  ]);
  const params = ldk.PaymentParameters.constructor_from_node_id(payee, inv.minFinalCltvExpiryDelta);
  params.set_payee(
    ldk.Payee.constructor_clear(
      payee,
      [routeHint],
      ldk.Bolt11InvoiceFeatures.constructor_empty(),
      inv.minFinalCltvExpiryDelta,
    ),
  );
  const r = a.chanMan.send_payment(
    inv.paymentHash,
    ldk.RecipientOnionFields.constructor_secret_only(paymentSecret ?? inv.paymentSecret),
    inv.paymentHash,
    ldk.RouteParameters.constructor_from_payment_params_and_value(params, amountMsat),
    ldk.Retry.constructor_attempts(0),
  );
  if (!(r instanceof ldk.Result_NoneRetryableSendFailureZ_OK))
    throw new Error(
      `LDK refused send_payment: ${ldk.RetryableSendFailure[(r as ldk.Result_NoneRetryableSendFailureZ_Err).err]}`,
    );
  a.pump();
  return hex(inv.paymentHash);
}

test('LDK A pays LDK C through lnkit B over a given route: B forwards for its fee, C claims, A gets PaymentSent; balances exact; a route paying too little fee is refused with fee_insufficient, which A decodes', async () => {
  const l = await line();
  const { a, b, c, forwards } = l;
  const bcScid = parseShortChannelId(channelOf(b, c).shortChannelId ?? '');
  const startA = capacities(a);
  const startC = capacities(c);
  const startAB = channelOf(b, a);
  const startBC = channelOf(b, c);
  assert.equal(startAB.localBalanceMsat, PUSH_MSAT);
  assert.equal(startBC.localBalanceMsat, CAPACITY_SAT * 1000n - PUSH_MSAT);

  // 1. The forward.
  const amount = 5_000_000n;
  const fee = BigInt(FEE_BASE_MSAT);
  const invoice = c.createInvoice(amount, 'through lnkit');
  const hash = payThroughB(l, invoice, {
    shortChannelId: bcScid,
    feeBaseMsat: FEE_BASE_MSAT,
    cltvExpiryDelta: CLTV_DELTA,
  });
  await a.waitFor(
    () => a.events.some((e) => e.type === 'PaymentSent' && e.paymentHash === hash),
    WAIT_MS,
    'PaymentSent at A',
  );
  const sent = a.events.find((e) => e.type === 'PaymentSent' && e.paymentHash === hash);
  assert.equal(sent?.feeMsat, fee);
  await c.waitFor(
    () => c.events.some((e) => e.type === 'PaymentClaimed' && e.paymentHash === hash),
    WAIT_MS,
    'PaymentClaimed at C',
  );
  const claimable = c.events.find((e) => e.type === 'PaymentClaimable' && e.paymentHash === hash);
  assert.equal(claimable?.amountMsat, amount);
  assert.equal(claimable?.preimage, sent?.preimage);
  await waitFor(() => forwards.some((e) => e.type === 'PaymentForwarded'), {
    what: 'PaymentForwarded at B',
    timeoutMs: WAIT_MS,
  });
  assert.deepEqual(
    forwards.find((e) => e.type === 'PaymentForwarded'),
    {
      type: 'PaymentForwarded',
      inChannelId: startAB.channelId,
      outChannelId: startBC.channelId,
      paymentHash: hash,
      amountInMsat: amount + fee,
      amountOutMsat: amount,
      feeMsat: fee,
    },
  );
  // Settled everywhere: lnkit's balances to the msat, LDK's capacities moved by exactly that.
  await waitFor(
    () =>
      channelOf(b, a).localBalanceMsat === PUSH_MSAT + amount + fee &&
      channelOf(b, c).remoteBalanceMsat === PUSH_MSAT + amount,
    { what: 'lnkit settled on both channels', timeoutMs: WAIT_MS },
  );
  await a.waitFor(() => ldkSettled(a), WAIT_MS, 'A settled');
  await c.waitFor(() => ldkSettled(c), WAIT_MS, 'C settled');
  assert.equal(channelOf(b, a).remoteBalanceMsat, CAPACITY_SAT * 1000n - PUSH_MSAT - amount - fee);
  assert.equal(channelOf(b, c).localBalanceMsat, CAPACITY_SAT * 1000n - PUSH_MSAT - amount);
  assert.deepEqual(capacities(a), {
    outboundMsat: startA.outboundMsat - amount - fee,
    inboundMsat: startA.inboundMsat + amount + fee,
  });
  assert.deepEqual(capacities(c), {
    outboundMsat: startC.outboundMsat + amount,
    inboundMsat: startC.inboundMsat - amount,
  });
  const history = b.manager.forwards.listForwards();
  assert.equal(history.length, 1);
  assert.equal(history[0]?.status, 'settled');
  assert.equal(history[0]?.feeMsat, fee);

  // 2. One msat short of B's fee: fee_insufficient from B, decoded by A.
  const midA = capacities(a);
  const midAB = channelOf(b, a);
  const midBC = channelOf(b, c);
  const short = c.createInvoice(3_000_000n, 'too little fee');
  const shortHash = payThroughB(l, short, {
    shortChannelId: bcScid,
    feeBaseMsat: FEE_BASE_MSAT - 1,
    cltvExpiryDelta: CLTV_DELTA,
  });
  await a.waitFor(
    () => a.events.some((e) => e.type === 'PaymentFailed' && e.paymentHash === shortHash),
    WAIT_MS,
    'PaymentFailed at A',
  );
  assert.ok(a.events.some((e) => e.type === 'PaymentPathFailed'));
  const onionError = a.logs.find((line) => line.includes('Onion Error'));
  assert.ok(onionError, 'LDK A logged the failure it decoded');
  assert.match(onionError, new RegExp(`from ${b.nodeId}: fee_insufficient\\(0x100c\\)`));
  const refused = forwards.find((e) => e.type === 'ForwardFailed');
  assert.ok(refused?.type === 'ForwardFailed');
  assert.equal(refused.failure, 'fee_insufficient');
  assert.equal(refused.local, true);
  assert.ok(!c.events.some((e) => e.type === 'PaymentClaimable' && e.paymentHash === shortHash));
  // Nothing moved: the failed HTLC left A–B, none was offered on B–C.
  await a.waitFor(() => ldkSettled(a), WAIT_MS, 'A settled after the failure');
  assert.deepEqual(capacities(a), midA);
  await waitFor(() => channelOf(b, a).localBalanceMsat === midAB.localBalanceMsat, {
    what: 'lnkit settled after the failure',
    timeoutMs: WAIT_MS,
  });
  assert.equal(channelOf(b, a).remoteBalanceMsat, midAB.remoteBalanceMsat);
  assert.equal(channelOf(b, c).localBalanceMsat, midBC.localBalanceMsat);

  // 3. C refuses (a payment secret it never gave): its failure comes back through B, wrapped
  // with B's shared secret, and A decodes it as C's.
  const wrongSecret = c.createInvoice(2_000_000n, 'wrong secret');
  const wrongHash = payThroughB(
    l,
    wrongSecret,
    { shortChannelId: bcScid, feeBaseMsat: FEE_BASE_MSAT, cltvExpiryDelta: CLTV_DELTA },
    new Uint8Array(32).fill(7),
  );
  await a.waitFor(
    () => a.events.some((e) => e.type === 'PaymentFailed' && e.paymentHash === wrongHash),
    WAIT_MS,
    'PaymentFailed at A (from C)',
  );
  const fromC = a.logs.find((line) => line.includes(`Onion Error[from ${c.nodeId}`));
  assert.ok(
    fromC,
    `A attributed a failure to C: ${a.logs.filter((x) => x.includes('Onion Error')).join('\n')}`,
  );
  assert.match(fromC, /incorrect_or_unknown_payment_details\(0x400f\)/);
  const failedDown = a.events.find((e) => e.type === 'PaymentFailed' && e.paymentHash === wrongHash);
  assert.equal(failedDown?.reason, 'LDKPaymentFailureReason_RecipientRejected');
  await waitFor(() => forwards.some((e) => e.type === 'ForwardFailed' && !e.local), {
    what: 'B failed the forward back',
    timeoutMs: WAIT_MS,
  });
  await a.waitFor(() => ldkSettled(a), WAIT_MS, 'A settled after C refused');
  await c.waitFor(() => ldkSettled(c), WAIT_MS, 'C settled after refusing');
  await waitFor(() => channelOf(b, c).localBalanceMsat === midBC.localBalanceMsat, {
    what: 'B–C settled after C refused',
    timeoutMs: WAIT_MS,
  });
  assert.deepEqual(capacities(a), midA);
  assert.equal(channelOf(b, a).localBalanceMsat, midAB.localBalanceMsat);
  assert.deepEqual(
    b.manager.forwards.listForwards().map((f) => [f.status, f.failure, f.feeMsat]),
    [
      ['settled', null, fee],
      ['failed', 'fee_insufficient', 0n],
      ['failed', 'downstream', 0n],
    ],
  );
  if (process.env.LNKIT_SHOW_LDK_LOGS) console.log([onionError, fromC].join('\n'));

  const loud = [...a.logs, ...c.logs].filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
  assert.deepEqual(loud, []);
});
