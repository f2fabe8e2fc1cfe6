/**
 * The forwarding checks, one per BOLT 4 forwarding-node rule (and BOLT 7's fee formula): each
 * failure with the data BOLT 4 says to report, the order between them, and the channel_update
 * put into a failure, signed by our node key and naming the onion's short_channel_id.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes, secp, sha256d } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { decodeFailureMessage, encodeFailureMessage, parseFailureChannelUpdate } from '@lnkit/onion';
import { channelUpdateSignedBytes } from '@lnkit/wire';
import { signedChannelUpdate } from './channel-update.ts';
import {
  decideForward,
  type ForwardHop,
  MAX_INCOMING_BLOCKS,
  MIN_INCOMING_BLOCKS,
  MIN_OUTGOING_BLOCKS,
  type OutgoingChannelView,
  withChannelUpdate,
} from './decide.ts';
import { DEFAULT_FORWARD_POLICY, effectivePolicy, type ForwardPolicy, forwardFeeMsat } from './policy.ts';

const HEIGHT = 800_000;
const policy: ForwardPolicy = {
  feeBaseMsat: 1000,
  feeProportionalMillionths: 100,
  cltvExpiryDelta: 40,
  htlcMinimumMsat: 1000n,
  htlcMaximumMsat: 500_000_000n,
  enabled: true,
};
const channel = (over: Partial<OutgoingChannelView> = {}): OutgoingChannelView => ({
  policy,
  closing: false,
  usable: true,
  availableMsat: 900_000_000n,
  ...over,
});
const hop = (over: Partial<ForwardHop> = {}): ForwardHop => ({
  shortChannelId: (700_000n << 40n) | (5n << 16n) | 1n,
  amtToForwardMsat: 10_000_000n,
  outgoingCltvValue: HEIGHT + 100,
  ...over,
});
/** 10,000,000 msat forwarded: 1000 + 10,000,000 × 100 / 1,000,000 = 2000 msat fee. */
const PAID = { amountMsat: 10_002_000n, cltvExpiry: HEIGHT + 140 };

const failureOf = (d: ReturnType<typeof decideForward>) => {
  assert.equal(d.kind, 'fail');
  return d.kind === 'fail' ? d : assert.fail();
};

test('BOLT 7 fee: base plus the proportional part rounded down', () => {
  assert.equal(forwardFeeMsat(policy, 10_000_000n), 2000n);
  assert.equal(forwardFeeMsat(policy, 9_999n), 1000n); // 0.9999 msat rounds down
  assert.equal(forwardFeeMsat({ ...policy, feeProportionalMillionths: 1 }, 1_999_999n), 1001n);
  assert.equal(forwardFeeMsat(DEFAULT_FORWARD_POLICY, 123_456_789n), 1000n);
});

test('a forward that pays the fee and keeps the delta is forwarded; the fee earned is all the difference', () => {
  assert.deepEqual(decideForward(PAID, hop(), channel(), HEIGHT), { kind: 'forward', feeMsat: 2000n });
  // Overpaid (a sender hiding its route length): the whole difference is ours.
  assert.deepEqual(decideForward({ ...PAID, amountMsat: 10_005_000n }, hop(), channel(), HEIGHT), {
    kind: 'forward',
    feeMsat: 5000n,
  });
  // Exactly the delta, and exactly the minimum, pass.
  const exact = decideForward(
    { amountMsat: 1000n + 1000n, cltvExpiry: HEIGHT + 140 },
    hop({ amtToForwardMsat: 1000n }),
    channel(),
    HEIGHT,
  );
  assert.equal(exact.kind, 'forward');
});

test('unknown_next_peer: no channel with that short_channel_id', () => {
  const f = failureOf(decideForward(PAID, hop(), undefined, HEIGHT));
  assert.deepEqual(f.failure, { name: 'unknown_next_peer' });
  assert.equal(f.needsChannelUpdate, false);
  assert.match(f.why, /700000x5x1/);
});

test('permanent_channel_failure: the outgoing channel is closing', () => {
  const f = failureOf(decideForward(PAID, hop(), channel({ closing: true }), HEIGHT));
  assert.equal(f.failure.name, 'permanent_channel_failure');
  assert.equal(f.needsChannelUpdate, false);
});

test('channel_disabled: the policy disables the channel (disabled_flags 0, with our update)', () => {
  const f = failureOf(decideForward(PAID, hop(), channel({ policy: { ...policy, enabled: false } }), HEIGHT));
  assert.deepEqual(f.failure, {
    name: 'channel_disabled',
    disabledFlags: 0,
    channelUpdate: new Uint8Array(0),
  });
  assert.equal(f.needsChannelUpdate, true);
});

test('temporary_channel_failure: peer away, above htlc_maximum_msat, or more than the balance', () => {
  for (const [view, over, why] of [
    [channel({ usable: false }), {}, /not usable/],
    [channel(), { amtToForwardMsat: 500_000_001n }, /htlc_maximum_msat/],
    [channel({ availableMsat: 9_999_999n }), {}, /we can send/],
  ] as const) {
    const h = hop(over);
    const incoming = { ...PAID, amountMsat: h.amtToForwardMsat + forwardFeeMsat(policy, h.amtToForwardMsat) };
    const f = failureOf(decideForward(incoming, h, view, HEIGHT));
    assert.equal(f.failure.name, 'temporary_channel_failure');
    assert.equal(f.needsChannelUpdate, true);
    assert.match(f.why, why);
  }
});

test('amount_below_minimum: reports the outgoing HTLC amount', () => {
  const f = failureOf(
    decideForward({ ...PAID, amountMsat: 1999n }, hop({ amtToForwardMsat: 999n }), channel(), HEIGHT),
  );
  assert.deepEqual(f.failure, {
    name: 'amount_below_minimum',
    htlcMsat: 999n,
    channelUpdate: new Uint8Array(0),
  });
});

test('fee_insufficient: one msat short reports the incoming HTLC amount', () => {
  const f = failureOf(decideForward({ ...PAID, amountMsat: 10_001_999n }, hop(), channel(), HEIGHT));
  assert.deepEqual(f.failure, {
    name: 'fee_insufficient',
    htlcMsat: 10_001_999n,
    channelUpdate: new Uint8Array(0),
  });
  // Less in than out (a negative fee) is the same failure.
  assert.equal(
    failureOf(decideForward({ ...PAID, amountMsat: 9_000_000n }, hop(), channel(), HEIGHT)).failure.name,
    'fee_insufficient',
  );
});

test('incorrect_cltv_expiry: one block short of the delta reports the outgoing cltv_expiry', () => {
  const f = failureOf(decideForward({ ...PAID, cltvExpiry: HEIGHT + 139 }, hop(), channel(), HEIGHT));
  assert.deepEqual(f.failure, {
    name: 'incorrect_cltv_expiry',
    cltvExpiry: HEIGHT + 100,
    channelUpdate: new Uint8Array(0),
  });
});

test('expiry_too_soon: the incoming or the outgoing expiry too near the tip', () => {
  const soonIn = decideForward(
    { ...PAID, cltvExpiry: HEIGHT + MIN_INCOMING_BLOCKS - 1 },
    hop({ outgoingCltvValue: HEIGHT + MIN_INCOMING_BLOCKS - 41 }),
    channel(),
    HEIGHT,
  );
  assert.deepEqual(failureOf(soonIn).failure, { name: 'expiry_too_soon', channelUpdate: new Uint8Array(0) });
  const soonOut = decideForward(
    { ...PAID, cltvExpiry: HEIGHT + MIN_OUTGOING_BLOCKS + 40 },
    hop({ outgoingCltvValue: HEIGHT + MIN_OUTGOING_BLOCKS }),
    channel(),
    HEIGHT,
  );
  assert.equal(failureOf(soonOut).failure.name, 'expiry_too_soon');
  // One more block on each and it is forwarded.
  const ok = decideForward(
    { ...PAID, cltvExpiry: HEIGHT + MIN_INCOMING_BLOCKS + 40 },
    hop({ outgoingCltvValue: HEIGHT + MIN_INCOMING_BLOCKS }),
    channel(),
    HEIGHT,
  );
  assert.equal(ok.kind, 'forward');
});

test('expiry_too_far: more than max_htlc_cltv ahead, no channel_update', () => {
  const f = failureOf(
    decideForward(
      { ...PAID, cltvExpiry: HEIGHT + MAX_INCOMING_BLOCKS + 1 },
      hop({ outgoingCltvValue: HEIGHT + MAX_INCOMING_BLOCKS - 100 }),
      channel(),
      HEIGHT,
    ),
  );
  assert.deepEqual(f.failure, { name: 'expiry_too_far' });
  assert.equal(f.needsChannelUpdate, false);
});

test('temporary_channel_failure, no update: the incoming HTLC exceeds our dust exposure (before anything else)', () => {
  const f = failureOf(decideForward({ ...PAID, dustExposureExceeded: true }, hop(), undefined, HEIGHT));
  assert.deepEqual(f.failure, { name: 'temporary_channel_failure', channelUpdate: new Uint8Array(0) });
  assert.equal(f.needsChannelUpdate, false);
});

test('the first failure met wins: disabled before the fee, the fee before the delta', () => {
  const everythingWrong = { amountMsat: 1n, cltvExpiry: HEIGHT + 1 };
  const disabled = channel({ policy: { ...policy, enabled: false } });
  assert.equal(
    failureOf(decideForward(everythingWrong, hop(), disabled, HEIGHT)).failure.name,
    'channel_disabled',
  );
  assert.equal(
    failureOf(decideForward({ ...everythingWrong, amountMsat: 1n }, hop(), channel(), HEIGHT)).failure.name,
    'fee_insufficient',
  );
  assert.equal(
    failureOf(decideForward({ ...PAID, cltvExpiry: HEIGHT + 1 }, hop(), channel(), HEIGHT)).failure.name,
    'incorrect_cltv_expiry',
  );
});

test('effectivePolicy: bounded by the peer’s htlc_minimum_msat, max in flight and the capacity', () => {
  const p = effectivePolicy(DEFAULT_FORWARD_POLICY, {
    remoteHtlcMinimumMsat: 1000n,
    remoteMaxInFlightMsat: 300_000_000n,
    capacityMsat: 1_000_000_000n,
  });
  assert.equal(p.htlcMinimumMsat, 1000n);
  assert.equal(p.htlcMaximumMsat, 300_000_000n);
  assert.equal(
    effectivePolicy(policy, {
      remoteHtlcMinimumMsat: 1n,
      remoteMaxInFlightMsat: 10n ** 12n,
      capacityMsat: 10n ** 12n,
    }).htlcMinimumMsat,
    1000n,
  );
});

test('our channel_update in a failure: the onion’s scid, our policy, our direction, signed by the node key', async () => {
  const keys = new KeysManager(randomBytes(32));
  const peer = new KeysManager(randomBytes(32));
  const scid = (16_000_123n << 40n) | (7n << 16n) | 3n; // an alias
  const chainHash = new Uint8Array(32).fill(6);
  const disabled = { ...policy, enabled: false };
  const bytes = await signedChannelUpdate(
    {
      chainHash,
      shortChannelId: scid,
      localNodeId: keys.nodeId,
      remoteNodeId: peer.nodeId,
      policy: disabled,
      timestamp: 1_700_000_000,
      isPrivate: true,
    },
    (d) => keys.signWithNodeKey(d),
  );
  const decision = failureOf(decideForward(PAID, hop(), channel({ policy: disabled }), HEIGHT));
  const failure = withChannelUpdate(decision.failure, bytes);
  const back = decodeFailureMessage(encodeFailureMessage(failure));
  assert.equal(back.name, 'channel_disabled');
  const u = back.name === 'channel_disabled' ? parseFailureChannelUpdate(back.channelUpdate) : undefined;
  assert.ok(u);
  assert.equal(u.shortChannelId, scid);
  assert.equal(u.feeBaseMsat, 1000);
  assert.equal(u.feeProportionalMillionths, 100);
  assert.equal(u.cltvExpiryDelta, 40);
  assert.equal(u.htlcMinimumMsat, 1000n);
  assert.equal(u.htlcMaximumMsat, 500_000_000n);
  assert.equal(u.timestamp, 1_700_000_000);
  assert.deepEqual(Buffer.from(u.chainHash), Buffer.from(chainHash));
  const lesser = Buffer.compare(Buffer.from(keys.nodeId), Buffer.from(peer.nodeId)) < 0;
  assert.equal(u.channelFlags & 1, lesser ? 0 : 1, 'BOLT 7 direction: node_id_1 is the lesser');
  assert.equal(u.channelFlags & 2, 2, 'the disable bit');
  assert.equal(u.messageFlags, 3, 'must_be_one and dont_forward (a private channel)');
  assert.ok(await secp.verify(u.signature, sha256d(channelUpdateSignedBytes(bytes)), keys.nodeId));
  // A failure without an update is left as it is.
  assert.deepEqual(withChannelUpdate({ name: 'unknown_next_peer' }, bytes), { name: 'unknown_next_peer' });
});
