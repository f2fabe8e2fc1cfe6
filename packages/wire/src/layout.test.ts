import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { encodeAddresses, type NodeAddress } from './address.ts';
import { ByteReader, ByteWriter, concatBytes } from './bytes.ts';
import { Features } from './features.ts';
import { encodeMessage, MESSAGE_CODECS, type Message, type MessageKind } from './message.ts';
import { type EncodedList, encodedShortIds } from './query.ts';
import { GENERATORS, Rng } from './test-support/random.ts';

// Round trips cannot catch two fields swapped in a codec (encode and decode agree with
// each other). This test reads our bytes with the layouts written in the BOLTs instead.
const layouts = (
  JSON.parse(readFileSync(new URL('./fixtures/message-layouts.json', import.meta.url), 'utf8')) as {
    messages: Record<string, { type: number; fields: [string, string][] }>;
  }
).messages;

const FIXED_SIZE: Record<string, number> = {
  byte: 1,
  u8: 1,
  u16: 2,
  u32: 4,
  u64: 8,
  s64: 8,
  chain_hash: 32,
  channel_id: 32,
  sha256: 32,
  point: 33,
  signature: 64,
  short_channel_id: 8,
};
const sizeOf = (t: string): number | undefined =>
  FIXED_SIZE[t] ?? (/^(\d+)\*byte$/.test(t) ? Number(t.split('*')[0]) : undefined);

// Our property names are the spec's in camelCase; these two are plural/cased on purpose.
const RENAMED: Record<string, string> = {
  globalfeatures: 'globalFeatures',
  htlc_signature: 'htlcSignatures',
};
const prop = (specName: string) =>
  RENAMED[specName] ?? specName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function fixedBytes(value: unknown, type: string, size: number): Uint8Array {
  if (value instanceof Uint8Array) return value;
  const w = new ByteWriter(8);
  if (typeof value === 'bigint') return (type === 's64' ? w.s64(value) : w.u64(value)).finish();
  if (typeof value === 'number') {
    if (size === 1) return w.u8(value).finish();
    if (size === 2) return w.u16(value).finish();
    return w.u32(value).finish();
  }
  throw new Error(`no fixed encoding for ${type}`);
}

/** The bytes a `len*byte` field must hold for our value of it. */
function variableBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof Features) return value.toBytes();
  if (Array.isArray(value)) return encodeAddresses(value as NodeAddress[]);
  return encodedShortIds.encode(value as EncodedList<bigint>);
}

test('every message is laid out on the wire as its BOLT lists its fields', () => {
  const rng = new Rng(0x1a);
  assert.equal(Object.keys(layouts).length, MESSAGE_CODECS.length);
  for (const codec of MESSAGE_CODECS) {
    const layout = layouts[codec.kind];
    assert.ok(layout, `${codec.kind} has a layout in the spec`);
    assert.equal(codec.type, layout.type, codec.kind);
    for (let i = 0; i < 20; i++) {
      const msg = GENERATORS[codec.kind as MessageKind](rng) as unknown as Record<string, unknown>;
      // fixed fields only, so the whole payload must be accounted for by the layout
      const fixed: Record<string, unknown> = { type: msg.type, kind: msg.kind };
      for (const k of codec.fieldNames) fixed[k] = msg[k];
      const r = new ByteReader(encodeMessage(fixed as unknown as Message).subarray(2));
      const lengths = new Map<string, number>();
      const seen: string[] = [];
      for (const [type, name] of layout.fields) {
        if (type.endsWith('_tlvs')) break;
        const isLengthPrefix = layout.fields.some(([t]) => t.startsWith(`${name}*`));
        const size = sizeOf(type);
        if (size !== undefined) {
          const got = r.bytesN(size, name);
          if (isLengthPrefix) {
            lengths.set(name, Number.parseInt(hex(got), 16));
            continue;
          }
          seen.push(prop(name));
          assert.equal(hex(got), hex(fixedBytes(fixed[prop(name)], type, size)), `${codec.kind}.${name}`);
          continue;
        }
        const m = /^(\w+)\*(\w+)$/.exec(type);
        assert.ok(m, `${codec.kind}: unexpected field type ${type}`);
        const count = lengths.get(m[1] as string);
        assert.ok(count !== undefined, `${codec.kind}: ${type} without its length`);
        const value = fixed[prop(name)];
        seen.push(prop(name));
        if (m[2] === 'byte') {
          assert.equal(hex(r.bytesN(count, name)), hex(variableBytes(value)), `${codec.kind}.${name}`);
        } else if (m[2] === 'signature') {
          assert.equal(
            hex(r.bytesN(64 * count, name)),
            hex(concatBytes(...(value as Uint8Array[]))),
            `${codec.kind}.${name}`,
          );
        } else {
          // BOLT 2 subtype witness: [u16:len][len*byte:witness_data]
          assert.equal(m[2], 'witness');
          const list = value as Uint8Array[];
          assert.equal(count, list.length);
          for (const w of list) assert.equal(hex(r.u16Bytes()), hex(w), `${codec.kind}.${name}`);
        }
      }
      assert.equal(r.remaining, 0, `${codec.kind}: bytes beyond the spec's fields`);
      assert.deepEqual(seen, [...codec.fieldNames], `${codec.kind}: our fields are the spec's, in its order`);
    }
  }
});
