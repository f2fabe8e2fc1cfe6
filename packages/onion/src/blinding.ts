/**
 * BOLT 4 "Route Blinding": the encrypted_data_tlv a recipient writes for each hop of a blinded
 * path, building the path (path keys, blinded node ids, encrypted_recipient_data), and what a
 * reader derives from a path_key (the blinding tweak, the decrypted data, the next path_key).
 */
import { CryptoError, decryptWithAd, encryptWithAd, secp } from '@lnkit/crypto';
import {
  ByteReader,
  ByteWriter,
  decodeTlvs,
  decodeTruncated,
  encodeTlvs,
  encodeTruncated,
  type TlvCodec,
  type TlvSchema,
  tlv,
  WireError,
  type WithUnknownTlvs,
} from '@lnkit/wire';
import { isPoint, multiply, multiplySecret, publicKey } from './curve.ts';
import { checkBytes, checkUint, checkUint64, invalidArgument } from './errors.ts';
import { asPlain } from './payload.ts';
import { generateKey, KEY_BLINDED_NODE_ID, KEY_RHO, sha256 } from './sphinx-keys.ts';

export interface PaymentRelay {
  cltvExpiryDelta: number;
  feeProportionalMillionths: number;
  feeBaseMsat: number;
}

export interface PaymentConstraints {
  maxCltvExpiry: number;
  htlcMinimumMsat: bigint;
}

/** BOLT 4 `encrypted_data_tlv`; unknown odd records go to `unknownTlvs` (an unknown even one fails it). */
export type EncryptedData = EncryptedDataFields & WithUnknownTlvs;

export interface EncryptedDataFields {
  padding?: Uint8Array;
  shortChannelId?: bigint;
  nextNodeId?: Uint8Array;
  pathId?: Uint8Array;
  nextPathKeyOverride?: Uint8Array;
  paymentRelay?: PaymentRelay;
  paymentConstraints?: PaymentConstraints;
  allowedFeatures?: Uint8Array;
}

const paymentRelayTlv: TlvCodec<PaymentRelay> = {
  type: 10n,
  decode(v) {
    const r = new ByteReader(v, 'payment_relay');
    const cltvExpiryDelta = r.u16('cltv_expiry_delta');
    const feeProportionalMillionths = r.u32('fee_proportional_millionths');
    return {
      cltvExpiryDelta,
      feeProportionalMillionths,
      feeBaseMsat: Number(decodeTruncated(r.rest(), 4, 'fee_base_msat')),
    };
  },
  encode(v) {
    return new ByteWriter(10)
      .u16(v.cltvExpiryDelta, 'cltv_expiry_delta')
      .u32(v.feeProportionalMillionths, 'fee_proportional_millionths')
      .bytes(encodeTruncated(BigInt(checkUint(v.feeBaseMsat, 0xffff_ffff, 'fee_base_msat'))))
      .finish();
  },
};

const paymentConstraintsTlv: TlvCodec<PaymentConstraints> = {
  type: 12n,
  decode(v) {
    const r = new ByteReader(v, 'payment_constraints');
    const maxCltvExpiry = r.u32('max_cltv_expiry');
    return { maxCltvExpiry, htlcMinimumMsat: decodeTruncated(r.rest(), 8, 'htlc_minimum_msat') };
  },
  encode(v) {
    return new ByteWriter(12)
      .u32(v.maxCltvExpiry, 'max_cltv_expiry')
      .bytes(encodeTruncated(checkUint64(v.htlcMinimumMsat, 'htlc_minimum_msat')))
      .finish();
  },
};

const ENCRYPTED_DATA_SCHEMA: TlvSchema<EncryptedDataFields> = {
  padding: tlv.bytes(1n),
  shortChannelId: tlv.shortChannelId(2n),
  nextNodeId: tlv.point(4n),
  pathId: tlv.bytes(6n),
  nextPathKeyOverride: tlv.point(8n),
  paymentRelay: paymentRelayTlv,
  paymentConstraints: paymentConstraintsTlv,
  allowedFeatures: tlv.bytes(14n),
};

export function encodeEncryptedData(d: EncryptedData): Uint8Array {
  try {
    return encodeTlvs(ENCRYPTED_DATA_SCHEMA, d, 'encrypted_data_tlv');
  } catch (e) {
    if (e instanceof WireError) throw invalidArgument(`encrypted_data_tlv: ${e.detail}`);
    throw e;
  }
}

/** Throws WireError for data that is not a valid stream or has an unknown even record. */
export function decodeEncryptedData(bytes: Uint8Array): EncryptedData {
  return decodeTlvs(ENCRYPTED_DATA_SCHEMA, asPlain(bytes), 'encrypted_data_tlv');
}

/** BOLT 4: b_i = HMAC256("blinded_node_id", ss_i), the factor between N_i and B_i. */
export function blindingTweak(blindingSharedSecret: Uint8Array): Uint8Array {
  return generateKey(KEY_BLINDED_NODE_ID, blindingSharedSecret);
}

/** BOLT 4: E_{i+1} = SHA256(E_i || ss_i) · E_i, unless the data overrides it. */
export function nextPathKey(
  pathKey: Uint8Array,
  blindingSharedSecret: Uint8Array,
  data?: EncryptedData,
): Uint8Array {
  return data?.nextPathKeyOverride ?? multiply(pathKey, sha256(pathKey, blindingSharedSecret));
}

/** ChaCha20-Poly1305 with rho_i and the all-zero nonce; undefined when the tag does not verify. */
export function decryptRecipientData(
  blindingSharedSecret: Uint8Array,
  encrypted: Uint8Array,
): Uint8Array | undefined {
  try {
    return decryptWithAd(generateKey(KEY_RHO, blindingSharedSecret), 0, new Uint8Array(0), encrypted);
  } catch (e) {
    if (e instanceof CryptoError) return undefined;
    throw e;
  }
}

export interface BlindedPathHopInput {
  /** The real node id N_i. */
  nodeId: Uint8Array;
  /** What this hop will read: typed (encoded here) or already-encoded encrypted_data_tlv bytes. */
  encryptedData: EncryptedData | Uint8Array;
}

export interface BlindedHop {
  blindedNodeId: Uint8Array;
  encryptedRecipientData: Uint8Array;
}

/** BOLT 4 `blinded_path`, with the introduction node as a node id. */
export interface BlindedPath {
  firstNodeId: Uint8Array;
  firstPathKey: Uint8Array;
  hops: BlindedHop[];
}

export interface CreateBlindedPath {
  /** e_0, from a CSPRNG (BOLT 4: SHOULD). */
  sessionKey: Uint8Array;
  hops: readonly BlindedPathHopInput[];
  /**
   * BOLT 4: SHOULD pad so every encrypted_data_tlv has the same length. When true (the default),
   * typed hops get a `padding` record sized so that all hops encode to the same length; hops given
   * as bytes are used as they are.
   */
  padToEqualLength?: boolean;
}

/**
 * Builds a blinded path to the last hop (the recipient, usually this node). To join a path
 * built by someone else after it, put that path's first_path_key as `nextPathKeyOverride` in
 * the last hop's data here and append its hops.
 */
export function createBlindedPath(c: CreateBlindedPath): BlindedPath {
  if (c.hops.length === 0) throw invalidArgument('a blinded path needs at least one hop');
  const encoded = padEncryptedData(c.hops, c.padToEqualLength ?? true);
  checkBytes(c.sessionKey, 32, 'session key');
  let e = c.sessionKey;
  let firstPathKey: Uint8Array | undefined;
  const hops: BlindedHop[] = c.hops.map((hop, i) => {
    if (!(hop.nodeId instanceof Uint8Array) || !isPoint(hop.nodeId))
      throw invalidArgument(`blinded path hop ${i}: node id is not a valid compressed point`);
    const E = publicKey(e);
    firstPathKey ??= E;
    const ss = secp.ecdh(e, hop.nodeId);
    const hopOut = {
      blindedNodeId: multiply(hop.nodeId, blindingTweak(ss)),
      encryptedRecipientData: encryptWithAd(generateKey(KEY_RHO, ss), 0, new Uint8Array(0), encoded[i]!),
    };
    e = multiplySecret(e, sha256(E, ss));
    return hopOut;
  });
  return { firstNodeId: c.hops[0]!.nodeId, firstPathKey: firstPathKey!, hops };
}

function padEncryptedData(hops: readonly BlindedPathHopInput[], pad: boolean): Uint8Array[] {
  const typed = hops.map((h) => (h.encryptedData instanceof Uint8Array ? undefined : h.encryptedData));
  const bare = hops.map((h, i) =>
    h.encryptedData instanceof Uint8Array ? h.encryptedData : encodeEncryptedData(typed[i]!),
  );
  if (!pad || typed.every((t) => t === undefined)) return bare;
  // A padding record of n bytes costs 1 (type) + BigSize(n) + n: find a common length every typed
  // hop can reach (some totals need one BigSize width more, so try a few).
  const longest = Math.max(...bare.map((b) => b.length));
  for (let target = longest + 2; target < longest + 8; target++) {
    const out: Uint8Array[] = [];
    for (let i = 0; i < hops.length; i++) {
      const t = typed[i];
      if (!t) {
        out.push(bare[i]!);
        continue;
      }
      const withoutPadding = t.padding ? encodeEncryptedData({ ...t, padding: undefined }) : bare[i]!;
      const room = target - withoutPadding.length;
      const n = room - 1 - (room - 2 < 253 ? 1 : 3);
      if (n < 0) break;
      const padded = encodeEncryptedData({ ...t, padding: new Uint8Array(n) });
      if (padded.length !== target) break;
      out.push(padded);
    }
    if (out.length === hops.length) return out;
  }
  return bare;
}

export interface BlindedPayInfo {
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
}

/**
 * BOLT 4: the total fees and CLTV delta of a blinded path, which the recipient gives the sender:
 * `relays` are the non-final hops' payment_relay in path order, folded from the last one back
 * with the BOLT's rounding-up formulas.
 */
export function blindedPayInfo(
  relays: readonly PaymentRelay[],
  minFinalCltvExpiryDelta: number,
): BlindedPayInfo {
  let base = 0n;
  let prop = 0n;
  let cltv = checkUint(minFinalCltvExpiryDelta, 0xffff, 'minFinalCltvExpiryDelta');
  const M = 1_000_000n;
  for (let i = relays.length - 1; i >= 0; i--) {
    const r = relays[i]!;
    const b = BigInt(checkUint(r.feeBaseMsat, 0xffff_ffff, 'feeBaseMsat'));
    const p = BigInt(checkUint(r.feeProportionalMillionths, 0xffff_ffff, 'feeProportionalMillionths'));
    base = (b * M + base * (M + p) + M - 1n) / M;
    prop = ((prop + p) * M + prop * p + M - 1n) / M;
    cltv += checkUint(r.cltvExpiryDelta, 0xffff, 'cltvExpiryDelta');
  }
  if (base > 0xffff_ffffn || prop > 0xffff_ffffn || cltv > 0xffff)
    throw invalidArgument('blinded path fees or CLTV delta overflow their fields');
  return { feeBaseMsat: Number(base), feeProportionalMillionths: Number(prop), cltvExpiryDelta: cltv };
}

/**
 * BOLT 4: what a blinded hop forwards, from its payment_relay:
 * amt_to_forward = ((amount - fee_base) · 10^6 + 10^6 + fee_prop - 1) / (10^6 + fee_prop).
 * Undefined when the amount does not cover the base fee or the expiry the delta.
 */
export function blindedForwardValues(
  amountMsat: bigint,
  cltvExpiry: number,
  relay: PaymentRelay,
): { amtToForwardMsat: bigint; outgoingCltvValue: number } | undefined {
  const base = BigInt(relay.feeBaseMsat);
  const prop = BigInt(relay.feeProportionalMillionths);
  if (amountMsat < base || cltvExpiry < relay.cltvExpiryDelta) return undefined;
  return {
    amtToForwardMsat: ((amountMsat - base) * 1_000_000n + 1_000_000n + prop - 1n) / (1_000_000n + prop),
    outgoingCltvValue: cltvExpiry - relay.cltvExpiryDelta,
  };
}
