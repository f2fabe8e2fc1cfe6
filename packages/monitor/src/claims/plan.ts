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
 *
 * Feerates (fees.ts). A claim that races the counterparty is made at a higher feerate the longer
 * it stays unconfirmed before its deadline (a replacement, BIP 125); never above what its own
 * value (or, anchors, its fee input) can pay, so a claim worth taking is still made.
 */
import {
  aggregateHtlcTransactions,
  buildClaimTransaction,
  type ClaimInput,
  type ClaimKey,
  claimTransactionWeight,
  dustLimitSatFor,
  type FeeInput,
  Transaction,
  TxError,
} from '@lnkit/tx';
import { preimageFor } from '../monitor.ts';
import type { ChannelMonitor, HtlcData } from '../types.ts';
import { claimDeadline, claimFeerate } from './fees.ts';
import {
  type ChainResolution,
  type ClaimOptions,
  type ClaimToSign,
  type HolderHtlcTransaction,
  type HtlcToSign,
  type PendingOutput,
  SECURITY_DELAY,
} from './types.ts';

export interface ClaimPlan {
  claims: ClaimToSign[];
  /**
   * With `ownOutputsApart`: the due outputs only the holder can spend (no deadline, no race:
   * to_local, our HTLC transactions' outputs, to_remote), for the sweeper to batch across channels.
   */
  own: OwnOutput[];
  /** Due, but not claimable now, and why (no preimage yet, dust at this feerate, needs a fee input). */
  skipped: { outputIds: string[]; reason: string }[];
}

/** An output of ours to sweep, and how: its input and key. */
export interface OwnOutput {
  output: PendingOutput;
  input: ClaimInput;
  key: ClaimKey;
}

/** A holder HTLC transaction due, and what completes it. */
interface Due {
  p: PendingOutput;
  h: HtlcToSign;
}

const outpointKey = (f: FeeInput) => `${Buffer.from(f.txid).toString('hex')}:${f.vout}`;

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
  const own: OwnOutput[] = [];
  /** Anchors HTLC transactions due, by what they may be combined on (kind and nLockTime). */
  const anchorsGroups = new Map<string, Due[]>();
  const taken = new Set([...(options.assignedFeeInputs?.values() ?? [])].map(outpointKey));
  const freeFeeInputs = (options.feeInputs ?? []).filter((f) => !taken.has(outpointKey(f)));
  let nextFeeInput = 0;

  for (const p of due) {
    if (p.htlcTransaction) {
      htlcTransaction(p, p.htlcTransaction);
      continue;
    }
    if (!p.input || !p.key) continue;
    if (
      options.ownOutputsApart &&
      !isRevoked(p) &&
      p.locktime === undefined &&
      claimDeadline(p) === undefined
    ) {
      own.push({ output: p, input: p.input, key: p.key });
      continue;
    }
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
  for (const group of anchorsGroups.values()) anchorsHtlcTransactions(group);
  return { claims, own, skipped };

  /** A holder HTLC transaction due: claimed now (static_remotekey) or with the others of its group (anchors). */
  function htlcTransaction(p: PendingOutput, h: HolderHtlcTransaction): void {
    const htlc = p.htlc as HtlcData;
    const preimage = h.kind === 'htlc-success' ? preimageFor(monitor, htlc.paymentHash) : undefined;
    if (h.kind === 'htlc-success' && !preimage) {
      skipped.push({ outputIds: [p.id], reason: 'HTLC-success needs the payment preimage' });
      return;
    }
    const member: Due = {
      p,
      h: { outputId: p.id, htlcTransaction: h, htlc, ...(preimage ? { paymentPreimage: preimage } : {}) },
    };
    if (h.anchors) {
      // nLockTime is signed: HTLC-successes (0) go together, HTLC-timeouts by their expiry.
      const key = `${h.kind}:${p.locktime ?? 0}`;
      anchorsGroups.set(key, [...(anchorsGroups.get(key) ?? []), member]);
      return;
    }
    // Its fee was fixed when the counterparty signed it: nothing to bump.
    claims.push({
      kind: 'htlc-transaction',
      outputIds: [p.id],
      source: 'holder-commitment',
      htlcs: [member.h],
      tx: h.tx,
      perCommitmentPoint: resolution.perCommitmentPoint,
      feeSat: h.htlcValueSat - h.outputValueSat,
      spendableAtHeight: p.spendableAtHeight,
    });
  }

  /** Zero-fee (anchors) HTLC transactions due together, combined: one wallet input pays, its change to the destination. */
  function anchorsHtlcTransactions(group: Due[]): void {
    const outputIds = group.map((m) => m.p.id);
    const kind = (group[0] as Due).h.htlcTransaction.kind;
    const assigned = group.map((m) => options.assignedFeeInputs?.get(m.p.id)).find((f) => f !== undefined);
    const feeInput = assigned ?? freeFeeInputs[nextFeeInput];
    if (!feeInput) {
      skipped.push({ outputIds, reason: `${kind} is zero-fee (anchors): it needs a fee input` });
      return;
    }
    try {
      const fund = (feeratePerKw: bigint) =>
        aggregateHtlcTransactions({
          htlcTxs: group.map((m) => Transaction.fromBuffer(Buffer.from(m.h.htlcTransaction.tx))),
          kind,
          feeInput,
          changeScript: options.destinationScript,
          feeratePerKw,
        });
      let funded = fund(options.feeratePerKw);
      const bumped = feerateOf(group.map((m) => m.p));
      let feeratePerKw = options.feeratePerKw;
      if (bumped > feeratePerKw) {
        const spare = feeInput.valueSat - dustLimitSatFor(options.destinationScript);
        const cap = (spare * 1000n) / BigInt(funded.expectedWeight);
        feeratePerKw = bumped < cap ? bumped : cap;
        if (feeratePerKw > options.feeratePerKw) funded = fund(feeratePerKw);
      }
      if (!assigned) nextFeeInput++;
      claims.push({
        kind: 'htlc-transaction',
        outputIds,
        source: 'holder-commitment',
        htlcs: group.map((m) => m.h),
        tx: new Uint8Array(funded.tx.toBuffer()),
        feeInput,
        expectedWeight: funded.expectedWeight,
        perCommitmentPoint: resolution.perCommitmentPoint,
        feeSat: funded.feeSat,
        feeratePerKw,
        spendableAtHeight: Math.max(...group.map((m) => m.p.spendableAtHeight)),
      });
    } catch (e) {
      if (!(e instanceof TxError) || e.code !== 'invalid-amounts') throw e;
      skipped.push({ outputIds, reason: e.message });
    }
  }

  function feerateOf(outputs: readonly PendingOutput[]): bigint {
    if (options.bump === false) return options.feeratePerKw;
    return claimFeerate(outputs, tipHeight, options);
  }

  function sweep(outputs: PendingOutput[], inputs: ClaimInput[], locktime: number | undefined): void {
    const outputIds = outputs.map((p) => p.id);
    // A bumped feerate is capped at what the outputs can pay; the estimator's own is not (dust is skipped).
    const total = inputs.reduce((sum, i) => sum + i.valueSat, 0n);
    const weight = claimTransactionWeight(inputs, options.destinationScript);
    const cap = ((total - dustLimitSatFor(options.destinationScript)) * 1000n) / BigInt(weight);
    const bumped = feerateOf(outputs);
    const feeratePerKw = bumped > cap && cap > options.feeratePerKw ? cap : bumped;
    try {
      const built = buildClaimTransaction({
        inputs,
        destinationScript: options.destinationScript,
        feeratePerKw,
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
        feeratePerKw,
        valueSat: built.valueSat,
        spendableAtHeight: Math.max(...outputs.map((p) => p.spendableAtHeight)),
      });
    } catch (e) {
      if (!(e instanceof TxError) || e.code !== 'invalid-amounts') throw e;
      skipped.push({ outputIds, reason: e.message });
    }
  }
}
