/**
 * Versioned records: the byte form of everything lnkit persists (DESIGN.md, the durability
 * rule: "Persisted records are versioned TLV (even = required, odd = optional), so a newer
 * lnkit reads an older data dir and an older one refuses a newer with a clear error").
 *
 *   [u8: writer version][u8: minimum reader version][TLV stream (BOLT 1)]
 *
 * The TLV stream follows BOLT 1 exactly (wire's readTlvStream/writeTlvStream: minimal BigSize
 * type and length, strictly increasing types): an unknown even type is a field this reader
 * must understand and does not, so the record is refused; an unknown odd type is skipped and
 * kept, so a caller that rewrites the record may carry it over.
 *
 * Each record kind is declared once with `defineRecord`; its `version` is both what it writes
 * and the reader's own version when it reads. A record whose minimum reader version is above
 * it was written by a newer lnkit in a form this one cannot read, and is refused naming both.
 */
import { readTlvStream, type TlvRecord, writeTlvStream } from '@lnkit/wire';
import { StoreError } from './errors.ts';
import type { Key, NamedDb } from './store.ts';

export type { TlvRecord };

/** How one field's value becomes the bytes of its TLV record and back. */
export interface FieldCodec<V> {
  /** What the value is, for error messages ("u32", "32 bytes"). */
  readonly name: string;
  encode(value: V): Uint8Array;
  /** Gets exactly the record's value; throws (anything) when it is not a valid encoding. */
  decode(bytes: Uint8Array): V;
}

/** One declared field: its TLV type, its codec, and whether it may be absent. */
export interface FieldSpec<V> {
  /** The TLV type. Never reuse a number for another meaning; see the README on choosing it. */
  readonly type: number | bigint;
  readonly codec: FieldCodec<V>;
  /** Absent from the record when the value is undefined (the property must be optional in T). */
  readonly optional?: boolean;
  /** For a required field added after the first version: the value when an older record lacks it. */
  readonly default?: V;
}

/** The fields of T: an optional property of T must be declared `optional: true`, and only it. */
export type RecordFields<T> = {
  readonly [K in keyof T]-?: undefined extends T[K]
    ? FieldSpec<Exclude<T[K], undefined>> & { readonly optional: true }
    : FieldSpec<T[K]> & { readonly optional?: false };
};

export interface RecordDefinition<T> {
  /** Named in every error, e.g. 'chain-tip', 'peer'. */
  readonly kind: string;
  /** The version this code writes and reads up to (1..255). */
  readonly version: number;
  /** The lowest version that can read what this code writes (1..version). */
  readonly minReadVersion: number;
  readonly fields: RecordFields<T>;
}

/** A record as read, with what the caller needs to rewrite it without losing anything. */
export interface RecordRead<T> {
  readonly value: T;
  readonly writerVersion: number;
  readonly minReadVersion: number;
  /** Odd TLV records this version does not know, in type order; pass them back to `encode`. */
  readonly unknownFields: readonly TlvRecord[];
}

export interface RecordCodec<T> {
  readonly kind: string;
  readonly version: number;
  readonly minReadVersion: number;
  /** `unknownFields` (odd types from `read`) are written back among the known ones. */
  encode(value: T, options?: { unknownFields?: readonly TlvRecord[] }): Uint8Array;
  /** The value; throws StoreError (record-malformed, record-too-new, record-unknown-required-field). */
  decode(bytes: Uint8Array): T;
  /** The value with the record's versions and its unknown odd fields. */
  read(bytes: Uint8Array): RecordRead<T>;
}

export interface RecordHeader {
  readonly writerVersion: number;
  readonly minReadVersion: number;
}

const HEADER_BYTES = 2;

/** Reads and checks the two version bytes, without looking at the TLV stream. */
export function readRecordHeader(bytes: Uint8Array, kind?: string): RecordHeader {
  const what = kind === undefined ? 'record' : `${kind} record`;
  if (!(bytes instanceof Uint8Array)) throw new StoreError('record-malformed', `${what} is not bytes`);
  if (bytes.length < HEADER_BYTES)
    throw new StoreError(
      'record-malformed',
      `${what} is ${bytes.length} bytes, shorter than its 2-byte version header`,
    );
  const writerVersion = bytes[0] as number;
  const minReadVersion = bytes[1] as number;
  if (writerVersion === 0 || minReadVersion === 0 || minReadVersion > writerVersion)
    throw new StoreError(
      'record-malformed',
      `${what} has an impossible version header (written by version ${writerVersion}, readable from version ${minReadVersion})`,
    );
  return { writerVersion, minReadVersion };
}

/** Declares a record kind once; the returned codec writes and reads it. */
export function defineRecord<T extends object>(def: RecordDefinition<T>): RecordCodec<T> {
  const { kind, version, minReadVersion } = def;
  if (!isVersion(version) || !isVersion(minReadVersion) || minReadVersion > version)
    throw new StoreError(
      'record-bad-definition',
      `${kind} record: version ${version} and minReadVersion ${minReadVersion} must be integers with 1 <= minReadVersion <= version <= 255`,
    );
  const stream = fieldStream<T>(`${kind} record`, def.fields as Record<string, FieldSpec<unknown>>);

  const read = (bytes: Uint8Array): RecordRead<T> => {
    const header = readRecordHeader(bytes, kind);
    // Checked before the stream: a newer format may not even be a TLV stream this code can split.
    if (header.minReadVersion > version)
      throw new StoreError(
        'record-too-new',
        `${kind} record written by version ${header.writerVersion} needs a reader of version ${header.minReadVersion} or newer; this lnkit reads up to version ${version}. Upgrade lnkit.`,
      );
    const { value, unknownFields } = stream.decode(bytes.subarray(HEADER_BYTES));
    return { value, unknownFields, ...header };
  };

  return {
    kind,
    version,
    minReadVersion,
    encode(value, options) {
      const body = stream.encode(value, options?.unknownFields ?? []);
      const out = new Uint8Array(HEADER_BYTES + body.length);
      out[0] = version;
      out[1] = minReadVersion;
      out.set(body, HEADER_BYTES);
      return out;
    },
    decode: (bytes) => read(bytes).value,
    read,
  };
}

function isVersion(v: number): boolean {
  return Number.isInteger(v) && v >= 1 && v <= 255;
}

interface FieldEntry {
  readonly key: string;
  readonly type: bigint;
  readonly spec: FieldSpec<unknown>;
}

/** A TLV stream of declared fields without a header: a record's body, or a nested struct. */
export interface FieldStream<T> {
  encode(value: T, unknownFields: readonly TlvRecord[]): Uint8Array;
  decode(bytes: Uint8Array): { value: T; unknownFields: TlvRecord[] };
}

/** Builds the encoder and decoder of a stream of declared fields; `what` prefixes every error. */
export function fieldStream<T>(what: string, fields: Record<string, FieldSpec<unknown>>): FieldStream<T> {
  const entries = checkFields(what, fields);
  const byType = new Map(entries.map((e) => [e.type, e]));
  const label = (e: FieldEntry) => `${what}: field ${e.key} (type ${e.type})`;

  return {
    encode(value, unknownFields) {
      const records: TlvRecord[] = [];
      for (const e of entries) {
        const v = (value as Record<string, unknown>)[e.key];
        if (v === undefined) {
          if (e.spec.optional) continue;
          throw new StoreError('record-invalid-value', `${label(e)} is required and has no value`);
        }
        let bytes: Uint8Array;
        try {
          bytes = e.spec.codec.encode(v);
        } catch (err) {
          throw rethrow(err, 'record-invalid-value', `${label(e)} is not a valid ${e.spec.codec.name}`);
        }
        records.push({ type: e.type, value: bytes });
      }
      for (const u of unknownFields) {
        // Only odd records can have come from `read`; an even one would make every reader refuse.
        if (byType.has(u.type) || u.type % 2n === 0n)
          throw new StoreError(
            'record-invalid-value',
            `${what}: an unknown field to keep must have an odd type not declared here, got ${u.type}`,
          );
        records.push(u);
      }
      records.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
      try {
        return writeTlvStream(records);
      } catch (err) {
        throw rethrow(err, 'record-invalid-value', `${what} cannot be written`);
      }
    },

    decode(bytes) {
      let records: TlvRecord[];
      try {
        records = readTlvStream(bytes);
      } catch (err) {
        throw rethrow(err, 'record-malformed', `${what} is not a valid TLV stream`);
      }
      const out: Record<string, unknown> = {};
      const unknownFields: TlvRecord[] = [];
      for (const r of records) {
        const e = byType.get(r.type);
        if (!e) {
          // BOLT 1: "if type is even: MUST fail to parse the tlv_stream"; odd: "MUST discard
          // the next length bytes" (here: keep them aside, untouched).
          if (r.type % 2n === 0n)
            throw new StoreError(
              'record-unknown-required-field',
              `${what} has field type ${r.type}, which this lnkit does not know and must not ignore (even type); a newer lnkit wrote it, or the data is damaged`,
            );
          unknownFields.push(r);
          continue;
        }
        try {
          out[e.key] = e.spec.codec.decode(r.value);
        } catch (err) {
          throw rethrow(err, 'record-malformed', `${label(e)} is not a valid ${e.spec.codec.name}`);
        }
      }
      for (const e of entries) {
        if (out[e.key] !== undefined || e.spec.optional) continue;
        if (e.spec.default === undefined)
          throw new StoreError('record-malformed', `${label(e)} is required and missing`);
        out[e.key] = e.spec.default;
      }
      return { value: out as T, unknownFields };
    },
  };
}

function checkFields(what: string, fields: Record<string, FieldSpec<unknown>>): FieldEntry[] {
  const seen = new Set<bigint>();
  const entries: FieldEntry[] = [];
  for (const [key, spec] of Object.entries(fields)) {
    const t = spec.type;
    const ok = typeof t === 'bigint' ? t >= 0n : Number.isSafeInteger(t) && t >= 0;
    if (!ok)
      throw new StoreError('record-bad-definition', `${what}: field ${key} has an invalid TLV type ${t}`);
    const type = BigInt(t);
    if (seen.has(type))
      throw new StoreError('record-bad-definition', `${what}: TLV type ${type} is declared twice`);
    if (spec.optional && spec.default !== undefined)
      throw new StoreError('record-bad-definition', `${what}: field ${key} is optional and has a default`);
    seen.add(type);
    entries.push({ key, type, spec });
  }
  return entries.sort((a, b) => (a.type < b.type ? -1 : 1));
}

/**
 * Every failure leaves as a StoreError. A StoreError from a nested struct keeps its code and
 * gains the outer context; anything else (a WireError, a RangeError from a package's own
 * codec) becomes `code`. Only the cause's text is kept, never the bytes: fields may be secrets.
 */
function rethrow(
  err: unknown,
  code: 'record-malformed' | 'record-invalid-value',
  context: string,
): StoreError {
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof StoreError) return new StoreError(err.code, `${context}: ${detail}`);
  return new StoreError(code, `${context}: ${detail}`);
}

/**
 * A NamedDb of records: `get`/`entries` decode, `put` encodes. Unknown odd fields are not
 * carried over by `put`; a caller that must keep them uses the codec's `read`/`encode`.
 */
export function recordDb<T>(db: NamedDb<Uint8Array>, codec: RecordCodec<T>): NamedDb<T> {
  return {
    name: db.name,
    get: (key: Key) => {
      const bytes = db.get(key);
      return bytes === undefined ? undefined : codec.decode(bytes);
    },
    put: async (key: Key, value: T) => db.put(key, codec.encode(value)),
    remove: async (key: Key) => db.remove(key),
    entries: (range) => db.entries(range).map(({ key, value }) => ({ key, value: codec.decode(value) })),
    count: () => db.count(),
  };
}
