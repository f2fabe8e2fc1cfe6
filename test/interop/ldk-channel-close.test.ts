/**
 * Cooperative close and reestablish with LDK 0.1.0 (WASM) over TCP on the bcoin regtest chain:
 * for each channel type and each opener, a close started by either side — shutdown both ways,
 * closing_signed with LDK's fee_range — ends in one closing transaction that bcoin accepts and
 * mines, and both sides call the channel closed; and a channel whose connection drops is
 * reestablished (channel_reestablish both ways, channel_ready again) and is usable on LDK's
 * side again, then closes.
 * Run: node scripts/test.mjs test/interop/ldk-channel-close.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { connectedPair, interopChain, mine, openedChannel, WAIT_MS } from '../support/ldk/interop.ts';
import type { LdkNode } from '../support/ldk/ldk-node.ts';
import type { LnkitNode } from '../support/ldk/lnkit-node.ts';

const env = interopChain();

/** A ready channel between a fresh LDK node and a fresh lnkit node; `opener` funds it. */
async function readyChannel(anchors: boolean, opener: 'ldk' | 'lnkit') {
  const pair = await connectedPair(env, { ldk: { anchors, minimumDepth: 3 } });
  const channelId = await openedChannel(env, pair, {
    opener,
    capacitySat: 1_000_000n,
    pushMsat: 50_000_000n,
  });
  return { ...pair, channelId };
}

/** Waits for the closing transaction, mines it, and checks both sides call the channel closed. */
async function closesOnChain(
  ldk: LdkNode,
  lnkit: LnkitNode,
  channelId: string,
  initiator: 'local' | 'remote',
) {
  await waitFor(() => lnkit.manager.listChannels()[0]?.closingTxid ?? undefined, {
    what: 'a closing transaction agreed',
    timeoutMs: WAIT_MS,
  });
  const closingTxid = lnkit.manager.listChannels()[0]?.closingTxid as string;
  await ldk.waitFor(
    () => ldk.events.some((e) => e.type === 'ChannelClosed'),
    WAIT_MS,
    'ChannelClosed at LDK',
  );
  await ldk.settled();
  // Both broadcast the same transaction: the first into bcoin's mempool is accepted.
  const accepted = [...lnkit.broadcasts, ...ldk.broadcasts].filter(
    (b) => b.accepted && b.txid === closingTxid,
  );
  assert.ok(
    accepted.length >= 1,
    `bcoin accepted the closing transaction: ${JSON.stringify([...lnkit.broadcasts, ...ldk.broadcasts])}`,
  );
  await mine(env, ldk, lnkit, 1);
  const tx = (await env.chain.rpc('getrawtransaction', [closingTxid, true])) as {
    confirmations?: number;
    vout: unknown[];
  };
  assert.ok((tx.confirmations ?? 0) >= 1, 'mined');
  await waitFor(() => lnkit.events.find((e) => e.type === 'ChannelClosed'), {
    what: 'ChannelClosed at lnkit',
    timeoutMs: WAIT_MS,
  });
  const closed = lnkit.events.find((e) => e.type === 'ChannelClosed');
  assert.ok(closed?.type === 'ChannelClosed');
  assert.deepEqual(closed.reason, { kind: 'cooperative', initiator, closingTxid });
  assert.equal(lnkit.manager.listChannels()[0]?.state, 'closed');
  const ldkClosed = ldk.events.find((e) => e.type === 'ChannelClosed');
  assert.equal(ldkClosed?.channelId, channelId);
  assert.match(ldkClosed?.reason ?? '', /cooperative|Cooperative/i);
  const loud = ldk.logs.filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
  assert.deepEqual(loud, []);
  if (process.env.LNKIT_SHOW_LDK_LOGS)
    console.log(ldk.logs.filter((l) => /Closing|Shutdown/.test(l)).join('\n'));
}

for (const anchors of [false, true]) {
  const typeName = anchors ? 'anchors' : 'static-remotekey';
  for (const opener of ['ldk', 'lnkit'] as const) {
    test(`${typeName}, opened by ${opener}: lnkit closes cooperatively; bcoin mines the closing transaction`, async () => {
      const { ldk, lnkit, channelId } = await readyChannel(anchors, opener);
      await lnkit.manager.closeChannel(channelId);
      await closesOnChain(ldk, lnkit, channelId, 'local');
    });

    test(`${typeName}, opened by ${opener}: LDK closes cooperatively; bcoin mines the closing transaction`, async () => {
      const { ldk, lnkit, channelId } = await readyChannel(anchors, opener);
      ldk.closeChannel(channelId);
      await closesOnChain(ldk, lnkit, channelId, 'remote');
    });
  }
}

test('a dropped connection: both reestablish, the channel is usable at LDK again, and then closes', async () => {
  const { ldk, lnkit, channelId } = await readyChannel(false, 'lnkit');
  ldk.disconnect(lnkit.nodeId);
  await waitFor(() => lnkit.pm.listPeers().length === 0, { what: 'lnkit sees the disconnect' });
  await ldk.waitFor(
    () => ldk.channels()[0]?.isUsable === false,
    WAIT_MS,
    'LDK channel not usable while disconnected',
  );
  await ldk.connect(lnkit.nodeId, '127.0.0.1', lnkit.port);
  await ldk.waitFor(
    () => ldk.channels()[0]?.isUsable === true,
    WAIT_MS,
    'LDK channel usable after reestablish',
  );
  await waitFor(() => lnkit.manager.listChannels()[0]?.state === 'ready', { what: 'still ready at lnkit' });
  assert.ok(
    ldk.logs.some((l) => /Received message ChannelReestablish/.test(l)),
    'LDK got our channel_reestablish',
  );
  ldk.closeChannel(channelId);
  await closesOnChain(ldk, lnkit, channelId, 'remote');
});
