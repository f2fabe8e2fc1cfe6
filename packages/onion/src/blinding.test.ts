/**
 * Route blinding end to end with lnkit on every side: Dave builds a blinded path Bob → Carol →
 * Dave, the sender reaches Bob through Alice, and each hop peels (Bob as introduction node,
 * Carol and Dave inside the route); then each blinded rule broken, with the reply BOLT 2 asks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '@lnkit/crypto';
import {
  blindedForwardValues,
  blindedPayInfo,
  createBlindedPath,
  type EncryptedData,
  type PaymentRelay,
} from './blinding.ts';
import { OnionError } from './errors.ts';
import { decryptFailurePacket, failPeeledHtlc, replyForOnionError, wrapFailurePacket } from './failure.ts';
import { FAILURE_CODES } from './failure-messages.ts';
import type { HopPayload } from './payload.ts';
import { buildPaymentOnion } from './payment.ts';
import { type IncomingHtlc, type PeeledPayment, peelPaymentOnion } from './peel.ts';
import { ecdhWith, testNodes, toHex } from './test-helpers.ts';

const [alice, bob, carol, dave] = testNodes(4) as [
  ReturnType<typeof testNodes>[0],
  ReturnType<typeof testNodes>[0],
  ReturnType<typeof testNodes>[0],
  ReturnType<typeof testNodes>[0],
];
const paymentHash = sha256(Uint8Array.of(5));
const HEIGHT = 800_000;
const MIN_FINAL = 18;
const FINAL_MSAT = 50_000n;
const relayBob: PaymentRelay = { cltvExpiryDelta: 40, feeProportionalMillionths: 100, feeBaseMsat: 1000 };
const relayCarol: PaymentRelay = { cltvExpiryDelta: 34, feeProportionalMillionths: 2500, feeBaseMsat: 10 };

interface Scenario {
  bobData?: Partial<EncryptedData>;
  carolData?: Partial<EncryptedData>;
  daveData?: Partial<EncryptedData>;
  carolPayload?: Partial<HopPayload>;
  davePayload?: Partial<HopPayload>;
}

function scenario(s: Scenario = {}) {
  const path = createBlindedPath({
    sessionKey: new Uint8Array(32).fill(0x0b),
    hops: [
      {
        nodeId: bob.nodeId,
        encryptedData: {
          shortChannelId: 0x0c_3500_0001_0000n,
          paymentRelay: relayBob,
          paymentConstraints: { maxCltvExpiry: HEIGHT + 2000, htlcMinimumMsat: 1000n },
          ...s.bobData,
        },
      },
      {
        nodeId: carol.nodeId,
        encryptedData: {
          nextNodeId: dave.nodeId,
          paymentRelay: relayCarol,
          paymentConstraints: { maxCltvExpiry: HEIGHT + 2000 - 40, htlcMinimumMsat: 1000n },
          ...s.carolData,
        },
      },
      { nodeId: dave.nodeId, encryptedData: { pathId: Uint8Array.of(0xd, 0xa, 0x7e), ...s.daveData } },
    ],
  });
  const payInfo = blindedPayInfo([relayBob, relayCarol], MIN_FINAL);
  // The sender: the intro HTLC pays the path's fees (rounded up) and its CLTV delta.
  const introMsat =
    FINAL_MSAT +
    BigInt(payInfo.feeBaseMsat) +
    (FINAL_MSAT * BigInt(payInfo.feeProportionalMillionths) + 999_999n) / 1_000_000n;
  const introCltv = HEIGHT + payInfo.cltvExpiryDelta;
  const [b, c, d] = path.hops;
  const onion = buildPaymentOnion({
    sessionKey: new Uint8Array(32).fill(0x5e),
    paymentHash,
    hops: [
      {
        nodeId: alice.nodeId,
        payload: { amtToForwardMsat: introMsat, outgoingCltvValue: introCltv, shortChannelId: 77n },
      },
      {
        nodeId: path.firstNodeId,
        payload: { encryptedRecipientData: b!.encryptedRecipientData, currentPathKey: path.firstPathKey },
      },
      {
        nodeId: c!.blindedNodeId,
        payload: { encryptedRecipientData: c!.encryptedRecipientData, ...s.carolPayload },
      },
      {
        nodeId: d!.blindedNodeId,
        payload: {
          amtToForwardMsat: FINAL_MSAT,
          outgoingCltvValue: HEIGHT,
          totalAmountMsat: FINAL_MSAT,
          encryptedRecipientData: d!.encryptedRecipientData,
          ...s.davePayload,
        },
      },
    ],
  });
  return {
    path,
    payInfo,
    onion,
    first: {
      onionRoutingPacket: onion.packet,
      paymentHash,
      amountMsat: introMsat,
      cltvExpiry: introCltv + 20,
    },
  };
}

const keys = [alice, bob, carol, dave];

/** Peels hop by hop; `tweak` may change the HTLC a hop receives. Returns every result (or the error). */
async function walk(
  first: IncomingHtlc,
  tweak: (i: number, htlc: IncomingHtlc) => IncomingHtlc = (_i, h) => h,
): Promise<{ results: PeeledPayment[]; htlcs: IncomingHtlc[]; error?: OnionError }> {
  const results: PeeledPayment[] = [];
  const htlcs: IncomingHtlc[] = [];
  let htlc: IncomingHtlc = { ...first, cltvExpiry: first.cltvExpiry - 20 };
  for (let i = 0; i < keys.length; i++) {
    htlc = tweak(i, htlc);
    htlcs.push(htlc);
    let peeled: PeeledPayment;
    try {
      peeled = await peelPaymentOnion(htlc, ecdhWith(keys[i]!.privateKey));
    } catch (e) {
      assert.ok(e instanceof OnionError, String(e));
      return { results, htlcs, error: e };
    }
    results.push(peeled);
    if (peeled.kind === 'receive') break;
    const next: IncomingHtlc = {
      onionRoutingPacket: peeled.nextPacket,
      paymentHash,
      amountMsat: peeled.amtToForwardMsat,
      cltvExpiry: peeled.outgoingCltvValue,
    };
    if (peeled.nextPathKey) next.pathKey = peeled.nextPathKey;
    htlc = next;
  }
  return { results, htlcs };
}

test('a blinded payment: Alice forwards, Bob introduces, Carol forwards to a node id, Dave receives with his path_id', async () => {
  const { path, first } = scenario();
  // BOLT 4: SHOULD pad all encrypted_data_tlv to one length (the default here).
  assert.equal(new Set(path.hops.map((h) => h.encryptedRecipientData.length)).size, 1);
  const { results, error } = await walk(first);
  assert.equal(error, undefined, error?.message);
  const [a, b, c, d] = results;
  assert.deepEqual(
    [a, b, c, d].map((r) => r?.blinded?.role),
    [undefined, 'introduction', 'inside', 'inside'],
  );
  assert.ok(a?.kind === 'forward' && b?.kind === 'forward' && c?.kind === 'forward' && d?.kind === 'receive');
  assert.deepEqual(a.next, { shortChannelId: 77n });
  assert.deepEqual(b.next, { shortChannelId: 0x0c_3500_0001_0000n });
  assert.deepEqual(c.next, { nodeId: dave.nodeId });
  assert.equal(a.nextPathKey, undefined);
  assert.ok(b.nextPathKey && c.nextPathKey);
  // Each hop forwards what its payment_relay leaves, and Dave gets at least the final amount.
  const afterBob = blindedForwardValues(a.amtToForwardMsat, a.outgoingCltvValue, relayBob)!;
  assert.equal(b.amtToForwardMsat, afterBob.amtToForwardMsat);
  assert.equal(b.outgoingCltvValue, a.outgoingCltvValue - relayBob.cltvExpiryDelta);
  assert.equal(c.outgoingCltvValue, HEIGHT + MIN_FINAL);
  assert.ok(c.amtToForwardMsat >= FINAL_MSAT);
  assert.equal(d.amtToForwardMsat, FINAL_MSAT);
  assert.equal(d.totalMsat, FINAL_MSAT);
  assert.equal(toHex(d.pathId!), '0d0a7e');
});

test('inside the route every failure is update_fail_malformed_htlc(invalid_onion_blinding) with the sha256 of the onion', async () => {
  const cases: [string, Scenario, ((i: number, h: IncomingHtlc) => IncomingHtlc)?][] = [
    [
      'an amount below htlc_minimum_msat',
      { carolData: { paymentConstraints: { maxCltvExpiry: HEIGHT + 5000, htlcMinimumMsat: 10n ** 9n } } },
    ],
    [
      'an expiry past max_cltv_expiry',
      { carolData: { paymentConstraints: { maxCltvExpiry: HEIGHT, htlcMinimumMsat: 1n } } },
    ],
    ['a record other than the encrypted data', { carolPayload: { amtToForwardMsat: 5n } }],
    [
      'a current_path_key beside update_add_htlc’s path_key',
      { carolPayload: { currentPathKey: bob.nodeId } },
    ],
    ['no payment_relay', { carolData: { paymentRelay: undefined } }],
    ['both short_channel_id and next_node_id', { carolData: { shortChannelId: 5n } }],
    ['neither short_channel_id nor next_node_id', { carolData: { nextNodeId: undefined } }],
    ['an allowed_features bit', { carolData: { allowedFeatures: Uint8Array.of(0x01) } }],
    [
      'an unknown even record in the data',
      { carolData: { unknownTlvs: [{ type: 40n, value: new Uint8Array(0) }] } },
    ],
    ['an HTLC expiring within the relay’s delta', {}, (i, h) => (i === 2 ? { ...h, cltvExpiry: 20 } : h)],
    [
      'a tampered onion',
      {},
      (i, h) => (i === 2 ? { ...h, onionRoutingPacket: flip(h.onionRoutingPacket, 500) } : h),
    ],
    [
      'a path key off the curve',
      {},
      (i, h) => (i === 2 ? { ...h, pathKey: Uint8Array.from([2, ...new Uint8Array(31), 5]) } : h),
    ],
    ['a wrong path key', {}, (i, h) => (i === 2 ? { ...h, pathKey: dave.nodeId } : h)],
  ];
  for (const [what, s, tweak] of cases) {
    const { error, htlcs, results } = await walk(scenario(s).first, tweak);
    assert.equal(results.length, 2, `${what}: Alice and Bob peel`);
    assert.ok(error, what);
    assert.equal(error.code, 'invalid-onion-blinding', what);
    assert.equal(error.reply, 'malformed', what);
    assert.deepEqual(
      error.failure,
      { name: 'invalid_onion_blinding', sha256OfOnion: sha256(htlcs[2]!.onionRoutingPacket) },
      what,
    );
    assert.deepEqual(replyForOnionError(error), {
      kind: 'malformed',
      failureCode: FAILURE_CODES.invalid_onion_blinding,
      sha256OfOnion: sha256(htlcs[2]!.onionRoutingPacket),
    });
  }
});

test('the blinded final hop: amount, expiry and total_amount_msat required, nothing else allowed, the HTLC must carry them', async () => {
  const cases: [string, Scenario, ((i: number, h: IncomingHtlc) => IncomingHtlc)?][] = [
    ['no total_amount_msat', { davePayload: { totalAmountMsat: undefined } }],
    ['no amt_to_forward', { davePayload: { amtToForwardMsat: undefined } }],
    ['a custom record', { davePayload: { customRecords: [{ type: 65537n, value: new Uint8Array(0) }] } }],
    ['an HTLC below amt_to_forward', { davePayload: { amtToForwardMsat: FINAL_MSAT * 2n } }],
    ['an HTLC expiring before outgoing_cltv_value', { davePayload: { outgoingCltvValue: HEIGHT + 1000 } }],
    ['data that does not decrypt', { davePayload: { encryptedRecipientData: new Uint8Array(40) } }],
  ];
  for (const [what, s, tweak] of cases) {
    const { error, results } = await walk(scenario(s).first, tweak);
    assert.equal(results.length, 3, what);
    assert.equal(error?.code, 'invalid-onion-blinding', what);
    assert.equal(error?.reply, 'malformed', what);
  }
});

test('at the introduction node a failure is update_fail_htlc(invalid_onion_blinding), which the origin attributes to it', async () => {
  const s = scenario({ bobData: { paymentRelay: undefined } });
  const { error, htlcs, results } = await walk(s.first);
  assert.equal(results.length, 1);
  assert.equal(error?.code, 'invalid-onion-blinding');
  assert.equal(error?.reply, 'fail');
  const reply = replyForOnionError(error!);
  assert.equal(reply?.kind, 'fail');
  if (reply?.kind !== 'fail') return;
  const back = wrapFailurePacket(s.onion.sharedSecrets[0]!, reply.reason);
  const got = decryptFailurePacket(s.onion.sharedSecrets, back);
  assert.equal(got.hopIndex, 1);
  assert.deepEqual(got.failure, {
    name: 'invalid_onion_blinding',
    sha256OfOnion: sha256(htlcs[1]!.onionRoutingPacket),
  });
});

test('failing a peeled HTLC later follows the same rules: the reason hides everything behind the introduction node', async () => {
  const { results, htlcs } = await walk(scenario().first);
  const failure = { name: 'temporary_channel_failure', channelUpdate: new Uint8Array(0) } as const;
  const [a, b, c] = results;
  const plain = failPeeledHtlc(a!, htlcs[0]!.onionRoutingPacket, failure);
  assert.equal(plain.kind, 'fail');
  const intro = failPeeledHtlc(b!, htlcs[1]!.onionRoutingPacket, failure);
  assert.equal(intro.kind, 'fail');
  if (intro.kind === 'fail') {
    const s = scenario();
    const got = decryptFailurePacket(
      s.onion.sharedSecrets,
      wrapFailurePacket(s.onion.sharedSecrets[0]!, intro.reason),
    );
    assert.equal(got.failure?.name, 'invalid_onion_blinding');
  }
  assert.deepEqual(failPeeledHtlc(c!, htlcs[2]!.onionRoutingPacket, failure), {
    kind: 'malformed',
    failureCode: FAILURE_CODES.invalid_onion_blinding,
    sha256OfOnion: sha256(htlcs[2]!.onionRoutingPacket),
  });
});

test('blinded pay info rounds up, and the forward values invert it', () => {
  assert.deepEqual(blindedPayInfo([], 18), {
    feeBaseMsat: 0,
    feeProportionalMillionths: 0,
    cltvExpiryDelta: 18,
  });
  assert.equal(blindedForwardValues(999n, 100, relayBob), undefined);
  assert.equal(blindedForwardValues(10_000n, 10, relayBob), undefined);
  // (10000 - 1000) · 10^6 / (10^6 + 100) = 8999.1, rounded up.
  assert.deepEqual(blindedForwardValues(10_000n, 100, relayBob), {
    amtToForwardMsat: 9_000n,
    outgoingCltvValue: 60,
  });
  assert.throws(
    () => blindedPayInfo([{ cltvExpiryDelta: 70_000, feeBaseMsat: 0, feeProportionalMillionths: 0 }], 0),
    (e: OnionError) => e.code === 'invalid-argument',
  );
});

test('createBlindedPath refuses a bad node id or an empty path', () => {
  assert.throws(
    () => createBlindedPath({ sessionKey: new Uint8Array(32).fill(1), hops: [] }),
    (e: OnionError) => e.code === 'invalid-argument',
  );
  assert.throws(
    () =>
      createBlindedPath({
        sessionKey: new Uint8Array(32).fill(1),
        hops: [{ nodeId: new Uint8Array(33), encryptedData: {} }],
      }),
    (e: OnionError) => e.code === 'invalid-argument' && /hop 0/.test(e.message),
  );
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at]! ^= 1;
  return out;
}
