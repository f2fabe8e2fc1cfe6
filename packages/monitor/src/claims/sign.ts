/**
 * A claim made a transaction for the Broadcaster: the holder's signatures from a ClaimSigner
 * (which holds the keys; the monitor names them), one batch per claim.
 */
import {
  type ClaimInput,
  type ClaimSigner,
  type ClaimTransaction,
  claimSighashes,
  encodeSignature,
  type FeeInput,
  feeInputSighash,
  finalizeClaimTransaction,
  finalizeFeeInput,
  htlcWitness,
  Transaction,
} from '@lnkit/tx';
import { crypto } from 'bitcoinjs-lib';
import { MonitorError } from '../errors.ts';
import type { AnchorCpfp } from './cpfp.ts';
import type { ClaimToSign, SignedClaim } from './types.ts';

/** Signs a wallet output spent as an anchors HTLC transaction's fee input (the wallet holds its key). */
export interface FeeInputSigner {
  signFeeInput(input: FeeInput, sighash: Uint8Array): Promise<Uint8Array>;
}

export async function signClaim(
  claim: ClaimToSign,
  signer: ClaimSigner,
  wallet?: FeeInputSigner,
): Promise<SignedClaim> {
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
      claim.keys.map((key, i) => ({
        key,
        sighash: sighashes[i] as Uint8Array,
        spend: {
          tx: claim.tx,
          inputIndex: i,
          scriptCode: claimScriptCode(claim.inputs[i] as ClaimInput),
          valueSat: (claim.inputs[i] as ClaimInput).valueSat,
        },
      })),
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
      feeratePerKw: claim.feeratePerKw,
      spendableAtHeight: claim.spendableAtHeight,
    };
  }
  // Each HTLC input signed by our htlc key over the whole transaction (SIGHASH_ALL), at its index:
  // the counterparty's SIGHASH_SINGLE|ANYONECANPAY signature still holds with its output there.
  let tx = Transaction.fromBuffer(Buffer.from(claim.tx));
  const signatures = await signer.signClaims(
    claim.htlcs.map(({ htlcTransaction: h }, i) => ({
      key: { kind: 'htlc' as const, perCommitmentPoint: claim.perCommitmentPoint },
      sighash: new Uint8Array(
        tx.hashForWitnessV0(i, Buffer.from(h.htlcWitnessScript), h.htlcValueSat, Transaction.SIGHASH_ALL),
      ),
      spend: {
        tx: claim.tx,
        inputIndex: i,
        scriptCode: h.htlcWitnessScript,
        valueSat: h.htlcValueSat,
        outputWitnessScript: h.outputWitnessScript,
      },
    })),
  );
  claim.htlcs.forEach(({ htlcTransaction: h, paymentPreimage }, i) => {
    if (h.kind === 'htlc-success' && !paymentPreimage)
      throw new MonitorError('invalid-argument', 'an HTLC-success transaction needs the payment preimage');
    tx.setWitness(
      i,
      htlcWitness(
        h,
        signatures[i] as Uint8Array,
        h.counterpartySignature,
        paymentPreimage ?? new Uint8Array(0),
      ),
    );
  });
  if (claim.feeInput) {
    if (!wallet)
      throw new MonitorError(
        'invalid-argument',
        'an anchors HTLC transaction needs a wallet to sign its fee input',
      );
    tx = finalizeFeeInput(
      tx,
      claim.feeInput,
      await wallet.signFeeInput(claim.feeInput, feeInputSighash(tx, claim.feeInput)),
    );
  }
  return {
    kind: 'htlc-transaction',
    source: claim.source,
    outputIds: claim.outputIds,
    tx: new Uint8Array(tx.toBuffer()),
    txidHex: tx.getId(),
    weight: tx.weight(),
    ...(claim.expectedWeight !== undefined ? { expectedWeight: claim.expectedWeight } : {}),
    feeSat: claim.feeSat,
    ...(claim.feeratePerKw !== undefined ? { feeratePerKw: claim.feeratePerKw } : {}),
    spendableAtHeight: claim.spendableAtHeight,
  };
}

/** BIP 143 scriptCode of a claim input: its witness script, or a P2WPKH's P2PKH (as claimSighashes). */
export function claimScriptCode(i: ClaimInput): Uint8Array {
  if (i.witness !== 'to-remote') return i.witnessScript as Uint8Array;
  const hash = crypto.hash160(Buffer.from(i.pubkey as Uint8Array));
  return Uint8Array.from([0x76, 0xa9, 0x14, ...hash, 0x88, 0xac]);
}

/** The CPFP child of our anchors commitment, signed: the anchor by the funding key, the fee input by the wallet. */
export async function signAnchorCpfp(
  cpfp: AnchorCpfp,
  signer: ClaimSigner,
  wallet: FeeInputSigner,
): Promise<{ tx: Uint8Array; txidHex: string; weight: number }> {
  let tx = Transaction.fromBuffer(Buffer.from(cpfp.tx));
  const script = cpfp.anchor.witnessScript as Uint8Array;
  const sighash = new Uint8Array(
    tx.hashForWitnessV0(0, Buffer.from(script), cpfp.anchor.valueSat, Transaction.SIGHASH_ALL),
  );
  const [signature] = await signer.signClaims([
    {
      key: { kind: 'funding' },
      sighash,
      spend: { tx: cpfp.tx, inputIndex: 0, scriptCode: script, valueSat: cpfp.anchor.valueSat },
    },
  ]);
  tx.setWitness(0, [encodeSignature(signature as Uint8Array, Transaction.SIGHASH_ALL), script]);
  tx = finalizeFeeInput(
    tx,
    cpfp.feeInput,
    await wallet.signFeeInput(cpfp.feeInput, feeInputSighash(tx, cpfp.feeInput)),
  );
  return { tx: new Uint8Array(tx.toBuffer()), txidHex: tx.getId(), weight: tx.weight() };
}
