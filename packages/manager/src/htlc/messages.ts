/** The update_* messages of our own ledger entries: sent once, and rebuilt the same to be retransmitted. */
import type { Message } from '@lnkit/wire';
import type { FeeUpdate, LedgerHtlc } from './ledger.ts';

export function addMessage(channelId: Uint8Array, h: LedgerHtlc): Message {
  return {
    type: 128,
    kind: 'update_add_htlc',
    channelId,
    id: h.id,
    amountMsat: h.amountMsat,
    paymentHash: h.paymentHash,
    cltvExpiry: h.cltvExpiry,
    onionRoutingPacket: h.onionRoutingPacket,
    ...(h.blindedPathKey ? { blindedPathKey: h.blindedPathKey } : {}),
  };
}

/** The removal we sent for an HTLC they offered. */
export function removeMessage(channelId: Uint8Array, h: LedgerHtlc): Message {
  const r = h.removal;
  if (!r) throw new Error(`HTLC ${h.id} has no removal`);
  switch (r.kind) {
    case 'fulfill':
      return {
        type: 130,
        kind: 'update_fulfill_htlc',
        channelId,
        id: h.id,
        paymentPreimage: r.paymentPreimage,
      };
    case 'fail':
      return { type: 131, kind: 'update_fail_htlc', channelId, id: h.id, reason: r.reason };
    case 'fail-malformed':
      return {
        type: 135,
        kind: 'update_fail_malformed_htlc',
        channelId,
        id: h.id,
        sha256OfOnion: r.sha256OfOnion,
        failureCode: r.failureCode,
      };
  }
}

export function feeMessage(channelId: Uint8Array, f: FeeUpdate): Message {
  return { type: 134, kind: 'update_fee', channelId, feeratePerKw: f.feeratePerKw };
}
