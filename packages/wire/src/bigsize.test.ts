import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { bigSizeLength, decodeBigSize, encodeBigSize } from './bigsize.ts';
import { WireError } from './errors.ts';

interface Vector {
  name: string;
  value: string;
  bytes: string;
  exp_error?: string;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/bigsize.json', import.meta.url), 'utf8')) as {
  decoding: Vector[];
  encoding: Vector[];
};
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

// The spec's error strings come from its Go example; ours are codes.
const EXPECTED_CODE: Record<string, string> = {
  'decoded bigsize is not canonical': 'invalid-bigsize',
  'unexpected EOF': 'truncated',
  EOF: 'truncated',
};

test('BOLT 1 Appendix A: every BigSize decoding vector', () => {
  assert.equal(fixture.decoding.length, 18);
  for (const v of fixture.decoding) {
    if (v.exp_error) {
      const code = EXPECTED_CODE[v.exp_error];
      assert.ok(code, v.exp_error);
      assert.throws(
        () => decodeBigSize(hex(v.bytes)),
        (e: unknown) => e instanceof WireError && e.code === code,
        v.name,
      );
    } else {
      const r = decodeBigSize(hex(v.bytes));
      assert.equal(r.value, BigInt(v.value), v.name);
      assert.equal(r.length, v.bytes.length / 2, v.name);
    }
  }
});

test('BOLT 1 Appendix A: every BigSize encoding vector', () => {
  assert.equal(fixture.encoding.length, 8);
  for (const v of fixture.encoding) {
    assert.equal(Buffer.from(encodeBigSize(BigInt(v.value))).toString('hex'), v.bytes, v.name);
    assert.equal(bigSizeLength(BigInt(v.value)), v.bytes.length / 2, v.name);
  }
});

test('BigSize decodes at an offset inside a larger buffer', () => {
  const buf = hex('aaaafe00010000bb');
  assert.deepEqual(decodeBigSize(buf, 2), { value: 65536n, length: 5 });
});

test('BigSize refuses values outside u64', () => {
  assert.throws(() => encodeBigSize(-1n), WireError);
  assert.throws(() => encodeBigSize(2n ** 64n), WireError);
});
