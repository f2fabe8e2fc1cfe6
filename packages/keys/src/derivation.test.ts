import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { secp } from '@lnkit/crypto';
import {
  derivePrivateKey,
  derivePublicKey,
  deriveRevocationPrivateKey,
  deriveRevocationPublicKey,
  perCommitmentPointFromSecret,
} from './derivation.ts';
import { KeysError } from './errors.ts';

// BOLT 3 Appendix E, copied to fixtures/ (see its `source`).
const v = JSON.parse(
  readFileSync(new URL('./fixtures/bolt03-key-derivation.json', import.meta.url), 'utf8'),
) as Record<string, string>;
const hex = (s: string | undefined) => Buffer.from(s ?? '', 'hex');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('Appendix E: base_point and per_commitment_point from their secrets', () => {
  assert.equal(toHex(secp.publicKey(hex(v.base_secret))), v.base_point);
  assert.equal(toHex(perCommitmentPointFromSecret(hex(v.per_commitment_secret))), v.per_commitment_point);
});

test('Appendix E: derivation of pubkey from basepoint and per_commitment_point', () => {
  assert.equal(toHex(derivePublicKey(hex(v.base_point), hex(v.per_commitment_point))), v.localpubkey);
});

test('Appendix E: derivation of private key from basepoint secret and per_commitment_point', () => {
  const priv = derivePrivateKey(hex(v.base_secret), hex(v.per_commitment_point));
  assert.equal(toHex(priv), v.localprivkey);
  assert.equal(toHex(secp.publicKey(priv)), v.localpubkey);
});

test('Appendix E: derivation of revocation pubkey', () => {
  assert.equal(
    toHex(deriveRevocationPublicKey(hex(v.base_point), hex(v.per_commitment_point))),
    v.revocationpubkey,
  );
});

test('Appendix E: derivation of revocation secret', () => {
  const priv = deriveRevocationPrivateKey(hex(v.base_secret), hex(v.per_commitment_secret));
  assert.equal(toHex(priv), v.revocationprivkey);
  assert.equal(toHex(secp.publicKey(priv)), v.revocationpubkey);
});

test('bad input is a typed error', () => {
  assert.throws(() => derivePublicKey(new Uint8Array(32), hex(v.per_commitment_point)), KeysError);
  assert.throws(() => deriveRevocationPrivateKey(hex(v.base_secret), new Uint8Array(31)), KeysError);
});

test('points and secrets a peer could send that are not on the curve are KeysError invalid-point', () => {
  const invalidPoint = (e: unknown) => e instanceof KeysError && e.code === 'invalid-point';
  // 33 bytes that are not a curve point (x = 2^256 - 1 is above the field prime).
  const notAPoint = new Uint8Array(33).fill(0xff);
  notAPoint[0] = 0x02;
  const point = hex(v.per_commitment_point);
  const base = hex(v.base_point);
  assert.throws(() => derivePublicKey(notAPoint, point), invalidPoint);
  assert.throws(() => derivePublicKey(base, notAPoint), invalidPoint);
  assert.throws(() => deriveRevocationPublicKey(notAPoint, point), invalidPoint);
  assert.throws(() => deriveRevocationPublicKey(base, notAPoint), invalidPoint);
  assert.throws(() => derivePrivateKey(hex(v.base_secret), notAPoint), invalidPoint);
  // A per_commitment_secret from revoke_and_ack that is zero or not below the group order.
  for (const secret of [new Uint8Array(32), new Uint8Array(32).fill(0xff)]) {
    assert.throws(() => perCommitmentPointFromSecret(secret), invalidPoint);
    assert.throws(() => deriveRevocationPrivateKey(hex(v.base_secret), secret), invalidPoint);
  }
});
