/**
 * The payment layer's events as the event log keeps them (event-log.ts): flat fields, hashes
 * in hex, amounts in decimal strings. A PaymentSent's preimage is left out: the log's lines go
 * to the node's log file, and the payer reads its proof of payment from `pay` and listPayments.
 * The manager awaits each in its sink (ChannelManagerOptions.paymentEventSink) before what follows
 * from it, as it does its channel events.
 */
import type { PaymentEvent } from '@lnkit/manager';
import type { NodeEventData } from './event-log.ts';

export function paymentEventData(e: PaymentEvent): { kind: PaymentEvent['type']; data: NodeEventData } {
  switch (e.type) {
    case 'PaymentSent':
      return {
        kind: e.type,
        data: {
          paymentId: e.paymentId,
          paymentHash: e.paymentHash,
          amountMsat: e.amountMsat.toString(),
          feeMsat: e.feeMsat.toString(),
        },
      };
    case 'PaymentFailed':
      return { kind: e.type, data: { paymentId: e.paymentId, paymentHash: e.paymentHash, reason: e.reason } };
    case 'PaymentClaimable':
    case 'PaymentClaimed':
      return {
        kind: e.type,
        data: { paymentHash: e.paymentHash, amountMsat: e.amountMsat.toString(), keysend: e.keysend },
      };
    case 'PendingHTLCsForwardable':
      return { kind: e.type, data: { htlcCount: e.htlcCount, timeForwardableMs: e.timeForwardableMs } };
  }
}
