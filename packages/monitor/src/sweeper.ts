/**
 * The sweeper: outputs only we can spend (LDK's SpendableOutputs: to_local after to_self_delay,
 * our HTLC transactions' delayed outputs, to_remote), from every closed channel, turned into
 * wallet funds in as few transactions as possible, at the fee estimator's rate. They race no one,
 * so they wait for a batch and are never bumped; a claim that races the counterparty is never
 * batched with them (its deadline would hold the batch, and theirs, hostage).
 *
 * Pure: the due outputs in, transactions to sign out. The Claimer keeps which batch each output
 * is in while that batch is unconfirmed, and sends it again unchanged: a bigger batch would have
 * to out-pay it (BIP 125) and would only be refused.
 */
import {
  buildClaimTransaction,
  type ClaimSigner,
  type ClaimTransaction,
  claimSighashes,
  finalizeClaimTransaction,
  type Transaction,
  TxError,
} from '@lnkit/tx';
import type { OwnOutput } from './claims/plan.ts';
import { claimScriptCode } from './claims/sign.ts';
import type { ChannelMonitor, FundingKey } from './types.ts';

/** A standard transaction has at most 100,000 vbytes; this many inputs stay far below it. */
export const MAX_SWEEP_INPUTS = 100;

/** An output to sweep, with the channel it is of. */
export interface SweepMember extends OwnOutput {
  fundingKey: FundingKey;
  monitor: ChannelMonitor;
}

export interface SweepBatch {
  members: SweepMember[];
  built: ClaimTransaction;
  feeratePerKw: bigint;
  /** Display order. */
  txidHex: string;
}

/**
 * The members in batches of at most MAX_SWEEP_INPUTS, each paying `destinationScript`, in a
 * fixed order (channel, then output) so the same members make the same transaction. A batch that
 * does not pay for itself is left out and named in `skipped`.
 */
export function sweepBatches(
  members: readonly SweepMember[],
  options: { feeratePerKw: bigint; destinationScript: Uint8Array },
): { batches: SweepBatch[]; skipped: { outputIds: string[]; reason: string }[] } {
  const sorted = [...members].sort((a, b) =>
    a.fundingKey === b.fundingKey
      ? a.output.id < b.output.id
        ? -1
        : a.output.id > b.output.id
          ? 1
          : 0
      : a.fundingKey < b.fundingKey
        ? -1
        : 1,
  );
  const batches: SweepBatch[] = [];
  const skipped: { outputIds: string[]; reason: string }[] = [];
  for (let i = 0; i < sorted.length; i += MAX_SWEEP_INPUTS) {
    const chunk = sorted.slice(i, i + MAX_SWEEP_INPUTS);
    try {
      const built = buildClaimTransaction({
        inputs: chunk.map((m) => m.input),
        destinationScript: options.destinationScript,
        feeratePerKw: options.feeratePerKw,
      });
      batches.push({ members: chunk, built, feeratePerKw: options.feeratePerKw, txidHex: built.tx.getId() });
    } catch (e) {
      if (!(e instanceof TxError) || e.code !== 'invalid-amounts') throw e;
      skipped.push({ outputIds: chunk.map((m) => m.output.id), reason: e.message });
    }
  }
  return { batches, skipped };
}

/** A batch signed: each input by its own channel's claim signer (one request batch per channel). */
export async function signSweepBatch(
  batch: SweepBatch,
  signerOf: (monitor: ChannelMonitor) => ClaimSigner,
): Promise<Uint8Array> {
  const sighashes = claimSighashes(batch.built);
  const unsigned = new Uint8Array(batch.built.tx.toBuffer());
  const signatures: Uint8Array[] = new Array(batch.members.length);
  const byChannel = new Map<FundingKey, number[]>();
  for (const [i, m] of batch.members.entries())
    byChannel.set(m.fundingKey, [...(byChannel.get(m.fundingKey) ?? []), i]);
  for (const indexes of byChannel.values()) {
    const monitor = (batch.members[indexes[0] as number] as SweepMember).monitor;
    const signed = await signerOf(monitor).signClaims(
      indexes.map((i) => {
        const m = batch.members[i] as SweepMember;
        return {
          key: m.key,
          sighash: sighashes[i] as Uint8Array,
          spend: {
            tx: unsigned,
            inputIndex: i,
            scriptCode: claimScriptCode(m.input),
            valueSat: m.input.valueSat,
          },
        };
      }),
    );
    indexes.forEach((i, k) => {
      signatures[i] = signed[k] as Uint8Array;
    });
  }
  const tx: Transaction = finalizeClaimTransaction(batch.built, signatures);
  return new Uint8Array(tx.toBuffer());
}
