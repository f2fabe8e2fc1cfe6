/**
 * BOLT 3 "Commitment Transaction" and "Commitment Transaction Construction", for
 * option_static_remotekey and option_anchors_zero_fee_htlc_tx channels. Everything is from the
 * view of the commitment's owner ("local"): the owner's outputs are delayed and revocable.
 */

import { sha256 } from '@lnkit/crypto';
import { derivePublicKey, deriveRevocationPublicKey, KeysError } from '@lnkit/keys';
import { Transaction } from 'bitcoinjs-lib';
import { type OneInputTx, oneInputTxid, serializeOutpoint, serializeOutputs } from './bip143.ts';
import { checkBytes, checkOutPoint, TxError } from './errors.ts';
import {
  ANCHOR_OUTPUT_SAT,
  type ChannelType,
  commitmentFeeSat,
  htlcSuccessFeeSat,
  htlcTimeoutFeeSat,
  isAnchors,
} from './fees.ts';
import {
  anchorScript,
  compareBytes,
  fundingScript,
  HtlcScripts,
  p2wpkh,
  p2wsh,
  toLocalScript,
  toRemoteAnchorsScript,
} from './scripts.ts';

/** A transaction outpoint; `txid` in internal byte order, as BOLT 2 messages carry it. */
export interface OutPoint {
  txid: Uint8Array;
  vout: number;
}

/** An HTLC as the commitment owner sees it: `offered` by the owner, or `received` by it. */
export interface CommitmentHtlc {
  direction: 'offered' | 'received';
  amountMsat: bigint;
  paymentHash: Uint8Array;
  cltvExpiry: number;
  /** The caller's handle for this HTLC (e.g. its htlc_id), carried to the output. */
  id?: bigint;
}

/** The per-commitment keys of BOLT 3 "Key Derivation", from the owner's view. */
export interface CommitmentKeys {
  revocationPubkey: Uint8Array;
  localDelayedPubkey: Uint8Array;
  localHtlcPubkey: Uint8Array;
  remoteHtlcPubkey: Uint8Array;
  /** remotepubkey: with option_static_remotekey, the other side's payment_basepoint itself. */
  remotePaymentPubkey: Uint8Array;
}

/** Derives the keys of a commitment owned by `owner` at `perCommitmentPoint` (the owner's point). */
export function deriveCommitmentKeys(args: {
  perCommitmentPoint: Uint8Array;
  ownerDelayedPaymentBasepoint: Uint8Array;
  ownerHtlcBasepoint: Uint8Array;
  otherRevocationBasepoint: Uint8Array;
  otherHtlcBasepoint: Uint8Array;
  otherPaymentBasepoint: Uint8Array;
}): CommitmentKeys {
  const p = args.perCommitmentPoint;
  try {
    return {
      // BOLT 3: the revocation key blinds the *other* side's revocation_basepoint with the owner's point.
      revocationPubkey: deriveRevocationPublicKey(args.otherRevocationBasepoint, p),
      localDelayedPubkey: derivePublicKey(args.ownerDelayedPaymentBasepoint, p),
      localHtlcPubkey: derivePublicKey(args.ownerHtlcBasepoint, p),
      remoteHtlcPubkey: derivePublicKey(args.otherHtlcBasepoint, p),
      remotePaymentPubkey: checkBytes(args.otherPaymentBasepoint, 33, 'payment_basepoint'),
    };
  } catch (err) {
    // The points come from the peer (open_channel, accept_channel, revoke_and_ack); this
    // package's callers handle one error class.
    if (err instanceof KeysError) throw new TxError('invalid-argument', err.message);
    throw err;
  }
}

/**
 * BOLT 3: the 48-bit commitment number is XORed with the lower 48 bits of
 * SHA256(payment_basepoint from open_channel || payment_basepoint from accept_channel).
 */
export function obscuringFactor(
  openerPaymentBasepoint: Uint8Array,
  accepterPaymentBasepoint: Uint8Array,
): bigint {
  checkBytes(openerPaymentBasepoint, 33, 'opener payment_basepoint');
  checkBytes(accepterPaymentBasepoint, 33, 'accepter payment_basepoint');
  const h = sha256(Uint8Array.from([...openerPaymentBasepoint, ...accepterPaymentBasepoint]));
  let v = 0n;
  for (let i = 26; i < 32; i++) v = (v << 8n) | BigInt(h[i] as number);
  return v;
}

export interface CommitmentParams {
  channelType: ChannelType;
  fundingOutpoint: OutPoint;
  fundingSat: bigint;
  /** The owner's and the other side's funding pubkeys. */
  localFundingPubkey: Uint8Array;
  remoteFundingPubkey: Uint8Array;
  commitmentNumber: bigint;
  /** From `obscuringFactor(opener, accepter)`. */
  obscuringFactor: bigint;
  /** Balances with every HTLC already taken out (BOLT 3 Appendix C's to_local_msat / to_remote_msat). */
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  /** Whether the owner opened (funded) the channel: the funder pays the fee and the anchors. */
  localIsFunder: boolean;
  feeratePerKw: bigint;
  /** The owner's dust_limit_satoshis. */
  dustLimitSat: bigint;
  /** to_self_delay that the other side imposed on the owner. */
  toSelfDelay: number;
  keys: CommitmentKeys;
  htlcs: readonly CommitmentHtlc[];
}

export type CommitmentOutputKind = 'to_local' | 'to_remote' | 'to_local_anchor' | 'to_remote_anchor' | 'htlc';

export interface CommitmentOutput {
  kind: CommitmentOutputKind;
  valueSat: bigint;
  scriptPubKey: Uint8Array;
  /** The witness script of P2WSH outputs (all but a static_remotekey to_remote). */
  witnessScript?: Uint8Array;
  htlc?: CommitmentHtlc;
}

export interface CommitmentTransaction {
  params: CommitmentParams;
  /**
   * Unsigned: the funding input's witness is added by `finalizeCommitment`. Built on first
   * read: sighashes and the HTLC transactions do not need it (see bip143.ts).
   */
  readonly tx: Transaction;
  fundingScript: Uint8Array;
  /** In transaction order. */
  outputs: CommitmentOutput[];
  /** Base fee (BOLT 3 "Fee Calculation") and the actual fee (base + trimmed amounts). */
  baseFeeSat: bigint;
  feeSat: bigint;
}

function checkParams(p: CommitmentParams): void {
  checkOutPoint(p.fundingOutpoint, 'funding');
  if (p.commitmentNumber < 0n || p.commitmentNumber >= 1n << 48n)
    throw new TxError('invalid-argument', 'commitment number out of the 48-bit range');
  if (p.toLocalMsat < 0n || p.toRemoteMsat < 0n) throw new TxError('invalid-amounts', 'negative balance');
  if (p.feeratePerKw < 0n || p.dustLimitSat < 0n)
    throw new TxError('invalid-argument', 'negative feerate or dust limit');
  if (!Number.isInteger(p.toSelfDelay) || p.toSelfDelay < 0 || p.toSelfDelay > 0xffff)
    throw new TxError('invalid-argument', 'to_self_delay out of range');
  let total = p.toLocalMsat + p.toRemoteMsat;
  for (const h of p.htlcs) {
    if (h.amountMsat < 0n) throw new TxError('invalid-amounts', 'negative HTLC amount');
    if (!Number.isInteger(h.cltvExpiry) || h.cltvExpiry < 0 || h.cltvExpiry >= 500_000_000)
      throw new TxError('invalid-argument', 'cltv_expiry out of range');
    checkBytes(h.paymentHash, 32, 'payment_hash');
    total += h.amountMsat;
  }
  if (total > p.fundingSat * 1000n)
    throw new TxError('invalid-amounts', 'balances and HTLCs exceed the funding amount');
}

/** BOLT 3 "Commitment Transaction Construction", steps 1-9. */
export function buildCommitmentTransaction(params: CommitmentParams): CommitmentTransaction {
  checkParams(params);
  const anchors = isAnchors(params.channelType);
  const { keys, feeratePerKw, dustLimitSat } = params;

  // Step 1: trim HTLCs whose second-stage transaction would leave dust (isHtlcTrimmed, with
  // the two second-stage fees computed once for the commitment).
  const timeoutFeeSat = htlcTimeoutFeeSat(params.channelType, feeratePerKw);
  const successFeeSat = htlcSuccessFeeSat(params.channelType, feeratePerKw);
  const untrimmed = params.htlcs.filter(
    (h) => h.amountMsat / 1000n - (h.direction === 'offered' ? timeoutFeeSat : successFeeSat) >= dustLimitSat,
  );
  // Steps 2-3: the base fee (and with anchors both anchor amounts) come out of the funder's balance.
  const baseFeeSat = commitmentFeeSat(params.channelType, feeratePerKw, untrimmed.length);
  const funderCharge = baseFeeSat + (anchors ? 2n * ANCHOR_OUTPUT_SAT : 0n);
  let toLocalSat = params.toLocalMsat / 1000n;
  let toRemoteSat = params.toRemoteMsat / 1000n;
  // A funder that cannot pay the whole fee loses its output to fees (BOLT 3 Appendix C,
  // "commitment tx with fee greater than funder amount").
  if (params.localIsFunder) toLocalSat = toLocalSat > funderCharge ? toLocalSat - funderCharge : 0n;
  else toRemoteSat = toRemoteSat > funderCharge ? toRemoteSat - funderCharge : 0n;

  const outputs: CommitmentOutput[] = [];
  // Steps 4-5: HTLC outputs, amounts rounded down to whole satoshis. The keys part of every
  // HTLC script is compiled once for the commitment.
  const htlcScripts = untrimmed.length > 0 ? new HtlcScripts(keys, anchors) : undefined;
  for (const htlc of untrimmed) {
    const witnessScript =
      htlc.direction === 'offered'
        ? htlcScripts!.offered(htlc.paymentHash)
        : htlcScripts!.received(htlc.paymentHash, htlc.cltvExpiry);
    outputs.push({
      kind: 'htlc',
      valueSat: htlc.amountMsat / 1000n,
      scriptPubKey: p2wsh(witnessScript),
      witnessScript,
      htlc,
    });
  }
  // Steps 6-7.
  const hasToLocal = toLocalSat >= dustLimitSat && toLocalSat > 0n;
  const hasToRemote = toRemoteSat >= dustLimitSat && toRemoteSat > 0n;
  if (hasToLocal) {
    const witnessScript = toLocalScript(keys.revocationPubkey, params.toSelfDelay, keys.localDelayedPubkey);
    outputs.push({
      kind: 'to_local',
      valueSat: toLocalSat,
      scriptPubKey: p2wsh(witnessScript),
      witnessScript,
    });
  }
  if (hasToRemote) {
    if (anchors) {
      const witnessScript = toRemoteAnchorsScript(keys.remotePaymentPubkey);
      outputs.push({
        kind: 'to_remote',
        valueSat: toRemoteSat,
        scriptPubKey: p2wsh(witnessScript),
        witnessScript,
      });
    } else {
      outputs.push({
        kind: 'to_remote',
        valueSat: toRemoteSat,
        scriptPubKey: p2wpkh(keys.remotePaymentPubkey),
      });
    }
  }
  // Step 8: an anchor for each side that has an output, or both when HTLCs are pending.
  if (anchors) {
    if (hasToLocal || untrimmed.length > 0) {
      const witnessScript = anchorScript(params.localFundingPubkey);
      outputs.push({
        kind: 'to_local_anchor',
        valueSat: ANCHOR_OUTPUT_SAT,
        scriptPubKey: p2wsh(witnessScript),
        witnessScript,
      });
    }
    if (hasToRemote || untrimmed.length > 0) {
      const witnessScript = anchorScript(params.remoteFundingPubkey);
      outputs.push({
        kind: 'to_remote_anchor',
        valueSat: ANCHOR_OUTPUT_SAT,
        scriptPubKey: p2wsh(witnessScript),
        witnessScript,
      });
    }
  }
  // Step 9: BIP 69 order, cltv_expiry breaking ties between identical HTLC outputs.
  outputs.sort(compareOutputs);

  const obscured = (params.commitmentNumber ^ params.obscuringFactor) & 0xffffffffffffn;
  const parts: OneInputTx = {
    version: 2,
    outpoint: serializeOutpoint(params.fundingOutpoint.txid, params.fundingOutpoint.vout),
    // BOLT 3: sequence upper 8 bits 0x80, the upper 24 bits of the obscured number;
    // locktime upper 8 bits 0x20, lower 24 bits of the obscured number.
    sequence: Number((0x80n << 24n) | (obscured >> 24n)),
    outputs: serializeOutputs(outputs),
    outputCount: outputs.length,
    locktime: Number((0x20n << 24n) | (obscured & 0xffffffn)),
  };

  const outSum = outputs.reduce((s, o) => s + o.valueSat, 0n);
  let tx: Transaction | undefined;
  const commitment = {
    params,
    fundingScript: fundingScript(params.localFundingPubkey, params.remoteFundingPubkey),
    outputs,
    baseFeeSat,
    feeSat: params.fundingSat - outSum,
  } as CommitmentTransaction;
  Object.defineProperty(commitment, 'tx', {
    enumerable: true,
    get: () => {
      tx ??= toTransaction(params.fundingOutpoint, parts, outputs);
      return tx;
    },
  });
  commitmentParts.set(commitment, { tx: parts, txid: undefined, sighash: undefined });
  return commitment;
}

function toTransaction(
  outpoint: OutPoint,
  parts: OneInputTx,
  outputs: readonly CommitmentOutput[],
): Transaction {
  const tx = new Transaction();
  tx.version = parts.version;
  tx.locktime = parts.locktime;
  tx.addInput(outpoint.txid, outpoint.vout, parts.sequence);
  for (const o of outputs) tx.addOutput(o.scriptPubKey, o.valueSat);
  return tx;
}

/**
 * What a built commitment keeps for its sighash and its HTLC transactions: its serialised
 * parts, and (once asked) its txid and funding-input sighash. Keyed by the object, so the
 * public shape stays as it was; a CommitmentTransaction made elsewhere has none, and the
 * functions that use this fall back to bitcoinjs-lib.
 */
export interface CommitmentParts {
  tx: OneInputTx;
  txid: Uint8Array | undefined;
  sighash: Uint8Array | undefined;
}

export const commitmentParts = new WeakMap<CommitmentTransaction, CommitmentParts>();

/** The commitment's txid in internal byte order (what an HTLC transaction's input names). */
export function commitmentTxid(commitment: CommitmentTransaction): Uint8Array {
  const parts = commitmentParts.get(commitment);
  if (!parts) return new Uint8Array(commitment.tx.getHash());
  parts.txid ??= oneInputTxid(parts.tx);
  return parts.txid;
}

/** BOLT 3 "Transaction Output Ordering". */
export function compareOutputs(
  a: { valueSat: bigint; scriptPubKey: Uint8Array; htlc?: { cltvExpiry: number } | undefined },
  b: { valueSat: bigint; scriptPubKey: Uint8Array; htlc?: { cltvExpiry: number } | undefined },
): number {
  if (a.valueSat !== b.valueSat) return a.valueSat < b.valueSat ? -1 : 1;
  const c = compareBytes(a.scriptPubKey, b.scriptPubKey);
  if (c !== 0) return c;
  return (a.htlc?.cltvExpiry ?? 0) - (b.htlc?.cltvExpiry ?? 0);
}
