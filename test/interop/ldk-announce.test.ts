/**
 * A public channel announced with LDK 0.1.0 (WASM, its own P2PGossipSync and NetworkGraph) over
 * TCP loopback on the bcoin regtest chain, lnkit funding and LDK funding: at six confirmations
 * announcement_signatures go both ways; the channel_announcement LDK builds from lnkit's
 * signatures (kept in its graph; it sends it to everyone but its counterparty) is byte for byte
 * the one lnkit builds from LDK's; and
 * once lnkit gives LDK its gossip as step 19 does (channel_announcement, its channel_update,
 * its node_announcement), LDK's graph has the channel with both directions and lnkit's node
 * with its alias. LDK logs no error or warning.
 * Run: node scripts/test.mjs test/interop/ldk-announce.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OwnChannelGossip } from '@lnkit/manager';
import { signedNodeAnnouncement } from '@lnkit/node';
import { waitFor } from '@lnkit/test-support';
import { aliasBytes, Features, parseShortChannelId } from '@lnkit/wire';
import { connectedPair, interopChain, mine, openedChannel, WAIT_MS } from '../support/ldk/interop.ts';
import type { LdkNode } from '../support/ldk/ldk-node.ts';

const env = interopChain();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function assertLdkQuiet(ldk: LdkNode): void {
  const loud = ldk.logs.filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
  if (process.env.LNKIT_SHOW_LDK_LOGS) console.log(ldk.logs.join('\n'));
  assert.deepEqual(loud, []);
}

for (const opener of ['lnkit', 'ldk'] as const) {
  test(`${opener} opens a public channel: both announce it at six confirmations, and LDK's graph takes lnkit's gossip`, async () => {
    const { ldk, lnkit } = await connectedPair(env, { ldk: { publicChannels: true, minimumDepth: 3 } });
    const announced: OwnChannelGossip[] = [];
    lnkit.manager.announcements$.subscribe((g) => announced.push(g));

    // Opened, confirmed 3 deep: ready on both sides (lnkit's and LDK's minimum_depth).
    await openedChannel(env, { ldk, lnkit }, { opener, capacitySat: 1_000_000n, pushMsat: 0n, public: true });
    assert.equal(lnkit.manager.listChannels()[0]?.public, true);
    // Ready at 3, not announced below 6.
    await mine(env, ldk, lnkit, 2);
    await ldk.settled();
    assert.equal(announced.length, 0, 'nothing announced at 5 confirmations');

    await mine(env, ldk, lnkit, 1);
    await waitFor(() => announced[0], { what: 'lnkit to announce the channel', timeoutMs: WAIT_MS });
    const ours = announced[0]!;
    const scid = lnkit.manager.listChannels()[0]?.shortChannelId;
    assert.equal(ours.shortChannelId, scid);
    assert.equal(ldk.channels()[0]?.shortChannelId, parseShortChannelId(ours.shortChannelId));

    // LDK built the same channel_announcement from lnkit's signatures: its graph keeps it.
    const scidNumber = parseShortChannelId(ours.shortChannelId);
    await ldk.waitFor(
      () => ldk.graphAnnouncement(scidNumber) !== undefined,
      WAIT_MS,
      "LDK's channel_announcement",
    );
    assert.equal(
      hex(ldk.graphAnnouncement(scidNumber)!),
      hex(ours.channelAnnouncement.subarray(2)),
      'byte for byte the same announcement',
    );

    // Step 19's part, by hand: our channel_update and node_announcement to LDK.
    const nodeId = Buffer.from(lnkit.nodeId, 'hex');
    const node = await signedNodeAnnouncement(
      {
        nodeId,
        features: Features.empty(),
        timestamp: Math.floor(Date.now() / 1000),
        rgbColor: Uint8Array.from([0x12, 0x34, 0x56]),
        alias: aliasBytes('lnkit-interop'),
        addresses: [],
      },
      (d) => lnkit.keys.signWithNodeKey(d),
    );
    for (const raw of [ours.channelAnnouncement, ours.channelUpdate, node])
      await lnkit.pm.send(ldk.nodeId, raw);
    await ldk.waitFor(
      () => {
        const c = ldk.graphChannel(scidNumber);
        return c?.oneToTwoFeeBaseMsat !== undefined && c.twoToOneFeeBaseMsat !== undefined;
      },
      WAIT_MS,
      "both directions in LDK's graph",
    );
    const c = ldk.graphChannel(scidNumber)!;
    const lnkitIsOne = c.nodeOne === lnkit.nodeId;
    assert.equal(
      lnkitIsOne ? c.oneToTwoFeeBaseMsat : c.twoToOneFeeBaseMsat,
      1000,
      "lnkit's default fee base",
    );
    await ldk.waitFor(() => ldk.graphNode(lnkit.nodeId) !== undefined, WAIT_MS, "lnkit's node_announcement");
    assert.deepEqual(ldk.graphNode(lnkit.nodeId), { alias: 'lnkit-interop', rgb: '123456' });
    assertLdkQuiet(ldk);
  });
}
