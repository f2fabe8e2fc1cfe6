import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { KeysError } from './errors.ts';
import {
  CounterpartyCommitmentSecrets,
  generateFromSeed,
  MAX_SECRET_INDEX,
  secretIndex,
} from './shachain.ts';

// BOLT 3 Appendix D, copied to fixtures/ (see its `source`).
interface Fixture {
  generation: { name: string; seed: string; index: string; output: string }[];
  storage: { name: string; steps: { index: string; secret: string; ok: boolean }[] }[];
}
const fx = JSON.parse(
  readFileSync(new URL('./fixtures/bolt03-shachain.json', import.meta.url), 'utf8'),
) as Fixture;
const hex = (s: string) => Buffer.from(s, 'hex');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('Appendix D has the generation and storage vectors', () => {
  assert.equal(fx.generation.length, 5);
  assert.equal(fx.storage.length, 9);
});

for (const g of fx.generation) {
  test(`Appendix D generation: ${g.name}`, () => {
    assert.equal(toHex(generateFromSeed(hex(g.seed), BigInt(g.index))), g.output);
  });
}

for (const s of fx.storage) {
  test(`Appendix D storage: ${s.name}`, () => {
    const store = new CounterpartyCommitmentSecrets();
    for (const step of s.steps) {
      const index = BigInt(step.index);
      if (step.ok) {
        store.insert(index, hex(step.secret));
        assert.equal(toHex(store.getSecret(index)), step.secret);
      } else {
        assert.throws(
          () => store.insert(index, hex(step.secret)),
          (e: unknown) =>
            e instanceof KeysError && e.code === 'secret-mismatch' && !e.message.includes(step.secret),
        );
      }
    }
  });
}

test('storage rederives every earlier secret and round-trips through serialize', () => {
  const seed = new Uint8Array(32).fill(0x42);
  const store = new CounterpartyCommitmentSecrets();
  for (let n = 0n; n < 300n; n++) store.insert(secretIndex(n), generateFromSeed(seed, secretIndex(n)));
  const again = CounterpartyCommitmentSecrets.deserialize(store.serialize());
  for (let n = 0n; n < 300n; n++) {
    assert.deepEqual(again.getSecret(secretIndex(n)), generateFromSeed(seed, secretIndex(n)));
  }
  assert.equal(again.nextIndex, secretIndex(300n));
  assert.throws(
    () => again.getSecret(secretIndex(300n)),
    (e: unknown) => e instanceof KeysError && e.code === 'secret-unknown',
  );
});

test('out-of-order and malformed secrets are typed errors', () => {
  const store = new CounterpartyCommitmentSecrets();
  assert.throws(
    () => store.insert(MAX_SECRET_INDEX - 1n, new Uint8Array(32)),
    (e: unknown) => e instanceof KeysError && e.code === 'secret-out-of-order',
  );
  assert.throws(
    () => store.insert(MAX_SECRET_INDEX, new Uint8Array(31)),
    (e: unknown) => e instanceof KeysError && e.code === 'invalid-argument',
  );
  assert.throws(() => generateFromSeed(new Uint8Array(32), 1n << 48n), KeysError);
  assert.throws(() => CounterpartyCommitmentSecrets.deserialize(new Uint8Array(10)), KeysError);
});
