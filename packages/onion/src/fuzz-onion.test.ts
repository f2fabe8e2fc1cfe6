/**
 * Fuzz: random and mutated onions through the peel (packet, payload and blinded-route checks). The
 * only exception allowed out is OnionError; every peer-input OnionError carries a failure to
 * return. LNKIT_FUZZ_COUNT sets the count (default 20,000; 100,000 for the full run).
 *
 * Most random onions die at the HMAC, so the payload code is reached on purpose: packets are
 * crafted under a known shared secret (the ECDH function returns it) with a valid HMAC around
 * random, mutated and well-formed-but-wrong payloads, and blinded payloads around random
 * encrypted_data_tlv encrypted under a known blinding secret.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encryptWithAd, secp } from '@lnkit/crypto';
import { encodeBigSize, writeTlvStream } from '@lnkit/wire';
import { encodeEncryptedData } from './blinding.ts';
import { OnionError } from './errors.ts';
import { encodeHopPayload } from './payload.ts';
import { buildPaymentOnion, PAYMENT_ONION_LENGTH } from './payment.ts';
import { type IncomingHtlc, type NodeEcdh, peelPaymentOnion } from './peel.ts';
import { HOP_PAYLOADS_LENGTH } from './sphinx.ts';
import { chacha20Xor, generateKey, hmac, KEY_MU, KEY_RHO } from './sphinx-keys.ts';
import { Rng, testNodes } from './test-helpers.ts';

// 20,000 by default (about 2 s of CPU; 6-12 s wall with the shared machine at load 15);
// LNKIT_FUZZ_COUNT=100000 is the full run (about 8 s of CPU; 11-14 s wall at load 10-12, 45-55 s
// at load 18) — the same variable as the invoice package's fuzz. Figures in the README.
const ITERATIONS = Number(process.env.LNKIT_FUZZ_COUNT ?? 20_000);
// Most inputs end in an OnionError: its stack trace is this test's largest cost, and no check here
// reads it (this file runs in its own process).
Error.stackTraceLimit = 0;
const nodes = testNodes(3);
const paymentHash = new Uint8Array(32).fill(0x99);
const sessionKey = new Uint8Array(32).fill(0x51);
const ephemeralKey = secp.publicKey(sessionKey);
const sharedSecret = secp.ecdh(sessionKey, nodes[0]!.nodeId);
const blindingSecret = new Uint8Array(32).fill(0xb1);
const pathKey = nodes[2]!.nodeId;

/** The crafted packets' ECDH: the known secrets, without a curve operation per iteration. */
const knownEcdh: NodeEcdh = async (k) =>
  k[1] === pathKey[1] && k[2] === pathKey[2] ? blindingSecret : sharedSecret;

const rhoStream = chacha20Xor(generateKey(KEY_RHO, sharedSecret), new Uint8Array(HOP_PAYLOADS_LENGTH));
const muKey = generateKey(KEY_MU, sharedSecret);

/** A packet whose hop_payloads de-obfuscate (under `sharedSecret`) to `plain`, with a valid HMAC. */
function crafted(plain: Uint8Array): Uint8Array {
  const packet = new Uint8Array(PAYMENT_ONION_LENGTH);
  packet.set(ephemeralKey, 1);
  const hopPayloads = packet.subarray(34, 34 + HOP_PAYLOADS_LENGTH);
  hopPayloads.set(rhoStream);
  const n = Math.min(plain.length, HOP_PAYLOADS_LENGTH);
  for (let i = 0; i < n; i++) hopPayloads[i]! ^= plain[i]!;
  packet.set(hmac(muKey, hopPayloads, paymentHash), 34 + HOP_PAYLOADS_LENGTH);
  return packet;
}

/** Frame a payload as hop_payloads would: BigSize length, payload, then a next HMAC (zero or not). */
function frame(payload: Uint8Array, rng: Rng): Uint8Array {
  const len = encodeBigSize(payload.length);
  const out = new Uint8Array(len.length + payload.length + 32);
  out.set(len);
  out.set(payload, len.length);
  // A non-zero next HMAC makes it a forward (one curve multiplication): an eighth of the time.
  if (rng.int(8) === 0) out.set(rng.bytes(32), len.length + payload.length);
  return out;
}

function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = bytes.slice();
  const flips = 1 + rng.int(4);
  for (let f = 0; f < flips && out.length > 0; f++) out[rng.int(out.length)] = rng.int(256);
  if (rng.int(8) === 0) return out.subarray(0, rng.int(out.length + 1));
  return out;
}

function randomPayload(rng: Rng): Uint8Array {
  const records = [];
  let type = 0n;
  for (let i = rng.int(6); i >= 0; i--) {
    type += BigInt(1 + rng.int(rng.int(3) === 0 ? 70_000 : 20));
    records.push({ type, value: rng.bytes(rng.int(rng.int(4) === 0 ? 40 : 10)) });
  }
  return writeTlvStream(records);
}

const goodPayloads = [
  encodeHopPayload({ amtToForwardMsat: 1000n, outgoingCltvValue: 500, shortChannelId: 9n }),
  encodeHopPayload({
    amtToForwardMsat: 1000n,
    outgoingCltvValue: 500,
    paymentData: { paymentSecret: new Uint8Array(32), totalMsat: 1000n },
    paymentMetadata: new Uint8Array(20),
    customRecords: [{ type: 70_001n, value: Uint8Array.of(1) }],
  }),
];

function randomEncryptedData(rng: Rng): Uint8Array {
  if (rng.int(3) === 0) return rng.bytes(rng.int(60));
  return encodeEncryptedData({
    ...(rng.int(2) ? { shortChannelId: BigInt(rng.int(1000)) } : {}),
    ...(rng.int(2) ? { nextNodeId: nodes[rng.int(3)]!.nodeId } : {}),
    ...(rng.int(2)
      ? {
          paymentRelay: {
            cltvExpiryDelta: rng.int(100),
            feeBaseMsat: rng.int(2000),
            feeProportionalMillionths: rng.int(5000),
          },
        }
      : {}),
    ...(rng.int(2)
      ? { paymentConstraints: { maxCltvExpiry: rng.int(1000), htlcMinimumMsat: BigInt(rng.int(3000)) } }
      : {}),
    ...(rng.int(4) === 0 ? { allowedFeatures: rng.bytes(rng.int(3)) } : {}),
    ...(rng.int(4) === 0 ? { pathId: rng.bytes(8) } : {}),
    ...(rng.int(4) === 0 ? { nextPathKeyOverride: nodes[rng.int(3)]!.nodeId } : {}),
  });
}

function blindedPayload(rng: Rng): Uint8Array {
  const data = randomEncryptedData(rng);
  const erd =
    rng.int(5) === 0
      ? rng.bytes(data.length + 16)
      : encryptWithAd(generateKey(KEY_RHO, blindingSecret), 0, new Uint8Array(0), data);
  return encodeHopPayload({
    encryptedRecipientData: erd,
    ...(rng.int(2) ? { currentPathKey: pathKey } : {}),
    ...(rng.int(3) === 0
      ? { amtToForwardMsat: BigInt(rng.int(5000)), outgoingCltvValue: rng.int(1000) }
      : {}),
    ...(rng.int(3) === 0 ? { totalAmountMsat: BigInt(rng.int(5000)) } : {}),
  });
}

const codes = new Map<string, number>();

async function expectOnionError(run: () => Promise<unknown>, what: string): Promise<'ok' | 'error'> {
  try {
    await run();
    return 'ok';
  } catch (e) {
    if (e instanceof OnionError) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    if (!(e instanceof OnionError)) assert.fail(`${what}: ${(e as Error)?.stack ?? e}`);
    // Peer input never fails for the caller's reasons: there is always a failure to return.
    assert.ok(e.failure && e.reply, `${what}: ${e.code} without a failure`);
    if (e.reply === 'fail') assert.ok(e.sharedSecret, `${what}: a 'fail' reply without the secret`);
    return 'error';
  }
}

test(`fuzz: ${ITERATIONS} random and mutated onions peel or fail with an OnionError naming the failure`, async () => {
  const rng = new Rng(0x0a10);
  const valid = buildPaymentOnion({
    sessionKey,
    paymentHash,
    hops: [
      { nodeId: nodes[0]!.nodeId, payload: goodPayloads[0]! },
      { nodeId: nodes[1]!.nodeId, payload: goodPayloads[1]! },
    ],
  }).packet;
  const counts = { ok: 0, error: 0 };
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) {
    let packet: Uint8Array;
    let htlcPathKey: Uint8Array | undefined;
    switch (i % 8) {
      case 0: // random bytes, sometimes with a version 0 and a real key in front
        packet = rng.bytes(PAYMENT_ONION_LENGTH);
        if (rng.int(2)) packet[0] = 0;
        if (rng.int(2)) packet.set(ephemeralKey, 1);
        break;
      case 1: // a valid onion with a few bytes changed
        packet = valid.slice();
        for (let f = 1 + rng.int(3); f > 0; f--) packet[rng.int(packet.length)] = rng.int(256);
        break;
      case 2: // valid HMAC, random payload stream
        packet = crafted(rng.bytes(HOP_PAYLOADS_LENGTH));
        break;
      case 3: // valid HMAC, random TLV payload
        packet = crafted(frame(randomPayload(rng), rng));
        break;
      case 4: // valid HMAC, a good payload mutated
        packet = crafted(frame(mutate(goodPayloads[rng.int(2)]!, rng), rng));
        break;
      case 5: // valid HMAC, random length prefixes
        packet = crafted(Uint8Array.from([[0xfd, 0xfe, 0xff, 0, 1, 2][rng.int(6)]!, ...rng.bytes(12)]));
        break;
      default: // blinded payloads, at the introduction (path key in the payload) or inside (in the HTLC)
        packet = crafted(frame(blindedPayload(rng), rng));
        if (i % 8 === 7) htlcPathKey = rng.int(8) === 0 ? rng.bytes(33) : pathKey;
    }
    const htlc: IncomingHtlc = {
      onionRoutingPacket: packet,
      paymentHash,
      amountMsat: BigInt(rng.int(6000)),
      cltvExpiry: rng.int(1200),
      ...(htlcPathKey ? { pathKey: htlcPathKey } : {}),
    };
    // The valid onion is to node 0 under the same session key, so the known secret is its real
    // one; a real ECDH now and then checks that nothing depends on the shortcut.
    const ecdh = i % 64 === 1 ? async (k: Uint8Array) => secp.ecdh(nodes[0]!.privateKey, k) : knownEcdh;
    const result = await expectOnionError(() => peelPaymentOnion(htlc, ecdh), `onion ${i}`);
    counts[result]++;
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `# onion fuzz: ${ITERATIONS} inputs in ${seconds.toFixed(1)} s, ${counts.ok} peeled, ${counts.error} refused: ${JSON.stringify(Object.fromEntries(codes))}\n`,
  );
  // The crafted inputs must get past the HMAC often enough to test the payload rules, and every
  // kind of refusal must have been met.
  assert.ok(
    counts.ok > ITERATIONS / 100,
    `only ${counts.ok} peeled: the fuzz would not reach the payload code`,
  );
  for (const code of [
    'invalid-onion-version',
    'invalid-onion-key',
    'invalid-onion-hmac',
    'invalid-onion-payload',
    'invalid-onion-blinding',
    'final-incorrect-cltv-expiry',
    'final-incorrect-htlc-amount',
  ])
    assert.ok((codes.get(code) ?? 0) > 0, `no input was refused with ${code}: ${JSON.stringify([...codes])}`);
});
