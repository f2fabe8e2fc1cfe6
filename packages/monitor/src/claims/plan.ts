/**
 * Which claims to broadcast with the chain's tip at `tipHeight`, built at the caller's feerate
 * (unsigned: `signClaim` completes them). A claim is due once the next block may include it
 * (`spendableAtHeight <= tipHeight + 1`): a CSV or CLTV claim sent earlier is refused by
 * every mempool.
 *
 * Grouping. Justice claims (revoked outputs) share one transaction (BOLT 5: "MAY use a single
 * transaction to resolve all the outputs"), except those whose deadline is within
 * `securityDelay` blocks: those go alone ("SHOULD resolve revoked outputs in their own,
 * separate penalty transactions"), so a pinned shared transaction cannot hold them past the
 * point the counterparty can take them. Every other claim is its own transaction: their
 * timelocks differ, and batching them into the wallet is the sweeper's work.
 */
import { buildClaimTransaction, type ClaimInput, type ClaimKey, TxError } from '@lnkit/tx';
import { preimageFor } from '../monitor.ts';
import type { ChannelMonitor, HtlcData } from '../types.ts';
import {
  type ChainResolution,
  type ClaimOptions,
  type ClaimToSign,
  type PendingOutput,
  SECURITY_DELAY,
} from './types.ts';

export interface ClaimPlan {
  claims: ClaimToSign[];
  /** Due, but not claimable now, and why (no preimage yet, dust at this feerate, needs a fee input). */
  skipped: { outputIds: string[]; reason: string }[];
}

const isRevoked = (p: PendingOutput) =>
  p.source === 'revoked-commitment' || p.source === 'revoked-htlc-transaction';

export function claimsToBroadcast(
  resolution: ChainResolution,
  monitor: ChannelMonitor,
  tipHeight: number,
  options: ClaimOptions,
): ClaimPlan {
  const securityDelay = options.securityDelay ?? SECURITY_DELAY;
  const due = resolution.pending.filter((p) => p.spendableAtHeight <= tipHeight + 1);
  const claims: ClaimToSign[] = [];
  const skipped: ClaimPlan['skipped'] = [];
  const shared: PendingOutput[] = [];

  for (const p of due) {
    if (p.htlcTransaction) {
      const h = p.htlcTransaction;
      if (h.anchors) {
        skipped.push({ outputIds: [p.id], reason: `${h.kind} is zero-fee (anchors): it needs a fee input` });
        continue;
      }
      const preimage =
        h.kind === 'htlc-success' ? preimageFor(monitor, (p.htlc as HtlcData).paymentHash) : undefined;
      if (h.kind === 'htlc-success' && !preimage) {
        skipped.push({ outputIds: [p.id], reason: 'HTLC-success needs the payment preimage' });
        continue;
      }
      claims.push({
        kind: 'htlc-transaction',
        outputIds: [p.id],
        source: 'holder-commitment',
        htlcTransaction: h,
        htlc: p.htlc as HtlcData,
        ...(preimage ? { paymentPreimage: preimage } : {}),
        perCommitmentPoint: resolution.perCommitmentPoint,
        feeSat: h.htlcValueSat - h.outputValueSat,
        spendableAtHeight: p.spendableAtHeight,
      });
      continue;
    }
    if (!p.input || !p.key) continue;
    if (isRevoked(p) && (p.deadlineHeight === undefined || p.deadlineHeight - tipHeight > securityDelay)) {
      shared.push(p);
      continue;
    }
    let input = p.input;
    if (input.witness === 'offered-htlc-preimage') {
      const preimage = preimageFor(monitor, (p.htlc as HtlcData).paymentHash);
      if (!preimage) {
        skipped.push({ outputIds: [p.id], reason: 'the HTLC needs its payment preimage' });
        continue;
      }
      input = { ...input, paymentPreimage: preimage };
    }
    sweep([p], [input], p.locktime);
  }
  if (shared.length > 0)
    sweep(
      shared,
      shared.map((p) => p.input as ClaimInput),
      undefined,
    );
  return { claims, skipped };

  function sweep(outputs: PendingOutput[], inputs: ClaimInput[], locktime: number | undefined): void {
    const outputIds = outputs.map((p) => p.id);
    try {
      const built = buildClaimTransaction({
        inputs,
        destinationScript: options.destinationScript,
        feeratePerKw: options.feeratePerKw,
        ...(locktime !== undefined ? { locktime } : {}),
      });
      claims.push({
        kind: 'sweep',
        outputIds,
        source: (outputs[0] as PendingOutput).source,
        tx: new Uint8Array(built.tx.toBuffer()),
        inputs,
        keys: outputs.map((p) => p.key as ClaimKey),
        expectedWeight: built.expectedWeight,
        feeSat: built.feeSat,
        valueSat: built.valueSat,
        spendableAtHeight: Math.max(...outputs.map((p) => p.spendableAtHeight)),
      });
    } catch (e) {
      if (!(e instanceof TxError) || e.code !== 'invalid-amounts') throw e;
      skipped.push({ outputIds, reason: e.message });
    }
  }
}
