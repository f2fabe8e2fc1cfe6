import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireError } from './errors.ts';
import { decodeMessage, encodeMessage, MESSAGE_CODECS, type Message, type MessageKind } from './message.ts';
import { GENERATORS, Rng } from './test-support/random.ts';

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const KINDS = Object.keys(GENERATORS) as MessageKind[];

test('every codec has a generator and every generator a codec', () => {
  assert.deepEqual(new Set(KINDS), new Set(MESSAGE_CODECS.map((c) => c.kind)));
  assert.equal(new Set(MESSAGE_CODECS.map((c) => c.type)).size, MESSAGE_CODECS.length);
});

test('round trip: decode(encode(m)) = m and encode(decode(x)) = x for every message type', () => {
  const rng = new Rng(0x5eed);
  for (const kind of KINDS) {
    for (let i = 0; i < 200; i++) {
      const msg = GENERATORS[kind](rng);
      const bytes = encodeMessage(msg);
      const codec = MESSAGE_CODECS.find((c) => c.kind === kind);
      assert.equal((bytes[0]! << 8) | bytes[1]!, codec?.type, kind);
      const back = decodeMessage(bytes);
      assert.deepEqual(back, msg, `${kind} #${i}`);
      assert.equal(toHex(encodeMessage(back)), toHex(bytes), `${kind} #${i}`);
      // per-message codec gives the same bytes
      assert.equal(toHex(codec?.encode(msg) ?? new Uint8Array()), toHex(bytes));
    }
  }
});

/** The message with only its fixed fields (no TLVs, no extra data). */
function fixedOnly(msg: Message): Message {
  const codec = MESSAGE_CODECS.find((c) => c.kind === msg.kind);
  const out: Record<string, unknown> = { type: msg.type, kind: msg.kind };
  for (const k of codec?.fieldNames ?? []) out[k] = (msg as unknown as Record<string, unknown>)[k];
  return out as unknown as Message;
}

test('truncated at every length: inside the fixed fields a WireError, after them a valid shorter message or a WireError', () => {
  const rng = new Rng(7);
  for (const kind of KINDS) {
    for (let i = 0; i < 5; i++) {
      const msg = GENERATORS[kind](rng);
      const bytes = encodeMessage(msg);
      const fixedLength = encodeMessage(fixedOnly(msg)).length;
      for (let len = 0; len < bytes.length; len++) {
        const cut = bytes.subarray(0, len);
        let decoded: ReturnType<typeof decodeMessage> | undefined;
        try {
          decoded = decodeMessage(cut);
        } catch (e) {
          assert.ok(e instanceof WireError, `${kind} cut at ${len}: ${String(e)}`);
          continue;
        }
        assert.ok(len >= fixedLength, `${kind} cut at ${len} < ${fixedLength} decoded`);
        // a shorter valid message (TLV records or extra data dropped at a boundary)
        assert.equal(toHex(encodeMessage(decoded)), toHex(cut), `${kind} cut at ${len}`);
      }
    }
  }
});

test('fuzz: 10,000 random byte strings per message type decode or throw WireError, never anything else', () => {
  const rng = new Rng(0xf022);
  let decodedOk = 0;
  for (const codec of MESSAGE_CODECS) {
    const samples = [
      encodeMessage(GENERATORS[codec.kind as MessageKind](rng)),
      encodeMessage(GENERATORS[codec.kind as MessageKind](rng)),
    ];
    for (let i = 0; i < 10_000; i++) {
      let input: Uint8Array;
      const base = samples[i % 2]!;
      switch (i % 4) {
        case 0: // random payload behind the right type
          input = new Uint8Array(2 + rng.int(base.length + 64));
          input.set(rng.bytes(input.length));
          break;
        case 1: {
          // a valid message with a few bytes flipped
          input = base.slice();
          const flips = 1 + rng.int(4);
          for (let f = 0; f < flips; f++) input[2 + rng.int(input.length - 2)] = rng.int(256);
          break;
        }
        case 2: {
          // a valid message with random bytes appended (a random TLV extension)
          const tail = rng.bytes(rng.int(40));
          input = new Uint8Array(base.length + tail.length);
          input.set(base);
          input.set(tail, base.length);
          break;
        }
        default: {
          // a valid prefix followed by garbage to the end
          input = base.slice();
          const at = 2 + rng.int(input.length - 2);
          input.set(rng.bytes(input.length - at), at);
        }
      }
      input[0] = codec.type >> 8;
      input[1] = codec.type & 0xff;
      let m: ReturnType<typeof decodeMessage>;
      try {
        m = decodeMessage(input);
      } catch (e) {
        if (!(e instanceof WireError)) assert.fail(`${codec.kind}: ${toHex(input)} threw ${String(e)}`);
        assert.equal(e.messageName, codec.kind);
        continue;
      }
      decodedOk++;
      // whatever decodes is canonical: it re-encodes to the very same bytes
      assert.equal(toHex(encodeMessage(m)), toHex(input), codec.kind);
    }
  }
  assert.ok(decodedOk > 1000, `only ${decodedOk} inputs decoded; the fuzz would not reach the TLV code`);
});
