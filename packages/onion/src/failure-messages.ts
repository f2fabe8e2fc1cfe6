/**
 * BOLT 4 "Failure Messages": every failure_code with its data, encoded and decoded. A failure
 * message is a 2-byte failure_code, the code's data, then an optional TLV stream (kept as bytes).
 */
import {
  ByteReader,
  ByteWriter,
  bytesEqual,
  type ChannelUpdate,
  channelUpdate,
  WireError,
} from '@lnkit/wire';
import { checkBytes, checkUint, checkUint64, invalidArgument, OnionError } from './errors.ts';
import { asPlain } from './payload.ts';

/** BOLT 4: the top byte of failure_code is a set of flags. */
export const BADONION = 0x8000;
export const PERM = 0x4000;
export const NODE = 0x2000;
export const UPDATE = 0x1000;

export const FAILURE_CODES = {
  temporary_node_failure: NODE | 2,
  permanent_node_failure: PERM | NODE | 2,
  required_node_feature_missing: PERM | NODE | 3,
  invalid_onion_version: BADONION | PERM | 4,
  invalid_onion_hmac: BADONION | PERM | 5,
  invalid_onion_key: BADONION | PERM | 6,
  temporary_channel_failure: UPDATE | 7,
  permanent_channel_failure: PERM | 8,
  required_channel_feature_missing: PERM | 9,
  unknown_next_peer: PERM | 10,
  amount_below_minimum: UPDATE | 11,
  fee_insufficient: UPDATE | 12,
  incorrect_cltv_expiry: UPDATE | 13,
  expiry_too_soon: UPDATE | 14,
  incorrect_or_unknown_payment_details: PERM | 15,
  final_incorrect_cltv_expiry: 18,
  final_incorrect_htlc_amount: 19,
  channel_disabled: UPDATE | 20,
  expiry_too_far: 21,
  invalid_onion_payload: PERM | 22,
  mpp_timeout: 23,
  invalid_onion_blinding: BADONION | PERM | 24,
} as const;

export type FailureName = keyof typeof FAILURE_CODES;

const NAMES_BY_CODE = new Map<number, FailureName>(
  Object.entries(FAILURE_CODES).map(([name, code]) => [code, name as FailureName]),
);

/** Extra bytes after the data: BOLT 4's optional TLV stream, kept as it came. */
interface Extra {
  tlvs?: Uint8Array;
}

type NoData<N extends FailureName> = { name: N } & Extra;
type OnionHash<N extends FailureName> = { name: N; sha256OfOnion: Uint8Array } & Extra;
/**
 * `channelUpdate` is the channel_update as the erring node sent it: BOLT 4 no longer requires
 * one (an empty array is a zero `len`); most nodes send the message with its 2-byte type
 * (258) in front. `parseFailureChannelUpdate` reads either form.
 */
type WithUpdate = { channelUpdate: Uint8Array };

export type FailureMessage =
  | NoData<'temporary_node_failure'>
  | NoData<'permanent_node_failure'>
  | NoData<'required_node_feature_missing'>
  | OnionHash<'invalid_onion_version'>
  | OnionHash<'invalid_onion_hmac'>
  | OnionHash<'invalid_onion_key'>
  | ({ name: 'temporary_channel_failure' } & WithUpdate & Extra)
  | NoData<'permanent_channel_failure'>
  | NoData<'required_channel_feature_missing'>
  | NoData<'unknown_next_peer'>
  | ({ name: 'amount_below_minimum'; htlcMsat: bigint } & WithUpdate & Extra)
  | ({ name: 'fee_insufficient'; htlcMsat: bigint } & WithUpdate & Extra)
  | ({ name: 'incorrect_cltv_expiry'; cltvExpiry: number } & WithUpdate & Extra)
  | ({ name: 'expiry_too_soon' } & WithUpdate & Extra)
  | ({ name: 'incorrect_or_unknown_payment_details'; htlcMsat: bigint; height: number } & Extra)
  | ({ name: 'final_incorrect_cltv_expiry'; cltvExpiry: number } & Extra)
  | ({ name: 'final_incorrect_htlc_amount'; incomingHtlcAmtMsat: bigint } & Extra)
  | ({ name: 'channel_disabled'; disabledFlags: number } & WithUpdate & Extra)
  | NoData<'expiry_too_far'>
  | ({ name: 'invalid_onion_payload'; type: bigint; offset: number } & Extra)
  | NoData<'mpp_timeout'>
  | OnionHash<'invalid_onion_blinding'>
  /** A failure_code this package does not know; `data` is everything after the code. */
  | { name: 'unknown'; code: number; data: Uint8Array };

export function failureCode(f: FailureMessage): number {
  return f.name === 'unknown' ? f.code : FAILURE_CODES[f.name];
}

export function failureName(code: number): FailureName | undefined {
  return NAMES_BY_CODE.get(code);
}

/** Whether the failure is final for the payment (PERM), about the node (NODE), bad onion, ... */
export function failureFlags(code: number): {
  badOnion: boolean;
  perm: boolean;
  node: boolean;
  update: boolean;
} {
  return {
    badOnion: (code & BADONION) !== 0,
    perm: (code & PERM) !== 0,
    node: (code & NODE) !== 0,
    update: (code & UPDATE) !== 0,
  };
}

function writeUpdate(w: ByteWriter, update: Uint8Array): void {
  if (!(update instanceof Uint8Array)) throw invalidArgument('channelUpdate must be a Uint8Array');
  w.u16(update.length, 'channel_update len').bytes(update);
}

export function encodeFailureMessage(f: FailureMessage): Uint8Array {
  const w = new ByteWriter(64);
  if (f.name === 'unknown') {
    checkUint(f.code, 0xffff, 'failure code');
    if (NAMES_BY_CODE.has(f.code)) throw invalidArgument(`failure code ${f.code} is known: use its name`);
    return w.u16(f.code).bytes(f.data).finish();
  }
  const code = FAILURE_CODES[f.name];
  if (code === undefined) throw invalidArgument(`unknown failure name ${String(f.name)}`);
  w.u16(code);
  try {
    switch (f.name) {
      case 'invalid_onion_version':
      case 'invalid_onion_hmac':
      case 'invalid_onion_key':
      case 'invalid_onion_blinding':
        w.bytes(checkBytes(f.sha256OfOnion, 32, 'sha256OfOnion'));
        break;
      case 'temporary_channel_failure':
      case 'expiry_too_soon':
        writeUpdate(w, f.channelUpdate);
        break;
      case 'amount_below_minimum':
      case 'fee_insufficient':
        w.u64(checkUint64(f.htlcMsat, 'htlcMsat'));
        writeUpdate(w, f.channelUpdate);
        break;
      case 'incorrect_cltv_expiry':
        w.u32(checkUint(f.cltvExpiry, 0xffff_ffff, 'cltvExpiry'));
        writeUpdate(w, f.channelUpdate);
        break;
      case 'incorrect_or_unknown_payment_details':
        w.u64(checkUint64(f.htlcMsat, 'htlcMsat')).u32(checkUint(f.height, 0xffff_ffff, 'height'));
        break;
      case 'final_incorrect_cltv_expiry':
        w.u32(checkUint(f.cltvExpiry, 0xffff_ffff, 'cltvExpiry'));
        break;
      case 'final_incorrect_htlc_amount':
        w.u64(checkUint64(f.incomingHtlcAmtMsat, 'incomingHtlcAmtMsat'));
        break;
      case 'channel_disabled':
        w.u16(checkUint(f.disabledFlags, 0xffff, 'disabledFlags'));
        writeUpdate(w, f.channelUpdate);
        break;
      case 'invalid_onion_payload':
        w.bigSize(checkUint64(f.type, 'type')).u16(checkUint(f.offset, 0xffff, 'offset'));
        break;
      default:
        // The failures without data.
        break;
    }
  } catch (e) {
    if (e instanceof WireError) throw invalidArgument(`${f.name}: ${e.detail}`);
    throw e;
  }
  if (f.tlvs) w.bytes(f.tlvs);
  return w.finish();
}

/**
 * Decodes a failuremsg. A known code whose data is cut short is OnionError
 * 'invalid-failure-message'; bytes after the data are the optional TLV stream (BOLT 4: the
 * origin "MUST ignore any extra bytes", so they are kept, never parsed as a condition).
 */
export function decodeFailureMessage(bytes: Uint8Array): FailureMessage {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('failure message must be a Uint8Array');
  const r = new ByteReader(asPlain(bytes), 'failure message');
  try {
    const code = r.u16('failure_code');
    const name = NAMES_BY_CODE.get(code);
    if (!name) return { name: 'unknown', code, data: r.rest() };
    const update = (): Uint8Array => r.bytesN(r.u16('channel_update len'));
    let f: FailureMessage;
    switch (name) {
      case 'invalid_onion_version':
      case 'invalid_onion_hmac':
      case 'invalid_onion_key':
      case 'invalid_onion_blinding':
        f = { name, sha256OfOnion: r.bytesN(32) };
        break;
      case 'temporary_channel_failure':
      case 'expiry_too_soon':
        f = { name, channelUpdate: update() };
        break;
      case 'amount_below_minimum':
      case 'fee_insufficient':
        f = { name, htlcMsat: r.u64('htlc_msat'), channelUpdate: update() };
        break;
      case 'incorrect_cltv_expiry':
        f = { name, cltvExpiry: r.u32('cltv_expiry'), channelUpdate: update() };
        break;
      case 'incorrect_or_unknown_payment_details':
        // Old nodes sent this code without data; BOLT 4 made both fields mandatory since.
        f = { name, htlcMsat: r.u64('htlc_msat'), height: r.u32('height') };
        break;
      case 'final_incorrect_cltv_expiry':
        f = { name, cltvExpiry: r.u32('cltv_expiry') };
        break;
      case 'final_incorrect_htlc_amount':
        f = { name, incomingHtlcAmtMsat: r.u64('incoming_htlc_amt') };
        break;
      case 'channel_disabled':
        f = { name, disabledFlags: r.u16('disabled_flags'), channelUpdate: update() };
        break;
      case 'invalid_onion_payload':
        f = { name, type: r.bigSize(), offset: r.u16('offset') };
        break;
      default:
        f = { name };
    }
    if (r.remaining > 0) (f as Extra).tlvs = r.rest();
    return f;
  } catch (e) {
    if (e instanceof WireError) throw new OnionError('invalid-failure-message', e.message);
    throw e;
  }
}

const CHANNEL_UPDATE_TYPE = Uint8Array.of(0x01, 0x02);

/**
 * The channel_update inside a failure, with or without its message type in front; undefined
 * when the erring node sent none (BOLT 4 allows a zero `len`). It is not signature-checked here:
 * BOLT 4 says the origin MAY use it for retries and MUST NOT apply it to its graph.
 */
export function parseFailureChannelUpdate(bytes: Uint8Array): ChannelUpdate | undefined {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('channel_update must be a Uint8Array');
  if (bytes.length === 0) return undefined;
  const plainBytes = asPlain(bytes);
  // A bare update whose signature happens to start 0x0102 reads as prefixed and fails: retry bare.
  if (bytesEqual(plainBytes.subarray(0, 2), CHANNEL_UPDATE_TYPE)) {
    try {
      return channelUpdate.decode(plainBytes);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
    }
  }
  try {
    return channelUpdate.decodePayload(plainBytes);
  } catch (e) {
    if (e instanceof WireError)
      throw new OnionError('invalid-failure-message', `channel_update: ${e.message}`);
    throw e;
  }
}
