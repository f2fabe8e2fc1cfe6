/**
 * What the final node decides about an HTLC it received (BOLT 4 "Payload Format", the final
 * node's requirements): the peeled onion checked against our invoice (or a keysend preimage),
 * and the answer — settle with the preimage, or fail with the failure BOLT 4 names. Pure.
 */

import { sha256 } from '@lnkit/crypto';
import type { FailureMessage, PeeledPayment } from '@lnkit/onion';
import { bytesEqual } from '@lnkit/wire';
import { FULFILL_DEADLINE_BLOCKS } from '../htlc/deadlines.ts';

/** An invoice of ours, as the payee keeps it. */
export interface StoredInvoice {
  bolt11: string;
  paymentHash: Uint8Array;
  /** Secret: never logged, never in API output. */
  paymentPreimage: Uint8Array;
  paymentSecret: Uint8Array;
  /** Null: any amount. */
  amountMsat: bigint | null;
  /** Seconds since 1970. */
  expiresAt: number;
  minFinalCltvExpiryDelta: number;
  status: 'unpaid' | 'paid';
  paidAtSeconds?: number | undefined;
  receivedMsat?: bigint | undefined;
}

export interface ReceivedHtlc {
  amountMsat: bigint;
  paymentHash: Uint8Array;
  cltvExpiry: number;
  dustExposureExceeded?: boolean | undefined;
}

export type ReceiveDecision =
  | {
      kind: 'claim';
      paymentPreimage: Uint8Array;
      invoice: StoredInvoice | undefined;
      keysend: boolean;
      /**
       * The payment's whole amount (BOLT 4 total_msat): above the HTLC's own amount for one part
       * of a multi-part payment, which is held until its parts reach it.
       */
      totalMsat: bigint;
    }
  | { kind: 'fail'; failure: FailureMessage; why: string };

/**
 * BOLT 4, the final node: "if the payment_secret doesn't match the expected value for that
 * payment_hash, or the payment_secret is required and is not present: MUST fail the HTLC";
 * "if the amount paid is less than the amount expected: MUST fail"; "if the cltv_expiry value
 * is unreasonably near the present: MUST fail" — each with incorrect_or_unknown_payment_details,
 * so that a prober learns nothing of which; amt_to_forward above the HTLC's amount is
 * final_incorrect_htlc_amount, outgoing_cltv_value above its expiry final_incorrect_cltv_expiry.
 */
export function decideReceive(
  htlc: ReceivedHtlc,
  peeled: PeeledPayment,
  invoice: StoredInvoice | undefined,
  bestHeight: number,
  nowSeconds: number,
): ReceiveDecision {
  const unknown = (why: string): ReceiveDecision => ({
    kind: 'fail',
    failure: { name: 'incorrect_or_unknown_payment_details', htlcMsat: htlc.amountMsat, height: bestHeight },
    why,
  });
  // Not the final hop: this node does not forward yet.
  if (peeled.kind !== 'receive')
    return { kind: 'fail', failure: { name: 'unknown_next_peer' }, why: 'the onion asks to forward' };
  if (peeled.amtToForwardMsat > htlc.amountMsat)
    return {
      kind: 'fail',
      failure: { name: 'final_incorrect_htlc_amount', incomingHtlcAmtMsat: htlc.amountMsat },
      why: `amt_to_forward ${peeled.amtToForwardMsat} is above the HTLC's ${htlc.amountMsat} msat`,
    };
  if (peeled.outgoingCltvValue > htlc.cltvExpiry)
    return {
      kind: 'fail',
      failure: { name: 'final_incorrect_cltv_expiry', cltvExpiry: htlc.cltvExpiry },
      why: `outgoing_cltv_value ${peeled.outgoingCltvValue} is above the HTLC's cltv_expiry ${htlc.cltvExpiry}`,
    };
  if (htlc.dustExposureExceeded)
    return {
      kind: 'fail',
      failure: { name: 'temporary_node_failure' },
      why: 'the HTLC exceeds our dust exposure',
    };
  // BOLT 4 basic_mpp: a part of a larger total is checked against the invoice by the total.
  const part = peeled.totalMsat > htlc.amountMsat;
  const paidMsat = part ? peeled.totalMsat : htlc.amountMsat;
  // BOLT 2: "MUST fail (and not forward) an HTLC whose fulfillment deadline is already past"
  // (htlc/deadlines.ts), whatever delta the invoice asked for.
  if (htlc.cltvExpiry - FULFILL_DEADLINE_BLOCKS <= bestHeight)
    return unknown(
      `cltv_expiry ${htlc.cltvExpiry} leaves under ${FULFILL_DEADLINE_BLOCKS} blocks to settle the HTLC on chain`,
    );
  const keysend = peeled.keysendPreimage;
  if (keysend && !invoice) {
    if (!bytesEqual(sha256(keysend), htlc.paymentHash))
      return unknown('the keysend preimage is not the hash’s');
    // A keysend has no payment_secret to tie its parts together: one HTLC only.
    if (part) return unknown('a keysend in parts');
    return {
      kind: 'claim',
      paymentPreimage: keysend,
      invoice: undefined,
      keysend: true,
      totalMsat: paidMsat,
    };
  }
  if (!invoice) return unknown('no invoice of ours has this payment hash');
  if (invoice.status === 'paid') return unknown('the invoice is already paid');
  if (!peeled.paymentSecret || !bytesEqual(peeled.paymentSecret, invoice.paymentSecret))
    return unknown('payment_secret missing or not the invoice’s');
  if (invoice.amountMsat !== null && paidMsat < invoice.amountMsat)
    return unknown(`${paidMsat} msat is less than the invoice's ${invoice.amountMsat}`);
  // BOLT 4 leaves the overpayment bound open; more than twice the amount is a mistake, not a tip.
  if (invoice.amountMsat !== null && paidMsat > 2n * invoice.amountMsat)
    return unknown(`${paidMsat} msat is more than twice the invoice's ${invoice.amountMsat}`);
  if (nowSeconds > invoice.expiresAt) return unknown('the invoice expired');
  if (htlc.cltvExpiry < bestHeight + invoice.minFinalCltvExpiryDelta)
    return unknown(
      `cltv_expiry ${htlc.cltvExpiry} is less than ${invoice.minFinalCltvExpiryDelta} blocks away`,
    );
  return {
    kind: 'claim',
    paymentPreimage: invoice.paymentPreimage,
    invoice,
    keysend: false,
    totalMsat: paidMsat,
  };
}
