/**
 * BOLT 11 tagged fields: `type` (5 bits), `data_length` (10 bits), `data_length` 5-bit words.
 * One decoder and one encoder per defined type; anything the BOLT says to skip comes back as
 * a `skipped` field (with its words, so an invoice re-encodes exactly as it came).
 */
import { Features } from '@lnkit/wire';
import { bytesToWords, numberToWords, wordsToBytes, wordsToNumber } from './bech32.ts';
import { checkBytes, checkInteger, InvoiceError } from './errors.ts';
import { isValidPublicKey } from './secp.ts';

/** One hop of an `r` field: the channel from `nodeId` towards the payee. */
export interface RouteHintHop {
  /** The node at the start of the channel (33-byte compressed key). */
  readonly nodeId: Uint8Array;
  readonly shortChannelId: bigint;
  readonly feeBaseMsat: number;
  readonly feeProportionalMillionths: number;
  readonly cltvExpiryDelta: number;
}

/** One `r` field: hops in order, from a public node to the payee. */
export type RouteHint = readonly RouteHintHop[];

/**
 * An `f` field: `version` 0-16 is a witness program, 17 a P2PKH hash, 18 a P2SH hash (BOLT
 * 11); `program` is the witness program or the 20-byte hash.
 */
export interface Fallback {
  readonly version: number;
  readonly program: Uint8Array;
}

export type TaggedField =
  | { readonly tag: 'p'; readonly paymentHash: Uint8Array }
  | { readonly tag: 's'; readonly paymentSecret: Uint8Array }
  | { readonly tag: 'd'; readonly description: string }
  | { readonly tag: 'h'; readonly descriptionHash: Uint8Array }
  | { readonly tag: 'n'; readonly payee: Uint8Array }
  | { readonly tag: 'x'; readonly expirySeconds: number }
  | { readonly tag: 'c'; readonly minFinalCltvExpiryDelta: number }
  | { readonly tag: 'f'; readonly fallback: Fallback }
  | { readonly tag: 'r'; readonly routeHint: RouteHint }
  | { readonly tag: '9'; readonly features: Features }
  | { readonly tag: 'm'; readonly paymentMetadata: Uint8Array }
  /**
   * A field a reader skips: an unknown type, an `f` with an unknown version, or a `p`, `h`,
   * `s`, `n` whose `data_length` is not 52, 52, 52, 53. `type` is the 5-bit type.
   */
  | { readonly tag: 'skipped'; readonly type: number; readonly words: Uint8Array; readonly reason: string };

export type FieldTag = Exclude<TaggedField['tag'], 'skipped'>;

/** 5-bit type of each field (the bech32 character of the value is the field's letter). */
export const FIELD_TYPE: Readonly<Record<FieldTag, number>> = Object.freeze({
  p: 1,
  s: 16,
  d: 13,
  m: 27,
  n: 19,
  h: 23,
  x: 6,
  c: 24,
  f: 9,
  r: 3,
  '9': 5,
});
const TAG_OF_TYPE = new Map(Object.entries(FIELD_TYPE).map(([tag, type]) => [type, tag as FieldTag]));
const LETTERS = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

/** The field's letter as invoices show it (`p`, `9`, or the letter of an unknown type). */
export function fieldLetter(type: number): string {
  return LETTERS[type] ?? '?';
}

/** BOLT 11: "any field with fixed data_length (p, h, s, n)" and its length. */
const FIXED_LENGTH: Partial<Record<FieldTag, number>> = { p: 52, h: 52, s: 52, n: 53 };
const MAX_DATA_LENGTH = 1023;
const HOP_BYTES = 51;
/** Integers in x and c: up to 10 words (50 bits) stay exact in a JS number. */
const MAX_INT_WORDS = 10;

const invalid = (tag: string, what: string) => new InvoiceError('invalid-field', `${tag} field ${what}`);

/** Decodes one field's data (the words after its data_length). */
export function decodeField(type: number, data: Uint8Array): TaggedField {
  const tag = TAG_OF_TYPE.get(type);
  if (tag === undefined) return { tag: 'skipped', type, words: data.slice(), reason: 'unknown type' };
  const fixed = FIXED_LENGTH[tag];
  // BOLT 11 example "Same, but including fields which must be ignored": p, h, s, n of the
  // wrong length are skipped, as earlier revisions of the reader rules said.
  if (fixed !== undefined && data.length !== fixed)
    return { tag: 'skipped', type, words: data.slice(), reason: `data_length ${data.length}, not ${fixed}` };
  const what = `${tag} field`;
  switch (tag) {
    case 'p':
      return { tag, paymentHash: wordsToBytes(data, what) };
    case 's':
      return { tag, paymentSecret: wordsToBytes(data, what) };
    case 'h':
      return { tag, descriptionHash: wordsToBytes(data, what) };
    case 'n': {
      const payee = wordsToBytes(data, what);
      if (!isValidPublicKey(payee)) throw invalid('n', 'is not a valid public key');
      return { tag, payee };
    }
    case 'd': {
      const bytes = wordsToBytes(data, what);
      let description: string;
      try {
        description = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
      } catch {
        // BOLT 11: "MUST set d to a valid UTF-8 string".
        throw invalid('d', 'is not valid UTF-8');
      }
      return { tag, description };
    }
    case 'm':
      return { tag, paymentMetadata: wordsToBytes(data, what) };
    case 'x':
      return { tag, expirySeconds: minimalInteger('x', data) };
    case 'c':
      return { tag, minFinalCltvExpiryDelta: minimalInteger('c', data) };
    case '9':
      return { tag, features: decodeFeatures(data) };
    case 'f': {
      if (data.length === 0) throw invalid('f', 'is empty (no version)');
      const version = data[0]!;
      // BOLT 11: "MUST skip over f fields that use an unknown version".
      if (version > 18)
        return { tag: 'skipped', type, words: data.slice(), reason: `fallback version ${version}` };
      const fallback = { version, program: wordsToBytes(data.subarray(1), what) };
      checkFallback(fallback, (m) => invalid('f', m));
      return { tag, fallback };
    }
    case 'r':
      return { tag, routeHint: decodeRouteHint(wordsToBytes(data, what)) };
  }
}

/** BOLT 11: c, x, 9 "MUST use the minimum data_length possible" (a reader SHOULD refuse). */
function minimalInteger(tag: string, data: Uint8Array): number {
  if (data.length > 0 && data[0] === 0)
    throw new InvoiceError('non-minimal-field', `${tag} field begins with a zero field element`);
  if (data.length > MAX_INT_WORDS)
    throw invalid(tag, `has ${data.length * 5} bits, more than lnkit reads (50)`);
  return wordsToNumber(data);
}

function decodeFeatures(data: Uint8Array): Features {
  if (data.length > 0 && data[0] === 0)
    throw new InvoiceError('non-minimal-field', '9 field begins with a zero field element');
  // BOLT 11 "Feature Bits": big-endian, bit 0 is the least-significant bit of the last word.
  const bits: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const word = data[data.length - 1 - i]!;
    for (let b = 0; b < 5; b++) if ((word >> b) & 1) bits.push(i * 5 + b);
  }
  return Features.fromBits(bits);
}

function encodeFeatures(features: Features): Uint8Array {
  const bits = features.bits();
  if (bits.length === 0) return new Uint8Array(0);
  const words = new Uint8Array(Math.floor(Math.max(...bits) / 5) + 1);
  for (const bit of bits) words[words.length - 1 - Math.floor(bit / 5)]! |= 1 << (bit % 5);
  return words;
}

/** BOLT 11 `f` and BIP 141: witness programs of 2-40 bytes (20 or 32 for v0); hashes of 20. */
export function checkFallback(f: Fallback, fail: (message: string) => Error): void {
  const n = f.program.length;
  if (f.version === 17 || f.version === 18) {
    if (n !== 20) throw fail(`version ${f.version} needs a 20-byte hash, got ${n} bytes`);
  } else if (f.version === 0) {
    if (n !== 20 && n !== 32) throw fail(`version 0 needs a 20- or 32-byte witness program, got ${n} bytes`);
  } else if (f.version >= 1 && f.version <= 16) {
    if (n < 2 || n > 40) throw fail(`version ${f.version} needs a witness program of 2-40 bytes, got ${n}`);
  } else throw fail(`version ${f.version} is not 0-18`);
}

function decodeRouteHint(bytes: Uint8Array): RouteHint {
  if (bytes.length === 0 || bytes.length % HOP_BYTES !== 0)
    throw invalid('r', `is ${bytes.length} bytes, not a whole number of 51-byte hops`);
  const hops: RouteHintHop[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let o = 0; o < bytes.length; o += HOP_BYTES) {
    const nodeId = bytes.slice(o, o + 33);
    if (!isValidPublicKey(nodeId)) throw invalid('r', `hop ${o / HOP_BYTES + 1} has an invalid public key`);
    hops.push({
      nodeId,
      shortChannelId: view.getBigUint64(o + 33),
      feeBaseMsat: view.getUint32(o + 41),
      feeProportionalMillionths: view.getUint32(o + 45),
      cltvExpiryDelta: view.getUint16(o + 49),
    });
  }
  return hops;
}

function encodeRouteHint(hint: RouteHint): Uint8Array {
  if (!Array.isArray(hint) || hint.length === 0)
    throw new InvoiceError('invalid-argument', 'a route hint needs at least one hop');
  const bytes = new Uint8Array(hint.length * HOP_BYTES);
  const view = new DataView(bytes.buffer);
  hint.forEach((hop, i) => {
    const o = i * HOP_BYTES;
    const where = `route hint hop ${i + 1}`;
    bytes.set(checkBytes(hop.nodeId, 33, `${where} nodeId`), o);
    if (!isValidPublicKey(hop.nodeId))
      throw new InvoiceError('invalid-argument', `${where} nodeId is not a valid public key`);
    if (typeof hop.shortChannelId !== 'bigint' || hop.shortChannelId < 0n || hop.shortChannelId >= 1n << 64n)
      throw new InvoiceError('invalid-argument', `${where} shortChannelId must be a u64 bigint`);
    view.setBigUint64(o + 33, hop.shortChannelId);
    view.setUint32(o + 41, checkInteger(hop.feeBaseMsat, 0, 0xffffffff, `${where} feeBaseMsat`));
    view.setUint32(
      o + 45,
      checkInteger(hop.feeProportionalMillionths, 0, 0xffffffff, `${where} feeProportionalMillionths`),
    );
    view.setUint16(o + 49, checkInteger(hop.cltvExpiryDelta, 0, 0xffff, `${where} cltvExpiryDelta`));
  });
  return bytes;
}

/** The data words of a field, checked; its type comes from `fieldType`. */
function encodeFieldData(field: TaggedField): Uint8Array {
  switch (field.tag) {
    case 'p':
      return bytesToWords(checkBytes(field.paymentHash, 32, 'paymentHash'));
    case 's':
      return bytesToWords(checkBytes(field.paymentSecret, 32, 'paymentSecret'));
    case 'h':
      return bytesToWords(checkBytes(field.descriptionHash, 32, 'descriptionHash'));
    case 'n':
      if (!isValidPublicKey(checkBytes(field.payee, 33, 'payee')))
        throw new InvoiceError('invalid-argument', 'payee is not a valid public key');
      return bytesToWords(field.payee);
    case 'd':
      if (typeof field.description !== 'string')
        throw new InvoiceError('invalid-argument', 'description must be a string');
      return bytesToWords(new TextEncoder().encode(field.description));
    case 'm':
      if (!(field.paymentMetadata instanceof Uint8Array))
        throw new InvoiceError('invalid-argument', 'paymentMetadata must be a Uint8Array');
      return bytesToWords(field.paymentMetadata);
    case 'x':
      return numberToWords(checkInteger(field.expirySeconds, 0, 2 ** 50 - 1, 'expirySeconds'));
    case 'c':
      return numberToWords(
        checkInteger(field.minFinalCltvExpiryDelta, 0, 2 ** 50 - 1, 'minFinalCltvExpiryDelta'),
      );
    case '9':
      if (!(field.features instanceof Features))
        throw new InvoiceError('invalid-argument', 'features must be Features');
      return encodeFeatures(field.features);
    case 'f': {
      const f = field.fallback;
      checkInteger(f?.version, 0, 18, 'fallback version');
      if (!(f.program instanceof Uint8Array))
        throw new InvoiceError('invalid-argument', 'fallback program must be a Uint8Array');
      checkFallback(f, (m) => new InvoiceError('invalid-argument', `fallback ${m}`));
      const program = bytesToWords(f.program);
      const out = new Uint8Array(1 + program.length);
      out[0] = f.version;
      out.set(program, 1);
      return out;
    }
    case 'r':
      return bytesToWords(encodeRouteHint(field.routeHint));
    case 'skipped':
      if (!(field.words instanceof Uint8Array) || field.words.some((w) => w > 31))
        throw new InvoiceError('invalid-argument', 'a skipped field needs 5-bit words');
      return field.words;
  }
}

export function fieldType(field: TaggedField): number {
  if (field.tag === 'skipped') return checkInteger(field.type, 0, 31, 'skipped field type');
  const type = FIELD_TYPE[field.tag];
  if (type === undefined)
    throw new InvoiceError('invalid-argument', `unknown field tag ${String(field.tag)}`);
  return type;
}

/** type, data_length, data. */
export function encodeField(field: TaggedField): Uint8Array {
  const type = fieldType(field);
  const data = encodeFieldData(field);
  if (data.length > MAX_DATA_LENGTH)
    throw new InvoiceError(
      'invalid-argument',
      `${fieldLetter(type)} field is ${data.length} words; data_length is at most ${MAX_DATA_LENGTH} (639 bytes)`,
    );
  const out = new Uint8Array(3 + data.length);
  out[0] = type;
  out[1] = data.length >> 5;
  out[2] = data.length & 31;
  out.set(data, 3);
  return out;
}
