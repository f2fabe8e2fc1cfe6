/**
 * Building a payment onion (BOLT 4, onion_routing_packet of update_add_htlc): typed or raw hop
 * payloads, the payment hash as associated data, 1300 bytes of hop_payloads.
 */
import { checkBytes, checkUint, checkUint64, invalidArgument } from './errors.ts';
import { encodeHopPayload, type HopPayload } from './payload.ts';
import { buildPacket, HOP_PAYLOADS_LENGTH } from './sphinx.ts';

/** BOLT 2: the onion in update_add_htlc. */
export const PAYMENT_ONION_LENGTH = HOP_PAYLOADS_LENGTH + 66;

export interface PaymentOnionHop {
  /** The hop's node id, or its blinded node id inside a blinded path. */
  nodeId: Uint8Array;
  /** Typed (encoded here) or an already-encoded TLV payload (without its length prefix). */
  payload: HopPayload | Uint8Array;
}

export interface BuildPaymentOnion {
  /** 32 random bytes, fresh for every onion (the first ephemeral secret). */
  sessionKey: Uint8Array;
  /** The HTLC's payment_hash: BOLT 2 makes it the associated data of the HMACs. */
  paymentHash: Uint8Array;
  hops: readonly PaymentOnionHop[];
}

export interface PaymentOnion {
  /** The 1366-byte onion_routing_packet. */
  packet: Uint8Array;
  /** One per hop: what decryptFailurePacket needs to attribute a failure. */
  sharedSecrets: Uint8Array[];
}

/**
 * Builds the onion for `hops`, first hop first. Throws OnionError 'route-too-long' when the
 * payloads (each with its length prefix and HMAC) need more than 1300 bytes, naming the first hop
 * that does not fit, and 'invalid-argument' for a bad key or field.
 */
export function buildPaymentOnion(b: BuildPaymentOnion): PaymentOnion {
  checkBytes(b.paymentHash, 32, 'payment hash');
  if (!Array.isArray(b.hops) || b.hops.length === 0) throw invalidArgument('a route needs at least one hop');
  const hops = b.hops.map((h, i) => ({
    publicKey: h.nodeId,
    payload: h.payload instanceof Uint8Array ? h.payload : encodeHopPayload(h.payload, `hop ${i} payload`),
  }));
  return buildPacket({ sessionKey: b.sessionKey, hops, associatedData: b.paymentHash });
}

/** One hop of a route as a router gives it: what the HTLC reaching this node carries. */
export interface RouteHop {
  nodeId: Uint8Array;
  /** The channel from the previous node to this one. */
  shortChannelId: bigint;
  /** The amount of the HTLC this node receives (its successor's amount plus its fee). */
  amountMsat: bigint;
  /** The cltv_expiry of the HTLC this node receives. */
  cltvExpiry: number;
}

/** What the final hop's payload carries beyond its amount and expiry. */
export interface Recipient {
  /** From the invoice: goes in payment_data with `totalMsat`. */
  paymentSecret?: Uint8Array;
  /** The whole payment's amount (multi-part); defaults to the final hop's amount. */
  totalMsat?: bigint;
  /** From the invoice: sent with every part (BOLT 4: MUST). */
  paymentMetadata?: Uint8Array;
  /** A spontaneous (keysend) payment's preimage. */
  keysendPreimage?: Uint8Array;
  /** The application's records, odd types from 65536 on. */
  customRecords?: HopPayload['customRecords'];
}

/**
 * The payloads for a route (BOLT 4 "payload format", outside blinded paths): each forwarding hop
 * gets amt_to_forward, outgoing_cltv_value and short_channel_id of the next hop's HTLC; the final
 * hop gets its own amount and expiry and the recipient's fields. The first HTLC (the one this node
 * offers) is `route[0].amountMsat` / `route[0].cltvExpiry` over `route[0].shortChannelId`.
 */
export function routePayloads(route: readonly RouteHop[], recipient: Recipient = {}): PaymentOnionHop[] {
  if (!Array.isArray(route) || route.length === 0) throw invalidArgument('a route needs at least one hop');
  route.forEach((h, i) => {
    checkUint64(h.amountMsat, `route hop ${i} amountMsat`);
    checkUint(h.cltvExpiry, 0xffff_ffff, `route hop ${i} cltvExpiry`);
    checkUint64(h.shortChannelId, `route hop ${i} shortChannelId`);
  });
  return route.map((hop, i) => {
    const next = route[i + 1];
    if (next)
      return {
        nodeId: hop.nodeId,
        payload: {
          amtToForwardMsat: next.amountMsat,
          outgoingCltvValue: next.cltvExpiry,
          shortChannelId: next.shortChannelId,
        },
      };
    const payload: HopPayload = { amtToForwardMsat: hop.amountMsat, outgoingCltvValue: hop.cltvExpiry };
    if (recipient.paymentSecret)
      payload.paymentData = {
        paymentSecret: recipient.paymentSecret,
        totalMsat: recipient.totalMsat ?? hop.amountMsat,
      };
    if (recipient.paymentMetadata) payload.paymentMetadata = recipient.paymentMetadata;
    if (recipient.keysendPreimage) payload.keysendPreimage = recipient.keysendPreimage;
    if (recipient.customRecords) payload.customRecords = recipient.customRecords;
    return { nodeId: hop.nodeId, payload };
  });
}
