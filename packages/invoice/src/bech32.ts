/**
 * Bech32 (BIP 173) and bech32m (BIP 350), without BIP 173's 90-character limit: BOLT 11
 * invoices are longer ("A reader MUST parse the address as Bech32 ... also without the
 * character limit"). Also the 5-bit ⇄ 8-bit conversions, strict on padding when reading.
 */
import { InvoiceError } from './errors.ts';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const CHARSET_REV: Int8Array = (() => {
  const rev = new Int8Array(128).fill(-1);
  for (let i = 0; i < CHARSET.length; i++) rev[CHARSET.charCodeAt(i)] = i;
  return rev;
})();
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

export type Bech32Variant = 'bech32' | 'bech32m';
const CONSTANT: Record<Bech32Variant, number> = { bech32: 1, bech32m: 0x2bc830a3 };

function polymod(hrp: string, words: ArrayLike<number>, checksum: ArrayLike<number> = []): number {
  let chk = 1;
  const step = (v: number) => {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  };
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) >> 5);
  step(0);
  for (let i = 0; i < hrp.length; i++) step(hrp.charCodeAt(i) & 31);
  for (let i = 0; i < words.length; i++) step(words[i]!);
  for (let i = 0; i < checksum.length; i++) step(checksum[i]!);
  return chk >>> 0;
}

/** Lower-case bech32 string of `hrp` (lower case) and 5-bit `words`. */
export function encodeBech32(
  hrp: string,
  words: ArrayLike<number>,
  variant: Bech32Variant = 'bech32',
): string {
  const mod = (polymod(hrp, words, [0, 0, 0, 0, 0, 0]) ^ CONSTANT[variant]) >>> 0;
  let out = `${hrp}1`;
  for (let i = 0; i < words.length; i++) out += CHARSET[words[i]!];
  for (let i = 0; i < 6; i++) out += CHARSET[(mod >>> (5 * (5 - i))) & 31];
  return out;
}

export interface Bech32Decoded {
  /** Lower case, as it is hashed for the signature. */
  readonly hrp: string;
  /** The data part's 5-bit words, checksum removed. */
  readonly words: Uint8Array;
}

const bad = (what: string) => new InvoiceError('invalid-bech32', `not a bech32 string: ${what}`);

/** BIP 173 decoding, any length; throws InvoiceError `invalid-bech32` or `bad-checksum`. */
export function decodeBech32(text: string, variant: Bech32Variant = 'bech32'): Bech32Decoded {
  if (typeof text !== 'string') throw bad('not a string');
  let lower = false;
  let upper = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 33 || c > 126) throw bad(`character code ${c} at position ${i} is not printable ASCII`);
    if (c >= 97 && c <= 122) lower = true;
    else if (c >= 65 && c <= 90) upper = true;
  }
  if (lower && upper) throw bad('it mixes upper and lower case');
  const s = text.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 0) throw bad('no "1" separator');
  if (sep === 0) throw bad('empty human-readable part');
  if (s.length - sep - 1 < 6) throw bad('data part shorter than the 6-character checksum');
  const hrp = s.slice(0, sep);
  const all = new Uint8Array(s.length - sep - 1);
  for (let i = 0; i < all.length; i++) {
    const v = CHARSET_REV[s.charCodeAt(sep + 1 + i)] ?? -1;
    if (v < 0)
      throw bad(`character "${s[sep + 1 + i]}" at position ${sep + 1 + i} is not in the bech32 charset`);
    all[i] = v;
  }
  if (polymod(hrp, all) !== CONSTANT[variant])
    throw new InvoiceError('bad-checksum', 'bech32 checksum is invalid (a character is mistyped or missing)');
  return { hrp, words: all.subarray(0, all.length - 6) };
}

/** 8-bit bytes to 5-bit words, zero-padded at the end (BOLT 11: "MUST pad ... using 0s"). */
export function bytesToWords(bytes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil((bytes.length * 8) / 5));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    acc = ((acc << 8) | bytes[i]!) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out[j++] = (acc >>> bits) & 31;
    }
  }
  if (bits > 0) out[j++] = (acc << (5 - bits)) & 31;
  return out;
}

/**
 * 5-bit words to bytes. `strict`: the left-over bits must be fewer than 5 and all zero (what a
 * writer that padded with 0s produces; BIP 173's convertbits without padding), else
 * InvoiceError `invalid-field` naming `what`. Not strict: pads the last byte with zeros, as
 * the signature's preimage is built ("with 0 bits appended to pad to a byte boundary").
 */
export function wordsToBytes(words: ArrayLike<number>, what: string, strict = true): Uint8Array {
  const out = new Uint8Array(strict ? Math.floor((words.length * 5) / 8) : Math.ceil((words.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < words.length; i++) {
    acc = ((acc << 5) | words[i]!) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >>> bits) & 0xff;
    }
  }
  if (strict) {
    if (bits >= 5) throw new InvoiceError('invalid-field', `${what} has a whole 5-bit group of padding`);
    if ((acc & ((1 << bits) - 1)) !== 0)
      throw new InvoiceError('invalid-field', `${what} has non-zero padding bits`);
  } else if (bits > 0) out[j++] = (acc << (8 - bits)) & 0xff;
  return out;
}

/** Big-endian unsigned integer of 5-bit words (timestamp, x, c, data_length). */
export function wordsToNumber(words: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < words.length; i++) n = n * 32 + words[i]!;
  return n;
}

/** Minimal big-endian 5-bit words of `n` (no leading zero words; 0 is no words). */
export function numberToWords(n: number, minWords = 0): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v > 0) {
    out.unshift(v % 32);
    v = Math.floor(v / 32);
  }
  while (out.length < minWords) out.unshift(0);
  return Uint8Array.from(out);
}
