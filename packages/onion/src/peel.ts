/**
 * Peeling a payment onion at a hop (BOLT 4 "Onion Decryption" and the reader rules of "payload
 * format"), for update_add_htlc: the shared secret by ECDH with the node key — through `ecdh`,
 * so the key can stay in the signer's threads — the HMAC, the next packet, and the payload
 * checked against what a forwarding hop, a final hop and a hop of a blinded route must see.
 * Every problem with the peer's onion is an OnionError carrying the failure to return.
 */
import { bytesEqual, type TlvRecord } from '@lnkit/wire';
import {
  blindedForwardValues,
  blindingTweak,
  decodeEncryptedData,
  decryptRecipientData,
  type EncryptedData,
  nextPathKey,
} from './blinding.ts';
import { isPoint, multiply } from './curve.ts';
import {
  checkBytes,
  checkUint,
  checkUint64,
  invalidArgument,
  OnionError,
  type OnionErrorCode,
} from './errors.ts';
import { BADONION, type FailureMessage, failureCode } from './failure-messages.ts';
import {
  decodeHopPayload,
  type HopPayload,
  PayloadProblem,
  type RecordOffsets,
  TLV_AMT_TO_FORWARD,
  TLV_CURRENT_PATH_KEY,
  TLV_ENCRYPTED_RECIPIENT_DATA,
  TLV_KEYSEND_PREIMAGE,
  TLV_OUTGOING_CLTV_VALUE,
  TLV_PAYMENT_DATA,
  TLV_PAYMENT_METADATA,
  TLV_SHORT_CHANNEL_ID,
  TLV_TOTAL_AMOUNT_MSAT,
} from './payload.ts';
import { PAYMENT_ONION_LENGTH } from './payment.ts';
import { FramingError, type ParsedPacket, parsePacket, unwrapPacket } from './sphinx.ts';
import { sha256 } from './sphinx-keys.ts';

/**
 * BOLT 8-style ECDH with the node key: SHA-256 of the compressed point key·publicKey. The node
 * passes the signer pool's (`(await signerPool.nodeKey()).ecdh`); tests may pass an in-thread one.
 */
export type NodeEcdh = (publicKey: Uint8Array) => Promise<Uint8Array>;

/** The fields of update_add_htlc the onion is checked against. */
export interface IncomingHtlc {
  onionRoutingPacket: Uint8Array;
  paymentHash: Uint8Array;
  amountMsat: bigint;
  cltvExpiry: number;
  /** update_add_htlc's `blinded_path` TLV: set when this node is inside a blinded route. */
  pathKey?: Uint8Array;
}

/**
 * Where this hop sits in a blinded route: 'introduction' (the path key came in the payload) or
 * 'inside' (it came in update_add_htlc). It decides how every later failure of this HTLC is
 * returned (see failHtlc).
 */
export type BlindedRole = 'introduction' | 'inside';

export interface BlindedContext {
  role: BlindedRole;
  /** The decrypted encrypted_data_tlv the recipient wrote for this hop. */
  encryptedData: EncryptedData;
}

interface PeeledCommon {
  /** Keep it with the HTLC: failing it later needs it (createFailurePacket). */
  sharedSecret: Uint8Array;
  payload: HopPayload;
  blinded?: BlindedContext;
}

export interface ForwardPayment extends PeeledCommon {
  kind: 'forward';
  /** Outside blinded routes always a channel; a blinded hop may name the next node instead. */
  next: { shortChannelId: bigint } | { nodeId: Uint8Array };
  amtToForwardMsat: bigint;
  outgoingCltvValue: number;
  /** The onion_routing_packet for the next HTLC. */
  nextPacket: Uint8Array;
  /** The next HTLC's update_add_htlc `blinded_path` (set inside a blinded route). */
  nextPathKey?: Uint8Array;
}

export interface ReceivePayment extends PeeledCommon {
  kind: 'receive';
  amtToForwardMsat: bigint;
  outgoingCltvValue: number;
  /** payment_data's total_msat (or total_amount_msat in a blinded path); amt_to_forward when absent. */
  totalMsat: bigint;
  paymentSecret?: Uint8Array;
  paymentMetadata?: Uint8Array;
  /** Checked: it hashes to the payment hash. */
  keysendPreimage?: Uint8Array;
  /** Unknown odd records, including the sender's custom records (types ≥ 65536). */
  customRecords: TlvRecord[];
  /** In a blinded path: the recipient's own path_id, which it MUST check is one it made. */
  pathId?: Uint8Array;
}

export type PeeledPayment = ForwardPayment | ReceivePayment;

/** What the failures of this peel depend on: filled in as the peel learns it. */
interface Context {
  onion: Uint8Array;
  inside: boolean;
  introduction: boolean;
  sharedSecret?: Uint8Array;
}

function fail(ctx: Context, code: OnionErrorCode, detail: string, failure: FailureMessage): never {
  const blinding: FailureMessage = { name: 'invalid_onion_blinding', sha256OfOnion: sha256(ctx.onion) };
  // BOLT 2: inside a blinded route every error is update_fail_malformed_htlc(invalid_onion_blinding);
  // at the introduction (not final) it is update_fail_htlc(invalid_onion_blinding).
  if (ctx.inside)
    throw new OnionError('invalid-onion-blinding', `inside a blinded route: ${detail}`, {
      failure: blinding,
      reply: 'malformed',
    });
  if (ctx.introduction || code === 'invalid-onion-blinding')
    throw new OnionError('invalid-onion-blinding', `blinded route: ${detail}`, {
      failure: blinding,
      reply: 'fail',
      sharedSecret: ctx.sharedSecret!,
    });
  const badOnion = (failureCode(failure) & BADONION) !== 0 || !ctx.sharedSecret;
  throw new OnionError(code, detail, {
    failure,
    reply: badOnion ? 'malformed' : 'fail',
    ...(badOnion ? {} : { sharedSecret: ctx.sharedSecret! }),
  });
}

function invalidPayload(ctx: Context, type: bigint, offset: number, detail: string): never {
  return fail(ctx, 'invalid-onion-payload', detail, { name: 'invalid_onion_payload', type, offset });
}

function blindingFailure(ctx: Context, detail: string): never {
  return fail(ctx, 'invalid-onion-blinding', detail, {
    name: 'invalid_onion_blinding',
    sha256OfOnion: sha256(ctx.onion),
  });
}

async function runEcdh(ecdh: NodeEcdh, publicKey: Uint8Array): Promise<Uint8Array> {
  let ss: unknown;
  try {
    ss = await ecdh(publicKey);
  } catch (e) {
    // The point was checked first, so this is the node's own trouble (a signer restarting), not
    // the peer's: there is no failure to send; the HTLC can be peeled again later.
    throw new OnionError('ecdh-failed', `node ECDH failed: ${(e as Error)?.message ?? String(e)}`);
  }
  if (!(ss instanceof Uint8Array) || ss.length !== 32)
    throw new OnionError('ecdh-failed', 'node ECDH did not return a 32-byte secret');
  return ss;
}

function checkHtlc(htlc: IncomingHtlc): void {
  if (!htlc || typeof htlc !== 'object') throw invalidArgument('htlc must be an object');
  checkBytes(htlc.onionRoutingPacket, PAYMENT_ONION_LENGTH, 'onion_routing_packet');
  checkBytes(htlc.paymentHash, 32, 'payment hash');
  checkUint64(htlc.amountMsat, 'amountMsat');
  checkUint(htlc.cltvExpiry, 0xffff_ffff, 'cltvExpiry');
  if (htlc.pathKey !== undefined) checkBytes(htlc.pathKey, 33, 'pathKey');
}

/**
 * Peels one layer. Resolves to what to forward or what was received; rejects with OnionError:
 * for the peer's onion with `failure` and `reply` set (see errors.ts), 'ecdh-failed' when the
 * node's ECDH fails, 'invalid-argument' for fields of the wrong size.
 *
 * Not checked here, because they need state this pure function does not have: the outgoing
 * channel's fee and cltv_expiry_delta (the forwarding checks), whether the payment hash,
 * payment_secret and amount match an invoice, replayed HMACs, and min_final_cltv_expiry_delta.
 */
export async function peelPaymentOnion(htlc: IncomingHtlc, ecdh: NodeEcdh): Promise<PeeledPayment> {
  checkHtlc(htlc);
  const ctx: Context = {
    onion: htlc.onionRoutingPacket,
    inside: htlc.pathKey !== undefined,
    introduction: false,
  };
  let parsed: ParsedPacket;
  try {
    parsed = parsePacket(htlc.onionRoutingPacket);
  } catch (e) {
    if (e instanceof OnionError && e.failure) fail(ctx, e.code, e.message, e.failure);
    throw e;
  }
  // Inside a blinded route the sender encrypted to our blinded id: tweak the onion key first
  // (BOLT 4: "Tweak public_key by multiplying by HMAC256("blinded_node_id", blinding_ss)").
  let blindingSecret: Uint8Array | undefined;
  let onionKey = parsed.publicKey;
  if (htlc.pathKey) {
    if (!isPoint(htlc.pathKey)) blindingFailure(ctx, 'path_key is not a valid point');
    blindingSecret = await runEcdh(ecdh, htlc.pathKey);
    try {
      onionKey = multiply(parsed.publicKey, blindingTweak(blindingSecret));
    } catch {
      blindingFailure(ctx, 'the blinding tweak is not a valid scalar');
    }
  }
  ctx.sharedSecret = await runEcdh(ecdh, onionKey);
  let unwrapped: ReturnType<typeof unwrapPacket>;
  try {
    // The next onion key is the incoming one (not the tweaked one) times SHA256(key || ss): the
    // sender blinded its own ephemeral secret, whatever node id it encrypted to.
    unwrapped = unwrapPacket(parsed, ctx.sharedSecret, htlc.paymentHash);
  } catch (e) {
    if (e instanceof OnionError && e.failure) {
      delete ctx.sharedSecret; // a bad HMAC: the sender did not mean this secret for us
      fail(ctx, e.code, e.message, e.failure);
    }
    throw e;
  }
  if (unwrapped instanceof FramingError) invalidPayload(ctx, 0n, 0, unwrapped.detail);
  const decoded = decodeHopPayload(unwrapped.payload);
  if (decoded instanceof PayloadProblem) invalidPayload(ctx, decoded.type, decoded.offset, decoded.detail);
  const { payload, offsets } = decoded;
  const isFinal = unwrapped.nextPacket === undefined;
  ctx.introduction = !ctx.inside && payload.currentPathKey !== undefined && !isFinal;
  if (payload.encryptedRecipientData !== undefined)
    return peelBlinded(ctx, htlc, ecdh, payload, offsets, unwrapped.nextPacket, blindingSecret);
  if (ctx.inside) blindingFailure(ctx, 'no encrypted_recipient_data although path_key was set');
  if (payload.currentPathKey)
    invalidPayload(
      ctx,
      TLV_CURRENT_PATH_KEY,
      offsets.get(TLV_CURRENT_PATH_KEY)!,
      'current_path_key without encrypted_recipient_data',
    );
  return isFinal
    ? receive(ctx, htlc, payload, offsets)
    : forward(ctx, payload, offsets, unwrapped.nextPacket!);
}

function requireAmountAndCltv(ctx: Context, p: HopPayload): { amt: bigint; cltv: number } {
  // A missing record has no offset: 0, as other implementations send.
  if (p.amtToForwardMsat === undefined)
    invalidPayload(ctx, TLV_AMT_TO_FORWARD, 0, 'amt_to_forward is missing');
  if (p.outgoingCltvValue === undefined)
    invalidPayload(ctx, TLV_OUTGOING_CLTV_VALUE, 0, 'outgoing_cltv_value is missing');
  return { amt: p.amtToForwardMsat, cltv: p.outgoingCltvValue };
}

function forward(
  ctx: Context,
  p: HopPayload,
  offsets: RecordOffsets,
  nextPacket: Uint8Array,
): ForwardPayment {
  const { amt, cltv } = requireAmountAndCltv(ctx, p);
  if (p.shortChannelId === undefined)
    invalidPayload(ctx, TLV_SHORT_CHANNEL_ID, 0, 'a forwarding hop needs short_channel_id');
  // BOLT 4: the writer MUST NOT give a non-final node payment_data; the other final-only
  // records are refused too, as LDK does, since only the recipient can act on them.
  for (const type of [TLV_PAYMENT_DATA, TLV_PAYMENT_METADATA, TLV_TOTAL_AMOUNT_MSAT, TLV_KEYSEND_PREIMAGE])
    if (offsets.has(type))
      invalidPayload(ctx, type, offsets.get(type)!, `record ${type} is for the final hop only`);
  return {
    kind: 'forward',
    sharedSecret: ctx.sharedSecret!,
    payload: p,
    next: { shortChannelId: p.shortChannelId },
    amtToForwardMsat: amt,
    outgoingCltvValue: cltv,
    nextPacket,
  };
}

function receive(ctx: Context, htlc: IncomingHtlc, p: HopPayload, offsets: RecordOffsets): ReceivePayment {
  const { amt, cltv } = requireAmountAndCltv(ctx, p);
  if (p.shortChannelId !== undefined)
    invalidPayload(
      ctx,
      TLV_SHORT_CHANNEL_ID,
      offsets.get(TLV_SHORT_CHANNEL_ID)!,
      'the final hop got short_channel_id',
    );
  if (p.keysendPreimage && !bytesEqual(sha256(p.keysendPreimage), htlc.paymentHash))
    invalidPayload(
      ctx,
      TLV_KEYSEND_PREIMAGE,
      offsets.get(TLV_KEYSEND_PREIMAGE)!,
      'keysend preimage does not hash to the payment hash',
    );
  checkFinalHtlc(ctx, htlc, amt, cltv);
  const out: ReceivePayment = {
    kind: 'receive',
    sharedSecret: ctx.sharedSecret!,
    payload: p,
    amtToForwardMsat: amt,
    outgoingCltvValue: cltv,
    totalMsat: p.paymentData?.totalMsat ?? amt,
    customRecords: p.customRecords ?? [],
  };
  if (p.paymentData) out.paymentSecret = p.paymentData.paymentSecret;
  if (p.paymentMetadata) out.paymentMetadata = p.paymentMetadata;
  if (p.keysendPreimage) out.keysendPreimage = p.keysendPreimage;
  return out;
}

/** BOLT 4 final node: the HTLC must carry at least what the onion says, in amount and expiry. */
function checkFinalHtlc(ctx: Context, htlc: IncomingHtlc, amt: bigint, cltv: number): void {
  if (htlc.cltvExpiry < cltv)
    fail(ctx, 'final-incorrect-cltv-expiry', `HTLC expires at ${htlc.cltvExpiry}, the onion says ${cltv}`, {
      name: 'final_incorrect_cltv_expiry',
      cltvExpiry: htlc.cltvExpiry,
    });
  if (htlc.amountMsat < amt)
    fail(ctx, 'final-incorrect-htlc-amount', `HTLC carries ${htlc.amountMsat} msat, the onion says ${amt}`, {
      name: 'final_incorrect_htlc_amount',
      incomingHtlcAmtMsat: htlc.amountMsat,
    });
}

const BLINDED_FORWARD_TYPES = new Set([TLV_ENCRYPTED_RECIPIENT_DATA, TLV_CURRENT_PATH_KEY]);
const BLINDED_FINAL_TYPES = new Set([
  TLV_ENCRYPTED_RECIPIENT_DATA,
  TLV_CURRENT_PATH_KEY,
  TLV_AMT_TO_FORWARD,
  TLV_OUTGOING_CLTV_VALUE,
  TLV_TOTAL_AMOUNT_MSAT,
]);

/** BOLT 4 reader rules "If encrypted_recipient_data is present". */
async function peelBlinded(
  ctx: Context,
  htlc: IncomingHtlc,
  ecdh: NodeEcdh,
  p: HopPayload,
  offsets: RecordOffsets,
  nextPacket: Uint8Array | undefined,
  insideSecret: Uint8Array | undefined,
): Promise<PeeledPayment> {
  let pathKey: Uint8Array;
  let blindingSecret: Uint8Array;
  if (htlc.pathKey) {
    if (p.currentPathKey) blindingFailure(ctx, 'current_path_key in the payload although path_key was set');
    pathKey = htlc.pathKey;
    blindingSecret = insideSecret!;
  } else {
    if (!p.currentPathKey) blindingFailure(ctx, 'encrypted_recipient_data without a path key');
    pathKey = p.currentPathKey;
    if (!isPoint(pathKey)) blindingFailure(ctx, 'current_path_key is not a valid point');
    blindingSecret = await runEcdh(ecdh, pathKey);
  }
  const plain = decryptRecipientData(blindingSecret, p.encryptedRecipientData!);
  if (!plain) blindingFailure(ctx, 'encrypted_recipient_data does not decrypt');
  let data: EncryptedData;
  try {
    data = decodeEncryptedData(plain);
  } catch {
    blindingFailure(ctx, 'encrypted_data_tlv is not a valid TLV stream or has an unknown even record');
  }
  // BOLT 4: no allowed_features are defined yet, so every bit set is an unknown one.
  if (data.allowedFeatures?.some((b) => b !== 0)) blindingFailure(ctx, 'allowed_features has unknown bits');
  if (data.shortChannelId !== undefined && data.nextNodeId !== undefined)
    blindingFailure(ctx, 'encrypted data has both short_channel_id and next_node_id');
  const role: BlindedRole = ctx.inside ? 'inside' : 'introduction';
  const constraints = data.paymentConstraints;
  // BOLT 4: MUST return an error if the expiry is above max_cltv_expiry or the amount below htlc_minimum_msat.
  if (
    constraints &&
    (htlc.cltvExpiry > constraints.maxCltvExpiry || htlc.amountMsat < constraints.htlcMinimumMsat)
  )
    blindingFailure(ctx, 'the HTLC breaks the payment_constraints');
  if (nextPacket) {
    for (const type of offsets.keys())
      if (!BLINDED_FORWARD_TYPES.has(type))
        blindingFailure(ctx, `record ${type} is not allowed at a blinded forwarding hop`);
    if (data.shortChannelId === undefined && data.nextNodeId === undefined)
      blindingFailure(ctx, 'encrypted data has neither short_channel_id nor next_node_id');
    if (!data.paymentRelay) blindingFailure(ctx, 'encrypted data has no payment_relay');
    const values = blindedForwardValues(htlc.amountMsat, htlc.cltvExpiry, data.paymentRelay);
    if (!values) blindingFailure(ctx, 'the HTLC does not cover the payment_relay fee or expiry delta');
    let next: Uint8Array;
    try {
      next = nextPathKey(pathKey, blindingSecret, data);
    } catch {
      blindingFailure(ctx, 'the next path key is not a valid point');
    }
    return {
      kind: 'forward',
      sharedSecret: ctx.sharedSecret!,
      payload: p,
      blinded: { role, encryptedData: data },
      next:
        data.shortChannelId !== undefined
          ? { shortChannelId: data.shortChannelId }
          : { nodeId: data.nextNodeId! },
      amtToForwardMsat: values.amtToForwardMsat,
      outgoingCltvValue: values.outgoingCltvValue,
      nextPacket,
      nextPathKey: next,
    };
  }
  for (const type of offsets.keys())
    if (!BLINDED_FINAL_TYPES.has(type)) {
      // An introduction node that is also the recipient reports payload problems as such.
      if (ctx.inside) blindingFailure(ctx, `record ${type} is not allowed at a blinded final hop`);
      invalidPayload(ctx, type, offsets.get(type)!, `record ${type} is not allowed at a blinded final hop`);
    }
  const { amt, cltv } = requireAmountAndCltv(ctx, p);
  if (p.totalAmountMsat === undefined)
    invalidPayload(ctx, TLV_TOTAL_AMOUNT_MSAT, 0, 'a blinded final hop needs total_amount_msat');
  checkFinalHtlc(ctx, htlc, amt, cltv);
  const out: ReceivePayment = {
    kind: 'receive',
    sharedSecret: ctx.sharedSecret!,
    payload: p,
    blinded: { role, encryptedData: data },
    amtToForwardMsat: amt,
    outgoingCltvValue: cltv,
    totalMsat: p.totalAmountMsat,
    customRecords: [],
  };
  if (data.pathId) out.pathId = data.pathId;
  return out;
}
