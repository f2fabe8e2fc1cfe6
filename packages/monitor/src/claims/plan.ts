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
import {
  addHtlcFeeInput,
  buildClaimTransaction,
  type ClaimInput,
  type ClaimKey,
  Transaction,
  TxError,
} from '@lnkit/tx';
import { preimageFor } from '../monitor.ts';
import type { ChannelMonitor, HtlcData } from '../types.ts';
import {
  type ChainResolution,
  type ClaimOptions,
  type ClaimToSign,
  type HolderHtlcTransaction,
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
  const feeInputs = options.feeInputs ?? [];
  let nextFeeInput = 0;

  for (const p of due) {
    if (p.htlcTransaction) {
      htlcTransaction(p, p.htlcTransaction);
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

  function htlcTransaction(p: PendingOutput, h: HolderHtlcTransaction): void {
    const htlc = p.htlc as HtlcData;
    const preimage = h.kind === 'htlc-success' ? preimageFor(monitor, htlc.paymentHash) : undefined;
    if (h.kind === 'htlc-success' && !preimage) {
      skipped.push({ outputIds: [p.id], reason: 'HTLC-success needs the payment preimage' });
      return;
    }
    const common = {
      kind: 'htlc-transaction' as const,
      outputIds: [p.id] as [string],
      source: 'holder-commitment' as const,
      htlcTransaction: h,
      htlc,
      ...(preimage ? { paymentPreimage: preimage } : {}),
      perCommitmentPoint: resolution.perCommitmentPoint,
      spendableAtHeight: p.spendableAtHeight,
    };
    if (!h.anchors) {
      claims.push({ ...common, tx: h.tx, feeSat: h.htlcValueSat - h.outputValueSat });
      return;
    }
    // Zero-fee (anchors): a wallet input pays, and its change returns to the destination.
    const feeInput = feeInputs[nextFeeInput];
    if (!feeInput) {
      skipped.push({ outputIds: [p.id], reason: `${h.kind} is zero-fee (anchors): it needs a fee input` });
      return;
    }
    try {
      const funded = addHtlcFeeInput({
        htlcTx: Transaction.fromBuffer(Buffer.from(h.tx)),
        kind: h.kind,
        feeInput,
        changeScript: options.destinationScript,
        feeratePerKw: options.feeratePerKw,
      });
      nextFeeInput++;
      claims.push({
        ...common,
        tx: new Uint8Array(funded.tx.toBuffer()),
        feeInput,
        expectedWeight: funded.expectedWeight,
        feeSat: funded.feeSat,
      });
    } catch (e) {
      if (!(e instanceof TxError) || e.code !== 'invalid-amounts') throw e;
      skipped.push({ outputIds: [p.id], reason: e.message });
    }
  }

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
