/**
 * Value codecs for record fields. The integer and byte codecs are wire's TLV value codecs
 * (BOLT 1: "if length is not exactly equal to that required for the known encoding for
 * type: MUST fail"; truncated integers without leading zeros), so a record field reads with
 * the same rules as a message's TLV. A package may write its own FieldCodec for a value
 * these do not cover; its errors must not carry the value (fields may be secrets).
 */
import { concatBytes, decodeBigSize, encodeBigSize, type TlvCodec, tlv } from '@lnkit/wire';
import { type FieldCodec, type FieldSpec, fieldStream, type RecordFields } from './records.ts';

export type { FieldCodec };

function fromTlv<V>(name: string, c: TlvCodec<V>): FieldCodec<V> {
  return { name, encode: (v) => c.encode(v), decode: (b) => c.decode(b) };
}

function fail(message: string): never {
  throw new RangeError(message);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const fieldCodec = {
  u8: {
    name: 'u8',
    encode: (n: number) => {
      if (!Number.isInteger(n) || n < 0 || n > 0xff) fail('u8 out of range');
      return Uint8Array.of(n);
    },
    decode: (b: Uint8Array) => {
      if (b.length !== 1) fail(`length ${b.length}, expected 1`);
      return b[0] as number;
    },
  } satisfies FieldCodec<number>,
  u16: fromTlv('u16', tlv.u16(0n)),
  u32: {
    name: 'u32',
    encode: (n: number) => {
      if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) fail('u32 out of range');
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, n);
      return out;
    },
    decode: (b: Uint8Array) => {
      if (b.length !== 4) fail(`length ${b.length}, expected 4`);
      return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
    },
  } satisfies FieldCodec<number>,
  u64: fromTlv('u64', tlv.u64(0n)),
  s64: fromTlv('s64', tlv.s64(0n)),
  /** BOLT 1 tu32: big-endian without leading zero bytes (0 is empty). */
  tu32: fromTlv('tu32', tlv.tu32(0n)),
  /** BOLT 1 tu64. */
  tu64: fromTlv('tu64', tlv.tu64(0n)),
  bigSize: fromTlv('bigsize', tlv.bigSize(0n)),
  /** One byte, 0 or 1. */
  bool: {
    name: 'bool',
    encode: (v: boolean) => {
      if (typeof v !== 'boolean') fail('not a boolean');
      return Uint8Array.of(v ? 1 : 0);
    },
    decode: (b: Uint8Array) => {
      if (b.length !== 1 || (b[0] as number) > 1) fail('not a 0 or 1 byte');
      return b[0] === 1;
    },
  } satisfies FieldCodec<boolean>,
  /** Any number of bytes: the whole value. */
  bytes: fromTlv('bytes', tlv.bytes(0n)),
  bytes32: fromTlv('32 bytes', tlv.fixed(0n, 32, '32 bytes')),
  /** A compressed secp256k1 point (33 bytes, prefix 2 or 3). */
  point: fromTlv('point', tlv.point(0n)),
  fixed(n: number): FieldCodec<Uint8Array> {
    return fromTlv(`${n} bytes`, tlv.fixed(0n, n, `${n} bytes`));
  },
  /**
   * A string enum stored as one byte: its index in `values`. Never reorder `values`; append only
   * (the index is what is stored, so a value's byte is fixed once written).
   */
  enum<T extends string>(name: string, values: readonly T[]): FieldCodec<T> {
    return {
      name,
      encode: (v) => {
        const i = values.indexOf(v);
        if (i < 0) fail(`not a ${name}`);
        return Uint8Array.of(i);
      },
      decode: (b) => {
        const v = b.length === 1 ? values[b[0] as number] : undefined;
        if (v === undefined) fail(`not a known ${name}`);
        return v;
      },
    };
  },
  /** A hex string of `n` bytes, stored as the bytes; read back in lower case. */
  hex(n: number): FieldCodec<string> {
    const re = new RegExp(`^(?:[0-9a-fA-F]{2}){${n}}$`);
    return {
      name: `hex of ${n} bytes`,
      encode: (s) => {
        if (typeof s !== 'string' || !re.test(s)) fail(`not ${n} bytes of hex`);
        return Uint8Array.from(Buffer.from(s, 'hex'));
      },
      decode: (b) => {
        if (b.length !== n) fail(`length ${b.length}, expected ${n}`);
        return Buffer.from(b).toString('hex');
      },
    };
  },
  /** UTF-8 text; invalid UTF-8 is refused rather than replaced. */
  utf8: {
    name: 'utf-8 text',
    encode: (s: string) => {
      // A lone surrogate would be written as U+FFFD and read back as another string.
      if (typeof s !== 'string' || LONE_SURROGATE.test(s)) fail('not well-formed text');
      return utf8Encoder.encode(s);
    },
    decode: (b: Uint8Array) => utf8Decoder.decode(b),
  } satisfies FieldCodec<string>,
  /**
   * A list. With `itemBytes`, the items are concatenated and each is exactly that long;
   * without, each item is `[bigsize: length][length bytes]`. An empty list is an empty value.
   */
  list<V>(item: FieldCodec<V>, options: { itemBytes?: number } = {}): FieldCodec<V[]> {
    const size = options.itemBytes;
    return {
      name: `list of ${item.name}`,
      encode: (items) => {
        if (!Array.isArray(items)) fail('not an array');
        const parts: Uint8Array[] = [];
        for (const [i, v] of items.entries()) {
          const b = item.encode(v);
          if (size === undefined) parts.push(encodeBigSize(b.length));
          else if (b.length !== size) fail(`item ${i} is ${b.length} bytes, expected ${size}`);
          parts.push(b);
        }
        return concatBytes(...parts);
      },
      decode: (b) => {
        const out: V[] = [];
        let pos = 0;
        while (pos < b.length) {
          let len: number;
          if (size === undefined) {
            const l = decodeBigSize(b, pos);
            pos += l.length;
            if (l.value > BigInt(b.length - pos)) fail(`item ${out.length} runs past the end`);
            len = Number(l.value);
          } else {
            if (b.length - pos < size) fail(`item ${out.length} is cut short`);
            len = size;
          }
          out.push(item.decode(b.subarray(pos, pos + len)));
          pos += len;
        }
        return out;
      },
    };
  },
  /**
   * A nested TLV stream of declared fields (no version header: it is versioned by its
   * record). The even/odd rule applies inside too; unknown odd fields inside are dropped.
   */
  struct<T extends object>(name: string, fields: RecordFields<T>): FieldCodec<T> {
    const stream = fieldStream<T>(name, fields as Record<string, FieldSpec<unknown>>);
    return {
      name,
      encode: (v) => stream.encode(v, []),
      decode: (b) => stream.decode(b).value,
    };
  },
};
