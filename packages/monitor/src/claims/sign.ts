/**
 * A claim made a transaction for the Broadcaster: the holder's signatures from a ClaimSigner
 * (which holds the keys; the monitor names them), one batch per claim.
 */
import {
  type ClaimSigner,
  type ClaimTransaction,
  claimSighashes,
  finalizeClaimTransaction,
  finalizeHtlcTransaction,
  type HtlcTransaction,
  htlcSighash,
  Transaction,
} from '@lnkit/tx';
import type { ClaimToSign, SignedClaim } from './types.ts';

export async function signClaim(claim: ClaimToSign, signer: ClaimSigner): Promise<SignedClaim> {
  if (claim.kind === 'sweep') {
    const built: ClaimTransaction = {
      tx: Transaction.fromBuffer(Buffer.from(claim.tx)),
      inputs: claim.inputs,
      expectedWeight: claim.expectedWeight,
      feeSat: claim.feeSat,
      valueSat: claim.valueSat,
    };
    const sighashes = claimSighashes(built);
    const signatures = await signer.signClaims(
      claim.keys.map((key, i) => ({ key, sighash: sighashes[i] as Uint8Array })),
    );
    const tx = finalizeClaimTransaction(built, signatures);
    return {
      kind: 'sweep',
      source: claim.source,
      outputIds: claim.outputIds,
      tx: new Uint8Array(tx.toBuffer()),
      txidHex: tx.getId(),
      weight: tx.weight(),
      expectedWeight: claim.expectedWeight,
      feeSat: claim.feeSat,
      spendableAtHeight: claim.spendableAtHeight,
    };
  }
  const h = claim.htlcTransaction;
  const parsed = Transaction.fromBuffer(Buffer.from(h.tx));
  // The shape @lnkit/tx signs and completes (its sighash falls back to the transaction itself).
  const htlcTx = {
    kind: h.kind,
    tx: parsed,
    htlc: claim.htlc,
    commitmentOutputIndex: (parsed.ins[0] as { index: number }).index,
    htlcWitnessScript: h.htlcWitnessScript,
    htlcValueSat: h.htlcValueSat,
    anchors: h.anchors,
  } satisfies HtlcTransaction;
  const [signature] = await signer.signClaims([
    {
      key: { kind: 'htlc', perCommitmentPoint: claim.perCommitmentPoint },
      sighash: htlcSighash(htlcTx, 'owner'),
    },
  ]);
  const tx = finalizeHtlcTransaction(
    htlcTx,
    signature as Uint8Array,
    h.counterpartySignature,
    claim.paymentPreimage,
  );
  return {
    kind: 'htlc-transaction',
    source: claim.source,
    outputIds: claim.outputIds,
    tx: new Uint8Array(tx.toBuffer()),
    txidHex: tx.getId(),
    weight: tx.weight(),
    feeSat: claim.feeSat,
    spendableAtHeight: claim.spendableAtHeight,
  };
}
