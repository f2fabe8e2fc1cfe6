/**
 * Building and peeling payment onions: a 5-hop route round trip, the size limit, and each BOLT 4
 * reader rule with the failure (code, type, offset, reply) the hop must return.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { randomBytes, secp, sha256 } from '@lnkit/crypto';
import { encodeBigSize, writeTlvStream } from '@lnkit/wire';
import { OnionError } from './errors.ts';
import { decryptFailurePacket, replyForOnionError } from './failure.ts';
import { encodeHopPayload, type HopPayload, TLV_KEYSEND_PREIMAGE } from './payload.ts';
import { buildPaymentOnion, PAYMENT_ONION_LENGTH, type RouteHop, routePayloads } from './payment.ts';
import { type IncomingHtlc, type PeeledPayment, peelPaymentOnion } from './peel.ts';
import { HOP_PAYLOADS_LENGTH, hopDataLength, sharedSecretsFor } from './sphinx.ts';
import { chacha20Xor, generateKey, hmac, KEY_MU, KEY_RHO } from './sphinx-keys.ts';
import { ecdhWith, testNodes, toHex } from './test-helpers.ts';

const nodes = testNodes(5);
const paymentHash = sha256(Uint8Array.of(1, 2, 3));
const sessionKey = new Uint8Array(32).fill(0x61);

const route: RouteHop[] = nodes.map((n, i) => ({
  nodeId: n.nodeId,
  shortChannelId: BigInt(1000 + i),
  amountMsat: 1_000_000n + BigInt(4 - i) * 1000n,
  cltvExpiry: 800_000 + (4 - i) * 40,
}));

function htlcFor(packet: Uint8Array, hop: RouteHop): IncomingHtlc {
  return { onionRoutingPacket: packet, paymentHash, amountMsat: hop.amountMsat, cltvExpiry: hop.cltvExpiry };
}

async function rejects(p: Promise<unknown>): Promise<OnionError> {
  const e = await p.then(
    () => assert.fail('expected an OnionError'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof OnionError, `expected an OnionError, got ${e}`);
  return e;
}

/** Peels a one-hop onion to node 0 whose payload is `payload` (raw bytes or typed). */
function oneHop(payload: HopPayload | Uint8Array, htlc: Partial<IncomingHtlc> = {}): Promise<PeeledPayment> {
  const { packet } = buildPaymentOnion({
    sessionKey,
    paymentHash,
    hops: [{ nodeId: nodes[0]!.nodeId, payload }],
  });
  return peelPaymentOnion(
    { onionRoutingPacket: packet, paymentHash, amountMsat: 5000n, cltvExpiry: 700_000, ...htlc },
    ecdhWith(nodes[0]!.privateKey),
  );
}

/** A two-hop onion, peeled at node 0 (a forwarding hop) with `payload` as its payload. */
function forwardWith(payload: HopPayload | Uint8Array): Promise<PeeledPayment> {
  const { packet } = buildPaymentOnion({
    sessionKey,
    paymentHash,
    hops: [
      { nodeId: nodes[0]!.nodeId, payload },
      { nodeId: nodes[1]!.nodeId, payload: { amtToForwardMsat: 1n, outgoingCltvValue: 1 } },
    ],
  });
  return peelPaymentOnion(
    { onionRoutingPacket: packet, paymentHash, amountMsat: 5000n, cltvExpiry: 700_000 },
    ecdhWith(nodes[0]!.privateKey),
  );
}

function assertInvalidPayload(e: OnionError, type: bigint, offset: number): void {
  assert.equal(e.code, 'invalid-onion-payload', e.message);
  assert.deepEqual(e.failure, { name: 'invalid_onion_payload', type, offset });
  assert.equal(e.reply, 'fail');
  assert.ok(e.sharedSecret instanceof Uint8Array);
}

test('a 5-hop route: each hop forwards what the route says, the last receives with the recipient fields', async () => {
  const secret = randomBytes(32);
  const custom = [{ type: 65537n, value: Uint8Array.of(9, 9) }];
  const onion = buildPaymentOnion({
    sessionKey,
    paymentHash,
    hops: routePayloads(route, {
      paymentSecret: secret,
      totalMsat: 3_000_000n,
      paymentMetadata: Uint8Array.of(7),
      customRecords: custom,
    }),
  });
  assert.equal(onion.packet.length, PAYMENT_ONION_LENGTH);
  let packet = onion.packet;
  for (let i = 0; i < 5; i++) {
    const peeled = await peelPaymentOnion(htlcFor(packet, route[i]!), ecdhWith(nodes[i]!.privateKey));
    assert.equal(toHex(peeled.sharedSecret), toHex(onion.sharedSecrets[i]!), `hop ${i} shared secret`);
    if (i < 4) {
      assert.equal(peeled.kind, 'forward');
      if (peeled.kind !== 'forward') return;
      assert.deepEqual(peeled.next, { shortChannelId: route[i + 1]!.shortChannelId });
      assert.equal(peeled.amtToForwardMsat, route[i + 1]!.amountMsat);
      assert.equal(peeled.outgoingCltvValue, route[i + 1]!.cltvExpiry);
      packet = peeled.nextPacket;
    } else {
      assert.equal(peeled.kind, 'receive');
      if (peeled.kind !== 'receive') return;
      assert.equal(peeled.amtToForwardMsat, route[4]!.amountMsat);
      assert.equal(peeled.totalMsat, 3_000_000n);
      assert.deepEqual(peeled.paymentSecret, secret);
      assert.deepEqual(peeled.paymentMetadata, Uint8Array.of(7));
      assert.deepEqual(peeled.customRecords, custom);
    }
  }
});

test('a keysend payment: the preimage is checked against the payment hash', async () => {
  const preimage = randomBytes(32);
  const { packet } = buildPaymentOnion({
    sessionKey,
    paymentHash: sha256(preimage),
    hops: routePayloads([route[4]!], { keysendPreimage: preimage }),
  });
  const peeled = await peelPaymentOnion(
    { ...htlcFor(packet, route[4]!), paymentHash: sha256(preimage) },
    ecdhWith(nodes[4]!.privateKey),
  );
  assert.equal(peeled.kind === 'receive' && toHex(peeled.keysendPreimage!), toHex(preimage));
  // The same onion under another payment hash fails its HMAC; a preimage of another hash is refused.
  const wrong = buildPaymentOnion({
    sessionKey,
    paymentHash,
    hops: [
      {
        nodeId: nodes[0]!.nodeId,
        payload: { amtToForwardMsat: 1n, outgoingCltvValue: 1, keysendPreimage: preimage },
      },
    ],
  });
  const e = await rejects(
    peelPaymentOnion(
      { onionRoutingPacket: wrong.packet, paymentHash, amountMsat: 1n, cltvExpiry: 1 },
      ecdhWith(nodes[0]!.privateKey),
    ),
  );
  // amt (3 bytes), cltv (3), then the preimage at 6.
  assertInvalidPayload(e, TLV_KEYSEND_PREIMAGE, 6);
});

test('a route whose payloads do not fit in 1300 bytes is refused, naming the hop that overflows', () => {
  const withMetadata = (n: number) => routePayloads(route, { paymentMetadata: new Uint8Array(n) });
  const size = (n: number) =>
    withMetadata(n).reduce(
      (sum, h) => sum + hopDataLength(encodeHopPayload(h.payload as HopPayload).length),
      0,
    );
  let fits = 0;
  while (size(fits + 1) <= HOP_PAYLOADS_LENGTH) fits++;
  assert.equal(size(fits), HOP_PAYLOADS_LENGTH, 'the largest metadata fills the packet exactly');
  assert.equal(
    buildPaymentOnion({ sessionKey, paymentHash, hops: withMetadata(fits) }).packet.length,
    PAYMENT_ONION_LENGTH,
  );
  assert.throws(
    () => buildPaymentOnion({ sessionKey, paymentHash, hops: withMetadata(fits + 1) }),
    (e: OnionError) =>
      e.code === 'route-too-long' &&
      e.message.includes(`need ${size(fits + 1)} bytes`) &&
      e.message.includes('hop 4 (of 5) is the first that does not fit'),
  );
});

test('the builder refuses bad keys, even or low custom record types and out-of-range fields', () => {
  const hop = (payload: HopPayload) => [{ nodeId: nodes[0]!.nodeId, payload }];
  const build = (hops: { nodeId: Uint8Array; payload: HopPayload }[], key = sessionKey) =>
    buildPaymentOnion({ sessionKey: key, paymentHash, hops });
  const code = (f: () => unknown, re: RegExp) =>
    assert.throws(
      f,
      (e: OnionError) => e instanceof OnionError && e.code === 'invalid-argument' && re.test(e.message),
    );
  code(
    () => build([{ nodeId: Uint8Array.from([2, ...new Uint8Array(31), 5]), payload: {} }]),
    /hop 0: node id/,
  );
  code(() => build(hop({}), new Uint8Array(32)), /session key/);
  code(() => build(hop({ customRecords: [{ type: 65538n, value: new Uint8Array(0) }] })), /even/);
  code(() => build(hop({ customRecords: [{ type: 65535n, value: new Uint8Array(0) }] })), /65536/);
  code(() => build(hop({ amtToForwardMsat: -1n })), /amtToForwardMsat/);
  code(() => build(hop({ outgoingCltvValue: 2 ** 32 })), /outgoingCltvValue/);
  code(() => build([]), /at least one hop/);
  code(
    () => buildPaymentOnion({ sessionKey, paymentHash: new Uint8Array(31), hops: hop({}) }),
    /payment hash/,
  );
});

test('BADONION: a bad version, key or HMAC is update_fail_malformed_htlc with the sha256 of the onion', async () => {
  const { packet } = buildPaymentOnion({ sessionKey, paymentHash, hops: routePayloads(route) });
  const peel = (p: Uint8Array, h = paymentHash, key = nodes[0]!.privateKey) =>
    peelPaymentOnion({ ...htlcFor(p, route[0]!), paymentHash: h }, ecdhWith(key));
  const cases: [string, Uint8Array, string, Uint8Array?, Uint8Array?][] = [
    ['invalid-onion-version', Uint8Array.from([1, ...packet.subarray(1)]), 'invalid_onion_version'],
    ['invalid-onion-key', Uint8Array.from([0, 4, ...packet.subarray(2)]), 'invalid_onion_key'],
    // x = 5 is not on the curve (5³ + 7 = 132 is not a square mod p).
    [
      'invalid-onion-key',
      Uint8Array.from([0, 2, ...new Uint8Array(31), 5, ...packet.subarray(34)]),
      'invalid_onion_key',
    ],
    [
      'invalid-onion-hmac',
      Uint8Array.from([...packet.subarray(0, 100), packet[100]! ^ 1, ...packet.subarray(101)]),
      'invalid_onion_hmac',
    ],
    ['invalid-onion-hmac', packet, 'invalid_onion_hmac', sha256(Uint8Array.of(9))],
    ['invalid-onion-hmac', packet, 'invalid_onion_hmac', paymentHash, nodes[1]!.privateKey],
  ];
  for (const [code, onion, name, hash, key] of cases) {
    const e = await rejects(peel(onion, hash, key));
    assert.equal(e.code, code);
    assert.equal(e.reply, 'malformed');
    assert.deepEqual(e.failure, { name, sha256OfOnion: sha256(onion) });
    assert.equal(e.sharedSecret, undefined);
    const reply = replyForOnionError(e);
    assert.equal(reply?.kind, 'malformed');
    assert.equal(reply?.kind === 'malformed' && reply.failureCode & 0x8000, 0x8000);
  }
});

/** A one-hop onion to node 0 whose de-obfuscated hop_payloads start with `plain` (valid HMAC). */
function craftedOnion(plain: Uint8Array): Uint8Array {
  const [ss] = sharedSecretsFor(sessionKey, [nodes[0]!.nodeId]);
  const full = new Uint8Array(HOP_PAYLOADS_LENGTH);
  full.set(plain);
  const hopPayloads = chacha20Xor(generateKey(KEY_RHO, ss!), full);
  const packet = new Uint8Array(PAYMENT_ONION_LENGTH);
  packet.set(secp.publicKey(sessionKey), 1);
  packet.set(hopPayloads, 34);
  packet.set(hmac(generateKey(KEY_MU, ss!), hopPayloads, paymentHash), 34 + HOP_PAYLOADS_LENGTH);
  return packet;
}

test('payload framing: lengths 0 and 1 are reserved, a length past hop_payloads or not minimal is refused', async () => {
  for (const payload of [new Uint8Array(0), Uint8Array.of(2)])
    assertInvalidPayload(await rejects(oneHop(payload)), 0n, 0);
  const peel = (plain: number[]) =>
    peelPaymentOnion(
      {
        onionRoutingPacket: craftedOnion(Uint8Array.from(plain)),
        paymentHash,
        amountMsat: 1n,
        cltvExpiry: 1,
      },
      ecdhWith(nodes[0]!.privateKey),
    );
  // 1300 - 3 (prefix) - 32 (HMAC) = 1265 is the longest payload; 1266 runs into the next HMAC.
  assertInvalidPayload(await rejects(peel([0xfd, 0x04, 0xf2])), 0n, 0);
  assertInvalidPayload(await rejects(peel([0xfd, 0x00, 0x10])), 0n, 0);
  // The crafted packet is otherwise fine: a 1265-byte payload of one odd record reads.
  const longest = await peel([0xfd, 0x04, 0xf1, 2, 1, 1, 4, 1, 1, 0x05, 0xfd, 0x04, 0xe7]);
  assert.deepEqual(longest.payload.customRecords?.[0]?.value.length, 1255);
});

test('payload TLV rules: each violation names its record type and byte offset', async () => {
  const amtCltv = [
    { type: 2n, value: Uint8Array.of(0x13, 0x88) },
    { type: 4n, value: Uint8Array.of(1) },
  ];
  // Record offsets: amt at 0 (4 bytes), cltv at 4 (3 bytes), the next record at 7.
  const cases: [string, Uint8Array, bigint, number][] = [
    ['unknown even type', writeTlvStream([...amtCltv, { type: 100n, value: Uint8Array.of(1) }]), 100n, 7],
    ['types out of order', Uint8Array.from([4, 1, 1, 2, 1, 1]), 2n, 3],
    ['non-minimal type', Uint8Array.from([...writeTlvStream(amtCltv), 0xfd, 0, 7, 0]), 0n, 7],
    ['length past the end', Uint8Array.from([...writeTlvStream(amtCltv), 7, 5, 1]), 7n, 7],
    ['tu64 with a leading zero', Uint8Array.from([2, 2, 0, 5, 4, 1, 1]), 2n, 0],
    [
      'short_channel_id not 8 bytes',
      writeTlvStream([...amtCltv, { type: 6n, value: new Uint8Array(7) }]),
      6n,
      7,
    ],
    [
      'payment_data shorter than its secret',
      writeTlvStream([...amtCltv, { type: 8n, value: new Uint8Array(31) }]),
      8n,
      7,
    ],
    [
      'a path key that is not a point',
      writeTlvStream([...amtCltv, { type: 12n, value: new Uint8Array(33) }]),
      12n,
      7,
    ],
  ];
  for (const [what, payload, type, offset] of cases) {
    const e = await rejects(oneHop(payload));
    assert.equal(e.code, 'invalid-onion-payload', what);
    assert.deepEqual(e.failure, { name: 'invalid_onion_payload', type, offset }, what);
  }
});

test('what a forwarding hop must see: amount, expiry, short_channel_id, and no final-hop records', async () => {
  const base = { amtToForwardMsat: 1000n, outgoingCltvValue: 600_000, shortChannelId: 7n };
  const peeled = await forwardWith(base);
  assert.equal(peeled.kind, 'forward');
  assertInvalidPayload(await rejects(forwardWith({ ...base, amtToForwardMsat: undefined })), 2n, 0);
  assertInvalidPayload(await rejects(forwardWith({ ...base, outgoingCltvValue: undefined })), 4n, 0);
  assertInvalidPayload(await rejects(forwardWith({ ...base, shortChannelId: undefined })), 6n, 0);
  // Offsets: amt (4 bytes), cltv (5), scid (10): the next record starts at 19.
  const secret = { paymentSecret: new Uint8Array(32), totalMsat: 1n };
  assertInvalidPayload(await rejects(forwardWith({ ...base, paymentData: secret })), 8n, 19);
  assertInvalidPayload(await rejects(forwardWith({ ...base, paymentMetadata: Uint8Array.of(1) })), 16n, 19);
  assertInvalidPayload(await rejects(forwardWith({ ...base, totalAmountMsat: 5n })), 18n, 19);
  // BOLT 4: a non-final hop with current_path_key returns invalid_onion_blinding, whatever is wrong.
  const pathKey = await rejects(forwardWith({ ...base, currentPathKey: nodes[2]!.nodeId }));
  assert.equal(pathKey.code, 'invalid-onion-blinding');
  assert.equal(pathKey.reply, 'fail');
});

test('what a final hop must see: amount and expiry, no short_channel_id, and an HTLC that carries them', async () => {
  const ok = await oneHop({ amtToForwardMsat: 5000n, outgoingCltvValue: 700_000 });
  assert.equal(ok.kind === 'receive' && ok.totalMsat, 5000n);
  assertInvalidPayload(await rejects(oneHop({ outgoingCltvValue: 700_000 })), 2n, 0);
  assertInvalidPayload(
    await rejects(oneHop({ amtToForwardMsat: 5000n, outgoingCltvValue: 1, shortChannelId: 3n })),
    6n,
    7,
  );
  const late = await rejects(oneHop({ amtToForwardMsat: 5000n, outgoingCltvValue: 700_001 }));
  assert.equal(late.code, 'final-incorrect-cltv-expiry');
  assert.deepEqual(late.failure, { name: 'final_incorrect_cltv_expiry', cltvExpiry: 700_000 });
  const short = await rejects(oneHop({ amtToForwardMsat: 5001n, outgoingCltvValue: 700_000 }));
  assert.equal(short.code, 'final-incorrect-htlc-amount');
  assert.deepEqual(short.failure, { name: 'final_incorrect_htlc_amount', incomingHtlcAmtMsat: 5000n });
  // An unblinded hop does not take a path_key in update_add_htlc.
  const blindedAdd = await rejects(
    oneHop({ amtToForwardMsat: 5000n, outgoingCltvValue: 700_000 }, { pathKey: nodes[3]!.nodeId }),
  );
  assert.equal(blindedAdd.code, 'invalid-onion-blinding');
});

test('a payload failure carries the shared secret for the reply, which the origin attributes to that hop', async () => {
  const { packet, sharedSecrets } = buildPaymentOnion({
    sessionKey,
    paymentHash,
    hops: [
      {
        nodeId: nodes[0]!.nodeId,
        payload: { amtToForwardMsat: 1n, outgoingCltvValue: 1, shortChannelId: 1n },
      },
      { nodeId: nodes[1]!.nodeId, payload: writeTlvStream([{ type: 42n, value: new Uint8Array(0) }]) },
    ],
  });
  const first = await peelPaymentOnion(htlcFor(packet, route[0]!), ecdhWith(nodes[0]!.privateKey));
  assert.equal(first.kind, 'forward');
  if (first.kind !== 'forward') return;
  const e = await rejects(
    peelPaymentOnion(htlcFor(first.nextPacket, route[1]!), ecdhWith(nodes[1]!.privateKey)),
  );
  assertInvalidPayload(e, 42n, 0);
  // Not in logs: neither util.inspect, JSON nor the enumerable keys show the secret.
  assert.ok(!Object.keys(e).includes('sharedSecret'));
  assert.ok(!inspect(e).includes(toHex(e.sharedSecret!).slice(0, 16)));
  assert.ok(!JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).includes('sharedSecret'));
  const reply = replyForOnionError(e);
  assert.equal(reply?.kind, 'fail');
  if (reply?.kind !== 'fail') return;
  const { wrapFailurePacket } = await import('./failure.ts');
  const back = wrapFailurePacket(first.sharedSecret, reply.reason);
  const decrypted = decryptFailurePacket(sharedSecrets, back);
  assert.equal(decrypted.hopIndex, 1);
  assert.deepEqual(decrypted.failure, { name: 'invalid_onion_payload', type: 42n, offset: 0 });
});

test('a failing ECDH (the signer is down) is ecdh-failed with nothing to send', async () => {
  const { packet } = buildPaymentOnion({ sessionKey, paymentHash, hops: routePayloads(route) });
  const e = await rejects(
    peelPaymentOnion(htlcFor(packet, route[0]!), async () => {
      throw new Error('signer pool is closed');
    }),
  );
  assert.equal(e.code, 'ecdh-failed');
  assert.equal(e.failure, undefined);
  assert.equal(replyForOnionError(e), undefined);
  const short = await rejects(peelPaymentOnion(htlcFor(packet, route[0]!), async () => new Uint8Array(31)));
  assert.equal(short.code, 'ecdh-failed');
});

test('the caller’s own mistakes are invalid-argument, not a failure to send', async () => {
  const { packet } = buildPaymentOnion({ sessionKey, paymentHash, hops: routePayloads(route) });
  const ecdh = ecdhWith(nodes[0]!.privateKey);
  for (const htlc of [
    { ...htlcFor(packet, route[0]!), onionRoutingPacket: packet.subarray(1) },
    { ...htlcFor(packet, route[0]!), paymentHash: new Uint8Array(3) },
    { ...htlcFor(packet, route[0]!), amountMsat: -1n },
    { ...htlcFor(packet, route[0]!), cltvExpiry: 1.5 },
  ]) {
    const e = await rejects(peelPaymentOnion(htlc, ecdh));
    assert.equal(e.code, 'invalid-argument');
    assert.equal(e.failure, undefined);
  }
});

test('payloads round-trip through encodeHopPayload and the peel, big BigSize lengths included', async () => {
  const payload: HopPayload = {
    amtToForwardMsat: 0xffff_ffff_ffff_ffffn,
    outgoingCltvValue: 0xffff_ffff,
    paymentData: { paymentSecret: new Uint8Array(32).fill(3), totalMsat: 0n },
    paymentMetadata: new Uint8Array(400).fill(5),
    customRecords: [
      { type: 65537n, value: new Uint8Array(0) },
      { type: 0xffff_ffff_ffff_ffffn, value: Uint8Array.of(1) },
    ],
  };
  const encoded = encodeHopPayload(payload);
  assert.ok(encodeBigSize(encoded.length).length === 3);
  const peeled = await oneHop(payload, { amountMsat: 0xffff_ffff_ffff_ffffn, cltvExpiry: 0xffff_ffff });
  assert.deepEqual(peeled.payload, payload);
});
