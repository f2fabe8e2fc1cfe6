/**
 * Payments with LDK 0.1.0 (WASM) over a direct channel, TCP loopback, bcoin regtest: lnkit pays
 * LDK's invoice (LDK's PaymentClaimable and PaymentClaimed, lnkit's PaymentSent with the
 * preimage whose hash the invoice names), LDK pays lnkit's invoice (lnkit's PaymentClaimable
 * and PaymentClaimed, LDK's PaymentSent), an unknown payment hash is failed back with
 * incorrect_or_unknown_payment_details both ways; keysend both ways; a payment id paid once; a
 * dropped connection reestablished after payments, and payments after it; a force close after
 * payments broadcasting the latest commitment; both sides' balances
 * exact to the msat after each; then a cooperative close of the settled channel is mined with
 * our output what the payments left us.
 * Run: node scripts/test.mjs test/interop/ldk-payment.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes, sha256 } from '@lnkit/crypto';
import { compactSigner, createInvoice } from '@lnkit/invoice';
import type { PaymentEvent } from '@lnkit/manager';
import { waitFor } from '@lnkit/test-support';
import { connectedPair, interopChain, mine, openedChannel, WAIT_MS } from '../support/ldk/interop.ts';
import type { LdkNode } from '../support/ldk/ldk-node.ts';
import type { LnkitNode } from '../support/ldk/lnkit-node.ts';

const env = interopChain();
const CAPACITY_SAT = 1_000_000n;
const PUSH_MSAT = 50_000_000n;

/** A ready channel between fresh nodes, opened by `opener` with a push to the other side. */
async function readyChannel(anchors: boolean, opener: 'ldk' | 'lnkit', pushMsat = PUSH_MSAT) {
  const pair = await connectedPair(env, { ldk: { anchors, minimumDepth: 3 } });
  const payments: PaymentEvent[] = [];
  pair.lnkit.manager.payments.events$.subscribe((e) => payments.push(e));
  const channelId = await openedChannel(env, pair, { opener, capacitySat: CAPACITY_SAT, pushMsat });
  return { ...pair, channelId, payments };
}

function lnkitBalances(lnkit: LnkitNode) {
  const c = lnkit.manager.listChannels()[0];
  assert.ok(c);
  return { localMsat: c.localBalanceMsat, remoteMsat: c.remoteBalanceMsat };
}

/** LDK logged no error or warning, and no error message came from lnkit. */
function assertLdkQuiet(ldk: LdkNode): void {
  const loud = ldk.logs.filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
  if (process.env.LNKIT_SHOW_LDK_LOGS) console.log(ldk.logs.join('\n'));
  assert.deepEqual(loud, []);
}

for (const anchors of [false, true]) {
  const typeName = anchors ? 'anchors' : 'static-remotekey';
  for (const opener of ['lnkit', 'ldk'] as const) {
    test(`${typeName}, opened by ${opener}: lnkit pays LDK's invoice, LDK pays lnkit's, balances exact; then a cooperative close`, async () => {
      const { ldk, lnkit, channelId, payments } = await readyChannel(anchors, opener);
      const start = lnkitBalances(lnkit);
      const funderMsat = CAPACITY_SAT * 1000n - PUSH_MSAT;
      assert.deepEqual(
        start,
        opener === 'lnkit'
          ? { localMsat: funderMsat, remoteMsat: PUSH_MSAT }
          : { localMsat: PUSH_MSAT, remoteMsat: funderMsat },
      );
      const startLdk = ldkCapacities(ldk);

      // 1. lnkit pays LDK's invoice: 12,345,678 msat (not a whole sat; within LDK's 10% in flight).
      const amount1 = 12_345_678n;
      const invoice1 = ldk.createInvoice(amount1, 'lnkit pays LDK');
      const outcome = await lnkit.manager.payments.sendPayment(invoice1);
      assert.equal(outcome.status, 'succeeded', `payment failed: ${outcome.reason}`);
      assert.ok(outcome.preimage);
      assert.equal(
        Buffer.from(sha256(Buffer.from(outcome.preimage, 'hex'))).toString('hex'),
        outcome.paymentHash,
      );
      assert.equal(outcome.feeMsat, 0n);
      await ldk.waitFor(
        () => ldk.events.some((e) => e.type === 'PaymentClaimed' && e.paymentHash === outcome.paymentHash),
        WAIT_MS,
        'PaymentClaimed at LDK',
      );
      const claimable = ldk.events.find((e) => e.type === 'PaymentClaimable');
      assert.equal(claimable?.paymentHash, outcome.paymentHash);
      assert.equal(claimable?.amountMsat, amount1);
      assert.equal(claimable?.preimage, outcome.preimage);
      const sent = payments.find((e) => e.type === 'PaymentSent');
      assert.ok(sent?.type === 'PaymentSent');
      assert.equal(sent.preimage, outcome.preimage);
      assert.equal(sent.amountMsat, amount1);
      // Settled on both sides: the HTLC left both commitments.
      await waitFor(() => lnkitBalances(lnkit).remoteMsat === start.remoteMsat + amount1, {
        what: 'lnkit settled after paying',
        timeoutMs: WAIT_MS,
      });
      await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled after being paid');
      assert.deepEqual(ldkCapacities(ldk), {
        outboundMsat: startLdk.outboundMsat + amount1,
        inboundMsat: startLdk.inboundMsat - amount1,
      });
      const mid = lnkitBalances(lnkit);
      assert.equal(mid.localMsat, start.localMsat - amount1);
      assert.equal(mid.remoteMsat, start.remoteMsat + amount1);

      // 2. LDK pays lnkit's invoice: 7,654,321 msat.
      const amount2 = 7_654_321n;
      const invoice2 = await lnkit.manager.payments.createInvoice(amount2, { description: 'LDK pays lnkit' });
      ldk.payInvoice(invoice2.bolt11);
      await ldk.waitFor(
        () => ldk.events.some((e) => e.type === 'PaymentSent' && e.paymentHash === invoice2.paymentHash),
        WAIT_MS,
        'PaymentSent at LDK',
      );
      await waitFor(() => payments.some((e) => e.type === 'PaymentClaimed'), {
        what: 'PaymentClaimed at lnkit',
        timeoutMs: WAIT_MS,
      });
      const claimed = payments.find((e) => e.type === 'PaymentClaimed');
      assert.ok(claimed?.type === 'PaymentClaimed');
      assert.equal(claimed.paymentHash, invoice2.paymentHash);
      assert.equal(claimed.amountMsat, amount2);
      assert.ok(
        payments.some((e) => e.type === 'PaymentClaimable' && e.paymentHash === invoice2.paymentHash),
      );
      const ldkSent = ldk.events.find(
        (e) => e.type === 'PaymentSent' && e.paymentHash === invoice2.paymentHash,
      );
      assert.equal(
        Buffer.from(sha256(Buffer.from(ldkSent?.preimage ?? '', 'hex'))).toString('hex'),
        invoice2.paymentHash,
      );
      await waitFor(() => lnkitBalances(lnkit).localMsat === mid.localMsat + amount2, {
        what: 'lnkit settled after being paid',
        timeoutMs: WAIT_MS,
      });
      await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled after paying');
      assert.deepEqual(ldkCapacities(ldk), {
        outboundMsat: startLdk.outboundMsat + amount1 - amount2,
        inboundMsat: startLdk.inboundMsat - amount1 + amount2,
      });
      const end = lnkitBalances(lnkit);
      assert.equal(end.localMsat, start.localMsat - amount1 + amount2);
      assert.equal(end.remoteMsat, start.remoteMsat + amount1 - amount2);
      assert.equal(lnkit.manager.payments.listInvoices()[0]?.status, 'paid');
      assertLdkQuiet(ldk);

      // 3. The settled channel closes cooperatively: our output is what the payments left us.
      await lnkit.manager.closeChannel(channelId);
      await waitFor(() => lnkit.manager.listChannels()[0]?.closingTxid ?? undefined, {
        what: 'a closing transaction agreed',
        timeoutMs: WAIT_MS,
      });
      const closingTxid = lnkit.manager.listChannels()[0]?.closingTxid as string;
      await ldk.waitFor(() => ldk.events.some((e) => e.type === 'ChannelClosed'), WAIT_MS, 'closed at LDK');
      await ldk.settled();
      await mine(env, ldk, lnkit, 1);
      const tx = (await env.chain.rpc('getrawtransaction', [closingTxid, true])) as {
        confirmations?: number;
        vout: { value: number; scriptPubKey: { hex: string } }[];
      };
      assert.ok((tx.confirmations ?? 0) >= 1, 'the closing transaction is mined');
      const ours = tx.vout.find(
        (o) => o.scriptPubKey.hex === Buffer.from(lnkit.funding.script).toString('hex'),
      );
      assert.ok(ours, 'the closing transaction pays lnkit');
      const oursSat = BigInt(Math.round(ours.value * 1e8));
      const endSat = end.localMsat / 1000n;
      // The funder pays the closing fee from its side (a few hundred sat at 253 sat/kW).
      if (opener === 'lnkit')
        assert.ok(oursSat < endSat && endSat - oursSat < 2_000n, `${oursSat} of ${endSat}`);
      else assert.equal(oursSat, endSat);
      await waitFor(() => lnkit.events.some((e) => e.type === 'ChannelClosed'), {
        what: 'ChannelClosed at lnkit',
        timeoutMs: WAIT_MS,
      });
      assertLdkQuiet(ldk);
    });
  }
}

test('an HTLC for a payment hash lnkit never invoiced is failed back: LDK hears the payee rejected it', async () => {
  const { ldk, lnkit } = await readyChannel(false, 'lnkit');
  const start = lnkitBalances(lnkit);
  const startLdk = ldkCapacities(ldk);
  // Signed with lnkit's node key, but not one of its invoices: no preimage, no secret it knows.
  const { invoice } = await createInvoice(
    {
      network: 'regtest',
      amountMsat: 1_000_000n,
      paymentHash: randomBytes(32),
      paymentSecret: randomBytes(32),
      description: 'never issued',
    },
    compactSigner((d) => lnkit.keys.signWithNodeKey(d), lnkit.keys.nodeId),
  );
  const hash = ldk.payInvoice(invoice);
  await ldk.waitFor(
    () => ldk.events.some((e) => e.type === 'PaymentFailed'),
    WAIT_MS,
    'PaymentFailed at LDK',
  );
  const failed = ldk.events.find((e) => e.type === 'PaymentFailed');
  assert.equal(failed?.paymentHash, hash);
  // incorrect_or_unknown_payment_details from the final node is LDK's RecipientRejected.
  assert.match(failed?.reason ?? '', /RecipientRejected/);
  await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  assert.deepEqual(ldkCapacities(ldk), startLdk);
  assert.deepEqual(lnkitBalances(lnkit), start);
});

test('keysend both ways, an idempotent payment id, an HTLC LDK cannot claim failed back, and payments after a reconnection', async () => {
  const { ldk, lnkit, payments } = await readyChannel(false, 'lnkit');
  const start = lnkitBalances(lnkit);
  const startLdk = ldkCapacities(ldk);
  // lnkit keysends to LDK: its preimage in TLV 5482373484, LDK claims it.
  const k1 = 3_000_001n;
  const out = await lnkit.manager.payments.keysend(ldk.nodeId, k1);
  assert.equal(out.status, 'succeeded', `keysend failed: ${out.reason}`);
  await ldk.waitFor(
    () => ldk.events.some((e) => e.type === 'PaymentClaimed' && e.paymentHash === out.paymentHash),
    WAIT_MS,
    'keysend claimed at LDK',
  );
  // LDK keysends to lnkit.
  const k2 = 1_000_003n;
  const hash = ldk.keysend(lnkit.nodeId, k2);
  await waitFor(() => payments.some((e) => e.type === 'PaymentClaimed' && e.paymentHash === hash), {
    what: 'keysend claimed at lnkit',
    timeoutMs: WAIT_MS,
  });
  const claimed = payments.find((e) => e.type === 'PaymentClaimed' && e.paymentHash === hash);
  assert.ok(claimed?.type === 'PaymentClaimed' && claimed.keysend && claimed.amountMsat === k2);
  await ldk.waitFor(
    () => ldk.events.some((e) => e.type === 'PaymentSent' && e.paymentHash === hash),
    WAIT_MS,
    'sent',
  );
  await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  await waitFor(() => lnkitBalances(lnkit).localMsat === start.localMsat - k1 + k2, {
    what: 'lnkit settled',
  });
  assert.deepEqual(lnkitBalances(lnkit), {
    localMsat: start.localMsat - k1 + k2,
    remoteMsat: start.remoteMsat + k1 - k2,
  });
  assert.deepEqual(ldkCapacities(ldk), {
    outboundMsat: startLdk.outboundMsat + k1 - k2,
    inboundMsat: startLdk.inboundMsat - k1 + k2,
  });

  // Idempotent: the same payment id answers the first outcome, paying nothing again.
  const invoice = ldk.createInvoice(2_000_000n, 'once');
  const first = await lnkit.manager.payments.sendPayment(invoice);
  assert.equal(first.status, 'succeeded');
  assert.deepEqual(await lnkit.manager.payments.sendPayment(invoice), first);
  await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  // An invoice for a hash whose preimage LDK does not know: LDK fails it back, lnkit says PaymentFailed.
  const unknown = ldk.createInvoice(1_500_000n, 'no preimage', randomBytes(32));
  const failed = await lnkit.manager.payments.sendPayment(unknown, { paymentId: 'refused' });
  assert.equal(failed.status, 'failed');
  assert.equal(failed.reason, 'incorrect_or_unknown_payment_details');
  assert.equal(failed.preimage, null);
  assert.ok(payments.some((e) => e.type === 'PaymentFailed' && e.paymentId === 'refused'));
  await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  const before = lnkitBalances(lnkit);
  assert.equal(before.localMsat, start.localMsat - k1 + k2 - 2_000_000n);

  // The connection drops; reestablished from the ledger's commitment numbers, payments go on.
  ldk.disconnect(lnkit.nodeId);
  await waitFor(() => lnkit.pm.listPeers().length === 0, { what: 'lnkit sees the disconnect' });
  await ldk.connect(lnkit.nodeId, '127.0.0.1', lnkit.port);
  await ldk.waitFor(() => ldk.channels()[0]?.isUsable === true, WAIT_MS, 'usable after reestablish');
  await waitFor(() => lnkit.pm.listPeers().length === 1, { what: 'lnkit sees LDK again' });
  await waitFor(() => lnkit.manager.listChannels()[0]?.state === 'ready', { what: 'ready at lnkit' });
  // LDK may call the channel usable before lnkit has read its channel_reestablish: until then
  // the payment is refused with nothing sent, and tried again.
  const invoiceAfter = ldk.createInvoice(1_111_111n, 'after');
  const afterReconnect = await waitFor(
    () =>
      lnkit.manager.payments.sendPayment(invoiceAfter).catch((err: Error) => {
        if (/not connected/.test(err.message)) return undefined;
        throw err;
      }),
    { what: 'a payment once reestablished', timeoutMs: WAIT_MS },
  );
  assert.equal(afterReconnect.status, 'succeeded', `after reconnecting: ${afterReconnect.reason}`);
  const back = await lnkit.manager.payments.createInvoice(2_222_222n, { description: 'back' });
  await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  ldk.payInvoice(back.bolt11);
  await waitFor(
    () => payments.some((e) => e.type === 'PaymentClaimed' && e.paymentHash === back.paymentHash),
    {
      what: 'claimed after reconnecting',
      timeoutMs: WAIT_MS,
    },
  );
  await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  await waitFor(() => lnkitBalances(lnkit).localMsat === before.localMsat - 1_111_111n + 2_222_222n, {
    what: 'lnkit balance after reconnecting',
  });
  assert.ok(
    ldk.logs.some((l) => /Received message ChannelReestablish/.test(l)),
    'reestablished',
  );
  assertLdkQuiet(ldk);
});

test('after payments both ways, lnkit force-closes with its latest commitment: LDK paid its balance, the ChainMonitor recognises it', async () => {
  const { ldk, lnkit, channelId, payments } = await readyChannel(false, 'lnkit');
  const out = await lnkit.manager.payments.sendPayment(ldk.createInvoice(12_345_678n, 'before the close'));
  assert.equal(out.status, 'succeeded');
  await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  const back = await lnkit.manager.payments.createInvoice(7_654_321n, { description: 'back' });
  ldk.payInvoice(back.bolt11);
  await waitFor(() => payments.some((e) => e.type === 'PaymentClaimed'), {
    what: 'claimed',
    timeoutMs: WAIT_MS,
  });
  await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  const ldkMsat = PUSH_MSAT + 12_345_678n - 7_654_321n;
  await waitFor(() => lnkitBalances(lnkit).remoteMsat === ldkMsat, { what: 'lnkit settled' });

  const r = await lnkit.manager.closeChannel(channelId, { force: true });
  const broadcast = await waitFor(() => lnkit.broadcasts.find((b) => b.txid === r.closingTxid), {
    what: 'our commitment broadcast',
  });
  assert.ok(broadcast.accepted, JSON.stringify(lnkit.broadcasts));
  await ldk.waitFor(() => ldk.events.some((e) => e.type === 'ChannelClosed'), WAIT_MS, 'closed at LDK');
  assert.match(
    ldk.events.find((e) => e.type === 'ChannelClosed')?.reason ?? '',
    /CounterpartyForceClosed|force-closed/i,
  );
  await ldk.settled();
  await mine(env, ldk, lnkit, 1);
  const tx = (await env.chain.rpc('getrawtransaction', [r.closingTxid, true])) as {
    confirmations?: number;
    vout: { value: number }[];
  };
  assert.ok((tx.confirmations ?? 0) >= 1, 'mined');
  // static_remotekey: LDK's output is its balance after the payments, in whole sat (not the
  // opening's 50,000 sat a stale commitment would pay).
  const values = tx.vout.map((o) => BigInt(Math.round(o.value * 1e8)));
  assert.ok(values.includes(ldkMsat / 1000n), `${values} holds ${ldkMsat / 1000n}`);
  const spend = lnkit.chainMonitor.monitor(channelId)?.fundingSpend;
  assert.equal(spend?.kind, 'holder-commitment');
  assert.equal(spend?.txidHex, r.closingTxid);
});

test('both sides paying at once: ten payments each way in flight together, every one settled, balances exact', async () => {
  const push = 400_000_000n;
  const { ldk, lnkit, payments } = await readyChannel(false, 'lnkit', push);
  const startLdk = ldkCapacities(ldk);

  const N = 10;
  // Above LDK's dust exposure bound for HTLCs it offers at 253 sat/kW (5,000 sat each, as the benchmark's).
  const toLdk = Array.from({ length: N }, (_, i) => 5_000_000n + BigInt(i));
  const toLnkit = Array.from({ length: N }, (_, i) => 5_100_000n + BigInt(i));
  const ldkInvoices = toLdk.map((a, i) => ldk.createInvoice(a, `to LDK ${i}`));
  const ours = await Promise.all(
    toLnkit.map((a, i) => lnkit.manager.payments.createInvoice(a, { description: `to lnkit ${i}` })),
  );
  const sending = Promise.all(ldkInvoices.map((inv) => lnkit.manager.payments.sendPayment(inv)));
  for (const inv of ours) ldk.payInvoice(inv.bolt11);
  const outcomes = await sending;
  assert.deepEqual(
    outcomes.map((o) => o.status),
    toLdk.map(() => 'succeeded'),
    JSON.stringify(outcomes.filter((o) => o.status !== 'succeeded')),
  );
  await waitFor(() => payments.filter((e) => e.type === 'PaymentClaimed').length === N, {
    what: 'all claimed at lnkit',
    timeoutMs: WAIT_MS,
  });
  await ldk.waitFor(
    () => ldk.events.filter((e) => e.type === 'PaymentSent').length === N && ldkSettled(ldk),
    WAIT_MS,
    'LDK sent all and settled',
  );
  const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
  const net = sum(toLdk) - sum(toLnkit);
  await waitFor(() => lnkitBalances(lnkit).remoteMsat === push + net, {
    what: 'lnkit settled',
    timeoutMs: WAIT_MS,
  });
  assert.deepEqual(lnkitBalances(lnkit), {
    localMsat: CAPACITY_SAT * 1000n - push - net,
    remoteMsat: push + net,
  });
  assert.deepEqual(ldkCapacities(ldk), {
    outboundMsat: startLdk.outboundMsat + net,
    inboundMsat: startLdk.inboundMsat - net,
  });
  assertLdkQuiet(ldk);
});

test("LDK's update_fee as funder: taken within lnkit's bounds, the channel signs for it, and payments go on at the new feerate", async () => {
  const { ldk, lnkit, payments } = await readyChannel(false, 'ldk');
  assert.equal(ldk.channels()[0]?.isOutbound, true);
  // 253 → 2,000 sat/kW: LDK (the funder) sends update_fee at its next timer tick.
  ldk.feeratePerKw = 2_000;
  ldk.timerTick();
  await ldk.waitFor(
    () => ldk.channels()[0]?.feeratePerKw === 2_000 && ldkSettled(ldk),
    WAIT_MS,
    'LDK at the new feerate',
  );
  assert.ok(
    ldk.logs.some((l) => /UpdateFee|update_fee/i.test(l)),
    'an update_fee went',
  );
  const start = lnkitBalances(lnkit);
  const out = await lnkit.manager.payments.sendPayment(ldk.createInvoice(3_333_333n, 'after the fee'));
  assert.equal(out.status, 'succeeded', out.reason);
  const back = await lnkit.manager.payments.createInvoice(1_111_111n, { description: 'back' });
  await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  ldk.payInvoice(back.bolt11);
  await waitFor(() => payments.some((e) => e.type === 'PaymentClaimed'), {
    what: 'claimed',
    timeoutMs: WAIT_MS,
  });
  await waitFor(() => lnkitBalances(lnkit).localMsat === start.localMsat - 3_333_333n + 1_111_111n, {
    what: 'lnkit settled',
    timeoutMs: WAIT_MS,
  });
  assert.equal(lnkitBalances(lnkit).remoteMsat, start.remoteMsat + 3_333_333n - 1_111_111n);
  assertLdkQuiet(ldk);
});

/** LDK's capacities (exact: its balance less the reserve the peer set, with no HTLC pending). */
function ldkCapacities(ldk: LdkNode) {
  const c = ldk.channels()[0];
  assert.ok(c);
  return { outboundMsat: c.outboundCapacityMsat, inboundMsat: c.inboundCapacityMsat };
}

/** No HTLC pending in LDK's channel, either way. */
function ldkSettled(ldk: LdkNode): boolean {
  const d = ldk.chanMan.list_channels()[0];
  return (
    d !== undefined &&
    d.get_pending_inbound_htlcs().length === 0 &&
    d.get_pending_outbound_htlcs().length === 0
  );
}
