/**
 * Failures: every BOLT 4 failure message with its data, created at the failing hop, wrapped at
 * each hop back and attributed at the origin; update_fail_malformed_htlc turned into a failure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '@lnkit/crypto';
import { type ChannelUpdate, channelUpdate } from '@lnkit/wire';
import { OnionError } from './errors.ts';
import {
  createFailurePacket,
  decryptFailurePacket,
  failureFromMalformed,
  wrapFailurePacket,
} from './failure.ts';
import {
  decodeFailureMessage,
  encodeFailureMessage,
  FAILURE_CODES,
  type FailureMessage,
  failureCode,
  failureFlags,
  parseFailureChannelUpdate,
} from './failure-messages.ts';
import { buildPaymentOnion, routePayloads } from './payment.ts';
import { testNodes } from './test-helpers.ts';

const update: ChannelUpdate = {
  type: 258,
  kind: 'channel_update',
  signature: new Uint8Array(64).fill(7),
  chainHash: new Uint8Array(32).fill(6),
  shortChannelId: 0x0102030405060708n,
  timestamp: 1_700_000_000,
  messageFlags: 1,
  channelFlags: 0,
  cltvExpiryDelta: 144,
  htlcMinimumMsat: 1000n,
  feeBaseMsat: 1000,
  feeProportionalMillionths: 100,
  htlcMaximumMsat: 1_000_000_000n,
};
const updateBytes = channelUpdate.encode(update);
const hash = sha256(Uint8Array.of(42));

/** One message per failure code, each with its data. */
const EVERY_FAILURE: FailureMessage[] = [
  { name: 'temporary_node_failure' },
  { name: 'permanent_node_failure' },
  { name: 'required_node_feature_missing' },
  { name: 'invalid_onion_version', sha256OfOnion: hash },
  { name: 'invalid_onion_hmac', sha256OfOnion: hash },
  { name: 'invalid_onion_key', sha256OfOnion: hash },
  { name: 'temporary_channel_failure', channelUpdate: updateBytes },
  { name: 'permanent_channel_failure' },
  { name: 'required_channel_feature_missing' },
  { name: 'unknown_next_peer' },
  { name: 'amount_below_minimum', htlcMsat: 999n, channelUpdate: updateBytes },
  { name: 'fee_insufficient', htlcMsat: 12_345n, channelUpdate: updateBytes },
  { name: 'incorrect_cltv_expiry', cltvExpiry: 800_123, channelUpdate: updateBytes },
  { name: 'expiry_too_soon', channelUpdate: new Uint8Array(0) },
  { name: 'incorrect_or_unknown_payment_details', htlcMsat: 5000n, height: 800_000 },
  { name: 'final_incorrect_cltv_expiry', cltvExpiry: 799_999 },
  { name: 'final_incorrect_htlc_amount', incomingHtlcAmtMsat: 4999n },
  { name: 'channel_disabled', disabledFlags: 0, channelUpdate: updateBytes },
  { name: 'expiry_too_far' },
  { name: 'invalid_onion_payload', type: 5482373484n, offset: 300 },
  { name: 'mpp_timeout' },
  { name: 'invalid_onion_blinding', sha256OfOnion: hash },
];

test('every BOLT 4 failure code has a message here, with the data the BOLT gives it', () => {
  assert.deepEqual(EVERY_FAILURE.map((f) => f.name).sort(), Object.keys(FAILURE_CODES).sort());
  // Spot-check the wire form against the BOLT's layout.
  const below = encodeFailureMessage(EVERY_FAILURE[10]!);
  // amount_below_minimum: code 0x100b, u64 htlc_msat (999), u16 len, the channel_update.
  assert.equal(
    Buffer.from(below.subarray(0, 12)).toString('hex'),
    `100b00000000000003e7${updateBytes.length.toString(16).padStart(4, '0')}`,
  );
  assert.deepEqual(below.subarray(12), updateBytes);
  assert.equal(
    Buffer.from(
      encodeFailureMessage({ name: 'invalid_onion_payload', type: 5482373484n, offset: 300 }),
    ).toString('hex'),
    // 5482373484 = 0x146c6616c: a BigSize of 9 bytes, then the u16 offset.
    '4016' + 'ff0000000146c6616c' + '012c',
  );
  assert.deepEqual(failureFlags(FAILURE_CODES.invalid_onion_blinding), {
    badOnion: true,
    perm: true,
    node: false,
    update: false,
  });
  assert.deepEqual(failureFlags(FAILURE_CODES.temporary_node_failure), {
    badOnion: false,
    perm: false,
    node: true,
    update: false,
  });
});

test('failure messages round-trip, keep a trailing TLV stream and unknown codes', () => {
  for (const f of EVERY_FAILURE) assert.deepEqual(decodeFailureMessage(encodeFailureMessage(f)), f, f.name);
  const withTlvs: FailureMessage = { name: 'mpp_timeout', tlvs: Uint8Array.of(1, 1, 0) };
  assert.deepEqual(decodeFailureMessage(encodeFailureMessage(withTlvs)), withTlvs);
  const unknown: FailureMessage = { name: 'unknown', code: 0x4077, data: Uint8Array.of(1, 2) };
  assert.deepEqual(decodeFailureMessage(encodeFailureMessage(unknown)), unknown);
  assert.equal(failureCode(unknown), 0x4077);
});

test('a failure message cut inside its data is invalid-failure-message; bad fields are invalid-argument', () => {
  for (const f of EVERY_FAILURE) {
    const bytes = encodeFailureMessage(f);
    if (bytes.length === 2) continue;
    assert.throws(
      () => decodeFailureMessage(bytes.subarray(0, bytes.length - 1)),
      (e: OnionError) => e.code === 'invalid-failure-message',
      f.name,
    );
  }
  assert.throws(
    () => decodeFailureMessage(Uint8Array.of(0x20)),
    (e: OnionError) => e.code === 'invalid-failure-message',
  );
  const bad = (f: unknown) =>
    assert.throws(
      () => encodeFailureMessage(f as FailureMessage),
      (e: OnionError) => e.code === 'invalid-argument',
    );
  bad({ name: 'invalid_onion_hmac', sha256OfOnion: new Uint8Array(31) });
  bad({ name: 'fee_insufficient', htlcMsat: -1n, channelUpdate: updateBytes });
  bad({ name: 'channel_disabled', disabledFlags: 70_000, channelUpdate: updateBytes });
  bad({ name: 'expiry_too_soon', channelUpdate: new Uint8Array(70_000) });
  bad({ name: 'unknown', code: 0x2002, data: new Uint8Array(0) });
  bad({ name: 'no_such_failure' });
});

test('the channel_update in a failure reads with or without its type, and is absent when len is 0', () => {
  assert.deepEqual(parseFailureChannelUpdate(updateBytes), { ...update });
  assert.deepEqual(parseFailureChannelUpdate(updateBytes.subarray(2)), { ...update });
  assert.equal(parseFailureChannelUpdate(new Uint8Array(0)), undefined);
  assert.throws(
    () => parseFailureChannelUpdate(updateBytes.subarray(0, 50)),
    (e: OnionError) => e.code === 'invalid-failure-message',
  );
});

const nodes = testNodes(5);
const sessionKey = new Uint8Array(32).fill(0x33);
const onion = buildPaymentOnion({
  sessionKey,
  paymentHash: hash,
  hops: routePayloads(
    nodes.map((n, i) => ({
      nodeId: n.nodeId,
      shortChannelId: BigInt(i + 1),
      amountMsat: 1000n,
      cltvExpiry: 100,
    })),
  ),
});

/** The packet hop `erring` makes, wrapped by every hop before it, as the origin gets it. */
function returned(erring: number, failure: FailureMessage | Uint8Array): Uint8Array {
  let packet = createFailurePacket(onion.sharedSecrets[erring]!, failure);
  for (let i = erring - 1; i >= 0; i--) packet = wrapFailurePacket(onion.sharedSecrets[i]!, packet);
  return packet;
}

test('the origin attributes each failure to the hop that made it, at every position of the route', () => {
  EVERY_FAILURE.forEach((failure, n) => {
    const erring = n % 5;
    const packet = returned(erring, failure);
    // BOLT 4: failure_len + pad_len = 256 when the message is shorter.
    assert.equal(packet.length, 32 + 2 + Math.max(256, encodeFailureMessage(failure).length) + 2);
    const got = decryptFailurePacket(onion.sharedSecrets, packet);
    assert.equal(got.hopIndex, erring, failure.name);
    assert.deepEqual(got.failure, failure);
    assert.equal(got.failureCode, failureCode(failure));
    // Stopping at the erring hop (no dummy rounds) gives the same answer.
    assert.deepEqual(decryptFailurePacket(onion.sharedSecrets, packet, { rounds: 0 }), got);
  });
});

test('a packet changed on the way back cannot be attributed; a message too short for its code still is', () => {
  const packet = returned(3, { name: 'temporary_node_failure' });
  for (const at of [0, 40, packet.length - 1]) {
    const tampered = packet.slice();
    tampered[at]! ^= 0x80;
    assert.throws(
      () => decryptFailurePacket(onion.sharedSecrets, tampered),
      (e: OnionError) => e.code === 'unattributable-failure',
    );
  }
  assert.throws(
    () => decryptFailurePacket(onion.sharedSecrets, new Uint8Array(10)),
    (e: OnionError) => e.code === 'unattributable-failure',
  );
  // Hop 2 sends fee_insufficient without its data: attributed, but not decoded.
  const cut = returned(2, Uint8Array.of(0x10, 0x0c, 0, 0));
  const got = decryptFailurePacket(onion.sharedSecrets, cut);
  assert.equal(got.hopIndex, 2);
  assert.equal(got.failureCode, FAILURE_CODES.fee_insufficient);
  assert.equal(got.failure, undefined);
});

test('a long failure message is not padded; padTo pads to more', () => {
  const tlvs = new Uint8Array(300).fill(1);
  const long: FailureMessage = { name: 'temporary_node_failure', tlvs };
  assert.equal(returned(0, long).length, 32 + 2 + 302 + 2);
  assert.equal(createFailurePacket(onion.sharedSecrets[0]!, long, { padTo: 1024 }).length, 32 + 2 + 1024 + 2);
  assert.throws(
    () => createFailurePacket(onion.sharedSecrets[0]!, long, { padTo: 100 }),
    (e: OnionError) => e.code === 'invalid-argument',
  );
});

test('update_fail_malformed_htlc: the upstream hop returns the code with the sha256 as data; no BADONION bit is refused', () => {
  const sentOnion = new Uint8Array(1366).fill(9);
  const m = { failureCode: FAILURE_CODES.invalid_onion_hmac, sha256OfOnion: sha256(sentOnion) };
  // Hop 2 forwarded to hop 3, which could not read the onion: hop 2 makes the failure.
  const { reason, onionMatches } = failureFromMalformed(onion.sharedSecrets[2]!, m, sentOnion);
  assert.equal(onionMatches, true);
  let packet = reason;
  for (let i = 1; i >= 0; i--) packet = wrapFailurePacket(onion.sharedSecrets[i]!, packet);
  const got = decryptFailurePacket(onion.sharedSecrets, packet);
  assert.equal(got.hopIndex, 2);
  assert.deepEqual(got.failure, { name: 'invalid_onion_hmac', sha256OfOnion: m.sha256OfOnion });
  assert.equal(failureFromMalformed(onion.sharedSecrets[2]!, m, new Uint8Array(1366)).onionMatches, false);
  assert.equal(
    failureFromMalformed(onion.sharedSecrets[2]!, { ...m, sha256OfOnion: new Uint8Array(32) }, sentOnion)
      .onionMatches,
    true,
  );
  assert.throws(
    () =>
      failureFromMalformed(onion.sharedSecrets[2]!, {
        ...m,
        failureCode: FAILURE_CODES.temporary_node_failure,
      }),
    (e: OnionError) => e instanceof OnionError && e.code === 'invalid-malformed-failure',
  );
});
