/**
 * Channel establishment with LDK 0.1.0 (WASM) over TCP loopback, on the bcoin regtest chain,
 * for each channel type: LDK opens to lnkit (lnkit is the fundee), and lnkit opens to LDK
 * (lnkit is the funder); each side reaches ready after the depth the fundee asked for, with
 * the same channel id, short channel id and balances, and each alias read as the other sent
 * it. The funding transactions are real: bcoin validates and mines them.
 * Run: node scripts/test.mjs test/interop/ldk-channel-open.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { formatShortChannelId } from '@lnkit/wire';
import { connectedPair, interopChain, mine, WAIT_MS } from '../support/ldk/interop.ts';
import type { LdkNode } from '../support/ldk/ldk-node.ts';

const env = interopChain();

const nodes = (o: { anchors: boolean }) => connectedPair(env, { ldk: { anchors: o.anchors } });

/** LDK logged no error or warning, and no error message came from lnkit. */
function assertLdkQuiet(ldk: LdkNode): void {
  const loud = ldk.logs.filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
  if (process.env.LNKIT_SHOW_LDK_LOGS) console.log(ldk.logs.join('\n'));
  assert.deepEqual(loud, []);
}

for (const anchors of [false, true]) {
  const typeName = anchors ? 'anchors' : 'static-remotekey';

  test(`${typeName}: LDK opens to lnkit; both ready after lnkit's minimum_depth of 3`, async () => {
    const { ldk, lnkit } = await nodes({ anchors });
    await lnkit.funding.addCoins(1, 1_200_000n);
    await mine(env, ldk, lnkit, 1);
    ldk.openChannel(lnkit.nodeId, 1_000_000n, 10_000_000n);
    await waitFor(() => lnkit.events.find((e) => e.type === 'ChannelPending'), {
      what: 'ChannelPending at lnkit',
      timeoutMs: WAIT_MS,
    });
    await ldk.waitFor(() => ldk.broadcasts.length > 0, WAIT_MS, 'LDK to broadcast the funding');
    assert.deepEqual(
      ldk.broadcasts.map((b) => b.accepted),
      [true],
      ldk.broadcasts[0]?.reason,
    );
    const [pending] = lnkit.manager.listChannels();
    assert.ok(pending);
    assert.equal(pending.state, 'awaiting-confirmation');
    assert.equal(pending.isFunder, false);
    assert.equal(pending.fundingTxid, ldk.broadcasts[0]?.txid);
    assert.equal(pending.type, typeName, 'the type LDK asked for');

    await mine(env, ldk, lnkit, 2);
    assert.equal(lnkit.manager.listChannels()[0]?.state, 'awaiting-confirmation', 'not ready at depth 2');
    await mine(env, ldk, lnkit, 1);
    await waitFor(() => lnkit.events.find((e) => e.type === 'ChannelReady'), {
      what: 'ChannelReady at lnkit',
      timeoutMs: WAIT_MS,
    });
    await ldk.waitFor(() => ldk.channels()[0]?.isUsable === true, WAIT_MS, 'LDK channel usable');

    const ours = lnkit.manager.listChannels()[0];
    const theirs = ldk.channels()[0];
    assert.ok(ours && theirs);
    assert.equal(ours.state, 'ready');
    assert.equal(ours.channelId, theirs.channelId);
    assert.equal(ours.fundingTxid, theirs.fundingTxid);
    assert.equal(theirs.anchors, anchors);
    assert.equal(
      ours.shortChannelId,
      theirs.shortChannelId !== undefined ? formatShortChannelId(theirs.shortChannelId) : null,
    );
    assert.equal(ours.localBalanceMsat, 10_000_000n, 'the push');
    assert.equal(ours.remoteBalanceMsat, 990_000_000n);
    assert.equal(theirs.confirmationsRequired, 3, 'LDK waited for the depth lnkit asked');
    // The aliases: LDK's inbound alias is the one lnkit sent; lnkit recorded the one LDK sent.
    const ready = lnkit.events.find((e) => e.type === 'ChannelReady');
    assert.ok(ready?.type === 'ChannelReady');
    assert.equal(theirs.inboundScidAlias, ready.localAlias);
    assert.equal(ready.remoteAlias, theirs.outboundScidAlias);
    assert.ok(ldk.events.some((e) => e.type === 'ChannelReady' && e.channelId === ours.channelId));
    assertLdkQuiet(ldk);
  });

  test(`${typeName}: lnkit opens to LDK; both ready after LDK's minimum_depth of 6`, async () => {
    const { ldk, lnkit } = await nodes({ anchors });
    await lnkit.funding.addCoins(1, 1_200_000n);
    await mine(env, ldk, lnkit, 1);
    const opened = await lnkit.manager.openChannel(ldk.nodeId, 1_000_000n, { pushMsat: 2_000_000n });
    assert.deepEqual(
      lnkit.broadcasts.map((b) => b.accepted),
      [true],
      lnkit.broadcasts[0]?.reason,
    );
    assert.equal(lnkit.broadcasts[0]?.txid, opened.fundingTxid);
    await ldk.waitFor(
      () => ldk.events.some((e) => e.type === 'ChannelPending'),
      WAIT_MS,
      'ChannelPending at LDK',
    );
    if (anchors) assert.ok(ldk.events.some((e) => e.type === 'OpenChannelRequest'));
    const [pending] = lnkit.manager.listChannels();
    assert.equal(pending?.type, typeName, 'lnkit proposes anchors when both offer it');
    assert.equal(pending?.minimumDepth, 6, "LDK's minimum_depth");

    await mine(env, ldk, lnkit, 5);
    assert.equal(lnkit.manager.listChannels()[0]?.state, 'awaiting-confirmation', 'not ready at depth 5');
    await mine(env, ldk, lnkit, 1);
    await waitFor(() => lnkit.events.find((e) => e.type === 'ChannelReady'), {
      what: 'ChannelReady at lnkit',
      timeoutMs: WAIT_MS,
    });
    await ldk.waitFor(() => ldk.channels()[0]?.isUsable === true, WAIT_MS, 'LDK channel usable');

    const ours = lnkit.manager.listChannels()[0];
    const theirs = ldk.channels()[0];
    assert.ok(ours && theirs);
    assert.equal(ours.channelId, opened.channelId);
    assert.equal(theirs.channelId, opened.channelId);
    assert.equal(theirs.isOutbound, false);
    assert.equal(theirs.anchors, anchors);
    assert.equal(ours.localBalanceMsat, 998_000_000n);
    assert.equal(ours.remoteBalanceMsat, 2_000_000n);
    assert.equal(
      ours.shortChannelId,
      theirs.shortChannelId !== undefined ? formatShortChannelId(theirs.shortChannelId) : null,
    );
    const ready = lnkit.events.find((e) => e.type === 'ChannelReady');
    assert.ok(ready?.type === 'ChannelReady');
    assert.equal(theirs.inboundScidAlias, ready.localAlias);
    assert.equal(ready.remoteAlias, theirs.outboundScidAlias);
    assert.deepEqual(lnkit.funding.released, [], 'nothing released');
    assertLdkQuiet(ldk);
  });
}
