/**
 * blinded-onion-message-onion-test.json, as far as it applies to payments: onion messages use the
 * same Sphinx packet (here 1300 bytes of payloads, no associated data) and the same route
 * blinding, so the blinded path generation, the packet construction and each hop's unblinding
 * and peeling are checked byte for byte. What is onion-message-only is not: the `onion_message`
 * wire message (type 513) is split by hand here, and the `onionmsg_tlv` payload rules (reply
 * paths, the final hop's single payload field) belong to an onion-message handler lnkit has not got.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp } from '@lnkit/crypto';
import { readTlvStream, writeTlvStream } from '@lnkit/wire';
import {
  blindingTweak,
  createBlindedPath,
  decodeEncryptedData,
  decryptRecipientData,
  nextPathKey,
} from './blinding.ts';
import { multiply } from './curve.ts';
import { buildPacket, parsePacket, peelOnionPacket } from './sphinx.ts';
import { generateKey, KEY_RHO, sha256 } from './sphinx-keys.ts';
import { ecdhWith, fixture, hex, toHex } from './test-helpers.ts';

interface OnionMessageTest {
  generate: {
    session_key: string;
    hops: {
      alias: string;
      path_key_secret: string;
      tlvs: Record<string, unknown> & { path_key_override_secret?: string };
      encrypted_data_tlv: string;
      ss: string;
      "HMAC256('blinded_node_id', ss)": string;
      blinded_node_id: string;
      E: string;
      'H(E || ss)': string;
      rho: string;
      encrypted_recipient_data: string;
    }[];
  };
  route: {
    first_node_id: string;
    first_path_key: string;
    hops: { blinded_node_id: string; encrypted_recipient_data: string }[];
  };
  onionmessage: { unknown_tag_1: string; onion_message_packet: string };
  decrypt: {
    hops: {
      alias: string;
      privkey: string;
      onion_message: string;
      next_node_id?: string;
      tlvs?: Record<string, string>;
    }[];
  };
}

const NODE_IDS = [
  '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619',
  '0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c',
  '027f31ebc5462c1fdce1b737ecff52d37d75dea43ce11c74d25aa297165faa2007',
  '032c0b7cf95324a07d05398b240174dc0c2be444d96b159aa6c7f7b1e668680991',
];

/** BOLT 4 `onion_message`: type 513, path_key, u16 len, onion_message_packet. */
function splitOnionMessage(bytes: Uint8Array): { pathKey: Uint8Array; packet: Uint8Array } {
  assert.equal((bytes[0]! << 8) | bytes[1]!, 513);
  const len = (bytes[35]! << 8) | bytes[36]!;
  assert.equal(bytes.length, 37 + len);
  return { pathKey: bytes.subarray(2, 35), packet: bytes.subarray(37) };
}

test('onion message vector: Alice’s one-hop path joined to Dave’s Bob→Carol→Dave path, every intermediate value', () => {
  const v = fixture<OnionMessageTest>('blinded-onion-message-onion-test.json');
  const hops = v.generate.hops;
  // Alice's hop uses path_key_secret 0x63…, its data overrides the next key to Dave's path (0x01…).
  const head = createBlindedPath({
    sessionKey: hex(hops[0]!.path_key_secret),
    hops: [{ nodeId: hex(NODE_IDS[0]!), encryptedData: hex(hops[0]!.encrypted_data_tlv) }],
  });
  const tail = createBlindedPath({
    sessionKey: hex(hops[1]!.path_key_secret),
    hops: hops
      .slice(1)
      .map((h, i) => ({ nodeId: hex(NODE_IDS[i + 1]!), encryptedData: hex(h.encrypted_data_tlv) })),
  });
  assert.equal(toHex(head.firstPathKey), v.route.first_path_key);
  assert.equal(
    toHex(decodeEncryptedData(hex(hops[0]!.encrypted_data_tlv)).nextPathKeyOverride!),
    toHex(tail.firstPathKey),
  );
  assert.deepEqual(
    [...head.hops, ...tail.hops].map((h) => ({
      blinded_node_id: toHex(h.blindedNodeId),
      encrypted_recipient_data: toHex(h.encryptedRecipientData),
    })),
    v.route.hops,
  );
  hops.forEach((h, i) => {
    const e = hex(h.path_key_secret);
    const ss = secp.ecdh(e, hex(NODE_IDS[i]!));
    assert.equal(toHex(secp.publicKey(e)), h.E, `${h.alias} E`);
    assert.equal(toHex(ss), h.ss, `${h.alias} ss`);
    assert.equal(toHex(blindingTweak(ss)), h["HMAC256('blinded_node_id', ss)"]);
    assert.equal(toHex(sha256(hex(h.E), ss)), h['H(E || ss)']);
    assert.equal(toHex(generateKey(KEY_RHO, ss)), h.rho);
  });
});

test('onion message vector: the packet is built with the same Sphinx construction (no associated data)', () => {
  const v = fixture<OnionMessageTest>('blinded-onion-message-onion-test.json');
  const last = v.route.hops.length - 1;
  const { packet } = buildPacket({
    sessionKey: hex(v.generate.session_key),
    associatedData: new Uint8Array(0),
    hops: v.route.hops.map((h, i) => {
      // onionmsg_tlv: type 4 encrypted_recipient_data; Dave's also carries the 'hello' (type 1).
      const records = [{ type: 4n, value: hex(h.encrypted_recipient_data) }];
      if (i === last) records.unshift({ type: 1n, value: hex(v.onionmessage.unknown_tag_1) });
      return { publicKey: hex(h.blinded_node_id), payload: writeTlvStream(records) };
    }),
  });
  assert.equal(toHex(packet), v.onionmessage.onion_message_packet);
});

test('onion message vector: each hop unblinds the onion key, peels, reads its next node and hands on the next path key', async () => {
  const v = fixture<OnionMessageTest>('blinded-onion-message-onion-test.json');
  const hops = v.decrypt.hops;
  for (const [i, h] of hops.entries()) {
    const key = hex(h.privkey);
    const { pathKey, packet } = splitOnionMessage(hex(h.onion_message));
    // Onion messages have no legacy payload format: a zero length is valid there.
    const out = await peelOnionPacket({
      packet,
      associatedData: new Uint8Array(0),
      ecdh: ecdhWith(key),
      pathKey,
      minPayloadLength: 0,
    });
    // The same by hand: the onion key tweaked by HMAC("blinded_node_id", ECDH(path_key)).
    const blindingSecret = secp.ecdh(key, pathKey);
    assert.deepEqual(out.blindingSecret, blindingSecret);
    assert.deepEqual(
      out.sharedSecret,
      secp.ecdh(key, multiply(parsePacket(packet).publicKey, blindingTweak(blindingSecret))),
    );
    const records = readTlvStream(out.payload);
    const erd = records.find((r) => r.type === 4n)!.value;
    const data = decodeEncryptedData(decryptRecipientData(blindingSecret, erd)!);
    if (i < hops.length - 1) {
      assert.equal(toHex(data.nextNodeId!), h.next_node_id, `${h.alias} next node`);
      const next = splitOnionMessage(hex(hops[i + 1]!.onion_message));
      assert.equal(toHex(out.nextPacket!), toHex(next.packet), `${h.alias} next packet`);
      assert.equal(
        toHex(nextPathKey(pathKey, blindingSecret, data)),
        toHex(next.pathKey),
        `${h.alias} next path key`,
      );
    } else {
      assert.equal(out.nextPacket, undefined);
      assert.deepEqual(
        Object.fromEntries(
          records.map((r) => [r.type === 1n ? 'unknown_tag_1' : 'encrypted_recipient_data', toHex(r.value)]),
        ),
        h.tlvs,
      );
      assert.equal(toHex(data.pathId!), 'deadbeefbadc0ffeedeadbeefbadc0ffeedeadbeefbadc0ffeedeadbeefbadc0');
    }
  }
});
