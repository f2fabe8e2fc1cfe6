/**
 * Onion interop with LDK (lightningdevkit 0.1.0, WASM), both directions as far as its bindings
 * reach: LDK's `peel_payment_onion` peels payment onions lnkit builds (forward, receive, keysend,
 * custom records, and route blinding with LDK as introduction node and inside the route) and
 * returns the same failure codes lnkit does for broken ones; and lnkit peels, hop by hop, an
 * onion message LDK builds with `create_onion_message` (LDK's bindings build payment onions only
 * inside ChannelManager.send_payment, which needs open channels).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { randomBytes, secp, sha256 } from '@lnkit/crypto';
import {
  blindedForwardValues,
  buildPaymentOnion,
  createBlindedPath,
  decodeEncryptedData,
  decryptRecipientData,
  FAILURE_CODES,
  failureCode,
  nextPathKey,
  OnionError,
  type PaymentOnionHop,
  peelOnionPacket,
  peelPaymentOnion,
  routePayloads,
} from '@lnkit/onion';
import { readTlvStream } from '@lnkit/wire';
import * as ldk from 'lightningdevkit';
import { initLdk } from '../support/ldk/ldk-peer.ts';

const HEIGHT = 800_000;
let signer: ldk.NodeSigner;
let keysManager: ldk.KeysManager;
let ldkNodeId: Uint8Array;
let logger: ldk.Logger;
const lnkitKeys = [0x31, 0x32, 0x33, 0x34, 0x35].map((b) => new Uint8Array(32).fill(b));
const lnkitIds = lnkitKeys.map((k) => secp.publicKey(k));

before(async () => {
  await initLdk();
  keysManager = ldk.KeysManager.constructor_new(new Uint8Array(32).fill(9), 1n, 0);
  signer = keysManager.as_NodeSigner();
  ldkNodeId = (signer.get_node_id(ldk.Recipient.LDKRecipient_Node) as ldk.Result_PublicKeyNoneZ_OK).res;
  logger = ldk.Logger.new_impl({ log() {} });
});

/** LDK's own node-key ECDH (NodeSigner::ecdh): what lnkit's peel gets as its ECDH to play LDK's node. */
async function ldkEcdh(publicKey: Uint8Array): Promise<Uint8Array> {
  const r = signer.ecdh(
    ldk.Recipient.LDKRecipient_Node,
    publicKey,
    ldk.Option_BigEndianScalarZ.constructor_none(),
  );
  assert.ok(r instanceof ldk.Result_ThirtyTwoBytesNoneZ_OK, 'LDK ECDH');
  return r.res;
}

interface LdkPeel {
  ok?: ldk.PendingHTLCInfo;
  errCode?: number;
  errMsg?: string;
}

function ldkPeel(
  packet: Uint8Array,
  paymentHash: Uint8Array,
  amountMsat: bigint,
  cltvExpiry: number,
  pathKey?: Uint8Array,
): LdkPeel {
  const read = ldk.OnionPacket.constructor_read(packet);
  assert.ok(read instanceof ldk.Result_OnionPacketDecodeErrorZ_OK, 'LDK reads the packet');
  const msg = ldk.UpdateAddHTLC.constructor_new(
    ldk.ChannelId.constructor_new_zero(),
    0n,
    amountMsat,
    paymentHash,
    cltvExpiry,
    ldk.Option_u64Z.constructor_none(),
    read.res,
    pathKey ?? null,
  );
  const r = ldk.UtilMethods.constructor_peel_payment_onion(msg, signer, logger, HEIGHT, false);
  if (r instanceof ldk.Result_PendingHTLCInfoInboundHTLCErrZ_OK) return { ok: r.res };
  const err = (r as ldk.Result_PendingHTLCInfoInboundHTLCErrZ_Err).err;
  // The bindings give the u16 failure code as a signed 16-bit number.
  return { errCode: err.get_err_code() & 0xffff, errMsg: err.get_msg() };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('LDK forwards an lnkit onion: same shared secret, amount, expiry, channel; lnkit peels the onion LDK hands on', async () => {
  const paymentHash = sha256(randomBytes(32));
  const route = [
    { nodeId: ldkNodeId, shortChannelId: 1n, amountMsat: 7000n, cltvExpiry: HEIGHT + 200 },
    // LDK refuses to forward with less than its minimum cltv_expiry_delta (72): 100 here.
    {
      nodeId: lnkitIds[0]!,
      shortChannelId: 0x0c_3500_0002_0001n,
      amountMsat: 6000n,
      cltvExpiry: HEIGHT + 100,
    },
  ];
  const onion = buildPaymentOnion({
    sessionKey: randomBytes(32),
    paymentHash,
    hops: routePayloads(route, { paymentSecret: new Uint8Array(32).fill(5) }),
  });
  const { ok, errMsg } = ldkPeel(onion.packet, paymentHash, 7000n, HEIGHT + 200);
  assert.ok(ok, errMsg);
  assert.equal(hex(ok.get_incoming_shared_secret()), hex(onion.sharedSecrets[0]!));
  assert.equal(ok.get_outgoing_amt_msat(), 6000n);
  assert.equal(ok.get_outgoing_cltv_value(), HEIGHT + 100);
  const routing = ok.get_routing();
  assert.ok(routing instanceof ldk.PendingHTLCRouting_Forward);
  assert.equal(routing.short_channel_id, 0x0c_3500_0002_0001n);
  const next = await peelPaymentOnion(
    {
      onionRoutingPacket: routing.onion_packet.write(),
      paymentHash,
      amountMsat: 6000n,
      cltvExpiry: HEIGHT + 160,
    },
    async (k) => secp.ecdh(lnkitKeys[0]!, k),
  );
  assert.equal(next.kind, 'receive');
  assert.equal(next.kind === 'receive' && next.amtToForwardMsat, 6000n);
});

test('LDK receives from an lnkit onion: payment secret, total, metadata and custom records; keysend preimage', () => {
  const paymentHash = sha256(randomBytes(32));
  const route = [{ nodeId: ldkNodeId, shortChannelId: 1n, amountMsat: 5000n, cltvExpiry: HEIGHT + 100 }];
  const onion = buildPaymentOnion({
    sessionKey: randomBytes(32),
    paymentHash,
    hops: routePayloads(route, {
      paymentSecret: new Uint8Array(32).fill(6),
      totalMsat: 15_000n,
      paymentMetadata: Uint8Array.of(1, 2, 3),
      customRecords: [{ type: 65537n, value: Uint8Array.of(4, 5) }],
    }),
  });
  const { ok, errMsg } = ldkPeel(onion.packet, paymentHash, 5000n, HEIGHT + 100);
  assert.ok(ok, errMsg);
  const routing = ok.get_routing();
  assert.ok(routing instanceof ldk.PendingHTLCRouting_Receive);
  assert.equal(hex(routing.payment_data.get_payment_secret()), '06'.repeat(32));
  assert.equal(routing.payment_data.get_total_msat(), 15_000n);
  assert.ok(routing.payment_metadata instanceof ldk.Option_CVec_u8ZZ_Some);
  assert.equal(hex(routing.payment_metadata.some), '010203');
  assert.deepEqual(
    routing.custom_tlvs.map((t) => [t.get_a(), hex(t.get_b())]),
    [[65537n, '0405']],
  );
  const preimage = randomBytes(32);
  const keysend = buildPaymentOnion({
    sessionKey: randomBytes(32),
    paymentHash: sha256(preimage),
    hops: routePayloads(route, { keysendPreimage: preimage, paymentSecret: new Uint8Array(32).fill(7) }),
  });
  const ks = ldkPeel(keysend.packet, sha256(preimage), 5000n, HEIGHT + 100);
  assert.ok(ks.ok, ks.errMsg);
  const ksRouting = ks.ok.get_routing();
  assert.ok(ksRouting instanceof ldk.PendingHTLCRouting_ReceiveKeysend);
  assert.equal(hex(ksRouting.payment_preimage), hex(preimage));
});

test('a blinded path lnkit builds: LDK as introduction node, then inside the route, then the recipient (lnkit)', async () => {
  const paymentHash = sha256(randomBytes(32));
  const sessionKey = randomBytes(32);
  const relay = { cltvExpiryDelta: 144, feeBaseMsat: 100, feeProportionalMillionths: 1000 };
  // LDK introduces; lnkit node 0 forwards inside; LDK forwards inside; lnkit node 1 receives.
  const path = createBlindedPath({
    sessionKey,
    hops: [
      {
        nodeId: ldkNodeId,
        encryptedData: {
          shortChannelId: 11n,
          paymentRelay: relay,
          paymentConstraints: { maxCltvExpiry: HEIGHT + 2000, htlcMinimumMsat: 1n },
        },
      },
      {
        nodeId: lnkitIds[0]!,
        encryptedData: {
          shortChannelId: 12n,
          paymentRelay: relay,
          paymentConstraints: { maxCltvExpiry: HEIGHT + 2000, htlcMinimumMsat: 1n },
        },
      },
      {
        nodeId: ldkNodeId,
        encryptedData: {
          shortChannelId: 13n,
          paymentRelay: relay,
          paymentConstraints: { maxCltvExpiry: HEIGHT + 2000, htlcMinimumMsat: 1n },
        },
      },
      { nodeId: lnkitIds[1]!, encryptedData: { pathId: Uint8Array.of(0xab) } },
    ],
  });
  const hops: PaymentOnionHop[] = path.hops.map((h, i) => ({
    nodeId: i === 0 ? path.firstNodeId : h.blindedNodeId,
    payload:
      i === 0
        ? { encryptedRecipientData: h.encryptedRecipientData, currentPathKey: path.firstPathKey }
        : i === 3
          ? {
              encryptedRecipientData: h.encryptedRecipientData,
              amtToForwardMsat: 10_000n,
              outgoingCltvValue: HEIGHT,
              totalAmountMsat: 10_000n,
            }
          : { encryptedRecipientData: h.encryptedRecipientData },
  }));
  const onion = buildPaymentOnion({ sessionKey: randomBytes(32), paymentHash, hops });
  const amount = 10_100n + 3n * 200n;
  // LDK also refuses to forward an HTLC whose outgoing expiry is too near the tip: leave 100 blocks.
  const cltv = HEIGHT + 100 + 3 * 144;
  // Hop 0: LDK as introduction node.
  const intro = ldkPeel(onion.packet, paymentHash, amount, cltv);
  assert.ok(intro.ok, intro.errMsg);
  const introRouting = intro.ok.get_routing();
  assert.ok(introRouting instanceof ldk.PendingHTLCRouting_Forward);
  assert.equal(introRouting.short_channel_id, 11n);
  assert.equal(hex(introRouting.blinded.get_inbound_blinding_point()), hex(path.firstPathKey));
  // LDK works out the next path key when its ChannelManager sends the HTLC on (not in
  // peel_payment_onion): the same BOLT 4 step, with LDK's ECDH.
  const pathKey1 = nextPathKey(path.firstPathKey, await ldkEcdh(path.firstPathKey));
  // Hop 1: lnkit inside the route, from the packet and amounts LDK computed.
  const inside = await peelPaymentOnion(
    {
      onionRoutingPacket: introRouting.onion_packet.write(),
      paymentHash,
      amountMsat: intro.ok.get_outgoing_amt_msat(),
      cltvExpiry: intro.ok.get_outgoing_cltv_value(),
      pathKey: pathKey1,
    },
    async (k) => secp.ecdh(lnkitKeys[0]!, k),
  );
  assert.equal(inside.kind, 'forward');
  if (inside.kind !== 'forward') return;
  assert.deepEqual(inside.next, { shortChannelId: 12n });
  // Hop 2: LDK inside the route, with lnkit's next path key in update_add_htlc.
  const ldkInside = ldkPeel(
    inside.nextPacket,
    paymentHash,
    inside.amtToForwardMsat,
    inside.outgoingCltvValue,
    inside.nextPathKey,
  );
  assert.ok(ldkInside.ok, ldkInside.errMsg);
  const insideRouting = ldkInside.ok.get_routing();
  assert.ok(insideRouting instanceof ldk.PendingHTLCRouting_Forward);
  assert.equal(insideRouting.short_channel_id, 13n);
  // lnkit and LDK compute the same blinded forward amounts and expiries from the payment_relay.
  for (const [ldkHop, incomingMsat, incomingCltv] of [
    [intro.ok, amount, cltv],
    [ldkInside.ok, inside.amtToForwardMsat, inside.outgoingCltvValue],
  ] as const) {
    const expected = blindedForwardValues(incomingMsat, incomingCltv, relay)!;
    assert.equal(ldkHop.get_outgoing_amt_msat(), expected.amtToForwardMsat);
    assert.equal(ldkHop.get_outgoing_cltv_value(), expected.outgoingCltvValue);
  }
  // Hop 3: the recipient (lnkit).
  const pathKey3 = nextPathKey(inside.nextPathKey!, await ldkEcdh(inside.nextPathKey!));
  const received = await peelPaymentOnion(
    {
      onionRoutingPacket: insideRouting.onion_packet.write(),
      paymentHash,
      amountMsat: ldkInside.ok.get_outgoing_amt_msat(),
      cltvExpiry: ldkInside.ok.get_outgoing_cltv_value(),
      pathKey: pathKey3,
    },
    async (k) => secp.ecdh(lnkitKeys[1]!, k),
  );
  assert.equal(received.kind === 'receive' && hex(received.pathId!), 'ab');
  assert.ok(received.kind === 'receive' && received.amtToForwardMsat === 10_000n);
});

test('LDK and lnkit return the same failure code for the same broken onion', async () => {
  const paymentHash = sha256(randomBytes(32));
  const onionWith = (payload: PaymentOnionHop['payload']) =>
    buildPaymentOnion({
      sessionKey: randomBytes(32),
      paymentHash,
      hops: [
        { nodeId: ldkNodeId, payload },
        { nodeId: lnkitIds[0]!, payload: { amtToForwardMsat: 1n, outgoingCltvValue: 1 } },
      ],
    }).packet;
  const good = onionWith({ amtToForwardMsat: 1000n, outgoingCltvValue: HEIGHT + 100, shortChannelId: 5n });
  const changed = (at: number, value?: number) => {
    const out = good.slice();
    out[at] = value ?? out[at]! ^ 1;
    return out;
  };
  const cases: [string, Uint8Array, number][] = [
    ['a version byte of 1', changed(0, 1), FAILURE_CODES.invalid_onion_version],
    ['a public key with prefix 04', changed(1, 4), FAILURE_CODES.invalid_onion_key],
    ['a changed hop_payloads byte', changed(200), FAILURE_CODES.invalid_onion_hmac],
    ['a changed HMAC', changed(1365), FAILURE_CODES.invalid_onion_hmac],
    [
      'a forward without short_channel_id',
      onionWith({ amtToForwardMsat: 1000n, outgoingCltvValue: HEIGHT + 100 }),
      FAILURE_CODES.invalid_onion_payload,
    ],
    [
      'a forward without amt_to_forward',
      onionWith({ outgoingCltvValue: HEIGHT + 100, shortChannelId: 5n }),
      FAILURE_CODES.invalid_onion_payload,
    ],
    // amt_to_forward, outgoing_cltv_value, short_channel_id, then type 100 (even, unknown).
    [
      'an unknown even record',
      onionWith(
        Uint8Array.from([2, 2, 3, 0xe8, 4, 3, 0x0c, 0x35, 0x0a, 6, 8, 0, 0, 0, 0, 0, 0, 0, 5, 100, 0]),
      ),
      FAILURE_CODES.invalid_onion_payload,
    ],
    [
      'a forward with payment_data',
      onionWith({
        amtToForwardMsat: 1000n,
        outgoingCltvValue: HEIGHT + 100,
        shortChannelId: 5n,
        paymentData: { paymentSecret: new Uint8Array(32), totalMsat: 1n },
      }),
      FAILURE_CODES.invalid_onion_payload,
    ],
  ];
  for (const [what, packet, code] of cases) {
    const theirs = ldkPeel(packet, paymentHash, 2000n, HEIGHT + 200);
    assert.equal(theirs.errCode, code, `LDK, ${what}: ${theirs.errMsg}`);
    // lnkit peels the same onion as LDK's node, through LDK's ECDH.
    const ours = await peelPaymentOnion(
      { onionRoutingPacket: packet, paymentHash, amountMsat: 2000n, cltvExpiry: HEIGHT + 200 },
      ldkEcdh,
    ).then(
      () => assert.fail(`lnkit accepted ${what}`),
      (e: unknown) => e,
    );
    assert.ok(ours instanceof OnionError && ours.failure, `lnkit, ${what}: ${ours}`);
    assert.equal(failureCode(ours.failure), code, `lnkit, ${what}: ${ours.message}`);
  }
  // And the good onion peels on both sides to the same forward.
  const theirs = ldkPeel(good, paymentHash, 2000n, HEIGHT + 200);
  const ours = await peelPaymentOnion(
    { onionRoutingPacket: good, paymentHash, amountMsat: 2000n, cltvExpiry: HEIGHT + 200 },
    ldkEcdh,
  );
  assert.ok(theirs.ok && ours.kind === 'forward');
  assert.equal(hex(theirs.ok.get_incoming_shared_secret()), hex(ours.sharedSecret));
  assert.equal(theirs.ok.get_outgoing_amt_msat(), ours.amtToForwardMsat);
});

test('lnkit peels, hop by hop, an onion message LDK builds (Sphinx and route blinding from LDK’s side)', async () => {
  const contents = ldk.OnionMessageContents.new_impl({
    tlv_type: () => 77n,
    msg_type: () => 'lnkit interop',
    write: () => Uint8Array.of(1, 2, 3),
    debug_str: () => 'lnkit interop',
  });
  const path = ldk.OnionMessagePath.constructor_new(
    lnkitIds.slice(0, 4),
    ldk.Destination.constructor_node(lnkitIds[4]!),
    ldk.Option_CVec_SocketAddressZZ.constructor_none(),
  );
  const made = ldk.UtilMethods.constructor_create_onion_message(
    keysManager.as_EntropySource(),
    signer,
    ldk.EmptyNodeIdLookUp.constructor_new().as_NodeIdLookUp(),
    path,
    contents,
    null,
  );
  assert.ok(
    made instanceof ldk.Result_C3Tuple_PublicKeyOnionMessageCOption_CVec_SocketAddressZZZSendErrorZ_OK,
  );
  assert.equal(hex(made.res.get_a()), hex(lnkitIds[0]!));
  const message = made.res.get_b();
  // onion_message (without its type): path_key, u16 len, onion_message_packet.
  const bytes = message.write();
  let pathKey = message.get_blinding_point();
  let packet = bytes.subarray(35);
  for (let i = 0; i < 5; i++) {
    const out = await peelOnionPacket({
      packet,
      associatedData: new Uint8Array(0),
      ecdh: async (k) => secp.ecdh(lnkitKeys[i]!, k),
      pathKey,
      minPayloadLength: 0,
    });
    const records = readTlvStream(out.payload);
    const encrypted = records.find((r) => r.type === 4n)!.value;
    const data = decodeEncryptedData(decryptRecipientData(out.blindingSecret!, encrypted)!);
    if (i < 4) {
      assert.equal(hex(data.nextNodeId!), hex(lnkitIds[i + 1]!), `hop ${i} next node`);
      assert.ok(out.nextPacket);
      pathKey = nextPathKey(pathKey, out.blindingSecret!, data);
      packet = out.nextPacket;
    } else {
      assert.equal(out.nextPacket, undefined);
      assert.equal(hex(records.find((r) => r.type === 77n)!.value), '010203');
    }
  }
});
