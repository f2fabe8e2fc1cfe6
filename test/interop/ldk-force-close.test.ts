/**
 * Force close with LDK 0.1.0 (WASM) as the peer, over TCP on the bcoin regtest chain: a ready
 * channel (lnkit- or LDK-opened, each type); lnkit force-closes on its user's request — our
 * latest commitment, with LDK's signature from funding_signed / funding_created and ours,
 * is broadcast and bcoin accepts it into its mempool, then an `error` tells LDK, which closes
 * its side; bcoin mines the commitment, and lnkit's channel is closed (holder-force-closed).
 * The feerates are 2,500 sat/kw on both sides: bcoin wants at least 1,000 sat of fee from a
 * transaction this small, which a 253 sat/kw commitment does not pay.
 * Run: node scripts/test.mjs test/interop/ldk-force-close.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { Transaction } from '@lnkit/tx';
import { connectedPair, interopChain, mine, openedChannel, WAIT_MS } from '../support/ldk/interop.ts';

const env = interopChain();
const FEERATE_PER_KW = 2_500;

for (const { anchors, opener } of [
  { anchors: false, opener: 'lnkit' },
  { anchors: true, opener: 'lnkit' },
  { anchors: false, opener: 'ldk' },
  { anchors: true, opener: 'ldk' },
] as const) {
  const typeName = anchors ? 'anchors' : 'static-remotekey';
  test(`${typeName}, opened by ${opener}: lnkit force-closes, bcoin accepts and mines its commitment, LDK closes too`, async () => {
    const pair = await connectedPair(env, {
      lnkit: { manager: { feeEstimator: { feeratePerKw: () => BigInt(FEERATE_PER_KW) } } },
      ldk: { anchors, minimumDepth: 3, feeratePerKw: FEERATE_PER_KW },
    });
    const { ldk, lnkit } = pair;
    const channelId = await openedChannel(env, pair, {
      opener,
      capacitySat: 1_000_000n,
      pushMsat: 50_000_000n,
    });

    const r = await lnkit.manager.closeChannel(channelId, { force: true });
    assert.equal(r.channelId, channelId);
    assert.match(r.closingTxid ?? '', /^[0-9a-f]{64}$/);
    const broadcast = await waitFor(() => lnkit.broadcasts.find((b) => b.txid === r.closingTxid), {
      what: 'our commitment broadcast',
    });
    assert.ok(broadcast.accepted, `bcoin accepted our commitment: ${JSON.stringify(lnkit.broadcasts)}`);
    assert.equal(lnkit.manager.listChannels()[0]?.state, 'closing');
    await ldk.waitFor(() => ldk.events.some((e) => e.type === 'ChannelClosed'), WAIT_MS, 'closed at LDK');
    const ldkClosed = ldk.events.find((e) => e.type === 'ChannelClosed');
    assert.equal(ldkClosed?.channelId, channelId);
    assert.match(ldkClosed?.reason ?? '', /CounterpartyForceClosed|force-closed/i, ldkClosed?.reason);
    await ldk.settled();

    await mine(env, ldk, lnkit, 1);
    const tx = (await env.chain.rpc('getrawtransaction', [r.closingTxid, true])) as {
      confirmations?: number;
      hex: string;
    };
    assert.ok((tx.confirmations ?? 0) >= 1, 'bcoin mined our commitment');
    // It spends the funding output: the commitment of this channel, with both signatures.
    const mined = Transaction.fromHex(tx.hex);
    const fundingTxid = lnkit.manager.listChannels()[0]?.fundingTxid;
    assert.equal(
      Buffer.from(mined.ins[0]?.hash ?? [])
        .reverse()
        .toString('hex'),
      fundingTxid,
    );
    assert.equal(mined.ins[0]?.witness.length, 4);
    await waitFor(() => lnkit.events.find((e) => e.type === 'ChannelClosed'), {
      what: 'ChannelClosed at lnkit',
      timeoutMs: WAIT_MS,
    });
    const closed = lnkit.events.find((e) => e.type === 'ChannelClosed');
    assert.deepEqual(closed?.type === 'ChannelClosed' && closed.reason, {
      kind: 'holder-force-closed',
      commitmentTxid: r.closingTxid,
    });
    assert.equal(lnkit.manager.listChannels()[0]?.state, 'closed');
    // The ChainMonitor, the manager's persister, recognised the spend as our commitment.
    const spend = lnkit.chainMonitor.monitor(channelId)?.fundingSpend;
    assert.equal(spend?.kind, 'holder-commitment');
    assert.equal(spend?.txidHex, r.closingTxid);
    await ldk.waitFor(() => ldk.channels().length === 0, WAIT_MS, 'LDK lists no channel');
  });
}
