import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { CryptoError, hkdfSha256 } from './index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const joined = ([a, b]: [Uint8Array, Uint8Array]) => hex(a) + hex(b);
/** OpenSSL's HKDF-SHA256 (an implementation independent of hkdf.ts), zero-length info, 64 bytes. */
const openssl = (salt: Uint8Array, ikm: Uint8Array) =>
  Buffer.from(hkdfSync('sha256', ikm, salt, new Uint8Array(0), 64)).toString('hex');

test('RFC 5869 test case 3 (SHA-256, empty salt and info): the first 42 bytes', () => {
  // RFC 5869 appendix A.3: IKM = 22 × 0x0b, salt and info empty, L = 42.
  const okm = joined(hkdfSha256(new Uint8Array(0), new Uint8Array(22).fill(0x0b)));
  assert.equal(
    okm.slice(0, 84),
    '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  );
});

test('2,000 random inputs of the sizes BOLT 8 uses (32-byte salt; 32 or 0 bytes in): same as OpenSSL', () => {
  for (let i = 0; i < 2000; i++) {
    const salt = randomBytes(32);
    const ikm = i % 4 === 3 ? new Uint8Array(0) : randomBytes(32);
    assert.equal(joined(hkdfSha256(salt, ikm)), openssl(salt, ikm), `input ${i}`);
  }
});

test('edge words (all zero, all 0xff bytes) and other sizes: same as OpenSSL', () => {
  for (const fill of [0x00, 0xff, 0x80, 0x7f]) {
    const k = new Uint8Array(32).fill(fill);
    assert.equal(joined(hkdfSha256(k, k)), openssl(k, k));
  }
  for (const [s, n] of [
    [32, 1],
    [32, 33],
    [16, 32],
    [64, 32],
    [65, 100],
  ] as const) {
    const salt = randomBytes(s);
    const ikm = randomBytes(n);
    assert.equal(joined(hkdfSha256(salt, ikm)), openssl(salt, ikm), `salt ${s}, ikm ${n}`);
  }
});

test('the halves are fresh each call, and a view as input is read at its offset', () => {
  const buffer = randomBytes(96);
  const salt = buffer.subarray(1, 33);
  const ikm = buffer.subarray(40, 72);
  const [a, b] = hkdfSha256(salt, ikm);
  assert.equal(hex(a) + hex(b), openssl(salt, ikm));
  const [c] = hkdfSha256(salt, ikm);
  c.fill(0);
  assert.equal(hex(hkdfSha256(salt, ikm)[0]), hex(a));
});

test('not bytes: a CryptoError', () => {
  assert.throws(
    () => hkdfSha256('salt' as unknown as Uint8Array, new Uint8Array(32)),
    (e) => e instanceof CryptoError && e.code === 'invalid-length',
  );
});
