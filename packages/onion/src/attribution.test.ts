/**
 * Attributable failures and hold times against the vectors in BOLT 4's text ("Test Vector":
 * "Returning Errors" and "Returning success"), extracted verbatim into
 * fixtures/bolt04-text-vectors.json by scripts/extract-bolt4-text-vectors.mjs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { updateFailHtlc } from '@lnkit/wire';
import {
  attributeFulfill,
  attributionFromWire,
  attributionToWire,
  createAttributedFailure,
  verifyFailureAttribution,
  verifyFulfillAttribution,
  wrapAttributedFailure,
} from './attribution.ts';
import type { OnionError } from './errors.ts';
import { decryptFailurePacket } from './failure.ts';
import { decodeFailureMessage } from './failure-messages.ts';
import { buildPaymentOnion } from './payment.ts';
import { chacha20Xor, generateKey, KEY_AMMAG, KEY_UM } from './sphinx-keys.ts';
import { fixture, hex, toHex } from './test-helpers.ts';

interface TextVectors {
  pubkeys: string[];
  htlcHoldTimes: number[];
  sessionKey: string;
  failure: {
    encodedFailureMessage: string;
    erringSharedSecret: string;
    payload: string;
    umKey: string;
    rawErrorPacket: string;
    sharedSecrets: string[];
    ammagKeys: string[];
    errorPackets: Record<string, string>;
    attributionData: Record<string, string>;
  };
  success: { attributionData: Record<string, string> };
}

const v = fixture<TextVectors>('bolt04-text-vectors.json');
/**
 * Each node's hold time. The text lists htlc_hold_time[0..4] = 1..5 beside pubkey[0..4], but its
 * values come out with node 4 (the erring node, the first to add its hold time) holding 1 and
 * node 0 holding 5: the generator counted in the order the hops write, from the end of the route.
 */
const HOLD = [...v.htlcHoldTimes].reverse();
// The route's shared secrets, first hop first, as the origin derives them from the session key.
const secrets = buildPaymentOnion({
  sessionKey: hex(v.sessionKey),
  paymentHash: new Uint8Array(32),
  hops: v.pubkeys.map((p) => ({ nodeId: hex(p), payload: { amtToForwardMsat: 1n, outgoingCltvValue: 1 } })),
}).sharedSecrets;

test('the vector’s shared secrets and keys are the route’s', () => {
  // The text lists them from the erring node (4) back to node 0.
  assert.deepEqual(secrets.map(toHex).reverse(), v.failure.sharedSecrets);
  assert.deepEqual(secrets.map((s) => toHex(generateKey(KEY_AMMAG, s))).reverse(), v.failure.ammagKeys);
  assert.equal(toHex(generateKey(KEY_UM, secrets[4]!)), v.failure.umKey);
});

test('returning errors: hop 4 fails, each hop wraps with its hold time, byte for byte', () => {
  // The text's encoded_failure_message runs on with pad_len and the pad; failure_len (the
  // payload's first two bytes) says where the message ends.
  const payload = hex(v.failure.payload);
  const message = hex(v.failure.encodedFailureMessage).subarray(0, (payload[0]! << 8) | payload[1]!);
  assert.deepEqual(decodeFailureMessage(message), {
    name: 'incorrect_or_unknown_payment_details',
    htlcMsat: 100n,
    height: 800_000,
    tlvs: Uint8Array.from([0xfd, 0x84, 0xd1, 0xfd, 0x01, 0x2c, ...new Uint8Array(300).fill(128)]),
  });
  let { reason, attributionData } = createAttributedFailure(
    secrets[4]!,
    message,
    HOLD[4]!,
    // The vector's failure_len + pad_len is 1024 (a 320-byte message: BOLT 4's 256 is a minimum).
    { padTo: 1024 },
  );
  const plain = chacha20Xor(generateKey(KEY_AMMAG, secrets[4]!), reason);
  assert.equal(toHex(plain), v.failure.rawErrorPacket);
  assert.equal(toHex(plain.subarray(32)), v.failure.payload);
  assert.equal(toHex(reason), v.failure.errorPackets['4']);
  assert.equal(toHex(attributionData), v.failure.attributionData['4']);
  for (let i = 3; i >= 0; i--) {
    ({ reason, attributionData } = wrapAttributedFailure(secrets[i]!, reason, attributionData, HOLD[i]!));
    assert.equal(toHex(reason), v.failure.errorPackets[String(i)], `error packet for node ${i}`);
    assert.equal(
      toHex(attributionData),
      v.failure.attributionData[String(i)],
      `attribution data for node ${i}`,
    );
  }
  // The origin: hop 4 made it, every hop's HMAC holds, and the hold times are each hop's.
  const decrypted = decryptFailurePacket(secrets, reason);
  assert.equal(decrypted.hopIndex, 4);
  assert.equal(decrypted.failure?.name, 'incorrect_or_unknown_payment_details');
  assert.deepEqual(verifyFailureAttribution(secrets, reason, attributionData), {
    holdTimes: HOLD,
    invalidAt: undefined,
  });
});

test('returning success: the fulfill’s attribution data at each hop, byte for byte, and its hold times', () => {
  let data: Uint8Array | undefined;
  for (let i = 4; i >= 0; i--) {
    data = attributeFulfill(secrets[i]!, data, HOLD[i]!);
    assert.equal(toHex(data), v.success.attributionData[String(i)], `attribution data for node ${i}`);
  }
  assert.deepEqual(verifyFulfillAttribution(secrets, data!), {
    holdTimes: HOLD,
    invalidAt: undefined,
  });
});

/** The failure as the origin gets it, with `tamper` applied to what hop `at` receives. */
function failureThrough(tamper?: { at: number; change: (reason: Uint8Array) => Uint8Array }) {
  let { reason, attributionData } = createAttributedFailure(
    secrets[4]!,
    { name: 'temporary_node_failure' },
    9,
  );
  for (let i = 3; i >= 0; i--) {
    if (tamper?.at === i) reason = tamper.change(reason);
    ({ reason, attributionData } = wrapAttributedFailure(secrets[i]!, reason, attributionData, i));
  }
  return { reason, attributionData };
}

test('a hop that changes the failure is caught: the HMAC chain breaks at the hop after it', () => {
  // Hop 2 changes the packet hop 3 sent it: hops 0-2 commit to the changed packet, hop 3 did not.
  const { reason, attributionData } = failureThrough({
    at: 2,
    change: (r) => Uint8Array.from(r, (b, i) => (i === 40 ? b ^ 1 : b)),
  });
  assert.throws(
    () => decryptFailurePacket(secrets, reason),
    (e: OnionError) => e.code === 'unattributable-failure',
  );
  assert.deepEqual(verifyFailureAttribution(secrets, reason, attributionData), {
    holdTimes: [0, 1, 2],
    invalidAt: 3,
  });
  // Attribution data changed on the first link: hop 0's HMAC covers every hold time and HMAC
  // the route uses (byte 2: hop 0's hold time; byte 368: hop 3's HMAC for its position), so it fails
  // there. Byte 500 belongs to a seventh hop's block, which a 5-hop route never reads.
  const ok = failureThrough();
  const changed = (at: number) => Uint8Array.from(ok.attributionData, (b, i) => (i === at ? b ^ 1 : b));
  assert.equal(verifyFailureAttribution(secrets, ok.reason, changed(2)).invalidAt, 0);
  assert.equal(verifyFailureAttribution(secrets, ok.reason, changed(368)).invalidAt, 0);
  assert.equal(verifyFailureAttribution(secrets, ok.reason, changed(500)).invalidAt, undefined);
  assert.deepEqual(verifyFailureAttribution(secrets, ok.reason, ok.attributionData), {
    holdTimes: [0, 1, 2, 3, 9],
    invalidAt: undefined,
  });
});

test('a downstream hop without attribution data: the hops upstream start an all-zero block', () => {
  let reason = createAttributedFailure(secrets[4]!, { name: 'temporary_node_failure' }, 9).reason;
  let attributionData: Uint8Array | undefined;
  for (let i = 3; i >= 0; i--)
    ({ reason, attributionData } = wrapAttributedFailure(secrets[i]!, reason, attributionData, 7));
  assert.equal(decryptFailurePacket(secrets, reason).hopIndex, 4);
  // Hops 0-3 check out (their hold times), hop 4 sent none.
  assert.deepEqual(verifyFailureAttribution(secrets, reason, attributionData!), {
    holdTimes: [7, 7, 7, 7],
    invalidAt: 4,
  });
});

test('attribution data goes in update_fail_htlc’s TLV and comes back the same', () => {
  const { reason, attributionData } = failureThrough();
  const msg = updateFailHtlc.decode(
    updateFailHtlc.encode({
      type: 131,
      kind: 'update_fail_htlc',
      channelId: new Uint8Array(32),
      id: 3n,
      reason,
      attributionData: attributionToWire(attributionData),
    }),
  );
  assert.deepEqual(attributionFromWire(msg.attributionData!), attributionData);
  assert.throws(
    () => attributionFromWire({ htlcHoldTimes: [1], truncatedHmacs: new Uint8Array(840) }),
    (e: OnionError) => e.code === 'invalid-argument',
  );
  assert.throws(
    () => verifyFulfillAttribution(secrets, new Uint8Array(919)),
    (e: OnionError) => e.code === 'invalid-argument',
  );
  assert.throws(
    () => verifyFulfillAttribution([], attributionData),
    (e: OnionError) => e.code === 'invalid-argument',
  );
});
