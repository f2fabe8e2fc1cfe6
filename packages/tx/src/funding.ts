/** BOLT 3 "Funding Transaction Output" and a funding transaction around it. */
import { Transaction } from 'bitcoinjs-lib';
import { compareOutputs, type OutPoint } from './commitment.ts';
import { checkOutPoint, checkScript, checkUint32, TxError } from './errors.ts';
import { compareBytes, fundingScript, p2wsh } from './scripts.ts';

/** The P2WSH output script of the 2-of-2 funding output. */
export function fundingScriptPubKey(
  localFundingPubkey: Uint8Array,
  remoteFundingPubkey: Uint8Array,
): Uint8Array {
  return p2wsh(fundingScript(localFundingPubkey, remoteFundingPubkey));
}

export interface FundingTransactionParams {
  inputs: readonly (OutPoint & { sequence?: number })[];
  fundingSat: bigint;
  localFundingPubkey: Uint8Array;
  remoteFundingPubkey: Uint8Array;
  /** Change back to the funder's wallet; omitted when undefined or zero. */
  change?: { scriptPubKey: Uint8Array; valueSat: bigint } | undefined;
  locktime?: number;
}

export interface FundingTransaction {
  /** Unsigned: the wallet signs its inputs (KeysManager.signWithWalletKey). */
  tx: Transaction;
  fundingOutputIndex: number;
  fundingScript: Uint8Array;
}

/** Version 2, inputs and outputs in BIP 69 order (Appendix B's funding transaction is ordered so). */
export function buildFundingTransaction(p: FundingTransactionParams): FundingTransaction {
  if (p.inputs.length === 0) throw new TxError('invalid-argument', 'a funding transaction needs an input');
  if (p.fundingSat <= 0n) throw new TxError('invalid-amounts', 'funding amount must be positive');
  for (const [i, input] of p.inputs.entries()) {
    checkOutPoint(input, `input ${i}`);
    if (input.sequence !== undefined) checkUint32(input.sequence, `input ${i} sequence`);
  }
  if (p.locktime !== undefined) checkUint32(p.locktime, 'locktime');
  if (p.change) {
    checkScript(p.change.scriptPubKey, 'change scriptpubkey');
    if (p.change.valueSat < 0n) throw new TxError('invalid-amounts', 'change amount is negative');
  }
  const script = fundingScript(p.localFundingPubkey, p.remoteFundingPubkey);
  const fundingOut = { valueSat: p.fundingSat, scriptPubKey: p2wsh(script) };
  const outputs = [fundingOut];
  if (p.change && p.change.valueSat > 0n)
    outputs.push({ valueSat: p.change.valueSat, scriptPubKey: p.change.scriptPubKey });
  outputs.sort(compareOutputs);
  // BIP 69 inputs: by txid as displayed (reversed internal order), then output index.
  const inputs = [...p.inputs].sort((a, b) => {
    const c = compareBytes(Uint8Array.from(a.txid).reverse(), Uint8Array.from(b.txid).reverse());
    return c !== 0 ? c : a.vout - b.vout;
  });
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = p.locktime ?? 0;
  for (const i of inputs) tx.addInput(i.txid, i.vout, i.sequence ?? 0xffffffff);
  for (const o of outputs) tx.addOutput(o.scriptPubKey, o.valueSat);
  return { tx, fundingOutputIndex: outputs.indexOf(fundingOut), fundingScript: script };
}
