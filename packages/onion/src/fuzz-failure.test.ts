/**
 * Fuzz: random and mutated failure packets (update_fail_htlc reasons) through the origin's
 * decryption and attribution check, and random and mutated failure messages through their decoder. The only exception
 * allowed out is OnionError. LNKIT_FUZZ_COUNT sets the count (default 20,000; 100,000 for the full run).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ATTRIBUTION_LENGTH,
  createAttributedFailure,
  verifyFailureAttribution,
  wrapAttributedFailure,
} from './attribution.ts';
import { OnionError } from './errors.ts';
import { createFailurePacket, decryptFailurePacket, wrapFailurePacket } from './failure.ts';
import {
  decodeFailureMessage,
  encodeFailureMessage,
  type FailureMessage,
  parseFailureChannelUpdate,
} from './failure-messages.ts';
import { Rng } from './test-helpers.ts';

// 20,000 by default (about 2 s of CPU; 6-12 s wall with the shared machine at load 15);
// LNKIT_FUZZ_COUNT=100000 is the full run (about 8 s of CPU; 11-14 s wall at load 10-12, 45-55 s
// at load 18) — the same variable as the invoice package's fuzz. Figures in the README.
const ITERATIONS = Number(process.env.LNKIT_FUZZ_COUNT ?? 20_000);
// Most inputs end in an OnionError: its stack trace is this test's largest cost, and no check here
// reads it (this file runs in its own process).
Error.stackTraceLimit = 0;

function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = bytes.slice();
  const flips = 1 + rng.int(4);
  for (let f = 0; f < flips && out.length > 0; f++) out[rng.int(out.length)] = rng.int(256);
  if (rng.int(8) === 0) return out.subarray(0, rng.int(out.length + 1));
  return out;
}

const failures: FailureMessage[] = [
  { name: 'temporary_node_failure' },
  { name: 'amount_below_minimum', htlcMsat: 1n, channelUpdate: new Uint8Array(140).fill(1) },
  { name: 'incorrect_or_unknown_payment_details', htlcMsat: 5n, height: 9 },
  { name: 'invalid_onion_payload', type: 70_000n, offset: 3 },
  {
    name: 'channel_disabled',
    disabledFlags: 0,
    channelUpdate: Uint8Array.from([1, 2, ...new Uint8Array(136)]),
  },
];

test(`fuzz: ${ITERATIONS} random and mutated failure packets and messages decode or fail with an OnionError`, () => {
  const rng = new Rng(0xfa11);
  const secrets = [0x21, 0x22, 0x23].map((b) => new Uint8Array(32).fill(b));
  const counts = { attributed: 0, unattributed: 0, decoded: 0, refused: 0 };
  let attributed = createAttributedFailure(secrets[2]!, { name: 'temporary_node_failure' }, 3);
  for (let h = 1; h >= 0; h--)
    attributed = wrapAttributedFailure(secrets[h]!, attributed.reason, attributed.attributionData, h);
  const started = performance.now();
  const guard = <T>(what: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof OnionError)) assert.fail(`${what}: ${(e as Error)?.stack ?? e}`);
      return undefined;
    }
  };
  for (let i = 0; i < ITERATIONS; i++) {
    const failure = failures[rng.int(failures.length)]!;
    const message = encodeFailureMessage(failure);
    let packet: Uint8Array;
    switch (i % 4) {
      case 0: // random packets of random lengths
        packet = rng.bytes(rng.int(400));
        break;
      case 1: {
        // a real failure from a random hop, mutated
        const erring = rng.int(3);
        const changed = rng.int(2) ? mutate(message, rng) : message;
        packet = createFailurePacket(secrets[erring]!, changed.length >= 2 ? changed : message);
        for (let h = erring - 1; h >= 0; h--) packet = wrapFailurePacket(secrets[h]!, packet);
        if (rng.int(2)) packet = mutate(packet, rng);
        break;
      }
      case 2: {
        // a real packet whose failuremsg is random bytes (valid HMAC: attributed, then decoded)
        const erring = rng.int(3);
        packet = createFailurePacket(
          secrets[erring]!,
          Uint8Array.from([rng.int(256), rng.int(256), ...rng.bytes(rng.int(60))]),
        );
        for (let h = erring - 1; h >= 0; h--) packet = wrapFailurePacket(secrets[h]!, packet);
        break;
      }
      default: {
        // the failuremsg decoder and the channel_update parser directly
        const bytes = rng.int(2) ? mutate(message, rng) : rng.bytes(rng.int(300));
        const decoded = guard(`message ${i}`, () => decodeFailureMessage(bytes));
        counts[decoded ? 'decoded' : 'refused']++;
        guard(`update ${i}`, () => parseFailureChannelUpdate(bytes.subarray(rng.int(8))));
        continue;
      }
    }
    // A quarter with the BOLT's 27 rounds, the rest stopping at the erring hop (faster, same logic).
    const options = i % 16 === 1 ? {} : { rounds: 0 };
    const got = guard(`packet ${i}`, () => decryptFailurePacket(secrets, packet, options));
    counts[got ? 'attributed' : 'unattributed']++;
    if (got) assert.ok(got.hopIndex >= 0 && got.hopIndex < 3);
    // Attribution data, random or real and changed, checked against the packet.
    if (i % 8 === 1) {
      let data = attributed.attributionData;
      if (rng.int(2)) data = rng.int(4) ? mutate(data, rng) : rng.bytes(ATTRIBUTION_LENGTH);
      const checked = guard(`attribution ${i}`, () =>
        verifyFailureAttribution(secrets, rng.int(2) ? attributed.reason : packet, data),
      );
      if (checked) assert.ok(checked.holdTimes.length <= 3);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `# failure fuzz: ${ITERATIONS} inputs in ${seconds.toFixed(1)} s, ${counts.attributed} attributed, ${counts.unattributed} not, ` +
      `${counts.decoded} messages decoded, ${counts.refused} refused\n`,
  );
  assert.ok(counts.attributed > ITERATIONS / 10 && counts.decoded > ITERATIONS / 100);
});
