/**
 * A restart with LDK 0.1.0 (WASM) as the peer, over TCP on the bcoin regtest chain: a channel
 * ready on both sides; the lnkit node stops (LDK sees the connection drop), a block is mined
 * while it is down, and a new node is built from the same data dir and seed — the channel comes
 * back from its snapshot checked against its monitor, the manager catches up from its
 * snapshot's best block, and when LDK reconnects both send channel_reestablish and the channel
 * is usable at LDK again and `ready` at lnkit; a cooperative close then ends in a closing
 * transaction bcoin mines.
 * Run: node scripts/test.mjs test/interop/ldk-channel-restart.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { connectedPair, interopChain, mine, openedChannel, WAIT_MS } from '../support/ldk/interop.ts';
import type { LdkNode } from '../support/ldk/ldk-node.ts';
import type { LnkitNode } from '../support/ldk/lnkit-node.ts';

const env = interopChain();

for (const { anchors, opener } of [
  { anchors: false, opener: 'lnkit' },
  { anchors: true, opener: 'ldk' },
] as const) {
  const typeName = anchors ? 'anchors' : 'static-remotekey';
  test(`${typeName}, opened by ${opener}: lnkit restarts from its data dir, reestablishes with LDK, and closes cooperatively`, async () => {
    const pair = await connectedPair(env, { ldk: { anchors, minimumDepth: 3 } });
    const { ldk, lnkit } = pair;
    await openedChannel(env, pair, { opener, capacitySat: 1_000_000n, pushMsat: 50_000_000n });
    const before = lnkit.manager.listChannels()[0];
    assert.ok(before);
    const heightBefore = lnkit.height;

    // Stop lnkit; a block comes while it is down.
    const restarting = lnkit.restart();
    await ldk.waitFor(
      () => ldk.channels()[0]?.isUsable === false,
      WAIT_MS,
      'not usable at LDK while lnkit is down',
    );
    const lnkit2 = await restarting;
    env.defer(() => lnkit2.stop());
    await mine(env, ldk, undefined, 1);
    assert.equal(lnkit2.nodeId, lnkit.nodeId, 'the same node');
    assert.equal(
      lnkit2.chainMonitor.monitors().length,
      1,
      'its monitor read from the MonitorStore and watched',
    );
    const restored = lnkit2.manager.listChannels()[0];
    assert.equal(restored?.channelId, before.channelId);
    assert.equal(restored?.state, 'ready', 'ready from its snapshot, waiting for LDK');
    assert.equal(restored?.shortChannelId, before.shortChannelId);
    assert.equal(restored?.localBalanceMsat, before.localBalanceMsat);
    assert.equal(restored?.remoteBalanceMsat, before.remoteBalanceMsat);
    assert.equal(lnkit2.height, heightBefore, 'resumes from its snapshot’s best block');
    await lnkit2.syncToTip();
    assert.equal(lnkit2.manager.listChannels()[0]?.confirmations, 4, 'the block mined while down was seen');
    assert.deepEqual(lnkit2.broadcasts, [], 'nothing broadcast at start');

    await ldk.connect(lnkit2.nodeId, '127.0.0.1', lnkit2.port);
    await ldk.waitFor(() => ldk.channels()[0]?.isUsable === true, WAIT_MS, 'usable at LDK after reestablish');
    await waitFor(() => lnkit2.manager.listChannels()[0]?.state === 'ready', { what: 'ready at lnkit' });
    assert.ok(
      ldk.logs.some((l) => /Received message ChannelReestablish/.test(l)),
      'LDK got our channel_reestablish',
    );

    const closing = await lnkit2.manager.closeChannel(before.channelId);
    assert.equal(closing.channelId, before.channelId);
    const closingTxid = await waitFor(() => lnkit2.manager.listChannels()[0]?.closingTxid ?? undefined, {
      what: 'a closing transaction agreed',
      timeoutMs: WAIT_MS,
    });
    await ldk.waitFor(() => ldk.events.some((e) => e.type === 'ChannelClosed'), WAIT_MS, 'closed at LDK');
    await ldk.settled();
    await waitFor(
      () => [...lnkit2.broadcasts, ...ldk.broadcasts].some((b) => b.accepted && b.txid === closingTxid),
      { what: 'bcoin accepted the closing transaction', timeoutMs: WAIT_MS },
    );
    await mine(env, ldk, lnkit2, 1);
    const tx = (await env.chain.rpc('getrawtransaction', [closingTxid, true])) as { confirmations?: number };
    assert.ok((tx.confirmations ?? 0) >= 1, 'mined');
    await waitFor(() => lnkit2.events.find((e) => e.type === 'ChannelClosed'), {
      what: 'ChannelClosed at lnkit',
      timeoutMs: WAIT_MS,
    });
    const closed = lnkit2.events.find((e) => e.type === 'ChannelClosed');
    assert.deepEqual(closed?.type === 'ChannelClosed' && closed.reason, {
      kind: 'cooperative',
      initiator: 'local',
      closingTxid,
    });
    const loud = ldk.logs.filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
    assert.deepEqual(loud, []);
  });
}

function ldkSettled(ldk: LdkNode): boolean {
  const d = ldk.chanMan.list_channels()[0];
  return (
    d !== undefined &&
    d.get_pending_inbound_htlcs().length === 0 &&
    d.get_pending_outbound_htlcs().length === 0
  );
}

test('after payments both ways, lnkit restarts: the channel resumes at its moved commitments, pays and is paid again, closes', async () => {
  const pair = await connectedPair(env, { ldk: { minimumDepth: 3 } });
  const { ldk, lnkit } = pair;
  await openedChannel(env, pair, { opener: 'lnkit', capacitySat: 1_000_000n, pushMsat: 50_000_000n });

  const pay = async (node: LnkitNode, amountMsat: bigint) => {
    const outcome = await node.manager.payments.sendPayment(ldk.createInvoice(amountMsat, 'lnkit pays'));
    assert.equal(outcome.status, 'succeeded', `lnkit's payment: ${outcome.reason}`);
    await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  };
  const paid = async (node: LnkitNode, amountMsat: bigint) => {
    const invoice = await node.manager.payments.createInvoice(amountMsat, { description: 'LDK pays' });
    ldk.payInvoice(invoice.bolt11);
    await ldk.waitFor(
      () => ldk.events.some((e) => e.type === 'PaymentSent' && e.paymentHash === invoice.paymentHash),
      WAIT_MS,
      'PaymentSent at LDK',
    );
    await ldk.waitFor(() => ldkSettled(ldk), WAIT_MS, 'LDK settled');
  };
  await pay(lnkit, 2_000_000n);
  await paid(lnkit, 1_000_000n);
  const before = lnkit.manager.listChannels()[0];
  assert.ok(before);

  const restarting = lnkit.restart();
  await ldk.waitFor(() => ldk.channels()[0]?.isUsable === false, WAIT_MS, 'not usable while lnkit is down');
  const lnkit2 = await restarting;
  env.defer(() => lnkit2.stop());
  const restored = lnkit2.manager.listChannels()[0];
  assert.equal(restored?.state, 'ready');
  assert.equal(restored?.localBalanceMsat, before.localBalanceMsat, 'the balances the payments left');
  assert.equal(restored?.remoteBalanceMsat, before.remoteBalanceMsat);
  await ldk.connect(lnkit2.nodeId, '127.0.0.1', lnkit2.port);
  await ldk.waitFor(() => ldk.channels()[0]?.isUsable === true, WAIT_MS, 'usable at LDK after reestablish');
  // LDK is usable once it has our channel_reestablish; ours is usable once we have LDK's, which
  // may still be on its way.
  await waitFor(() => lnkit2.manager.listChannels()[0]?.usable, {
    what: 'usable at lnkit after reestablish',
  });

  // The HTLC ids and both sides' points carried on: more payments both ways.
  await pay(lnkit2, 3_000_000n);
  await paid(lnkit2, 500_000n);
  const after = lnkit2.manager.listChannels()[0];
  assert.equal(after?.localBalanceMsat, (before.localBalanceMsat ?? 0n) - 3_000_000n + 500_000n);

  await lnkit2.manager.closeChannel(before.channelId);
  await ldk.waitFor(() => ldk.events.some((e) => e.type === 'ChannelClosed'), WAIT_MS, 'closed at LDK');
  const loud = ldk.logs.filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
  assert.deepEqual(loud, []);
});
