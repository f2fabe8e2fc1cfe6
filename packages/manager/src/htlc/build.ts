/**
 * The commitments the ledger describes, built by @lnkit/tx (BOLT 3): which HTLCs, balances and
 * feerate go into ours or theirs at a given commitment number, from whose keys; the sighashes
 * we sign, and the check of the signatures the peer sends for ours.
 */
import type { ChannelSideParams, CommitmentData, HtlcData, OutPointData } from '@lnkit/monitor';
import {
  ANCHOR_OUTPUT_SAT,
  buildCommitmentTransaction,
  buildHtlcTransactions,
  type ChannelType,
  type CommitmentHtlc,
  type CommitmentTransaction,
  commitmentFeeSat,
  commitmentSighash,
  deriveCommitmentKeys,
  type HtlcTransaction,
  htlcSighash,
  isHtlcTrimmed,
} from '@lnkit/tx';
import { verifyFundingSignature } from '../commitments.ts';
import {
  balancesOf,
  type CommitmentSide,
  feerateOf,
  type HtlcLedger,
  htlcsOf,
  type LedgerHtlc,
} from './ledger.ts';

/** What does not change over the channel's life (from ChannelState once the funding is known). */
export interface HtlcChannelParams {
  readonly channelId: Uint8Array;
  readonly channelType: ChannelType;
  /** We opened (and pay the fees of) the channel. */
  readonly isFunder: boolean;
  readonly fundingSat: bigint;
  readonly fundingOutpoint: OutPointData;
  /** What we sent in open_channel / accept_channel, and what they sent. */
  readonly local: ChannelSideParams;
  readonly remote: ChannelSideParams;
  /** BOLT 3 obscuring factor of the commitment numbers. */
  readonly obscuringFactor: bigint;
}

/** An HTLC from the view of a commitment's owner. */
function ownerView(h: LedgerHtlc, side: CommitmentSide): CommitmentHtlc {
  const ownerOffered = (h.direction === 'offered') === (side === 'local');
  return {
    id: h.id,
    direction: ownerOffered ? 'offered' : 'received',
    amountMsat: h.amountMsat,
    paymentHash: h.paymentHash,
    cltvExpiry: h.cltvExpiry,
  };
}

export interface CommitmentSpec {
  side: CommitmentSide;
  /** Balances from the owner's view. */
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  feeratePerKw: number;
  htlcs: CommitmentHtlc[];
}

/** What the ledger puts in a commitment of `side` (owner's view). */
export function commitmentSpec(ledger: HtlcLedger, side: CommitmentSide, projected = false): CommitmentSpec {
  const { toLocalMsat, toRemoteMsat } = balancesOf(ledger, side, projected);
  return {
    side,
    toLocalMsat: side === 'local' ? toLocalMsat : toRemoteMsat,
    toRemoteMsat: side === 'local' ? toRemoteMsat : toLocalMsat,
    feeratePerKw: feerateOf(ledger, side, projected),
    htlcs: htlcsOf(ledger, side, projected).map((h) => ownerView(h, side)),
  };
}

/**
 * The commitment of `spec.side` at `commitmentNumber` with the owner's `perCommitmentPoint`.
 * BOLT 3: the owner's to_local is delayed by the to_self_delay the *other* side asked for, and
 * trimmed at the owner's own dust limit.
 */
export function buildCommitment(
  p: HtlcChannelParams,
  spec: CommitmentSpec,
  commitmentNumber: bigint,
  perCommitmentPoint: Uint8Array,
): CommitmentTransaction {
  const [mine, theirs] = spec.side === 'local' ? [p.local, p.remote] : [p.remote, p.local];
  return buildCommitmentTransaction({
    channelType: p.channelType,
    fundingOutpoint: p.fundingOutpoint,
    fundingSat: p.fundingSat,
    localFundingPubkey: mine.fundingPubkey,
    remoteFundingPubkey: theirs.fundingPubkey,
    commitmentNumber,
    obscuringFactor: p.obscuringFactor,
    toLocalMsat: spec.toLocalMsat,
    toRemoteMsat: spec.toRemoteMsat,
    localIsFunder: (spec.side === 'local') === p.isFunder,
    feeratePerKw: BigInt(spec.feeratePerKw),
    dustLimitSat: mine.dustLimitSat,
    toSelfDelay: theirs.toSelfDelay,
    keys: deriveCommitmentKeys({
      perCommitmentPoint,
      ownerDelayedPaymentBasepoint: mine.delayedPaymentBasepoint,
      ownerHtlcBasepoint: mine.htlcBasepoint,
      otherRevocationBasepoint: theirs.revocationBasepoint,
      otherHtlcBasepoint: theirs.htlcBasepoint,
      otherPaymentBasepoint: theirs.paymentBasepoint,
    }),
    htlcs: spec.htlcs,
  });
}

/** Their commitment, ready for the signer: its sighash and those of its HTLC transactions. */
export interface CounterpartyCommitmentToSign {
  commitment: CommitmentTransaction;
  htlcTxs: HtlcTransaction[];
  sighash: Uint8Array;
  /** Our signatures of their HTLC transactions use SIGHASH_SINGLE|ANYONECANPAY with anchors (BOLT 3). */
  htlcSighashes: Uint8Array[];
}

export function counterpartyCommitmentToSign(
  p: HtlcChannelParams,
  ledger: HtlcLedger,
  commitmentNumber: bigint,
  perCommitmentPoint: Uint8Array,
): CounterpartyCommitmentToSign {
  const commitment = buildCommitment(
    p,
    commitmentSpec(ledger, 'remote'),
    commitmentNumber,
    perCommitmentPoint,
  );
  const htlcTxs = buildHtlcTransactions(commitment);
  return {
    commitment,
    htlcTxs,
    sighash: commitmentSighash(commitment),
    htlcSighashes: htlcTxs.map((h) => htlcSighash(h, 'counterparty')),
  };
}

/** Why a commitment_signed's signatures are refused, naming the field (BOLT 2). */
export type SignatureRefusal = { field: 'signature' | 'htlc_signature' | 'num_htlcs'; reason: string };

/**
 * BOLT 2, receiving commitment_signed: "if signature is not valid for its local commitment
 * transaction OR non-compliant with LOW-S-standard rule", "if num_htlcs is not equal to the
 * number of HTLC outputs in the local commitment transaction", "if any htlc_signature is not
 * valid for the corresponding HTLC transaction OR non-compliant with LOW-S-standard rule":
 * fail the channel. Checked in this thread, one signature after another, so the core stays a
 * function; a batched check through the crypto pool is @lnkit/tx verifyCounterpartySignatures.
 */
export function checkHolderSignatures(
  commitment: CommitmentTransaction,
  htlcTxs: readonly HtlcTransaction[],
  signature: Uint8Array,
  htlcSignatures: readonly Uint8Array[],
): SignatureRefusal | undefined {
  if (htlcSignatures.length !== htlcTxs.length)
    return {
      field: 'num_htlcs',
      reason: `num_htlcs ${htlcSignatures.length} is not the ${htlcTxs.length} HTLC outputs of our commitment`,
    };
  if (
    !verifyFundingSignature(commitmentSighash(commitment), signature, commitment.params.remoteFundingPubkey)
  )
    return {
      field: 'signature',
      reason: `signature is not valid for our commitment ${commitment.params.commitmentNumber}`,
    };
  const htlcKey = commitment.params.keys.remoteHtlcPubkey;
  for (const [i, h] of htlcTxs.entries()) {
    if (!verifyFundingSignature(htlcSighash(h, 'counterparty'), htlcSignatures[i] as Uint8Array, htlcKey))
      return {
        field: 'htlc_signature',
        reason: `htlc_signature ${i} (HTLC ${h.htlc.id}, output ${h.commitmentOutputIndex}) is not valid`,
      };
  }
  return undefined;
}

/** The monitor's record of a commitment, with its HTLCs (trimmed ones too) in the owner's view. */
export function commitmentRecord(
  c: CommitmentTransaction,
  perCommitmentPoint: Uint8Array,
  htlcs: readonly CommitmentHtlc[],
): CommitmentData {
  return {
    commitmentNumber: c.params.commitmentNumber,
    perCommitmentPoint,
    txid: c.tx.getId(),
    tx: new Uint8Array(c.tx.toBuffer()),
    toLocalMsat: c.params.toLocalMsat,
    toRemoteMsat: c.params.toRemoteMsat,
    feeratePerKw: Number(c.params.feeratePerKw),
    htlcs: htlcs.map(
      (h): HtlcData => ({
        id: h.id ?? 0n,
        direction: h.direction,
        amountMsat: h.amountMsat,
        paymentHash: h.paymentHash,
        cltvExpiry: h.cltvExpiry,
      }),
    ),
  };
}

/**
 * What the funder pays out of its balance for a commitment like `spec` at `feeratePerKw`, with
 * `extraHtlcs` more non-dust HTLCs: BOLT 3's base fee, plus both anchors with option_anchors
 * ("MUST be able to additionally pay for to_local_anchor and to_remote_anchor above its reserve").
 */
export function funderChargeMsat(
  p: HtlcChannelParams,
  spec: CommitmentSpec,
  feeratePerKw: number,
  extraHtlcs = 0,
): bigint {
  const dustLimitSat = spec.side === 'local' ? p.local.dustLimitSat : p.remote.dustLimitSat;
  const rate = BigInt(feeratePerKw);
  const untrimmed = spec.htlcs.filter(
    (h) => !isHtlcTrimmed(p.channelType, h.direction === 'offered', h.amountMsat, rate, dustLimitSat),
  ).length;
  const anchors = p.channelType === 'anchors_zero_fee_htlc_tx' ? 2n * ANCHOR_OUTPUT_SAT : 0n;
  return (commitmentFeeSat(p.channelType, rate, untrimmed + extraHtlcs) + anchors) * 1000n;
}
