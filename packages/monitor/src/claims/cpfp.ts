/**
 * Child-pays-for-parent of our own anchors commitment (BOLT 3 "to_local_anchor"; BOLT 5: the
 * commitment's feerate was fixed when both sides signed it, and may be too low when it is
 * broadcast). The child spends our anchor output with the funding key and a wallet input, and
 * pays the change back to the wallet: its fee makes the pair's feerate the estimator's.
 *
 * Only while our commitment is unconfirmed: once the funding spend is in a block there is
 * nothing to pay for. Like the claims, it is made again each block: the same estimate gives the
 * same child (RFC 6979), a higher one a replacement (BIP 125) paying for both again.
 */
import {
  anchorScript,
  type ClaimInput,
  dustLimitSatFor,
  type FeeInput,
  p2wsh,
  Transaction,
  TxError,
} from '@lnkit/tx';
import { parseCommitmentTx } from '../commitment.ts';
import type { ChannelMonitor } from '../types.ts';

/** What the pair must pay at least: bitcoind's minimum relay fee, 1 sat/vB. */
const MIN_RELAY_PER_KW = 253n;
/** The 2-of-2 funding witness: item count, the empty item, two signatures (≤ 73 bytes), the 71-byte script. */
const FUNDING_WITNESS_WEIGHT = 1 + 1 + (1 + 73) * 2 + (1 + 71);
/** Anchor witness: item count, a signature, the 40-byte anchor script. */
const ANCHOR_WITNESS_WEIGHT = 1 + (1 + 73) + (1 + 40);
/** P2WPKH witness: item count, a signature, a 33-byte key. */
const P2WPKH_WITNESS_WEIGHT = 1 + (1 + 73) + (1 + 33);

export interface AnchorCpfp {
  /** Unsigned: input 0 our anchor, input 1 the fee input; output 0 the change. */
  tx: Uint8Array;
  /** The anchor output spent (its witness script signs with the funding key). */
  anchor: Pick<ClaimInput, 'txid' | 'vout' | 'valueSat' | 'witnessScript'>;
  feeInput: FeeInput;
  commitmentTxidHex: string;
  /** The child's own fee, and the feerate the pair pays with it. */
  feeSat: bigint;
  packageFeeratePerKw: bigint;
  /** The weights the fee was computed from (signed, at most). */
  commitmentWeight: number;
  childWeight: number;
}

/**
 * The child bumping our latest commitment to `feeratePerKw`, or undefined when it needs none
 * (not anchors, already paying that much). A TxError `invalid-amounts` when the fee input cannot
 * pay for it.
 */
export function anchorCpfp(
  monitor: ChannelMonitor,
  args: { feeratePerKw: bigint; feeInput: FeeInput; changeScript: Uint8Array },
): AnchorCpfp | undefined {
  const { channel } = monitor;
  if (channel.channelType !== 'anchors_zero_fee_htlc_tx') return undefined;
  const commitment = parseCommitmentTx(monitor.holderCommitment);
  const witnessScript = anchorScript(channel.holderPubkeys.fundingPubkey);
  const anchorOut = Buffer.from(p2wsh(witnessScript));
  const vout = commitment.outs.findIndex((o) => Buffer.from(o.script).equals(anchorOut));
  if (vout < 0) return undefined; // no anchor of ours (a commitment with no output to us)
  const commitmentFee = channel.fundingSat - commitment.outs.reduce((sum, o) => sum + o.value, 0n);
  const commitmentWeight = commitment.weight() + 2 + FUNDING_WITNESS_WEIGHT;
  if (commitmentFee * 1000n >= args.feeratePerKw * BigInt(commitmentWeight)) return undefined;

  const { feeInput, changeScript } = args;
  const child = new Transaction();
  child.version = 2;
  child.addInput(Buffer.from(commitment.getHash()), vout, 0xfffffffd);
  child.addInput(Buffer.from(feeInput.txid), feeInput.vout, 0xfffffffd);
  child.addOutput(Buffer.from(changeScript), 0n);
  const childWeight = child.weight() + 2 + ANCHOR_WITNESS_WEIGHT + P2WPKH_WITNESS_WEIGHT;
  const total = BigInt(commitmentWeight + childWeight);
  let feeSat = (args.feeratePerKw * total) / 1000n - commitmentFee;
  const ownMinimum = (MIN_RELAY_PER_KW * BigInt(childWeight)) / 1000n;
  if (feeSat < ownMinimum) feeSat = ownMinimum;
  const anchorValue = commitment.outs[vout]?.value as bigint;
  const changeSat = anchorValue + feeInput.valueSat - feeSat;
  if (changeSat < dustLimitSatFor(changeScript))
    throw new TxError(
      'invalid-amounts',
      `a fee input of ${feeInput.valueSat} sat cannot pay the ${feeSat} sat to bump commitment ${commitment.getId()}`,
    );
  (child.outs[0] as { value: bigint }).value = changeSat;
  return {
    tx: new Uint8Array(child.toBuffer()),
    anchor: { txid: new Uint8Array(commitment.getHash()), vout, valueSat: anchorValue, witnessScript },
    feeInput,
    commitmentTxidHex: commitment.getId(),
    feeSat,
    packageFeeratePerKw: ((commitmentFee + feeSat) * 1000n) / total,
    commitmentWeight,
    childWeight,
  };
}
