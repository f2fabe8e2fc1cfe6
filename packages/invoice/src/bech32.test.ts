import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bytesToWords,
  decodeBech32,
  encodeBech32,
  numberToWords,
  wordsToBytes,
  wordsToNumber,
} from './bech32.ts';
import { InvoiceError } from './errors.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InvoiceError, String(e));
    return e.code;
  }
  return 'no error';
};

test('BIP 173 valid strings decode and re-encode (lower case)', () => {
  for (const s of [
    'A12UEL5L',
    'a12uel5l',
    'an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs',
    'abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw',
    'split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w',
  ]) {
    const { hrp, words } = decodeBech32(s);
    assert.equal(encodeBech32(hrp, words), s.toLowerCase());
  }
});

test('BIP 350 bech32m strings decode only as bech32m', () => {
  for (const s of ['a1lqfn3a', 'abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx', '?1v759aa']) {
    const { hrp, words } = decodeBech32(s, 'bech32m');
    assert.equal(encodeBech32(hrp, words, 'bech32m'), s);
    assert.equal(
      code(() => decodeBech32(s)),
      'bad-checksum',
    );
  }
});

test('BIP 173 invalid strings are refused, each with its reason', () => {
  assert.equal(
    code(() => decodeBech32('\x201nwldj5')),
    'invalid-bech32',
  ); // hrp char out of range
  assert.equal(
    code(() => decodeBech32('pzry9x0s0muk')),
    'invalid-bech32',
  ); // no separator
  assert.equal(
    code(() => decodeBech32('1pzry9x0s0muk')),
    'invalid-bech32',
  ); // empty hrp
  assert.equal(
    code(() => decodeBech32('x1b4n0q5v')),
    'invalid-bech32',
  ); // invalid data char
  assert.equal(
    code(() => decodeBech32('li1dgmt3')),
    'invalid-bech32',
  ); // checksum too short
  assert.equal(
    code(() => decodeBech32('A1G7SGD8')),
    'bad-checksum',
  ); // checksum with upper-case hrp
  assert.equal(
    code(() => decodeBech32('a12UEL5L')),
    'invalid-bech32',
  ); // mixed case
  assert.equal(
    code(() => decodeBech32(42 as unknown as string)),
    'invalid-bech32',
  );
});

test('no length limit: a 2,000-character string round-trips', () => {
  const words = Uint8Array.from({ length: 2000 }, (_, i) => i % 32);
  const s = encodeBech32('lnbc', words);
  assert.equal(s.length, 4 + 1 + 2000 + 6);
  assert.deepEqual(decodeBech32(s).words, words);
});

test('5-bit conversions: zero padding on write, strict padding on read', () => {
  const bytes = Uint8Array.from([0xff, 0x01, 0x80]);
  const words = bytesToWords(bytes);
  assert.equal(words.length, 5);
  assert.deepEqual(wordsToBytes(words, 'x'), bytes);
  const badPad = words.slice();
  badPad[4]! |= 1;
  assert.throws(() => wordsToBytes(badPad, 'p field'), /p field has non-zero padding bits/);
  assert.throws(() => wordsToBytes(Uint8Array.from([0]), 'd field'), /whole 5-bit group/);
  // Not strict (the signature preimage): the last partial byte is kept, zero-filled.
  assert.deepEqual(wordsToBytes(Uint8Array.from([31]), 'x', false), Uint8Array.from([0xf8]));
  assert.equal(wordsToNumber(numberToWords(604800)), 604800);
  assert.deepEqual(numberToWords(0), new Uint8Array(0));
  assert.deepEqual(numberToWords(60, 7).length, 7);
});
