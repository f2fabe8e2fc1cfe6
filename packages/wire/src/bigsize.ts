// BOLT 1 Appendix A: BigSize, a big-endian CompactSize. Values are bigint because a
// BigSize can carry the full u64 range (TLV types go up to 2^64 - 1).
import { WireError } from './errors.ts';

export const MAX_U64 = 0xffff_ffff_ffff_ffffn;

/** Number of bytes `value` takes as a BigSize (1, 3, 5 or 9). */
export function bigSizeLength(value: bigint): number {
  if (value < 0xfdn) return 1;
  if (value < 0x1_0000n) return 3;
  if (value < 0x1_0000_0000n) return 5;
  return 9;
}

export function encodeBigSize(value: bigint | number): Uint8Array {
  const v = BigInt(value);
  if (v < 0n || v > MAX_U64) throw new WireError('invalid-bigsize', 'value outside u64 range');
  const len = bigSizeLength(v);
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  if (len === 1) out[0] = Number(v);
  else if (len === 3) {
    out[0] = 0xfd;
    view.setUint16(1, Number(v));
  } else if (len === 5) {
    out[0] = 0xfe;
    view.setUint32(1, Number(v));
  } else {
    out[0] = 0xff;
    view.setBigUint64(1, v);
  }
  return out;
}

/**
 * Decodes a BigSize at `offset`. Returns the value and the number of bytes read.
 * Throws WireError 'truncated' on a short read and 'invalid-bigsize' when the value
 * is not minimally encoded (BOLT 1: "All values decoded with BigSize should be
 * checked to ensure they are minimally encoded").
 */
export function decodeBigSize(
  bytes: Uint8Array,
  offset = 0,
  messageName?: string,
): { value: bigint; length: number } {
  const first = bytes[offset];
  if (first === undefined) throw new WireError('truncated', 'BigSize: no bytes left', messageName);
  if (first < 0xfd) return { value: BigInt(first), length: 1 };
  const width = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
  if (offset + 1 + width > bytes.length) throw new WireError('truncated', 'BigSize: short read', messageName);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset + 1, width);
  let value: bigint;
  let min: bigint;
  if (width === 2) {
    value = BigInt(view.getUint16(0));
    min = 0xfdn;
  } else if (width === 4) {
    value = BigInt(view.getUint32(0));
    min = 0x1_0000n;
  } else {
    value = view.getBigUint64(0);
    min = 0x1_0000_0000n;
  }
  if (value < min) throw new WireError('invalid-bigsize', 'decoded bigsize is not canonical', messageName);
  return { value, length: 1 + width };
}
