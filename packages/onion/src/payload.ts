/**
 * BOLT 4 "payload format": the TLV stream a payment onion carries for each hop, read and written
 * with wire's BigSize and TLV value codecs. Decoding keeps each record's byte offset, so a
 * record that breaks a rule becomes invalid_onion_payload naming its type and offset.
 */
import {
  bigSizeLength,
  decodeBigSize,
  decodeTruncated,
  encodeTruncated,
  type TlvRecord,
  tlv,
  WireError,
  writeTlvStream,
} from '@lnkit/wire';
import { checkBytes, checkUint, checkUint64, invalidArgument } from './errors.ts';

export const TLV_AMT_TO_FORWARD = 2n;
export const TLV_OUTGOING_CLTV_VALUE = 4n;
export const TLV_SHORT_CHANNEL_ID = 6n;
export const TLV_PAYMENT_DATA = 8n;
export const TLV_ENCRYPTED_RECIPIENT_DATA = 10n;
export const TLV_CURRENT_PATH_KEY = 12n;
export const TLV_PAYMENT_METADATA = 16n;
export const TLV_TOTAL_AMOUNT_MSAT = 18n;
/** The keysend preimage record (not in BOLT 4: lnd's, used by every implementation). */
export const TLV_KEYSEND_PREIMAGE = 5482373484n;
/** BOLT 4 leaves types 65536 and above to applications ("custom records"). */
export const CUSTOM_RECORD_MIN_TYPE = 65536n;

export interface PaymentData {
  paymentSecret: Uint8Array;
  totalMsat: bigint;
}

/** One hop's payload. Which fields a hop needs is checked when it is read (rules.ts). */
export interface HopPayload {
  amtToForwardMsat?: bigint;
  outgoingCltvValue?: number;
  shortChannelId?: bigint;
  paymentData?: PaymentData;
  encryptedRecipientData?: Uint8Array;
  currentPathKey?: Uint8Array;
  paymentMetadata?: Uint8Array;
  totalAmountMsat?: bigint;
  keysendPreimage?: Uint8Array;
  /**
   * Records this package does not know. When building: the application's own, odd types from
   * 65536 on. When reading: every unknown odd record (BOLT 1 ignores them; they are kept).
   */
  customRecords?: TlvRecord[];
}

const KNOWN_TYPES = new Set([
  TLV_AMT_TO_FORWARD,
  TLV_OUTGOING_CLTV_VALUE,
  TLV_SHORT_CHANNEL_ID,
  TLV_PAYMENT_DATA,
  TLV_ENCRYPTED_RECIPIENT_DATA,
  TLV_CURRENT_PATH_KEY,
  TLV_PAYMENT_METADATA,
  TLV_TOTAL_AMOUNT_MSAT,
  TLV_KEYSEND_PREIMAGE,
]);

const tu64 = tlv.tu64(0n);
const tu32 = tlv.tu32(0n);
const scid = tlv.shortChannelId(0n);
const point = tlv.point(0n);
const bytes32 = tlv.fixed(0n, 32, 'preimage');

/** Encodes a payload, checking the values a sender controls; custom records must be odd and ≥ 65536. */
export function encodeHopPayload(p: HopPayload, what = 'payload'): Uint8Array {
  const records: TlvRecord[] = [];
  const add = (type: bigint, value: Uint8Array) => records.push({ type, value });
  if (p.amtToForwardMsat !== undefined)
    add(TLV_AMT_TO_FORWARD, encodeTruncated(checkUint64(p.amtToForwardMsat, `${what} amtToForwardMsat`)));
  if (p.outgoingCltvValue !== undefined)
    add(
      TLV_OUTGOING_CLTV_VALUE,
      encodeTruncated(BigInt(checkUint(p.outgoingCltvValue, 0xffff_ffff, `${what} outgoingCltvValue`))),
    );
  if (p.shortChannelId !== undefined)
    add(TLV_SHORT_CHANNEL_ID, scid.encode(checkUint64(p.shortChannelId, `${what} shortChannelId`)));
  if (p.paymentData !== undefined) {
    const secret = checkBytes(p.paymentData.paymentSecret, 32, `${what} paymentSecret`);
    const total = encodeTruncated(checkUint64(p.paymentData.totalMsat, `${what} totalMsat`));
    const value = new Uint8Array(32 + total.length);
    value.set(secret, 0);
    value.set(total, 32);
    add(TLV_PAYMENT_DATA, value);
  }
  if (p.encryptedRecipientData !== undefined)
    add(TLV_ENCRYPTED_RECIPIENT_DATA, bytesOf(p.encryptedRecipientData, `${what} encryptedRecipientData`));
  if (p.currentPathKey !== undefined)
    add(TLV_CURRENT_PATH_KEY, checkBytes(p.currentPathKey, 33, `${what} currentPathKey`));
  if (p.paymentMetadata !== undefined)
    add(TLV_PAYMENT_METADATA, bytesOf(p.paymentMetadata, `${what} paymentMetadata`));
  if (p.totalAmountMsat !== undefined)
    add(TLV_TOTAL_AMOUNT_MSAT, encodeTruncated(checkUint64(p.totalAmountMsat, `${what} totalAmountMsat`)));
  if (p.keysendPreimage !== undefined)
    add(TLV_KEYSEND_PREIMAGE, checkBytes(p.keysendPreimage, 32, `${what} keysendPreimage`));
  for (const r of p.customRecords ?? []) {
    if (typeof r.type !== 'bigint' || r.type < CUSTOM_RECORD_MIN_TYPE || r.type > 0xffff_ffff_ffff_ffffn)
      throw invalidArgument(`${what}: custom record type must be a bigint from 65536 to 2^64-1`);
    if (r.type % 2n === 0n)
      throw invalidArgument(
        `${what}: custom record type ${r.type} is even (a reader that does not know it must fail)`,
      );
    if (KNOWN_TYPES.has(r.type))
      throw invalidArgument(`${what}: custom record type ${r.type} is a known type`);
    add(r.type, bytesOf(r.value, `${what} custom record ${r.type}`));
  }
  records.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  try {
    return writeTlvStream(records);
  } catch (e) {
    if (e instanceof WireError) throw invalidArgument(`${what}: ${e.detail}`);
    throw e;
  }
}

/** A Buffer seen as a plain Uint8Array (same bytes), so slices are copies, not views. */
export function asPlain(b: Uint8Array): Uint8Array {
  return Buffer.isBuffer(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : b;
}

/** A copy as a plain Uint8Array (Buffer#slice would be a view of the caller's bytes). */
function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function bytesOf(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalidArgument(`${what} must be a Uint8Array`);
  return v;
}

/** Where each record sits in the payload: what invalid_onion_payload reports. */
export type RecordOffsets = Map<bigint, number>;

/** A payload that is not a valid stream or has a bad record: its type and byte offset (0 when unknown). */
export class PayloadProblem {
  constructor(
    readonly type: bigint,
    readonly offset: number,
    readonly detail: string,
  ) {}
}

export interface DecodedPayload {
  payload: HopPayload;
  /** Each record's byte offset in the payload (after its length prefix). */
  offsets: RecordOffsets;
}

/**
 * Decodes a payload TLV stream. Returns a PayloadProblem (never throws on peer bytes) for a
 * stream that breaks BOLT 1 (non-minimal BigSize, types not increasing, a length past the end),
 * an unknown even type, or a known record whose value has the wrong encoding.
 */
export function decodeHopPayload(input: Uint8Array): DecodedPayload | PayloadProblem {
  const bytes = asPlain(input);
  const payload: HopPayload = {};
  const offsets: RecordOffsets = new Map();
  let pos = 0;
  let last = -1n;
  while (pos < bytes.length) {
    const start = pos;
    let type: bigint;
    let length: bigint;
    try {
      const t = decodeBigSize(bytes, pos);
      type = t.value;
      pos += t.length;
    } catch {
      return new PayloadProblem(0n, start, 'record type is not a minimal BigSize');
    }
    try {
      const l = decodeBigSize(bytes, pos);
      length = l.value;
      pos += l.length;
    } catch {
      return new PayloadProblem(type, start, `record ${type}: length is not a minimal BigSize`);
    }
    if (type <= last) return new PayloadProblem(type, start, `record ${type}: types not strictly increasing`);
    if (length > BigInt(bytes.length - pos))
      return new PayloadProblem(type, start, `record ${type}: length runs past the payload`);
    const value = bytes.subarray(pos, pos + Number(length));
    pos += Number(length);
    last = type;
    offsets.set(type, start);
    try {
      if (!readRecord(payload, type, value)) {
        // BOLT 1: an unknown even type fails the stream; an unknown odd one is skipped.
        if (type % 2n === 0n) return new PayloadProblem(type, start, `unknown even record ${type}`);
        payload.customRecords ??= [];
        payload.customRecords.push({ type, value: copy(value) });
      }
    } catch (e) {
      if (e instanceof WireError) return new PayloadProblem(type, start, `record ${type}: ${e.detail}`);
      throw e;
    }
  }
  return { payload, offsets };
}

/** Sets the known record on `p`; false for a type this package does not know. */
function readRecord(p: HopPayload, type: bigint, value: Uint8Array): boolean {
  switch (type) {
    case TLV_AMT_TO_FORWARD:
      p.amtToForwardMsat = tu64.decode(value);
      return true;
    case TLV_OUTGOING_CLTV_VALUE:
      p.outgoingCltvValue = tu32.decode(value);
      return true;
    case TLV_SHORT_CHANNEL_ID:
      p.shortChannelId = scid.decode(value);
      return true;
    case TLV_PAYMENT_DATA:
      if (value.length < 32)
        throw new WireError('invalid-tlv', 'payment_data shorter than its payment_secret');
      p.paymentData = {
        paymentSecret: copy(value.subarray(0, 32)),
        totalMsat: decodeTruncated(value.subarray(32), 8, 'total_msat'),
      };
      return true;
    case TLV_ENCRYPTED_RECIPIENT_DATA:
      p.encryptedRecipientData = copy(value);
      return true;
    case TLV_CURRENT_PATH_KEY:
      p.currentPathKey = point.decode(value);
      return true;
    case TLV_PAYMENT_METADATA:
      p.paymentMetadata = copy(value);
      return true;
    case TLV_TOTAL_AMOUNT_MSAT:
      p.totalAmountMsat = tu64.decode(value);
      return true;
    case TLV_KEYSEND_PREIMAGE:
      p.keysendPreimage = bytes32.decode(value);
      return true;
    default:
      return false;
  }
}

/** Bytes the payload takes in the onion (length prefix, payload, HMAC): for route planning. */
export function hopPayloadSize(p: HopPayload): number {
  const n = encodeHopPayload(p).length;
  return bigSizeLength(BigInt(n)) + n + 32;
}
