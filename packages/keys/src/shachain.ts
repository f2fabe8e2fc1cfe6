/**
 * BOLT 3 "Per-commitment Secret Requirements" and "Efficient Per-commitment Secret Storage".
 *
 * Indexes are 48-bit and count down: the first secret is index 2^48 - 1. lnkit's commitment
 * numbers count up from 0; `secretIndex(n)` converts between them.
 */
import { sha256 } from '@lnkit/crypto';
import { defineRecord, type FieldCodec, fieldCodec, StoreError } from '@lnkit/store';
import { checkLength, KeysError } from './errors.ts';

export const MAX_SECRET_INDEX = (1n << 48n) - 1n;

/** BOLT 3: the first secret used is index 281474976710655, then decrements. */
export function secretIndex(commitmentNumber: bigint): bigint {
  if (commitmentNumber < 0n || commitmentNumber > MAX_SECRET_INDEX) {
    throw new KeysError('invalid-argument', 'commitment number out of the 48-bit range');
  }
  return MAX_SECRET_INDEX - commitmentNumber;
}

function checkIndex(index: bigint): void {
  if (typeof index !== 'bigint' || index < 0n || index > MAX_SECRET_INDEX) {
    throw new KeysError('invalid-argument', 'per-commitment secret index out of the 48-bit range');
  }
}

/** BOLT 3 derive_secret(base, bits, I): flip bit B then hash, for B in bits-1 down to 0 when set in I. */
function deriveSecret(base: Uint8Array, bits: number, index: bigint): Uint8Array {
  let p: Uint8Array = Uint8Array.from(base);
  for (let b = bits - 1; b >= 0; b--) {
    if ((index >> BigInt(b)) & 1n) {
      // "flip(B)" alternates the (B mod 8) bit of the (B div 8) byte.
      p[b >> 3] = (p[b >> 3] as number) ^ (1 << (b & 7));
      p = sha256(p);
    }
  }
  return p;
}

/** BOLT 3 generate_from_seed(seed, I). */
export function generateFromSeed(seed: Uint8Array, index: bigint): Uint8Array {
  checkLength(seed, 32, 'shachain seed');
  checkIndex(index);
  return deriveSecret(seed, 48, index);
}

/** BOLT 3 where_to_put_secret(I): the number of trailing zero bits (48 for I = 0). */
function whereToPutSecret(index: bigint): number {
  for (let b = 0; b < 48; b++) if ((index >> BigInt(b)) & 1n) return b;
  return 48;
}

interface Bucket {
  index: bigint;
  secret: Uint8Array;
}

/**
 * The receiver's compact store of the counterparty's per-commitment secrets: at most 49
 * (index, secret) pairs, from which every secret received so far can be rederived. A secret
 * that does not derive the earlier ones is rejected (BOLT 3 insert_secret), so a peer that
 * sends secrets from two different seeds is caught as soon as it can be.
 */
export class CounterpartyCommitmentSecrets {
  readonly #known: Array<Bucket | undefined> = new Array(49).fill(undefined);
  #nextIndex: bigint = MAX_SECRET_INDEX;

  /** The index the next secret must carry. */
  get nextIndex(): bigint {
    return this.#nextIndex;
  }

  /** Inserts the secret for `index`; throws KeysError('secret-mismatch') when inconsistent. */
  insert(index: bigint, secret: Uint8Array): void {
    checkIndex(index);
    checkLength(secret, 32, 'per-commitment secret');
    if (index !== this.#nextIndex) {
      throw new KeysError(
        'secret-out-of-order',
        `expected the secret for index ${this.#nextIndex}, got ${index}`,
      );
    }
    const bucket = whereToPutSecret(index);
    for (let b = 0; b < bucket; b++) {
      const known = this.#known[b];
      if (known === undefined) continue;
      const derived = deriveSecret(secret, bucket, known.index);
      if (!equal(derived, known.secret)) {
        throw new KeysError(
          'secret-mismatch',
          `the secret for index ${index} does not derive the secret already held for index ${known.index}`,
        );
      }
    }
    this.#known[bucket] = { index, secret: Uint8Array.from(secret) };
    this.#nextIndex = index - 1n;
  }

  /** BOLT 3 derive_old_secret(I). */
  getSecret(index: bigint): Uint8Array {
    checkIndex(index);
    for (let b = 0; b < this.#known.length; b++) {
      const known = this.#known[b];
      if (known === undefined) continue;
      const mask = ~((1n << BigInt(b)) - 1n) & MAX_SECRET_INDEX;
      if ((index & mask) === known.index) return deriveSecret(known.secret, b, index);
    }
    throw new KeysError('secret-unknown', `no secret received for index ${index}`);
  }

  /**
   * Persisted form: a versioned record (@lnkit/store) holding how many secrets were received
   * and the known (index, secret) entries, at most 49. See the keys README for the layout.
   */
  serialize(): Uint8Array {
    const entries: Bucket[] = [];
    for (const k of this.#known) if (k) entries.push(k);
    return SECRETS_RECORD.encode({ received: MAX_SECRET_INDEX - this.#nextIndex, entries });
  }

  /**
   * Reads `serialize()`'s record, or the fixed layout written before records existed
   * (recognised by its exact length). Bad bytes are StoreError `record-malformed`; a record
   * from a newer lnkit that this one cannot read is `record-too-new`.
   */
  static deserialize(bytes: Uint8Array): CounterpartyCommitmentSecrets {
    if (isLegacyLayout(bytes)) return CounterpartyCommitmentSecrets.#fromLegacy(bytes);
    const { received, entries } = SECRETS_RECORD.decode(bytes);
    const store = new CounterpartyCommitmentSecrets();
    store.#nextIndex = MAX_SECRET_INDEX - received;
    for (const e of entries) {
      // The codec checked that each entry has a bucket of its own; it must also be a secret
      // already received, or getSecret would derive from a secret the peer never sent.
      if (e.index <= store.#nextIndex)
        throw new StoreError(
          'record-malformed',
          `${SECRETS_RECORD.kind} record holds an entry for index ${e.index}, not received yet`,
        );
      store.#known[whereToPutSecret(e.index)] = e;
    }
    return store;
  }

  /** The layout before versioned records: 8 bytes next index, then 49 × (presence, index, secret). */
  static #fromLegacy(bytes: Uint8Array): CounterpartyCommitmentSecrets {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const store = new CounterpartyCommitmentSecrets();
    const next = view.getBigUint64(0);
    // nextIndex is -1 (all 2^48 received) stored as 2^64 - 1.
    store.#nextIndex = next === 0xffffffffffffffffn ? -1n : next;
    for (let i = 0; i < 49; i++) {
      const off = 8 + i * LEGACY_BUCKET_BYTES;
      if (bytes[off] === 1)
        store.#known[i] = { index: view.getBigUint64(off + 1), secret: bytes.slice(off + 9, off + 41) };
    }
    return store;
  }
}

const LEGACY_BUCKET_BYTES = 41;
const LEGACY_BYTES = 8 + 49 * LEGACY_BUCKET_BYTES;

/**
 * The old layout is exactly 2017 bytes and starts with the next index as a u64: its first
 * byte is 0 (an index below 2^48) or, for "all received", eight 0xff bytes. A record's first
 * byte is its writer version, never 0; a record of this kind at version 255 whose stream
 * starts with six more 0xff bytes is the one case left ambiguous, and lnkit will not get there.
 */
function isLegacyLayout(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length !== LEGACY_BYTES) return false;
  return bytes[0] === 0 || bytes.subarray(0, 8).every((b) => b === 0xff);
}

interface SecretsRecord {
  /** How many secrets were received: the next index is 2^48 - 1 - received. */
  received: bigint;
  entries: Bucket[];
}

const ENTRY_BYTES = 8 + 32;

/** One known secret: u64 index, then the 32-byte secret. */
const entryCodec: FieldCodec<Bucket> = {
  name: 'shachain entry',
  encode: (e) => {
    checkIndex(e.index);
    checkLength(e.secret, 32, 'per-commitment secret');
    const out = new Uint8Array(ENTRY_BYTES);
    new DataView(out.buffer).setBigUint64(0, e.index);
    out.set(e.secret, 8);
    return out;
  },
  decode: (b) => {
    const index = new DataView(b.buffer, b.byteOffset, ENTRY_BYTES).getBigUint64(0);
    if (index > MAX_SECRET_INDEX) throw new RangeError('entry index out of the 48-bit range');
    return { index, secret: b.slice(8, ENTRY_BYTES) };
  },
};

const entryList = fieldCodec.list(entryCodec, { itemBytes: ENTRY_BYTES });

const SECRETS_RECORD = defineRecord<SecretsRecord>({
  kind: 'counterparty-commitment-secrets',
  version: 1,
  minReadVersion: 1,
  fields: {
    received: {
      type: 0,
      codec: {
        name: 'secret count',
        encode: (n) => fieldCodec.tu64.encode(n),
        decode: (b) => {
          const n = fieldCodec.tu64.decode(b);
          if (n > MAX_SECRET_INDEX + 1n) throw new RangeError('more secrets than 48-bit indexes');
          return n;
        },
      },
    },
    entries: {
      type: 2,
      codec: {
        name: 'shachain entries',
        encode: (list) => entryList.encode(list),
        decode: (b) => {
          const list = entryList.decode(b);
          // Each entry has one bucket (its trailing zero bits); two in one bucket, or more than
          // 49, is not a store insert() could have built.
          const buckets = new Set(list.map((e) => whereToPutSecret(e.index)));
          if (buckets.size !== list.length) throw new RangeError('two entries share a bucket');
          return list;
        },
      },
    },
  },
});

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
