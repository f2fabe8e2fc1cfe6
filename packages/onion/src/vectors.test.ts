/**
 * The BOLT 4 JSON vectors (src/fixtures, copied unchanged): onion-test, onion-error-test,
 * route-blinding-test and blinded-payment-onion-test, byte for byte. The onion message vector
 * has its own file (onion-message-vectors.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp } from '@lnkit/crypto';
import { parseShortChannelId } from '@lnkit/wire';
import {
  blindedPayInfo,
  blindingTweak,
  createBlindedPath,
  decodeEncryptedData,
  decryptRecipientData,
  type EncryptedData,
  encodeEncryptedData,
  nextPathKey,
  type PaymentRelay,
} from './blinding.ts';
import { multiply } from './curve.ts';
import { createFailurePacket, decryptFailurePacket, wrapFailurePacket } from './failure.ts';
import { decodeFailureMessage } from './failure-messages.ts';
import { type DecodedPayload, decodeHopPayload, encodeHopPayload, type HopPayload } from './payload.ts';
import { buildPaymentOnion } from './payment.ts';
import { type PeeledPayment, peelPaymentOnion } from './peel.ts';
import { generateKey, KEY_AMMAG, KEY_RHO, KEY_UM } from './sphinx-keys.ts';
import { ecdhWith, fixture, fixtureSha256, hex, stripLength, toHex } from './test-helpers.ts';

interface OnionTest {
  generate: { session_key: string; associated_data: string; hops: { pubkey: string; payload: string }[] };
  onion: string;
  decode: string[];
}

test('the fixtures are the BOLT vectors unchanged (sha256 of the copies in shared/bolts/bolt04)', () => {
  assert.deepEqual(
    Object.fromEntries(
      [
        'blinded-onion-message-onion-test.json',
        'blinded-payment-onion-test.json',
        'onion-error-test.json',
        'onion-test.json',
        'route-blinding-test.json',
      ].map((f) => [f, fixtureSha256(f)]),
    ),
    {
      'blinded-onion-message-onion-test.json':
        'e5e8ac8a42d3d0ce3bb70c12c5bbd76408e022a63322dcf32b00ddd97d051f96',
      'blinded-payment-onion-test.json': 'ce74ab58d12031eebf080c3fde4e259baf9c66bbd1b1cf45f098669ad58b5dab',
      'onion-error-test.json': '374800b8d0dd21920299f4a998c4278f9d66f3a00b5e7b396765d38a50f2ea11',
      'onion-test.json': 'bff01ffc728c3fecbee133eedfdaf39a26984f35cf7e76ed80f14d6e78cb8d56',
      'route-blinding-test.json': 'd2c32e0260e6cb189246ec93bfc606459ef7c8abcad666fab4c496fe9644ef66',
    },
  );
});

test('onion-test: the 5-hop onion with variable-length payloads is built byte for byte', () => {
  const v = fixture<OnionTest>('onion-test.json');
  const onion = buildPaymentOnion({
    sessionKey: hex(v.generate.session_key),
    paymentHash: hex(v.generate.associated_data),
    hops: v.generate.hops.map((h) => ({ nodeId: hex(h.pubkey), payload: stripLength(hex(h.payload)) })),
  });
  assert.equal(toHex(onion.packet), v.onion);
});

test('onion-test: each hop peels its payload and the next onion, the last sees the end', async () => {
  const v = fixture<OnionTest>('onion-test.json');
  let packet = hex(v.onion);
  for (let i = 0; i < v.decode.length; i++) {
    const payload = stripLength(hex(v.generate.hops[i]!.payload));
    const peeled = await peelPaymentOnion(
      {
        onionRoutingPacket: packet,
        paymentHash: hex(v.generate.associated_data),
        amountMsat: 10_000_000n,
        cltvExpiry: 1_000_000,
      },
      ecdhWith(hex(v.decode[i]!)),
    ).catch((e) => e);
    if (i < 4) {
      assert.equal((peeled as PeeledPayment).kind, 'forward', `hop ${i}`);
      const fwd = peeled as Extract<PeeledPayment, { kind: 'forward' }>;
      assert.deepEqual(
        fwd.payload,
        (decodeHopPayload(payload) as DecodedPayload).payload,
        `hop ${i} payload`,
      );
      packet = fwd.nextPacket;
    } else {
      assert.equal((peeled as PeeledPayment).kind, 'receive');
      assert.deepEqual(
        (peeled as PeeledPayment).payload,
        (decodeHopPayload(payload) as DecodedPayload).payload,
      );
      // Hop 1 carries an unknown odd record (type 513): kept, not refused.
    }
  }
});

interface ErrorTest {
  generate: {
    session_key: string;
    failure_message: string;
    hops: {
      pubkey: string;
      hop_shared_secret: string;
      ammag_key: string;
      um_key?: string;
      payload?: string;
    }[];
  };
  errorpacket: string;
}

test('onion-error-test: hop 4 fails, each hop wraps, the origin attributes it to hop 4', () => {
  const v = fixture<ErrorTest>('onion-error-test.json');
  const secrets = v.generate.hops.map((h) => hex(h.hop_shared_secret));
  // The shared secrets are the ones the origin derives from the session key and the route.
  const built = buildPaymentOnion({
    sessionKey: hex(v.generate.session_key),
    paymentHash: new Uint8Array(32),
    hops: v.generate.hops.map((h) => ({
      nodeId: hex(h.pubkey),
      payload: { amtToForwardMsat: 1n, outgoingCltvValue: 1 },
    })),
  });
  assert.deepEqual(
    built.sharedSecrets.map(toHex),
    v.generate.hops.map((h) => h.hop_shared_secret),
  );
  for (const h of v.generate.hops)
    assert.equal(toHex(generateKey(KEY_AMMAG, hex(h.hop_shared_secret))), h.ammag_key);
  const erring = v.generate.hops[4]!;
  assert.equal(toHex(generateKey(KEY_UM, hex(erring.hop_shared_secret))), erring.um_key);
  // The erring hop's packet: (HMAC ||) the vector's payload, then obfuscated with its ammag.
  let packet = createFailurePacket(secrets[4]!, hex(v.generate.failure_message));
  const plain = wrapFailurePacket(secrets[4]!, packet);
  assert.equal(toHex(plain.subarray(32)), erring.payload);
  for (let i = 3; i >= 0; i--) packet = wrapFailurePacket(secrets[i]!, packet);
  assert.equal(toHex(packet), v.errorpacket);
  const decrypted = decryptFailurePacket(secrets, packet);
  assert.equal(decrypted.hopIndex, 4);
  assert.equal(decrypted.failureCode, 0x2002);
  assert.deepEqual(decrypted.failure, { name: 'temporary_node_failure' });
  assert.deepEqual(decodeFailureMessage(hex(v.generate.failure_message)), { name: 'temporary_node_failure' });
});

type VectorTlvs = Record<string, unknown>;

function relayOf(t: VectorTlvs): PaymentRelay {
  const r = t.payment_relay as Record<string, number>;
  return {
    cltvExpiryDelta: r.cltv_expiry_delta!,
    feeProportionalMillionths: r.fee_proportional_millionths ?? 0,
    feeBaseMsat: r.fee_base_msat ?? 0,
  };
}

/** The vectors' JSON view of an encrypted_data_tlv, as this package's type. */
function encryptedDataOf(t: VectorTlvs): EncryptedData {
  const d: EncryptedData = {};
  if (t.padding !== undefined) d.padding = hex(t.padding as string);
  if (t.short_channel_id) d.shortChannelId = parseShortChannelId(t.short_channel_id as string);
  if (t.next_node_id) d.nextNodeId = hex(t.next_node_id as string);
  if (t.path_id) d.pathId = hex(t.path_id as string);
  if (t.next_path_key_override) d.nextPathKeyOverride = hex(t.next_path_key_override as string);
  if (t.payment_relay) d.paymentRelay = relayOf(t);
  if (t.payment_constraints) {
    const c = t.payment_constraints as Record<string, number>;
    d.paymentConstraints = {
      maxCltvExpiry: c.max_cltv_expiry!,
      htlcMinimumMsat: BigInt(c.htlc_minimum_msat!),
    };
  }
  if (t.allowed_features) {
    const bits = (t.allowed_features as { features: number[] }).features;
    const bytes = new Uint8Array(bits.length ? Math.floor(Math.max(...bits) / 8) + 1 : 0);
    for (const b of bits) bytes[bytes.length - 1 - Math.floor(b / 8)]! |= 1 << (b % 8);
    d.allowedFeatures = bytes;
  }
  for (const [k, v] of Object.entries(t)) {
    const m = /^unknown_tag_(\d+)$/.exec(k);
    if (!m) continue;
    d.unknownTlvs ??= [];
    d.unknownTlvs.push({ type: BigInt(m[1]!), value: hex(v as string) });
  }
  return d;
}

interface RouteBlindingTest {
  generate: {
    hops: {
      session_key?: string;
      node_id: string;
      tlvs: VectorTlvs;
      encoded_tlvs: string;
      path_privkey: string;
      path_key: string;
      shared_secret: string;
      rho: string;
      encrypted_data: string;
      blinded_node_id: string;
    }[];
  };
  route: {
    first_node_id: string;
    first_path_key: string;
    hops: { blinded_node_id: string; encrypted_data: string }[];
  };
  unblind: {
    hops: {
      node_privkey: string;
      path_key: string;
      blinded_privkey: string;
      decrypted_data: string;
      next_path_key: string;
      next_path_key_override?: string;
    }[];
  };
}

test('route-blinding-test: the encrypted_data_tlv of each hop encodes as the vector', () => {
  const v = fixture<RouteBlindingTest>('route-blinding-test.json');
  for (const h of v.generate.hops) {
    assert.equal(toHex(encodeEncryptedData(encryptedDataOf(h.tlvs))), h.encoded_tlvs);
    assert.deepEqual(decodeEncryptedData(hex(h.encoded_tlvs)), encryptedDataOf(h.tlvs));
  }
});

test('route-blinding-test: Bob→Carol joined to Eve’s Dave→Eve gives the vector’s route', () => {
  const v = fixture<RouteBlindingTest>('route-blinding-test.json');
  const [bob, carol, dave, eve] = v.generate.hops;
  // Eve builds Dave→Eve; Bob builds Bob→Carol with Carol's data overriding the next path key
  // to Eve's first one, then appends Eve's hops.
  const tail = createBlindedPath({
    sessionKey: hex(dave!.session_key!),
    hops: [dave!, eve!].map((h) => ({ nodeId: hex(h.node_id), encryptedData: hex(h.encoded_tlvs) })),
  });
  assert.equal(toHex(tail.firstPathKey), dave!.path_key);
  const head = createBlindedPath({
    sessionKey: hex(bob!.session_key!),
    hops: [bob!, carol!].map((h) => ({ nodeId: hex(h.node_id), encryptedData: encryptedDataOf(h.tlvs) })),
    padToEqualLength: false,
  });
  assert.equal(toHex(encryptedDataOf(carol!.tlvs).nextPathKeyOverride!), toHex(tail.firstPathKey));
  assert.equal(toHex(head.firstNodeId), v.route.first_node_id);
  assert.equal(toHex(head.firstPathKey), v.route.first_path_key);
  assert.deepEqual(
    [...head.hops, ...tail.hops].map((h) => ({
      blinded_node_id: toHex(h.blindedNodeId),
      encrypted_data: toHex(h.encryptedRecipientData),
    })),
    v.route.hops,
  );
  // The intermediate values of the generation, hop by hop.
  for (const h of v.generate.hops) {
    const ss = secp.ecdh(hex(h.path_privkey), hex(h.node_id));
    assert.equal(toHex(ss), h.shared_secret);
    assert.equal(toHex(generateKey(KEY_RHO, ss)), h.rho);
    assert.equal(toHex(secp.publicKey(hex(h.path_privkey))), h.path_key);
  }
});

test('route-blinding-test: each hop unblinds its data and the next path key', () => {
  const v = fixture<RouteBlindingTest>('route-blinding-test.json');
  v.unblind.hops.forEach((h, i) => {
    const nodeKey = hex(h.node_privkey);
    const ss = secp.ecdh(nodeKey, hex(h.path_key));
    const plain = decryptRecipientData(ss, hex(v.route.hops[i]!.encrypted_data));
    assert.equal(toHex(plain!), h.decrypted_data);
    const data = decodeEncryptedData(plain!);
    // Without the override, the chained key; with it (Carol), the override wins.
    assert.equal(toHex(nextPathKey(hex(h.path_key), ss)), h.next_path_key);
    if (h.next_path_key_override)
      assert.equal(toHex(nextPathKey(hex(h.path_key), ss, data)), h.next_path_key_override);
    // The blinded private key is the node key times the tweak: its public key is the blinded id.
    const blindedPublic = multiply(secp.publicKey(nodeKey), blindingTweak(ss));
    assert.equal(toHex(blindedPublic), v.route.hops[i]!.blinded_node_id);
    assert.equal(toHex(secp.publicKey(hex(h.blinded_privkey))), v.route.hops[i]!.blinded_node_id);
  });
});

interface BlindedPaymentTest {
  generate: {
    session_key: string;
    associated_data: string;
    final_amount_msat: number;
    final_cltv: number;
    blinded_payinfo: {
      fee_base_msat: number;
      fee_proportional_millionths: number;
      cltv_expiry_delta: number;
    };
    blinded_route: {
      first_node_id: string;
      first_path_key: string;
      hops: { blinded_node_id: string; encrypted_data: string }[];
    };
    full_route: { hops: { alias: string; pubkey: string; payload: string; tlvs: VectorTlvs }[] };
    onion: string;
  };
  decrypt: { hops: { alias: string; onion: string; node_privkey: string; next_path_key?: string }[] };
}

/** The vector's JSON view of a payment payload, as a HopPayload. */
function hopPayloadOf(t: VectorTlvs, encryptedData: string | undefined): HopPayload {
  const p: HopPayload = {};
  if (t.amt_to_forward !== undefined) p.amtToForwardMsat = BigInt(t.amt_to_forward as number);
  if (t.outgoing_cltv_value !== undefined) p.outgoingCltvValue = t.outgoing_cltv_value as number;
  if (t.outgoing_channel_id) p.shortChannelId = parseShortChannelId(t.outgoing_channel_id as string);
  if (t.total_amount_msat !== undefined) p.totalAmountMsat = BigInt(t.total_amount_msat as number);
  if (t.current_path_key) p.currentPathKey = hex(t.current_path_key as string);
  if (encryptedData) p.encryptedRecipientData = hex(encryptedData);
  return p;
}

test('blinded-payment-onion-test: typed payloads encode as the vector and build its onion', () => {
  const v = fixture<BlindedPaymentTest>('blinded-payment-onion-test.json');
  const g = v.generate;
  const blindedData = [undefined, ...g.blinded_route.hops.map((h) => h.encrypted_data)];
  const hops = g.full_route.hops.map((h, i) => {
    const payload = hopPayloadOf(h.tlvs, blindedData[i]);
    assert.equal(toHex(encodeHopPayload(payload)), toHex(stripLength(hex(h.payload))), `${h.alias} payload`);
    return { nodeId: hex(h.pubkey), payload };
  });
  // Bob is reached by his real id; the rest by their blinded ids from the blinded route.
  assert.equal(g.full_route.hops[1]!.pubkey, g.blinded_route.first_node_id);
  for (const [i, b] of g.blinded_route.hops.slice(1).entries())
    assert.equal(g.full_route.hops[i + 2]!.pubkey, b.blinded_node_id);
  const onion = buildPaymentOnion({
    sessionKey: hex(g.session_key),
    paymentHash: hex(g.associated_data),
    hops,
  });
  assert.equal(toHex(onion.packet), g.onion);
  // The pay info the recipient would have published, from the relays in the encrypted data.
  const relays = g.full_route.hops
    .slice(1, 4)
    .map((h) => relayOf(h.tlvs.encrypted_recipient_data as VectorTlvs));
  assert.deepEqual(blindedPayInfo(relays, 0), {
    feeBaseMsat: g.blinded_payinfo.fee_base_msat,
    feeProportionalMillionths: g.blinded_payinfo.fee_proportional_millionths,
    cltvExpiryDelta: g.blinded_payinfo.cltv_expiry_delta,
  });
});

test('blinded-payment-onion-test: Alice forwards, Bob peels as introduction node, Carol and Dave inside, Eve receives', async () => {
  const v = fixture<BlindedPaymentTest>('blinded-payment-onion-test.json');
  const g = v.generate;
  const paymentHash = hex(g.associated_data);
  const hops = v.decrypt.hops;
  // Alice charges no fee and adds no delta (vector comment): Bob's HTLC is what Alice's payload says.
  let htlc = {
    onionRoutingPacket: hex(hops[0]!.onion),
    paymentHash,
    amountMsat: 110_125n,
    cltvExpiry: 749_150,
    pathKey: undefined as Uint8Array | undefined,
  };
  const roles: (string | undefined)[] = [];
  for (let i = 0; i < hops.length; i++) {
    assert.equal(toHex(htlc.onionRoutingPacket), hops[i]!.onion, `${hops[i]!.alias}'s onion`);
    const peeled = await peelPaymentOnion(htlc, ecdhWith(hex(hops[i]!.node_privkey)));
    roles.push(peeled.blinded?.role);
    if (i < hops.length - 1) {
      assert.equal(peeled.kind, 'forward', hops[i]!.alias);
      if (peeled.kind !== 'forward') return;
      // Each hop's next_path_key is the one it hands on (Alice, outside the route, has none).
      if (hops[i]!.next_path_key) assert.equal(toHex(peeled.nextPathKey!), hops[i]!.next_path_key);
      else assert.equal(peeled.nextPathKey, undefined);
      htlc = {
        onionRoutingPacket: peeled.nextPacket,
        paymentHash,
        amountMsat: peeled.amtToForwardMsat,
        cltvExpiry: peeled.outgoingCltvValue,
        pathKey: peeled.nextPathKey,
      };
    } else {
      assert.equal(peeled.kind, 'receive');
      if (peeled.kind !== 'receive') return;
      assert.equal(peeled.amtToForwardMsat, BigInt(g.final_amount_msat));
      assert.equal(peeled.outgoingCltvValue, g.final_cltv);
      assert.equal(peeled.totalMsat, 150_000n);
      assert.equal(toHex(peeled.pathId!), 'c9cf92f45ade68345bc20ae672e2012f4af487ed4415');
      // The relays' fees add up to what each hop got: Eve is paid exactly the final amount.
      assert.equal(htlc.amountMsat, 100_000n);
      assert.equal(htlc.cltvExpiry, 749_000);
    }
  }
  assert.deepEqual(roles, [undefined, 'introduction', 'inside', 'inside', 'inside']);
});
