/**
 * A peer's channel_update for a private channel of ours (private-channels.ts): taken when it is
 * for the channel, in the peer's direction, signed by the peer and newer; refused otherwise,
 * saying why. And the route hints our invoices get from what was taken.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signedChannelUpdate } from './forward/channel-update.ts';
import { DEFAULT_FORWARD_POLICY } from './forward/policy.ts';
import { checkPeerUpdate, MAX_ROUTE_HINTS, routeHintsOf } from './private-channels.ts';
import { CHAIN_HASH, openToReady, type Side } from './test-fixtures.ts';

async function updateBy(
  signer: Side,
  other: Side,
  o: { scid?: bigint; timestamp?: number; fee?: number } = {},
) {
  return signedChannelUpdate(
    {
      chainHash: CHAIN_HASH,
      shortChannelId: o.scid ?? signer.state!.shortChannelId!,
      localNodeId: signer.keysManager.nodeId,
      remoteNodeId: other.keysManager.nodeId,
      policy: { ...DEFAULT_FORWARD_POLICY, feeBaseMsat: o.fee ?? 1500 },
      timestamp: o.timestamp ?? 1_700_000_000,
      isPrivate: true,
    },
    (d) => signer.keysManager.signWithNodeKey(d),
  );
}

test("the peer's update of our private channel is taken; another channel's, our direction's, a forgery or an older one are refused", async () => {
  const { funder, fundee } = await openToReady();
  const us = funder.keysManager.nodeId;
  const channel = funder.state!;
  const good = await updateBy(fundee, funder);
  const taken = checkPeerUpdate(good, fundee.nodeId, us, channel, undefined);
  assert.ok('policy' in taken);
  assert.deepEqual(
    [
      taken.policy.shortChannelId,
      taken.policy.feeBaseMsat,
      taken.policy.cltvExpiryDelta,
      taken.policy.disabled,
    ],
    [channel.shortChannelId, 1500, DEFAULT_FORWARD_POLICY.cltvExpiryDelta, false],
  );
  const refusals: [string, Uint8Array, RegExp][] = [
    ['another channel', await updateBy(fundee, funder, { scid: 12345n }), /not for this channel/],
    ['our own direction', await updateBy(funder, fundee), /direction is ours/],
    ['not newer', await updateBy(fundee, funder, { timestamp: 1_600_000_000 }), /not newer/],
  ];
  for (const [what, raw, why] of refusals) {
    const r = checkPeerUpdate(raw, fundee.nodeId, us, channel, taken.policy);
    assert.ok('refused' in r && why.test(r.refused), `${what}: ${JSON.stringify(r)}`);
  }
  // Signed by someone else in the peer's name: flip a byte of the signature.
  const forged = Uint8Array.from(await updateBy(fundee, funder, { timestamp: 1_800_000_000 }));
  forged[10]! ^= 1;
  const f = checkPeerUpdate(forged, fundee.nodeId, us, channel, taken.policy);
  assert.ok('refused' in f && /signature/.test(f.refused));
});

test('route hints: ready private channels with a policy and inbound liquidity, most inbound first, at most three', async () => {
  const sides = await Promise.all(Array.from({ length: 5 }, () => openToReady()));
  const policies = new Map();
  const channels = [];
  for (const [i, { funder, fundee }] of sides.entries()) {
    const r = checkPeerUpdate(
      await updateBy(funder, fundee, { fee: 100 + i }),
      funder.nodeId,
      fundee.keysManager.nodeId,
      fundee.state!,
      undefined,
    );
    assert.ok('policy' in r);
    if (i !== 4) policies.set(Buffer.from(fundee.state!.channelId!).toString('hex'), r.policy);
    channels.push({ state: fundee.state!, inboundMsat: BigInt(1000 * (i + 1)) });
  }
  const hints = routeHintsOf(channels, policies);
  assert.equal(hints.length, MAX_ROUTE_HINTS);
  // Channel 4 has no policy; the rest by inbound, most first: 3, 2, 1.
  assert.deepEqual(
    hints.map((h) => h[0]?.feeBaseMsat),
    [103, 102, 101],
  );
  assert.deepEqual(hints[0]?.[0]?.nodeId, sides[3]!.funder.keysManager.nodeId);
});
