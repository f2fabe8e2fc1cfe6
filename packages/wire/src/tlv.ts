// BOLT 1 "Type-Length-Value Format": TLV streams and per-stream schemas.
import { decodeBigSize, encodeBigSize } from './bigsize.ts';
import { ByteReader, ByteWriter, concatBytes } from './bytes.ts';
import { WireError } from './errors.ts';

/** One raw record. Unknown odd records are kept in this form and re-encoded as they came. */
export interface TlvRecord {
  readonly type: bigint;
  readonly value: Uint8Array;
}

/**
 * Splits a TLV stream into records and applies the structural rules of BOLT 1:
 * minimal BigSize type and length, strictly increasing types (so no duplicates),
 * length within the remaining bytes. Knowing which types are known is the
 * schema's job (decodeTlvs).
 */
export function readTlvStream(bytes: Uint8Array, streamName?: string): TlvRecord[] {
  const records: TlvRecord[] = [];
  let pos = 0;
  let last = -1n;
  const fail = (code: 'invalid-tlv' | 'truncated', detail: string): never => {
    throw new WireError(code, detail, streamName);
  };
  // BOLT 1: "if zero bytes remain before parsing a type: MUST stop parsing".
  while (pos < bytes.length) {
    const t = decodeTlvBigSize(bytes, pos, 'type', streamName);
    pos += t.length;
    const l = decodeTlvBigSize(bytes, pos, 'length', streamName);
    pos += l.length;
    if (t.value <= last) fail('invalid-tlv', `type ${t.value} not strictly increasing`);
    if (l.value > BigInt(bytes.length - pos))
      fail('invalid-tlv', `record ${t.value}: length exceeds the remaining bytes`);
    const len = Number(l.value);
    records.push({ type: t.value, value: bytes.slice(pos, pos + len) });
    pos += len;
    last = t.value;
  }
  return records;
}

// Inside a TLV stream, a short or non-minimal BigSize makes the stream invalid:
// report it as 'invalid-tlv' (the code callers act on), keeping the cause in the text.
function decodeTlvBigSize(
  bytes: Uint8Array,
  pos: number,
  what: string,
  streamName?: string,
): { value: bigint; length: number } {
  try {
    return decodeBigSize(bytes, pos, streamName);
  } catch (e) {
    if (e instanceof WireError) throw new WireError('invalid-tlv', `${what}: ${e.message}`, streamName);
    throw e;
  }
}

/** Encodes records, which must already be in strictly increasing type order. */
export function writeTlvStream(records: readonly TlvRecord[], streamName?: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let last = -1n;
  for (const r of records) {
    if (r.type <= last)
      throw new WireError('invalid-tlv', `type ${r.type} not strictly increasing`, streamName);
    last = r.type;
    parts.push(encodeBigSize(r.type), encodeBigSize(r.value.length), r.value);
  }
  return concatBytes(...parts);
}

/** How one known record type is read and written. `decode` gets exactly the record's value. */
export interface TlvCodec<T> {
  readonly type: bigint;
  decode(value: Uint8Array, streamName?: string): T;
  encode(value: T): Uint8Array;
}

/** Maps each optional property of T to the codec of its record. */
export type TlvSchema<T> = { readonly [K in keyof T]-?: TlvCodec<Exclude<T[K], undefined>> };

export interface WithUnknownTlvs {
  /** Unknown odd records, kept so the message re-encodes (and re-verifies) byte for byte. */
  unknownTlvs?: TlvRecord[];
}

/**
 * Decodes a TLV stream against a schema: known records go to their property,
 * unknown odd ones to `unknownTlvs`, an unknown even one fails the stream
 * (BOLT 1: "if type is even: MUST fail to parse the tlv_stream").
 */
export function decodeTlvs<T extends object>(
  schema: TlvSchema<T>,
  bytes: Uint8Array,
  streamName?: string,
): T & WithUnknownTlvs {
  const byType = schemaIndex(schema);
  const out: Record<string, unknown> = {};
  const unknown: TlvRecord[] = [];
  for (const rec of readTlvStream(bytes, streamName)) {
    const known = byType.get(rec.type);
    if (known) {
      out[known.key] = known.codec.decode(rec.value, streamName);
    } else if (rec.type % 2n === 0n) {
      throw new WireError('invalid-tlv', `unknown even type ${rec.type}`, streamName);
    } else {
      unknown.push(rec);
    }
  }
  if (unknown.length > 0) out.unknownTlvs = unknown;
  return out as T & WithUnknownTlvs;
}

/** Encodes the schema's properties present in `values` plus `unknownTlvs`, in type order. */
export function encodeTlvs<T extends object>(
  schema: TlvSchema<T>,
  values: T & WithUnknownTlvs,
  streamName?: string,
): Uint8Array {
  const records: TlvRecord[] = [];
  for (const { key, codec } of schemaIndex(schema).values()) {
    const v = (values as Record<string, unknown>)[key];
    if (v !== undefined) records.push({ type: codec.type, value: codec.encode(v) });
  }
  for (const r of values.unknownTlvs ?? []) records.push(r);
  records.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return writeTlvStream(records, streamName);
}

const indexCache = new WeakMap<object, Map<bigint, { key: string; codec: TlvCodec<unknown> }>>();
function schemaIndex(schema: object): Map<bigint, { key: string; codec: TlvCodec<unknown> }> {
  let idx = indexCache.get(schema);
  if (!idx) {
    idx = new Map();
    for (const [key, codec] of Object.entries(schema) as [string, TlvCodec<unknown>][])
      idx.set(codec.type, { key, codec });
    indexCache.set(schema, idx);
  }
  return idx;
}

// ---- Value codecs for records -------------------------------------------------

function exactLength(value: Uint8Array, n: number, what: string, streamName?: string): void {
  // BOLT 1: "if length is not exactly equal to that required for the known encoding for type: MUST fail".
  if (value.length !== n)
    throw new WireError('invalid-tlv', `${what}: length ${value.length}, expected ${n}`, streamName);
}

/** BOLT 1 truncated integer (tu16/tu32/tu64): big-endian without leading zero bytes. */
export function encodeTruncated(v: bigint): Uint8Array {
  if (v < 0n) throw new WireError('invalid-value', 'truncated integer is negative');
  const out: number[] = [];
  let x = v;
  while (x > 0n) {
    out.unshift(Number(x & 0xffn));
    x >>= 8n;
  }
  return Uint8Array.from(out);
}

export function decodeTruncated(
  value: Uint8Array,
  maxBytes: number,
  what: string,
  streamName?: string,
): bigint {
  if (value.length > maxBytes)
    throw new WireError('invalid-tlv', `${what}: longer than ${maxBytes} bytes`, streamName);
  // BOLT 1: "Leading zeros in truncated integers MUST be omitted".
  if (value.length > 0 && value[0] === 0)
    throw new WireError('invalid-tlv', `${what}: not minimally encoded`, streamName);
  let v = 0n;
  for (const b of value) v = (v << 8n) | BigInt(b);
  return v;
}

export const tlv = {
  tu64(type: bigint): TlvCodec<bigint> {
    return { type, decode: (v, s) => decodeTruncated(v, 8, 'tu64', s), encode: encodeTruncated };
  },
  tu32(type: bigint): TlvCodec<number> {
    return {
      type,
      decode: (v, s) => Number(decodeTruncated(v, 4, 'tu32', s)),
      encode: (n) => {
        if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff)
          throw new WireError('invalid-value', 'tu32 out of range');
        return encodeTruncated(BigInt(n));
      },
    };
  },
  u16(type: bigint): TlvCodec<number> {
    return {
      type,
      decode: (v, s) => {
        exactLength(v, 2, 'u16', s);
        return new ByteReader(v, s).u16();
      },
      encode: (n) => new ByteWriter(2).u16(n).finish(),
    };
  },
  u64(type: bigint): TlvCodec<bigint> {
    return {
      type,
      decode: (v, s) => {
        exactLength(v, 8, 'u64', s);
        return new ByteReader(v, s).u64();
      },
      encode: (n) => new ByteWriter(8).u64(n).finish(),
    };
  },
  s64(type: bigint): TlvCodec<bigint> {
    return {
      type,
      decode: (v, s) => {
        exactLength(v, 8, 's64', s);
        return new ByteReader(v, s).s64();
      },
      encode: (n) => new ByteWriter(8).s64(n).finish(),
    };
  },
  bigSize(type: bigint): TlvCodec<bigint> {
    return {
      type,
      decode: (v, s) => {
        const r = new ByteReader(v, s);
        const n = r.bigSize();
        if (r.remaining !== 0) throw new WireError('invalid-tlv', 'bigsize record has trailing bytes', s);
        return n;
      },
      encode: (n) => encodeBigSize(n),
    };
  },
  shortChannelId(type: bigint): TlvCodec<bigint> {
    return tlv.u64(type);
  },
  point(type: bigint): TlvCodec<Uint8Array> {
    return {
      type,
      decode: (v, s) => {
        exactLength(v, 33, 'point', s);
        return new ByteReader(v, s).point();
      },
      encode: (p) => new ByteWriter(33).point(p).finish(),
    };
  },
  fixed(type: bigint, n: number, what: string): TlvCodec<Uint8Array> {
    return {
      type,
      decode: (v, s) => {
        exactLength(v, n, what, s);
        return v.slice();
      },
      encode: (b) => new ByteWriter(n).fixed(b, n, what).finish(),
    };
  },
  /** `...*byte`: the whole value. */
  bytes(type: bigint): TlvCodec<Uint8Array> {
    return { type, decode: (v) => v.slice(), encode: (b) => b.slice() };
  },
  /** No data: presence is the value (e.g. `require_confirmed_inputs`). */
  flag(type: bigint): TlvCodec<true> {
    return {
      type,
      decode: (v, s) => {
        exactLength(v, 0, 'flag', s);
        return true;
      },
      encode: () => new Uint8Array(0),
    };
  },
  /** A record of fixed fields read with a ByteReader that must consume the value exactly. */
  struct<T>(
    type: bigint,
    size: number,
    read: (r: ByteReader) => T,
    write: (w: ByteWriter, v: T) => void,
  ): TlvCodec<T> {
    return {
      type,
      decode: (v, s) => {
        exactLength(v, size, 'record', s);
        return read(new ByteReader(v, s));
      },
      encode: (x) => {
        const w = new ByteWriter(size);
        write(w, x);
        return w.finish();
      },
    };
  },
};
