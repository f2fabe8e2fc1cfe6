/**
 * What is still in flight after a restart, for Payments.reconcile: the HTLCs of every restored
 * channel's ledger and of every monitor's live commitments (a channel left to its monitor
 * resolves its HTLCs on chain), and the preimages the monitors learnt.
 */
import { type ChannelMonitor, preimageFor } from '@lnkit/monitor';
import type { ChannelState } from '../channel-state.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function inFlightView(
  monitors: readonly ChannelMonitor[],
  channels: readonly ChannelState[],
): {
  inFlight(paymentHashHex: string): boolean;
  preimageFor(paymentHashHex: string): Uint8Array | undefined;
} {
  const hashes = new Set<string>();
  for (const s of channels) for (const h of s.normal?.ledger.htlcs ?? []) hashes.add(hex(h.paymentHash));
  for (const m of monitors)
    for (const c of [m.holderCommitment, ...m.counterpartyCommitments])
      for (const h of c.htlcs ?? []) hashes.add(hex(h.paymentHash));
  return {
    inFlight: (h) => hashes.has(h),
    preimageFor: (h) => {
      const hash = Buffer.from(h, 'hex');
      for (const m of monitors) {
        const p = preimageFor(m, hash);
        if (p) return p;
      }
      return undefined;
    },
  };
}
