import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sha256, sha256d } from './index.ts';
import { sha256Js } from './sha256-block.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const openssl = (parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

test('FIPS 180-2 known answers: "abc", the empty string, the 448-bit message', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.equal(
    hex(sha256Js([text('abc')])),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
  assert.equal(hex(sha256Js([])), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(
    hex(sha256Js([text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')])),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  );
});

test('every length from 0 to 300, whole and cut in random parts: same as OpenSSL', () => {
  for (let n = 0; n <= 300; n++) {
    const data = randomBytes(n);
    assert.equal(hex(sha256Js([data])), openssl([data]), `length ${n}`);
    const parts: Uint8Array[] = [];
    for (let at = 0; at < n; ) {
      const k = Math.min(n - at, Math.floor(Math.random() * 70));
      parts.push(data.subarray(at, at + k));
      at += k;
    }
    assert.equal(hex(sha256Js(parts)), openssl([data]), `length ${n} in ${parts.length} parts`);
  }
});

test('sha256 and sha256d of parts, on either side of the JavaScript threshold', () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 500]) {
    const a = randomBytes(n);
    const b = randomBytes(33);
    assert.equal(hex(sha256(a, b)), openssl([a, b]), `length ${n} + 33`);
    assert.equal(
      hex(sha256d(a)),
      createHash('sha256').update(createHash('sha256').update(a).digest()).digest('hex'),
    );
  }
});
