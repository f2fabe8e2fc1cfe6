/**
 * Payments at volume with LDK 0.1.0 (WASM) over TCP loopback on bcoin regtest, for each channel
 * type (static_remote_key and anchors): 100 payments each way with both sides sending at once
 * (waves of ten each way in flight together, half to invoices and half keysend), the connection
 * dropped half-way and reestablished, then lnkit restarted from its data dir at a point where no
 * HTLC is in flight, reestablished, and 20 more each way. After each part both sides' balances
 * are exact to the msat: what lnkit's listChannels says is what LDK's list_channels says
 * (outbound and inbound capacity, each plus the reserve it leaves out), and what the payments
 * moved; every payment ends once, succeeded, on both sides.
 * Run: node scripts/test.mjs test/interop/ldk-payment-stream.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PaymentEvent } from '@lnkit/manager';
import { waitFor } from '@lnkit/test-support';
import * as ldk from 'lightningdevkit';
import { connectedPair, interopChain, openedChannel, WAIT_MS } from '../support/ldk/interop.ts';
import type { LdkNode } from '../support/ldk/ldk-node.ts';
import type { LnkitNode } from '../support/ldk/lnkit-node.ts';

const env = interopChain();
const CAPACITY_SAT = 1_000_000n;
const PUSH_MSAT = 400_000_000n;
/** Payments each way in flight at once: 10 × 5,000 sat stays within LDK's 10% of the channel in flight. */
const WAVE = 10;

interface Side {
  lnkit: LnkitNode;
  events: PaymentEvent[];
}

/** lnkit's balances as its listChannels says. */
function lnkitBalances(lnkit: LnkitNode) {
  const c = lnkit.manager.listChannels()[0];
  assert.ok(c);
  return { localMsat: c.localBalanceMsat, remoteMsat: c.remoteBalanceMsat };
}

/**
 * LDK's balances from list_channels: its outbound capacity plus the reserve its peer set for it
 * (unspendable_punishment_reserve, left out of the capacity), and its inbound capacity plus the
 * reserve it set for its peer. Exact with no HTLC pending.
 */
function ldkBalances(node: LdkNode) {
  const d = node.chanMan.list_channels()[0];
  assert.ok(d);
  const own = d.get_unspendable_punishment_reserve();
  assert.ok(own instanceof ldk.Option_u64Z_Some, 'LDK knows its reserve');
  return {
    localMsat: d.get_outbound_capacity_msat() + own.some * 1000n,
    remoteMsat:
      d.get_inbound_capacity_msat() + d.get_counterparty().get_unspendable_punishment_reserve() * 1000n,
  };
}

function ldkSettled(node: LdkNode): boolean {
  const d = node.chanMan.list_channels()[0];
  return (
    d !== undefined &&
    d.get_pending_inbound_htlcs().length === 0 &&
    d.get_pending_outbound_htlcs().length === 0
  );
}

/** lnkit and LDK agree, to the msat, on what each holds; and it is what the payments left. */
async function balancesAgree(node: LdkNode, side: Side, lnkitMsat: bigint, what: string): Promise<void> {
  const ldkMsat = CAPACITY_SAT * 1000n - lnkitMsat;
  await node.waitFor(() => ldkSettled(node), WAIT_MS, `LDK settled ${what}`);
  await waitFor(
    () => {
      const b = lnkitBalances(side.lnkit);
      return (b.localMsat === lnkitMsat && b.remoteMsat === ldkMsat) || undefined;
    },
    { what: `lnkit's balances ${what}`, timeoutMs: WAIT_MS },
  ).catch((e: Error) => {
    throw new Error(
      `${e.message}: ${JSON.stringify(lnkitBalances(side.lnkit), (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
  });
  assert.deepEqual(ldkBalances(node), { localMsat: ldkMsat, remoteMsat: lnkitMsat }, `LDK's ${what}`);
  assert.deepEqual(
    lnkitBalances(side.lnkit),
    { localMsat: lnkitMsat, remoteMsat: ldkMsat },
    `lnkit's ${what}`,
  );
}

/**
 * One wave: WAVE payments each way sent at once (even ones to an invoice, odd ones keysend),
 * each succeeded once on both sides. Returns what moved to LDK, net.
 */
async function wave(node: LdkNode, side: Side, n: number): Promise<bigint> {
  const { lnkit, events } = side;
  const toLdk = Array.from({ length: WAVE }, (_, i) => 5_000_000n + BigInt(n * WAVE + i) * 7n);
  const toLnkit = Array.from({ length: WAVE }, (_, i) => 5_100_000n + BigInt(n * WAVE + i) * 11n);
  const ldkInvoices = toLdk.map((a, i) =>
    i % 2 === 0 ? node.createInvoice(a, `to LDK ${n}.${i}`) : undefined,
  );
  const ours = await Promise.all(
    toLnkit.map((a, i) =>
      i % 2 === 0
        ? lnkit.manager.payments.createInvoice(a, { description: `to lnkit ${n}.${i}` })
        : undefined,
    ),
  );
  const sending = Promise.all(
    toLdk.map((a, i) => {
      const inv = ldkInvoices[i];
      return inv ? lnkit.manager.payments.sendPayment(inv) : lnkit.manager.payments.keysend(node.nodeId, a);
    }),
  );
  const ldkHashes = toLnkit.map((a, i) => {
    const inv = ours[i];
    return inv ? node.payInvoice(inv.bolt11) : node.keysend(lnkit.nodeId, a);
  });
  const outcomes = await sending;
  outcomes.forEach((o, i) => {
    assert.equal(o.status, 'succeeded', `wave ${n}, lnkit → LDK ${i}: ${o.reason}`);
    assert.equal(o.amountMsat, toLdk[i]);
  });
  const count = (type: string, hash: string) =>
    node.events.filter((e) => e.type === type && e.paymentHash === hash).length;
  await node.waitFor(
    () => ldkHashes.every((h) => count('PaymentSent', h) + count('PaymentFailed', h) > 0),
    WAIT_MS,
    `wave ${n}: LDK's payments ended`,
  );
  for (const h of ldkHashes) {
    assert.equal(count('PaymentFailed', h), 0, `wave ${n}: LDK's payment ${h} failed`);
    assert.equal(count('PaymentSent', h), 1);
  }
  await node.waitFor(
    () => outcomes.every((o) => count('PaymentClaimed', o.paymentHash) === 1),
    WAIT_MS,
    `wave ${n}: LDK claimed lnkit's payments`,
  );
  const claimedAtLnkit = (h: string) =>
    events.filter((e) => e.type === 'PaymentClaimed' && e.paymentHash === h).length;
  await waitFor(() => ldkHashes.every((h) => claimedAtLnkit(h) === 1) || undefined, {
    what: `wave ${n}: lnkit claimed LDK's payments`,
    timeoutMs: WAIT_MS,
  });
  const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
  return sum(toLdk) - sum(toLnkit);
}

for (const anchors of [false, true]) {
  const typeName = anchors ? 'anchors' : 'static-remotekey';
  test(`${typeName}: 100 payments each way with both sides sending, a reconnection half-way, a restart of lnkit, 20 more each way; balances agree with LDK's to the msat`, {
    timeout: 900_000,
  }, async () => {
    const pair = await connectedPair(env, { ldk: { anchors, minimumDepth: 3 } });
    const node = pair.ldk;
    const side: Side = { lnkit: pair.lnkit, events: [] };
    side.lnkit.manager.payments.events$.subscribe((e) => side.events.push(e));
    await openedChannel(env, pair, { opener: 'lnkit', capacitySat: CAPACITY_SAT, pushMsat: PUSH_MSAT });
    let lnkitMsat = CAPACITY_SAT * 1000n - PUSH_MSAT;
    await balancesAgree(node, side, lnkitMsat, 'at the start');
    const started = Date.now();

    // 1. 50 each way.
    for (let n = 0; n < 5; n++) lnkitMsat -= await wave(node, side, n);
    await balancesAgree(node, side, lnkitMsat, 'after 50 each way');

    // 2. The connection drops and is reestablished; 50 more each way.
    node.disconnect(side.lnkit.nodeId);
    await waitFor(() => side.lnkit.pm.listPeers().length === 0, { what: 'lnkit sees the disconnect' });
    await node.connect(side.lnkit.nodeId, '127.0.0.1', side.lnkit.port);
    await usableOnBothSides(node, side.lnkit, 'after the reconnection');
    for (let n = 5; n < 10; n++) lnkitMsat -= await wave(node, side, n);
    await balancesAgree(node, side, lnkitMsat, 'after 100 each way, reconnected half-way');
    assert.equal(side.events.filter((e) => e.type === 'PaymentSent').length, 100);
    assert.equal(side.events.filter((e) => e.type === 'PaymentClaimed').length, 100);

    // 3. No HTLC in flight (the last wave's closing commitment dance may still be under way):
    //    the peer gone, lnkit stops at once and restarts from its data dir, and LDK reconnects.
    node.disconnect(side.lnkit.nodeId);
    await waitFor(() => side.lnkit.pm.listPeers().length === 0, { what: 'lnkit sees LDK gone' });
    const broadcastBefore = side.lnkit.broadcasts.length;
    const lnkit2 = await side.lnkit.restart();
    assert.deepEqual(
      side.lnkit.broadcasts.slice(broadcastBefore),
      [],
      'nothing broadcast by the stopping node',
    );
    env.defer(() => lnkit2.stop());
    const restored = lnkitBalances(lnkit2);
    assert.deepEqual(restored, { localMsat: lnkitMsat, remoteMsat: CAPACITY_SAT * 1000n - lnkitMsat });
    const after: Side = { lnkit: lnkit2, events: [] };
    lnkit2.manager.payments.events$.subscribe((e) => after.events.push(e));
    await node.connect(lnkit2.nodeId, '127.0.0.1', lnkit2.port);
    await usableOnBothSides(node, lnkit2, 'after the restart');
    await balancesAgree(node, after, lnkitMsat, 'after the restart');

    // 4. 20 more each way.
    for (let n = 10; n < 12; n++) lnkitMsat -= await wave(node, after, n);
    await balancesAgree(node, after, lnkitMsat, 'after 20 more each way');
    console.log(
      `# ${typeName}: 240 payments with LDK in ${((Date.now() - started) / 1000).toFixed(1)} s, a reconnection and a restart included`,
    );
    const loud = node.logs.filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
    assert.deepEqual(loud, []);
  });
}

/** LDK calls the channel usable and lnkit has taken LDK's channel_reestablish (it can send). */
async function usableOnBothSides(node: LdkNode, lnkit: LnkitNode, when: string): Promise<void> {
  await node.waitFor(() => node.channels()[0]?.isUsable === true, WAIT_MS, `usable at LDK ${when}`);
  await waitFor(() => lnkit.manager.listChannels()[0]?.usable === true || undefined, {
    what: `usable at lnkit ${when}`,
    timeoutMs: WAIT_MS,
  });
}
