/** BOLT 3 "Legacy Closing Transaction" and "Closing Transaction" (option_simple_close). */
import { opcodes as OPS, Transaction } from 'bitcoinjs-lib';
import { compareOutputs, type OutPoint } from './commitment.ts';
import { checkOutPoint, checkScript, checkUint32, TxError } from './errors.ts';

export interface LegacyClosingParams {
  fundingOutpoint: OutPoint;
  localMsat: bigint;
  remoteMsat: bigint;
  localScriptPubKey: Uint8Array;
  remoteScriptPubKey: Uint8Array;
  localIsFunder: boolean;
  /** fee_satoshis from closing_signed, paid by the funder. */
  feeSat: bigint;
  /** Our dust_limit_satoshis: outputs below it are removed. */
  dustLimitSat: bigint;
}

interface Out {
  valueSat: bigint;
  scriptPubKey: Uint8Array;
}

function finish(outpoint: OutPoint, sequence: number, locktime: number, outputs: Out[]): Transaction {
  checkOutPoint(outpoint, 'funding');
  for (const o of outputs) checkScript(o.scriptPubKey, 'closing scriptpubkey');
  if (outputs.length === 0) throw new TxError('invalid-amounts', 'closing transaction would have no output');
  // BOLT 3 "Transaction Output Ordering" applies to closing transactions too.
  outputs.sort(compareOutputs);
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = locktime;
  tx.addInput(outpoint.txid, outpoint.vout, sequence);
  for (const o of outputs) tx.addOutput(o.scriptPubKey, o.valueSat);
  return tx;
}

/** Legacy closing_signed transaction: locktime 0, sequence 0xFFFFFFFF. */
export function buildLegacyClosingTransaction(p: LegacyClosingParams): Transaction {
  if (p.localMsat < 0n || p.remoteMsat < 0n || p.feeSat < 0n)
    throw new TxError('invalid-amounts', 'negative amount');
  let localSat = p.localMsat / 1000n;
  let remoteSat = p.remoteMsat / 1000n;
  // BOLT 3: MUST subtract fee_satoshis from the output to the funder.
  if (p.localIsFunder) localSat -= p.feeSat;
  else remoteSat -= p.feeSat;
  if (localSat < 0n || remoteSat < 0n)
    throw new TxError('invalid-amounts', 'the funder cannot pay the closing fee');
  const outputs: Out[] = [];
  // BOLT 3: MUST remove any output below its own dust_limit_satoshis.
  if (localSat >= p.dustLimitSat && localSat > 0n)
    outputs.push({ valueSat: localSat, scriptPubKey: p.localScriptPubKey });
  if (remoteSat >= p.dustLimitSat && remoteSat > 0n)
    outputs.push({ valueSat: remoteSat, scriptPubKey: p.remoteScriptPubKey });
  return finish(p.fundingOutpoint, 0xffffffff, 0, outputs);
}

export interface ClosingParams {
  fundingOutpoint: OutPoint;
  /** locktime from closing_complete. */
  locktime: number;
  closerMsat: bigint;
  closeeMsat: bigint;
  /** Undefined when that side omits its output. */
  closerScriptPubKey: Uint8Array | undefined;
  closeeScriptPubKey: Uint8Array | undefined;
  /** closing_complete.fee_satoshis, paid by the closer. */
  feeSat: bigint;
}

const isOpReturn = (s: Uint8Array) => s[0] === OPS.OP_RETURN;

/** option_simple_close transaction: sequence 0xFFFFFFFD, the closer pays the fee. */
export function buildClosingTransaction(p: ClosingParams): Transaction {
  if (p.closerMsat < 0n || p.closeeMsat < 0n || p.feeSat < 0n)
    throw new TxError('invalid-amounts', 'negative amount');
  checkUint32(p.locktime, 'locktime');
  const outputs: Out[] = [];
  if (p.closerScriptPubKey) {
    const closerSat = p.closerMsat / 1000n - p.feeSat;
    if (closerSat < 0n) throw new TxError('invalid-amounts', 'the closer cannot pay the closing fee');
    // BOLT 3: the amount is 0 if the scriptpubkey starts with OP_RETURN.
    outputs.push({
      valueSat: isOpReturn(p.closerScriptPubKey) ? 0n : closerSat,
      scriptPubKey: p.closerScriptPubKey,
    });
  }
  if (p.closeeScriptPubKey) {
    outputs.push({
      valueSat: isOpReturn(p.closeeScriptPubKey) ? 0n : p.closeeMsat / 1000n,
      scriptPubKey: p.closeeScriptPubKey,
    });
  }
  return finish(p.fundingOutpoint, 0xfffffffd, p.locktime, outputs);
}

/** BIP 143 sighash of a closing transaction's funding input, for `ChannelSigner.signClosingTransaction`. */
export function closingSighash(tx: Transaction, fundingScript: Uint8Array, fundingSat: bigint): Uint8Array {
  return tx.hashForWitnessV0(0, fundingScript, fundingSat, Transaction.SIGHASH_ALL);
}
