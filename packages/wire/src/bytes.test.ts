import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ByteReader, ByteWriter } from './bytes.ts';
import { WireError } from './errors.ts';

const fx = JSON.parse(readFileSync(new URL('./fixtures/signed-integers.json', import.meta.url), 'utf8')) as {
  vectors: { value: string; bytes: string }[];
};

// Each vector is written in the smallest signed type that holds it (s8, s16, s32, s64).
test('BOLT 1 Appendix D: every signed-integer vector encodes and decodes', () => {
  assert.equal(fx.vectors.length, 23);
  for (const v of fx.vectors) {
    const width = v.bytes.length / 2;
    const value = BigInt(v.value);
    const w = new ByteWriter(8);
    if (width === 1) w.s8(Number(value));
    else if (width === 2) w.s16(Number(value));
    else if (width === 4) w.s32(Number(value));
    else w.s64(value);
    assert.equal(Buffer.from(w.finish()).toString('hex'), v.bytes, v.value);
    const r = new ByteReader(Uint8Array.from(Buffer.from(v.bytes, 'hex')));
    const got =
      width === 1 ? BigInt(r.s8()) : width === 2 ? BigInt(r.s16()) : width === 4 ? BigInt(r.s32()) : r.s64();
    assert.equal(got, value, v.bytes);
    assert.equal(r.remaining, 0);
  }
});

test('reader: every read past the end is a WireError truncated, never a RangeError', () => {
  const r = new ByteReader(new Uint8Array(3), 'x');
  for (const read of [
    () => r.u32(),
    () => r.u64(),
    () => r.s64(),
    () => r.s32(),
    () => r.bytesN(4),
    () => r.point(),
    () => r.signature(),
  ]) {
    assert.throws(
      read,
      (e: unknown) => e instanceof WireError && e.code === 'truncated' && e.messageName === 'x',
    );
  }
  assert.equal(r.u16(), 0);
  assert.throws(() => r.u16(), WireError);
});

test('writer: out-of-range values are refused', () => {
  const w = new ByteWriter(1);
  assert.throws(() => w.u8(256), WireError);
  assert.throws(() => w.u16(-1), WireError);
  assert.throws(() => w.u32(1.5), WireError);
  assert.throws(() => w.u64(2n ** 64n), WireError);
  assert.throws(() => w.s8(128), WireError);
  assert.throws(() => w.s64(2n ** 63n), WireError);
  assert.throws(() => w.point(new Uint8Array(33)), WireError);
  // grows past its initial size
  for (let i = 0; i < 1000; i++) w.u32(i);
  assert.equal(w.length, 4000);
});
