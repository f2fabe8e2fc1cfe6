/**
 * BOLT 3 "Per-commitment Secret Requirements" and "Efficient Per-commitment Secret Storage".
 *
 * Indexes are 48-bit and count down: the first secret is index 2^48 - 1. lnkit's commitment
 * numbers count up from 0; `secretIndex(n)` converts between them.
 */
import { sha256 } from '@lnkit/crypto';
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

  /** Persisted form: 8 bytes next index, then for each of 49 buckets 1 presence byte + 8 index + 32 secret. */
  serialize(): Uint8Array {
    const out = new Uint8Array(8 + 49 * 41);
    const view = new DataView(out.buffer);
    view.setBigUint64(0, this.#nextIndex & 0xffffffffffffffffn);
    this.#known.forEach((k, i) => {
      const off = 8 + i * 41;
      if (!k) return;
      out[off] = 1;
      view.setBigUint64(off + 1, k.index);
      out.set(k.secret, off + 9);
    });
    return out;
  }

  static deserialize(bytes: Uint8Array): CounterpartyCommitmentSecrets {
    checkLength(bytes, 8 + 49 * 41, 'serialized commitment secrets');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const store = new CounterpartyCommitmentSecrets();
    const next = view.getBigUint64(0);
    // nextIndex is -1 (all 2^48 received) stored as 2^64 - 1.
    store.#nextIndex = next === 0xffffffffffffffffn ? -1n : next;
    for (let i = 0; i < 49; i++) {
      const off = 8 + i * 41;
      if (bytes[off] === 1)
        store.#known[i] = { index: view.getBigUint64(off + 1), secret: bytes.slice(off + 9, off + 41) };
    }
    return store;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
