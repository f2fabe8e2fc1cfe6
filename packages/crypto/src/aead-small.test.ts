import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { smallDecrypt, smallEncrypt } from './aead-small.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** OpenSSL's ChaCha20-Poly1305 through Node: ciphertext || tag. */
function openssl(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): string {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return hex(body) + hex(c.getAuthTag());
}

test('RFC 8439 2.8.2: the AEAD vector, both ways', () => {
  // RFC 8439 section 2.8.2 (Example and Test Vector for AEAD_CHACHA20_POLY1305).
  const plaintext = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const ad = bytes('50515253c0c1c2c3c4c5c6c7');
  const key = bytes('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const nonce = bytes('070000004041424344454647');
  const sealed = smallEncrypt(key, nonce, ad, plaintext);
  assert.equal(
    hex(sealed),
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
      '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
      '3ff4def08e4b7a9de576d26586cec64b6116' +
      '1ae10b594f09e26a7e902ecbd0600691',
  );
  assert.equal(
    new TextDecoder().decode(smallDecrypt(key, nonce, ad, sealed)),
    new TextDecoder().decode(plaintext),
  );
});

test('5,000 random keys, nonces, AD of 0–80 bytes and plaintexts of 0–200 bytes: byte-identical to OpenSSL, and back', () => {
  for (let i = 0; i < 5000; i++) {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const ad = randomBytes(i % 81);
    const plaintext = randomBytes((i * 7) % 201);
    const sealed = smallEncrypt(key, nonce, ad, plaintext);
    assert.equal(hex(sealed), openssl(key, nonce, ad, plaintext), `case ${i}`);
    assert.equal(hex(smallDecrypt(key, nonce, ad, sealed) ?? new Uint8Array([1])), hex(plaintext));
  }
});

test('limbs at their extremes (all-zero and all-ones keys and data) agree with OpenSSL', () => {
  for (const fill of [0x00, 0xff]) {
    const key = new Uint8Array(32).fill(fill);
    const nonce = new Uint8Array(12).fill(fill);
    for (const n of [0, 1, 15, 16, 17, 33, 64]) {
      const data = new Uint8Array(n).fill(fill);
      assert.equal(
        hex(smallEncrypt(key, nonce, data, data)),
        openssl(key, nonce, data, data),
        `${fill} ${n}`,
      );
    }
  }
});

test('any flipped bit of ciphertext, tag or AD, or another key or nonce: refused', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const ad = randomBytes(32);
  const sealed = smallEncrypt(key, nonce, ad, randomBytes(33));
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const bad = sealed.slice();
    bad[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(smallDecrypt(key, nonce, ad, bad), undefined, `bit ${bit}`);
  }
  const badAd = ad.slice();
  badAd[0]! ^= 1;
  assert.equal(smallDecrypt(key, nonce, badAd, sealed), undefined);
  assert.equal(smallDecrypt(randomBytes(32), nonce, ad, sealed), undefined);
  assert.equal(smallDecrypt(key, randomBytes(12), ad, sealed), undefined);
});
