import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { StoreError } from '@lnkit/store';
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
  // Bytes that are no store are the record codec's error, like every other record's.
  assert.throws(
    () => CounterpartyCommitmentSecrets.deserialize(new Uint8Array(10)),
    (e: unknown) => e instanceof StoreError && e.code === 'record-malformed',
  );
});

const seed42 = new Uint8Array(32).fill(0x42);
function filled(count: bigint): CounterpartyCommitmentSecrets {
  const store = new CounterpartyCommitmentSecrets();
  for (let n = 0n; n < count; n++) store.insert(secretIndex(n), generateFromSeed(seed42, secretIndex(n)));
  return store;
}
const storeCode = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StoreError, `expected a StoreError, got ${e}`);
    return e.code;
  }
  return 'no error';
};

test('the store is a versioned record: version header, count, then 40-byte entries', () => {
  const empty = new CounterpartyCommitmentSecrets().serialize();
  // version 1, readable from 1; type 0 (received) empty = 0; type 2 (entries) empty.
  assert.equal(toHex(empty), '010100000200');
  assert.equal(CounterpartyCommitmentSecrets.deserialize(empty).nextIndex, MAX_SECRET_INDEX);
  const bytes = filled(300n).serialize();
  assert.deepEqual([...bytes.subarray(0, 2)], [1, 1]);
  // At most 49 entries of 40 bytes: never the old layout's 2017 bytes, whatever the count.
  assert.ok(bytes.length < 2 + 5 + 4 + 49 * 40);
  const again = CounterpartyCommitmentSecrets.deserialize(bytes);
  assert.deepEqual(again.serialize(), bytes);
});

test('a blob in the layout before records still loads, with the same secrets', () => {
  const fx = JSON.parse(
    readFileSync(new URL('./fixtures/shachain-legacy-layout.json', import.meta.url), 'utf8'),
  ) as { seed: string; received: number; serialized: string };
  const legacy = hex(fx.serialized);
  assert.equal(legacy.length, 8 + 49 * 41);
  const loaded = CounterpartyCommitmentSecrets.deserialize(legacy);
  const seed = hex(fx.seed);
  const received = BigInt(fx.received);
  assert.equal(loaded.nextIndex, secretIndex(received));
  for (let n = 0n; n < received; n++) {
    assert.deepEqual(loaded.getSecret(secretIndex(n)), generateFromSeed(seed, secretIndex(n)));
  }
  // Written again, it is a record, and the same secrets come back from it.
  const rewritten = loaded.serialize();
  assert.deepEqual(rewritten, filled(received).serialize());
  assert.deepEqual(
    CounterpartyCommitmentSecrets.deserialize(rewritten).getSecret(secretIndex(0n)),
    generateFromSeed(seed, secretIndex(0n)),
  );
  // A further secret inserts on top of the loaded store as on the original.
  loaded.insert(secretIndex(received), generateFromSeed(seed, secretIndex(received)));
  // "All 2^48 received" was stored as a next index of 2^64 - 1.
  const all = new Uint8Array(8 + 49 * 41);
  all.fill(0xff, 0, 8);
  const done = CounterpartyCommitmentSecrets.deserialize(all);
  assert.equal(done.nextIndex, -1n);
  assert.equal(CounterpartyCommitmentSecrets.deserialize(done.serialize()).nextIndex, -1n);
});

test('a store written by a newer lnkit that this one cannot read is refused, naming both versions', () => {
  const newer = Uint8Array.of(3, 2, 0x00, 0x00);
  assert.throws(
    () => CounterpartyCommitmentSecrets.deserialize(newer),
    (e: unknown) =>
      e instanceof StoreError &&
      e.code === 'record-too-new' &&
      e.message ===
        'counterparty-commitment-secrets record written by version 3 needs a reader of version 2 or newer; this lnkit reads up to version 1. Upgrade lnkit.',
  );
  // A newer field this version must understand (even type) is refused too; an odd one is skipped.
  const body = toHex(filled(3n).serialize()).slice(4);
  assert.equal(
    storeCode(() => CounterpartyCommitmentSecrets.deserialize(hex(`0201${body}0400`))),
    'record-unknown-required-field',
  );
  const skipped = CounterpartyCommitmentSecrets.deserialize(hex(`0201${body}0500`));
  assert.deepEqual(skipped.getSecret(secretIndex(2n)), generateFromSeed(seed42, secretIndex(2n)));
});

test('a damaged store is a StoreError that carries no secret', () => {
  const bytes = filled(12n).serialize();
  const secretsHex = Array.from({ length: 12 }, (_, n) =>
    toHex(generateFromSeed(seed42, secretIndex(BigInt(n)))),
  );
  const noSecret = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof StoreError, `expected a StoreError, got ${e}`);
      for (const h of secretsHex) assert.ok(!e.message.includes(h) && !e.message.includes(h.slice(0, 16)));
      return e.code;
    }
    return 'no error';
  };
  for (let n = 0; n < bytes.length; n++) {
    assert.equal(
      noSecret(() => CounterpartyCommitmentSecrets.deserialize(bytes.subarray(0, n))),
      'record-malformed',
      `cut at ${n}`,
    );
  }
  // An entry for a secret not received yet, two entries in one bucket, an index over 48 bits.
  const entry = (index: bigint) => {
    const e = new Uint8Array(40).fill(7);
    new DataView(e.buffer).setBigUint64(0, index);
    return toHex(e);
  };
  const record = (received: number, entries: string[]) =>
    hex(
      `01010001${received.toString(16).padStart(2, '0')}02${(entries.length * 40).toString(16).padStart(2, '0')}${entries.join('')}`,
    );
  assert.equal(
    noSecret(() => CounterpartyCommitmentSecrets.deserialize(record(1, [entry(MAX_SECRET_INDEX)]))),
    'no error',
  );
  assert.equal(
    noSecret(() => CounterpartyCommitmentSecrets.deserialize(record(1, [entry(MAX_SECRET_INDEX - 1n)]))),
    'record-malformed',
  );
  assert.equal(
    noSecret(() =>
      CounterpartyCommitmentSecrets.deserialize(
        record(4, [entry(MAX_SECRET_INDEX), entry(MAX_SECRET_INDEX - 2n)]),
      ),
    ),
    'record-malformed',
  );
  assert.equal(
    noSecret(() => CounterpartyCommitmentSecrets.deserialize(record(1, [entry(1n << 48n)]))),
    'record-malformed',
  );
});
