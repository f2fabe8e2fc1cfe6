import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import {
  availableBackends,
  bolt8Nonce,
  CryptoError,
  CryptoPool,
  decryptWithAd,
  encryptWithAd,
  generateKeyPair,
  hmacSha256,
  inThreadCrypto,
  isValidPublicKey,
  nobleBackend,
  pointAdd,
  pointAddScalar,
  pointMultiply,
  secp,
  sha256,
} from './index.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const vectors = JSON.parse(readFileSync(new URL('./fixtures/bolt08.json', import.meta.url), 'utf8')) as {
  ecdh: { privateKey: string; publicKey: string; sharedSecret: string }[];
  encrypt: { key: string; nonce: number; ad?: string; plaintext: string; ciphertext: string }[];
};

const backends = availableBackends();
const pool = new CryptoPool({ threads: 2, chunkSize: 16 });
after(() => pool.close());

/** Deterministic bytes so a failure reproduces. */
function prng(seed: number): (n: number) => Uint8Array {
  let state = seed;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      out[i] = state >>> 24;
    }
    return out;
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CryptoError, `expected CryptoError, got ${(e as Error).name}`);
    assert.doesNotMatch(e.message, /[0-9a-f]{64}/, 'no key material in error messages');
    return e.code;
  }
  return undefined;
}

test('all three backends load on this machine', () => {
  assert.deepEqual(
    backends.map((b) => b.name),
    ['noble', 'native', 'wasm'],
  );
  assert.equal(secp.backend, 'native');
  assert.equal(secp.verifyBackend, 'native');
});

test('500 random points: every backend multiplies, adds and tweaks to the same point as noble', () => {
  const rand = prng(99);
  const scalar = () => {
    const k = rand(32);
    k[0] = (k[0]! % 0xfe) + 1;
    return k;
  };
  for (let i = 0; i < 500; i++) {
    const p = nobleBackend.publicKey(scalar());
    const q = nobleBackend.publicKey(scalar());
    const k = scalar();
    const product = toHex(nobleBackend.pointMultiply(p, k));
    const sum = toHex(nobleBackend.pointAdd(p, q));
    const tweaked = toHex(nobleBackend.pointAddScalar(p, k));
    // P + k·G is P + (k·G): the tweak agrees with an explicit addition.
    assert.equal(tweaked, toHex(nobleBackend.pointAdd(p, nobleBackend.publicKey(k))));
    for (const b of backends) {
      assert.equal(toHex(b.pointMultiply(p, k)), product, `${b.name} k·P #${i}`);
      assert.equal(toHex(b.pointAdd(p, q)), sum, `${b.name} P+Q #${i}`);
      assert.equal(toHex(b.pointAddScalar(p, k)), tweaked, `${b.name} P+k·G #${i}`);
      assert.equal(b.isPoint(p), true, `${b.name} isPoint #${i}`);
    }
  }
});

describe('point arithmetic refuses what is not a point, the same way on every backend', () => {
  const key = new Uint8Array(32).fill(1);
  const p = nobleBackend.publicKey(key);
  const minusP = p.slice();
  minusP[0] = p[0] === 2 ? 3 : 2;
  const notAPoint = new Uint8Array(33).fill(0xff);
  notAPoint[0] = 2;
  const uncompressed = hex(
    '041b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f70beaf8f588b541507fed6a642c5ab42dfdf8120a7f639de5122d47a69a8e8d1',
  );
  const hybrid = uncompressed.slice();
  hybrid[0] = 6 | (uncompressed[64]! & 1);
  const N = hex('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
  for (const b of backends) {
    test(`backend ${b.name}`, () => {
      assert.equal(b.isPoint(notAPoint), false);
      assert.equal(b.isPoint(p.subarray(1)), false);
      assert.equal(b.isPoint(uncompressed), true, 'SEC 1 uncompressed');
      assert.equal(b.isPoint(hybrid), false, 'hybrid encoding');
      assert.equal(
        codeOf(() => b.pointMultiply(notAPoint, key)),
        'invalid-public-key',
      );
      assert.equal(
        codeOf(() => b.pointMultiply(hybrid, key)),
        'invalid-public-key',
      );
      assert.equal(
        codeOf(() => b.pointMultiply(p, new Uint8Array(32))),
        'invalid-private-key',
      );
      assert.equal(
        codeOf(() => b.pointMultiply(p, N)),
        'invalid-private-key',
      );
      assert.equal(
        codeOf(() => b.pointAdd(p, minusP)),
        'invalid-public-key',
        'P + (-P) is infinity',
      );
      assert.equal(
        codeOf(() => b.pointAdd(p, notAPoint)),
        'invalid-public-key',
      );
      assert.equal(
        codeOf(() => b.pointAddScalar(p, N)),
        'invalid-private-key',
      );
      assert.equal(toHex(b.pointAddScalar(p, new Uint8Array(32))), toHex(p), 'P + 0·G = P');
    });
  }

  test('the package-level helpers reduce scalars mod n, as BOLT 3 hashes need', () => {
    const nPlusOne = N.slice();
    nPlusOne[31]! += 1;
    assert.equal(toHex(pointMultiply(p, nPlusOne)), toHex(p), '(n+1)·P = P');
    assert.equal(toHex(pointAddScalar(p, N)), toHex(p), 'P + n·G = P');
    assert.equal(
      codeOf(() => pointMultiply(p, N)),
      'invalid-private-key',
    );
    assert.equal(toHex(pointAdd(p, p)), toHex(nobleBackend.pointMultiply(p, hex(`${'00'.repeat(31)}02`))));
    assert.equal(isValidPublicKey(notAPoint), false);
    assert.equal(isValidPublicKey(p), true);
  });
});

test('generateKeyPair: a valid scalar and its public key, different every time', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const { privateKey, publicKey } = generateKeyPair();
    assert.equal(toHex(publicKey), toHex(nobleBackend.publicKey(privateKey)));
    seen.add(toHex(privateKey));
  }
  assert.equal(seen.size, 50);
});

describe('BOLT 8 vectors', () => {
  for (const v of vectors.ecdh) {
    test(`ECDH ${v.sharedSecret.slice(0, 8)}… on every backend and the pool`, async () => {
      for (const b of backends)
        assert.equal(toHex(b.ecdh(hex(v.privateKey), hex(v.publicKey))), v.sharedSecret, b.name);
      assert.equal(toHex(await pool.ecdh(hex(v.privateKey), hex(v.publicKey))), v.sharedSecret);
    });
  }

  test('ChaCha20-Poly1305 with the BOLT 8 nonce layout: encrypt and decrypt', () => {
    for (const v of vectors.encrypt) {
      const ad = hex(v.ad ?? '');
      const c = encryptWithAd(hex(v.key), v.nonce, ad, hex(v.plaintext));
      assert.equal(toHex(c), v.ciphertext);
      assert.equal(toHex(decryptWithAd(hex(v.key), v.nonce, ad, c)), v.plaintext);
      const flipped = c.slice();
      flipped[0]! ^= 1;
      assert.equal(
        codeOf(() => decryptWithAd(hex(v.key), v.nonce, ad, flipped)),
        'bad-mac',
      );
      assert.equal(
        codeOf(() => decryptWithAd(hex(v.key), v.nonce + 1, ad, c)),
        'bad-mac',
      );
    }
  });
});

test('BOLT 8 nonces: 32 zero bits, then the counter as 64 bits little-endian, from a number or a bigint', () => {
  const reference = (c: number | bigint) => {
    const n = new Uint8Array(12);
    new DataView(n.buffer).setBigUint64(4, BigInt(c), true);
    return toHex(n);
  };
  for (const c of [0, 1, 999, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER, 5n, 2n ** 64n - 1n])
    assert.equal(toHex(bolt8Nonce(c)), reference(c), String(c));
});

test('hashes match known answers (FIPS 180-2 "abc", RFC 4231 case 2)', () => {
  assert.equal(
    toHex(sha256(new TextEncoder().encode('abc'))),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
  assert.equal(
    toHex(
      hmacSha256(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?')),
    ),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
  // In parts: the same as the concatenation.
  const abc = new TextEncoder().encode('abc');
  assert.equal(toHex(sha256(abc.subarray(0, 1), abc.subarray(1, 2), abc.subarray(2))), toHex(sha256(abc)));
  const key = new TextEncoder().encode('Jefe');
  const message = new TextEncoder().encode('what do ya want for nothing?');
  assert.equal(
    toHex(hmacSha256(key, message.subarray(0, 5), message.subarray(5))),
    toHex(hmacSha256(key, message)),
  );
});

test('1,000 random keys: every backend signs byte-identical to noble, verifies the others, and agrees on ECDH', () => {
  const rand = prng(42);
  for (let i = 0; i < 1000; i++) {
    const key = rand(32);
    key[0] = (key[0]! % 0xfe) + 1; // keep the key below the curve order and non-zero
    const digest = rand(32);
    const reference = nobleBackend.sign(digest, key);
    const pub = nobleBackend.publicKey(key);
    for (const b of backends) {
      assert.equal(toHex(b.publicKey(key)), toHex(pub), `${b.name} public key #${i}`);
      const sig = b.sign(digest, key);
      assert.equal(toHex(sig), toHex(reference), `${b.name} signature #${i}`);
      assert.equal(b.verify(reference, digest, pub), true, `${b.name} verify #${i}`);
    }
    if (i % 4 === 0) {
      // ECDH with a random other key: every backend derives the same BOLT 8 secret.
      const other = rand(32);
      other[0] = (other[0]! % 0xfe) + 1;
      const otherPub = nobleBackend.publicKey(other);
      const expected = toHex(nobleBackend.ecdh(key, otherPub));
      assert.equal(toHex(nobleBackend.ecdh(other, pub)), expected, 'ECDH is symmetric');
      for (const b of backends) assert.equal(toHex(b.ecdh(key, otherPub)), expected, `${b.name} ECDH #${i}`);
    }
    if (i % 10 === 0) {
      const bad = reference.slice();
      bad[5]! ^= 0x40;
      const otherDigest = digest.slice();
      otherDigest[0]! ^= 1;
      for (const b of backends) {
        assert.equal(b.verify(bad, digest, pub), false, `${b.name} rejects a tampered signature #${i}`);
        assert.equal(b.verify(reference, otherDigest, pub), false, `${b.name} rejects another digest #${i}`);
      }
    }
  }
});

test('the pool gives the same results as in-thread, in batches of every size', async () => {
  const rand = prng(7);
  const items = Array.from({ length: 300 }, () => {
    const privateKey = rand(32);
    privateKey[0] = 1;
    return { privateKey, digest: rand(32) };
  });
  const poolSigs = await pool.signBatch(items);
  const localSigs = await inThreadCrypto.signBatch(items);
  assert.deepEqual(poolSigs.map(toHex), localSigs.map(toHex));
  const verifies = items.map((it, i) => ({
    signature: poolSigs[i]!,
    digest: i % 3 === 0 ? rand(32) : it.digest,
    publicKey: secp.publicKey(it.privateKey),
  }));
  for (const size of [1, 8, 64, 256]) {
    const batch = verifies.slice(0, size);
    assert.deepEqual(await pool.verifyBatch(batch), await inThreadCrypto.verifyBatch(batch));
  }
  const results = await pool.verifyBatch(verifies);
  assert.equal(results.filter((ok) => !ok).length, 100);
});

describe('bad input gives a typed error, never a crash', () => {
  const key = new Uint8Array(32).fill(1);
  const digest = new Uint8Array(32).fill(2);
  const pub = nobleBackend.publicKey(key);
  const sig = nobleBackend.sign(digest, key);
  const N = hex('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');

  for (const b of backends) {
    test(`backend ${b.name}`, () => {
      assert.equal(
        codeOf(() => b.publicKey(new Uint8Array(32))),
        'invalid-private-key',
      );
      assert.equal(
        codeOf(() => b.publicKey(N)),
        'invalid-private-key',
      );
      assert.equal(
        codeOf(() => b.sign(digest, new Uint8Array(31))),
        'invalid-private-key',
      );
      assert.equal(
        codeOf(() => b.sign(new Uint8Array(33), key)),
        'invalid-length',
      );
      assert.equal(
        codeOf(() => b.verify(sig.subarray(0, 63), digest, pub)),
        'invalid-signature',
      );
      assert.equal(
        codeOf(() => b.verify(new Uint8Array(65), digest, pub)),
        'invalid-signature',
      );
      assert.equal(
        codeOf(() => b.verify(sig, digest, new Uint8Array(20))),
        'invalid-public-key',
      );
      // A 33-byte string that is not a point is a failed verification, not an exception.
      const notAPoint = new Uint8Array(33).fill(0xff);
      notAPoint[0] = 2;
      assert.equal(b.verify(sig, digest, notAPoint), false);
      assert.equal(
        codeOf(() => b.ecdh(key, notAPoint)),
        'invalid-public-key',
      );
      // r = 0 and s >= n are invalid signatures.
      assert.equal(b.verify(new Uint8Array(64), digest, pub), false);
      const highS = new Uint8Array(64);
      highS.set(sig.subarray(0, 32));
      highS.set(N, 32);
      assert.equal(b.verify(highS, digest, pub), false);
      // The same signature with s replaced by n - s is valid ECDSA but not low-S: every backend
      // refuses it, so none accepts what another would reject (BOLT signatures are low-S).
      const flippedS = new Uint8Array(64);
      flippedS.set(sig.subarray(0, 32));
      const nMinusS = BigInt(`0x${toHex(N)}`) - BigInt(`0x${toHex(sig.subarray(32))}`);
      flippedS.set(hex(nMinusS.toString(16).padStart(64, '0')), 32);
      assert.equal(b.verify(flippedS, digest, pub), false, 'high-S form is refused');
    });
  }

  test('the pool reports malformed requests as errors or false, and keeps working', async () => {
    await assert.rejects(
      pool.sign(digest, new Uint8Array(32)),
      (e: CryptoError) => e.code === 'invalid-private-key',
    );
    assert.deepEqual(await pool.verifyBatch([{ signature: sig.subarray(1), digest, publicKey: pub }]), [
      false,
    ]);
    assert.deepEqual(await pool.verifyBatch([{ signature: sig, digest, publicKey: pub }]), [true]);
  });
});
