// Field codecs and `defineMessage`: a message is its type number, its fixed fields
// in spec order, then its tail — a TLV stream (BOLT 1 "extension") or, for the
// signed gossip messages, raw bytes kept for signature checks.
import { ByteReader, ByteWriter } from './bytes.ts';
import { WireError } from './errors.ts';
import { Features } from './features.ts';
import { decodeTlvs, encodeTlvs, type TlvCodec, type TlvRecord, type TlvSchema } from './tlv.ts';

export interface FieldCodec<T> {
  read(r: ByteReader, field: string): T;
  write(w: ByteWriter, v: T, field: string): void;
}

export const field = {
  u8: { read: (r, f) => r.u8(f), write: (w, v, f) => w.u8(v, f) } as FieldCodec<number>,
  u16: { read: (r, f) => r.u16(f), write: (w, v, f) => w.u16(v, f) } as FieldCodec<number>,
  u32: { read: (r, f) => r.u32(f), write: (w, v, f) => w.u32(v, f) } as FieldCodec<number>,
  u64: { read: (r, f) => r.u64(f), write: (w, v, f) => w.u64(v, f) } as FieldCodec<bigint>,
  s64: { read: (r, f) => r.s64(f), write: (w, v, f) => w.s64(v, f) } as FieldCodec<bigint>,
  /** chain_hash, channel_id, sha256 and other `32*byte` fields. */
  bytes32: { read: (r, f) => r.bytes32(f), write: (w, v, f) => w.bytes32(v, f) } as FieldCodec<Uint8Array>,
  point: { read: (r, f) => r.point(f), write: (w, v, f) => w.point(v, f) } as FieldCodec<Uint8Array>,
  signature: {
    read: (r, f) => r.signature(f),
    write: (w, v, f) => w.signature(v, f),
  } as FieldCodec<Uint8Array>,
  shortChannelId: {
    read: (r, f) => r.shortChannelId(f),
    write: (w, v, f) => w.shortChannelId(v, f),
  } as FieldCodec<bigint>,
  /** `[u16:len][len*byte:data]` */
  u16Bytes: { read: (r, f) => r.u16Bytes(f), write: (w, v, f) => w.u16Bytes(v, f) } as FieldCodec<Uint8Array>,
  /** `[u16:len][len*byte:features]`, kept as sent (see Features). */
  features: {
    read: (r, f) => Features.fromBytes(r.u16Bytes(f)),
    write: (w, v, f) => w.u16Bytes(v.toBytes(), f),
  } as FieldCodec<Features>,
  fixed(n: number): FieldCodec<Uint8Array> {
    return { read: (r, f) => r.bytesN(n, f), write: (w, v, f) => w.fixed(v, n, f) };
  },
  /** `[u16:num][num*T]` */
  u16Array<T>(item: FieldCodec<T>): FieldCodec<T[]> {
    return {
      read: (r, f) => {
        const n = r.u16(`${f} count`);
        const out: T[] = [];
        for (let i = 0; i < n; i++) out.push(item.read(r, f));
        return out;
      },
      write: (w, v, f) => {
        w.u16(v.length, `${f} count`);
        for (const x of v) item.write(w, x, f);
      },
    };
  },
  /** `[u16:len][len*byte]` whose bytes hold a structure with its own codec. */
  u16Sized<T>(inner: { decode(b: Uint8Array, name?: string): T; encode(v: T): Uint8Array }): FieldCodec<T> {
    return {
      read: (r, f) => inner.decode(r.u16Bytes(f), r.messageName),
      write: (w, v, f) => w.u16Bytes(inner.encode(v), f),
    };
  },
};

export interface BaseMessage {
  readonly type: number;
  readonly kind: string;
}

/** A codec for one message type. `encode`/`decode` work on whole messages (2-byte type + payload). */
export interface MessageCodec<M extends BaseMessage> {
  readonly type: M['type'];
  readonly kind: M['kind'];
  /** The fixed fields, in wire order (the tail — TLVs or extraData — follows them). */
  readonly fieldNames: readonly string[];
  encode(msg: M): Uint8Array;
  decode(bytes: Uint8Array): M;
  encodePayload(msg: M): Uint8Array;
  decodePayload(payload: Uint8Array): M;
}

type Fields<M> = { readonly [K in keyof M]?: FieldCodec<M[K]> };
type Tlvs<M> = { readonly [K in keyof M]?: TlvCodec<Exclude<M[K], undefined>> };

export interface MessageSpec<M extends BaseMessage> {
  readonly type: M['type'];
  readonly kind: M['kind'];
  /** Fixed fields, in the order the BOLT lists them. */
  readonly fields: Fields<M>;
  /** TLV records of the message's tlv_stream (empty: extension allowed, nothing known). */
  readonly tlvs?: Tlvs<M>;
  /**
   * 'raw' for channel_announcement / node_announcement / channel_update: BOLT 7 lets
   * future fields follow and signs them, so whatever follows is kept as `extraData`
   * without being parsed.
   */
  readonly tail?: 'tlv' | 'raw';
}

export interface WithExtraData {
  /** Bytes after the known fields of a signed gossip message, kept so the signature still verifies. */
  extraData?: Uint8Array;
}

export function defineMessage<M extends BaseMessage>(spec: MessageSpec<M>): MessageCodec<M> {
  const fieldList = Object.entries(spec.fields) as [string, FieldCodec<unknown>][];
  const tlvSchema = (spec.tlvs ?? {}) as TlvSchema<Record<string, unknown>>;
  const tail = spec.tail ?? 'tlv';
  const name = spec.kind;
  const hasTlvs = Object.keys(tlvSchema).length > 0;
  // Grows to the largest message seen, so later encodes allocate once.
  let sizeHint = 256;

  // Writes the whole message (type first) into one buffer: no regrowth for typical
  // sizes and no second copy to prepend the type.
  const write = (msg: M, withType: boolean): Uint8Array => {
    const w = new ByteWriter(sizeHint);
    if (withType) w.u16(spec.type);
    const m = msg as unknown as Record<string, unknown>;
    try {
      for (const [key, codec] of fieldList) {
        const v = m[key];
        if (v === undefined) throw new WireError('invalid-value', `missing field ${key}`, name);
        codec.write(w, v, key);
      }
      if (tail === 'raw') {
        const extra = m.extraData;
        if (extra instanceof Uint8Array) w.bytes(extra);
      } else if (hasTlvs || m.unknownTlvs !== undefined) {
        w.bytes(encodeTlvs(tlvSchema, m as Record<string, unknown> & { unknownTlvs?: TlvRecord[] }, name));
      }
    } catch (e) {
      if (e instanceof WireError && e.messageName === undefined) throw new WireError(e.code, e.detail, name);
      throw e;
    }
    const out = w.finish();
    if (out.length > sizeHint) sizeHint = Math.min(out.length + 64, 65536);
    return out;
  };
  const encodePayload = (msg: M): Uint8Array => write(msg, false);

  const decodePayload = (payload: Uint8Array): M => {
    const r = new ByteReader(payload, name);
    const out: Record<string, unknown> = { type: spec.type, kind: spec.kind };
    for (const [key, codec] of fieldList) out[key] = codec.read(r, key);
    if (tail === 'raw') {
      if (r.remaining > 0) out.extraData = r.rest();
    } else if (r.remaining > 0) {
      Object.assign(out, decodeTlvs(tlvSchema, r.rest(), name));
    }
    return out as unknown as M;
  };

  return {
    type: spec.type,
    kind: spec.kind,
    fieldNames: Object.freeze(fieldList.map(([k]) => k)),
    encodePayload,
    decodePayload,
    encode: (msg) => write(msg, true),
    decode(bytes) {
      if (bytes.length < 2) throw new WireError('truncated', 'no message type', name);
      const t = (bytes[0]! << 8) | bytes[1]!;
      if (t !== spec.type)
        throw new WireError('invalid-value', `message type ${t} is not ${spec.type}`, name);
      return decodePayload(bytes.subarray(2));
    },
  };
}
