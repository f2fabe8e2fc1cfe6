// A small big-endian reader/writer shared by every codec. The reader throws only
// WireError: every read checks the remaining length first.
import { decodeBigSize, encodeBigSize } from './bigsize.ts';
import { WireError } from './errors.ts';

export class ByteReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    /** Protocol name of what is being decoded, carried into errors. */
    readonly messageName?: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.remaining < n)
      throw new WireError('truncated', `${what}: need ${n} bytes, have ${this.remaining}`, this.messageName);
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }
  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }
  /** BOLT 1 Appendix D: signed integers are big-endian two's complement. */
  s8(what = 's8'): number {
    this.need(1, what);
    return this.view.getInt8(this.pos++);
  }
  s16(what = 's16'): number {
    this.need(2, what);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  s32(what = 's32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  s64(what = 's64'): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }
  bigSize(): bigint {
    const { value, length } = decodeBigSize(this.bytes, this.pos, this.messageName);
    this.pos += length;
    return value;
  }
  /** A copy, so decoded messages never alias the caller's buffer. */
  bytesN(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** `u16` length then that many bytes (`[u16:len][len*byte:data]`). */
  u16Bytes(what = 'bytes'): Uint8Array {
    const len = this.u16(`${what} length`);
    return this.bytesN(len, what);
  }
  rest(): Uint8Array {
    return this.bytesN(this.remaining);
  }
  /** BOLT 1 `point`: 33-byte compressed SEC1. Only the prefix is checked here; the
   * curve check belongs to whoever uses the key (wire has no curve code). */
  point(what = 'point'): Uint8Array {
    const p = this.bytesN(33, what);
    if (p[0] !== 0x02 && p[0] !== 0x03)
      throw new WireError('invalid-value', `${what} is not a compressed point`, this.messageName);
    return p;
  }
  signature(what = 'signature'): Uint8Array {
    return this.bytesN(64, what);
  }
  /** chain_hash, channel_id, sha256 and other 32-byte fields. */
  bytes32(what = 'bytes32'): Uint8Array {
    return this.bytesN(32, what);
  }
  shortChannelId(what = 'short_channel_id'): bigint {
    return this.u64(what);
  }
}

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private checkInt(v: number, max: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v > max)
      throw new WireError('invalid-value', `${what} out of range`);
  }

  u8(v: number, what = 'u8'): this {
    this.checkInt(v, 0xff, what);
    this.ensure(1);
    this.view.setUint8(this.pos++, v);
    return this;
  }
  u16(v: number, what = 'u16'): this {
    this.checkInt(v, 0xffff, what);
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }
  u32(v: number, what = 'u32'): this {
    this.checkInt(v, 0xffff_ffff, what);
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    return this;
  }
  u64(v: bigint, what = 'u64'): this {
    if (typeof v !== 'bigint' || v < 0n || v > 0xffff_ffff_ffff_ffffn)
      throw new WireError('invalid-value', `${what} out of range`);
    this.ensure(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
    return this;
  }
  private checkSigned(v: number, bits: number, what: string): void {
    const lim = 2 ** (bits - 1);
    if (!Number.isInteger(v) || v < -lim || v >= lim)
      throw new WireError('invalid-value', `${what} out of range`);
  }
  s8(v: number, what = 's8'): this {
    this.checkSigned(v, 8, what);
    this.ensure(1);
    this.view.setInt8(this.pos++, v);
    return this;
  }
  s16(v: number, what = 's16'): this {
    this.checkSigned(v, 16, what);
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
    return this;
  }
  s32(v: number, what = 's32'): this {
    this.checkSigned(v, 32, what);
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }
  s64(v: bigint, what = 's64'): this {
    if (typeof v !== 'bigint' || v < -(2n ** 63n) || v >= 2n ** 63n)
      throw new WireError('invalid-value', `${what} out of range`);
    this.ensure(8);
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
    return this;
  }
  bigSize(v: bigint | number): this {
    return this.bytes(encodeBigSize(v));
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  /** Fixed-size field: refuses a value of the wrong length rather than corrupting the message. */
  fixed(b: Uint8Array, n: number, what: string): this {
    if (!(b instanceof Uint8Array) || b.length !== n)
      throw new WireError('invalid-value', `${what} must be ${n} bytes`);
    return this.bytes(b);
  }
  u16Bytes(b: Uint8Array, what = 'bytes'): this {
    if (b.length > 0xffff) throw new WireError('invalid-value', `${what} longer than 65535 bytes`);
    return this.u16(b.length).bytes(b);
  }
  point(p: Uint8Array, what = 'point'): this {
    if (p.length !== 33 || (p[0] !== 0x02 && p[0] !== 0x03))
      throw new WireError('invalid-value', `${what} is not a compressed point`);
    return this.bytes(p);
  }
  signature(s: Uint8Array, what = 'signature'): this {
    return this.fixed(s, 64, what);
  }
  bytes32(b: Uint8Array, what = 'bytes32'): this {
    return this.fixed(b, 32, what);
  }
  shortChannelId(v: bigint, what = 'short_channel_id'): this {
    return this.u64(v, what);
  }

  get length(): number {
    return this.pos;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
