/**
 * A confirmed spend of the funding output → every output of it the holder will take (BOLT 5):
 * - its own commitment ("Unilateral Close Handling: Local Commitment Transaction"): to_local
 *   after to_self_delay; each HTLC through its pre-signed HTLC-timeout (after cltv_expiry) or
 *   HTLC-success (with the preimage) transaction, whose outputs are swept in turn;
 * - the counterparty's current or previous commitment ("Remote Commitment Transaction"):
 *   to_remote; HTLCs they offered, with the preimage; HTLCs the holder offered, after
 *   cltv_expiry;
 * - a revoked counterparty commitment ("Revoked Transaction Close Handling"): to_local and
 *   every HTLC with the revocation key, and to_remote.
 * Pure: the same monitor, transaction and height give the same resolution.
 */
import { perCommitmentPointFromSecret } from '@lnkit/keys';
import {
  buildCommitmentTransaction,
  buildHtlcTransactions,
  type ClaimInput,
  type ClaimKey,
  type ClaimWitnessKind,
  type CommitmentKeys,
  deriveCommitmentKeys,
  type Transaction,
  toLocalScript,
} from '@lnkit/tx';
import { MonitorError } from '../errors.ts';
import { classifyFundingSpend } from '../funding-spend.ts';
import { revocationSecret } from '../monitor.ts';
import { type DescribedOutput, describeCommitmentOutputs } from '../outputs.ts';
import type {
  ChannelMonitor,
  ChannelParameters,
  CommitmentData,
  HolderCommitmentData,
  HtlcData,
} from '../types.ts';
import type { ChainResolution, ClaimSource, HolderHtlcTransaction, PendingOutput } from './types.ts';

/** The per-commitment keys of a commitment owned by `owner` at `perCommitmentPoint` (BOLT 3). */
export function commitmentKeysOf(
  channel: ChannelParameters,
  owner: 'holder' | 'counterparty',
  perCommitmentPoint: Uint8Array,
): CommitmentKeys {
  const [mine, other] =
    owner === 'holder'
      ? [channel.holderPubkeys, channel.counterpartyPubkeys]
      : [channel.counterpartyPubkeys, channel.holderPubkeys];
  return deriveCommitmentKeys({
    perCommitmentPoint,
    ownerDelayedPaymentBasepoint: mine.delayedPaymentBasepoint,
    ownerHtlcBasepoint: mine.htlcBasepoint,
    otherRevocationBasepoint: other.revocationBasepoint,
    otherHtlcBasepoint: other.htlcBasepoint,
    otherPaymentBasepoint: other.paymentBasepoint,
  });
}

const isAnchors = (channel: ChannelParameters) => channel.channelType === 'anchors_zero_fee_htlc_tx';

/** A claim can be in the block after its parent's at the earliest; then its CSV delay counts. */
const afterCsv = (height: number, csvDelay: number) => height + Math.max(csvDelay, 1);

/** The resolution of `tx`, a spend of the monitor's funding output confirmed at `height`. */
export function resolveCommitment(monitor: ChannelMonitor, tx: Transaction, height: number): ChainResolution {
  const spend = classifyFundingSpend(monitor, tx, height, '');
  const base = {
    commitmentTxidHex: spend.txidHex,
    kind: spend.kind,
    commitmentNumber: spend.commitmentNumber ?? -1n,
    height,
    resolved: [],
    htlcsWithoutOutput: [],
  };
  const { channel } = monitor;
  switch (spend.kind) {
    case 'mutual-close':
      // BOLT 5 "Mutual Close Handling": the output is already at the agreed script.
      return { ...base, perCommitmentPoint: new Uint8Array(0), pending: [], notes: [] };
    case 'holder-commitment': {
      const holder = [monitor.holderCommitment, monitor.previousHolderCommitment].find(
        (c) => c?.txid === spend.txidHex,
      ) as HolderCommitmentData;
      return { ...base, ...holderCommitmentClaims(monitor, holder, tx, height) };
    }
    case 'counterparty-commitment':
    case 'counterparty-previous-commitment': {
      const theirs = monitor.counterpartyCommitments.find((c) => c.txid === spend.txidHex) as CommitmentData;
      const outputs = describeCommitmentOutputs(
        channel,
        'counterparty',
        theirs.perCommitmentPoint,
        tx,
        theirs.htlcs,
      );
      return {
        ...base,
        htlcsWithoutOutput: withoutOutput(theirs.htlcs, outputs),
        perCommitmentPoint: theirs.perCommitmentPoint,
        pending: counterpartyClaims(channel, theirs.perCommitmentPoint, outputs, spend.txidHex, height),
        notes: [],
      };
    }
    case 'counterparty-revoked-commitment': {
      const secret = revocationSecret(monitor, spend.commitmentNumber as bigint) as Uint8Array;
      const point = perCommitmentPointFromSecret(secret);
      const kept = monitor.revokedCounterpartyHtlcs.find((r) => r.txid === spend.txidHex);
      const outputs = describeCommitmentOutputs(channel, 'counterparty', point, tx, kept?.htlcs);
      const pending = revokedClaims(channel, point, secret, outputs, spend.txidHex, height);
      const unknownOutputs = tx.outs.length - outputs.length - (isAnchors(channel) ? 2 : 0);
      return {
        ...base,
        htlcsWithoutOutput: withoutOutput(kept?.htlcs, outputs),
        perCommitmentPoint: point,
        pending,
        notes:
          unknownOutputs > 0 && !kept
            ? [
                `revoked commitment ${spend.txidHex}: ${unknownOutputs} outputs not recognised (its HTLCs were not kept)`,
              ]
            : [],
      };
    }
    default: {
      // Not one the monitor knows (BOLT 5 "MUST warn the user of potentially lost funds"): the
      // holder's to_remote pays its static payment key, so that much is still found.
      const outputs = describeCommitmentOutputs(
        channel,
        'counterparty',
        channel.holderPubkeys.paymentBasepoint,
        tx,
      );
      const pending = counterpartyClaims(
        channel,
        channel.holderPubkeys.paymentBasepoint,
        outputs.filter((o) => o.kind === 'to_remote'),
        spend.txidHex,
        height,
      );
      return {
        ...base,
        perCommitmentPoint: new Uint8Array(0),
        pending,
        notes: [
          `funding spent by ${spend.txidHex}, a commitment this monitor does not know: only to_remote is claimed`,
        ],
      };
    }
  }
}

/** The HTLCs that have no output in the commitment (trimmed). */
const withoutOutput = (htlcs: readonly HtlcData[] | undefined, outputs: readonly DescribedOutput[]) =>
  (htlcs ?? []).filter((h) => !outputs.some((o) => o.htlc === h));

function pendingOf(
  source: ClaimSource,
  txidHex: string,
  o: { vout: number; valueSat: bigint },
  output: PendingOutput['output'],
  spendableAtHeight: number,
  rest: Partial<PendingOutput> = {},
): PendingOutput {
  return {
    id: `${txidHex}:${o.vout}`,
    source,
    txidHex,
    vout: o.vout,
    valueSat: o.valueSat,
    output,
    spendableAtHeight,
    ...rest,
  };
}

function sweepInput(
  txidHex: string,
  o: DescribedOutput,
  witness: ClaimWitnessKind,
  csvDelay: number,
  anchors: boolean,
  extra: Partial<ClaimInput> = {},
): ClaimInput {
  return {
    txid: Uint8Array.from(Buffer.from(txidHex, 'hex')).reverse(),
    vout: o.vout,
    valueSat: o.valueSat,
    witness,
    ...(o.witnessScript ? { witnessScript: o.witnessScript } : {}),
    csvDelay,
    anchors,
    ...extra,
  };
}

function holderCommitmentClaims(
  monitor: ChannelMonitor,
  holder: HolderCommitmentData,
  tx: Transaction,
  height: number,
): Pick<ChainResolution, 'perCommitmentPoint' | 'pending' | 'notes' | 'htlcsWithoutOutput'> {
  const { channel } = monitor;
  const anchors = isAnchors(channel);
  const point = holder.perCommitmentPoint;
  const outputs = describeCommitmentOutputs(channel, 'holder', point, tx, holder.htlcs);
  const htlcTxs = holderHtlcTransactions(monitor, holder);
  const pending: PendingOutput[] = [];
  const notes: string[] = [];
  const txid = holder.txid;
  for (const o of outputs) {
    if (o.kind === 'to_local') {
      const delay = channel.holderToSelfDelay;
      pending.push(
        pendingOf('holder-commitment', txid, o, 'to_local', afterCsv(height, delay), {
          input: sweepInput(txid, o, 'to-local-delayed', delay, anchors),
          key: { kind: 'delayed-payment', perCommitmentPoint: point },
        }),
      );
    } else if (o.kind === 'htlc' && o.htlc) {
      const htlcTx = htlcTxs.get(o.vout);
      if (!htlcTx)
        throw new MonitorError('commitment-mismatch', `no HTLC transaction for output ${o.vout} of ${txid}`);
      const timeout = htlcTx.kind === 'htlc-timeout';
      // HTLC-timeout: nLockTime cltv_expiry; both: `1 OP_CSV` with anchors (sequence 1).
      const spendableAt = Math.max(afterCsv(height, anchors ? 1 : 0), timeout ? o.htlc.cltvExpiry + 1 : 0);
      pending.push(
        pendingOf('holder-commitment', txid, o, 'htlc', spendableAt, {
          htlc: o.htlc,
          htlcTransaction: htlcTx,
          ...(timeout ? { locktime: o.htlc.cltvExpiry } : { needsPreimage: true }),
        }),
      );
      if (anchors)
        notes.push(
          `${htlcTx.kind} of output ${o.vout} is zero-fee (anchors): it is claimed with a wallet fee input`,
        );
    }
    // to_remote is the counterparty's; the holder's anchor (CPFP, or swept after 16 blocks) is not claimed here yet.
  }
  return {
    perCommitmentPoint: point,
    pending,
    notes,
    htlcsWithoutOutput: withoutOutput(holder.htlcs, outputs),
  };
}

/**
 * The holder's HTLC transactions of its commitment, by the commitment output they spend: the
 * commitment rebuilt with @lnkit/tx from what the monitor keeps (it must be the same txid),
 * so each transaction is byte for byte the one the counterparty signed.
 */
function holderHtlcTransactions(
  monitor: ChannelMonitor,
  holder: HolderCommitmentData,
): Map<number, HolderHtlcTransaction> {
  const { channel, info } = monitor;
  const htlcs = holder.htlcs ?? [];
  const out = new Map<number, HolderHtlcTransaction>();
  if (htlcs.length === 0) return out;
  const built = buildCommitmentTransaction({
    channelType: channel.channelType,
    fundingOutpoint: channel.fundingOutpoint,
    fundingSat: channel.fundingSat,
    localFundingPubkey: channel.holderPubkeys.fundingPubkey,
    remoteFundingPubkey: channel.counterpartyPubkeys.fundingPubkey,
    commitmentNumber: holder.commitmentNumber,
    obscuringFactor: channel.obscuringFactor,
    toLocalMsat: holder.toLocalMsat,
    toRemoteMsat: holder.toRemoteMsat,
    localIsFunder: channel.holderIsFunder,
    feeratePerKw: BigInt(holder.feeratePerKw),
    dustLimitSat: info.local.dustLimitSat,
    toSelfDelay: channel.holderToSelfDelay,
    keys: commitmentKeysOf(channel, 'holder', holder.perCommitmentPoint),
    htlcs,
  });
  if (built.tx.getId() !== holder.txid)
    throw new MonitorError(
      'commitment-mismatch',
      `holder commitment ${holder.commitmentNumber} does not rebuild to its txid`,
    );
  const signatures = holder.htlcSignatures ?? [];
  const txs = buildHtlcTransactions(built);
  if (signatures.length !== txs.length)
    throw new MonitorError(
      'commitment-mismatch',
      `holder commitment ${holder.commitmentNumber}: ${signatures.length} HTLC signatures for ${txs.length} HTLC outputs`,
    );
  txs.forEach((h, i) => {
    const output = h.tx.outs[0] as { value: bigint };
    out.set(h.commitmentOutputIndex, {
      kind: h.kind,
      tx: new Uint8Array(h.tx.toBuffer()),
      txidHex: h.tx.getId(),
      htlcWitnessScript: h.htlcWitnessScript,
      htlcValueSat: h.htlcValueSat,
      counterpartySignature: signatures[i] as Uint8Array,
      anchors: h.anchors,
      outputValueSat: output.value,
      outputWitnessScript: holderDelayedScript(channel, holder.perCommitmentPoint),
    });
  });
  return out;
}

/** The holder's to_local script at its point: also the output script of its HTLC transactions. */
export function holderDelayedScript(channel: ChannelParameters, perCommitmentPoint: Uint8Array): Uint8Array {
  const keys = commitmentKeysOf(channel, 'holder', perCommitmentPoint);
  return toLocalScript(keys.revocationPubkey, channel.holderToSelfDelay, keys.localDelayedPubkey);
}

/** The counterparty's commitment, unrevoked: what it pays the holder. */
function counterpartyClaims(
  channel: ChannelParameters,
  point: Uint8Array,
  outputs: DescribedOutput[],
  txid: string,
  height: number,
): PendingOutput[] {
  const anchors = isAnchors(channel);
  const csv = anchors ? 1 : 0;
  const htlcKey: ClaimKey = { kind: 'htlc', perCommitmentPoint: point };
  return outputs.flatMap((o): PendingOutput[] => {
    if (o.kind === 'to_remote') return [toRemoteClaim(channel, o, txid, height, 'counterparty-commitment')];
    if (o.kind !== 'htlc' || !o.htlc) return [];
    const h: HtlcData = o.htlc;
    if (h.direction === 'offered')
      // They offered it: the holder's with the preimage, until they time it out after cltv_expiry.
      return [
        pendingOf('counterparty-commitment', txid, o, 'htlc', afterCsv(height, csv), {
          htlc: h,
          input: sweepInput(txid, o, 'offered-htlc-preimage', csv, anchors),
          key: htlcKey,
          deadlineHeight: h.cltvExpiry,
          needsPreimage: true,
        }),
      ];
    // The holder offered it: taken back after cltv_expiry (nLockTime).
    return [
      pendingOf(
        'counterparty-commitment',
        txid,
        o,
        'htlc',
        Math.max(afterCsv(height, csv), h.cltvExpiry + 1),
        {
          htlc: h,
          input: sweepInput(txid, o, 'received-htlc-timeout', csv, anchors),
          key: htlcKey,
          locktime: h.cltvExpiry,
        },
      ),
    ];
  });
}

function toRemoteClaim(
  channel: ChannelParameters,
  o: DescribedOutput,
  txid: string,
  height: number,
  source: ClaimSource,
): PendingOutput {
  const anchors = isAnchors(channel);
  // static_remotekey: P2WPKH of the holder's payment_basepoint; anchors: its script, after 1 block.
  const input = anchors
    ? sweepInput(txid, o, 'to-remote-anchors', 1, true)
    : sweepInput(txid, o, 'to-remote', 0, false, { pubkey: channel.holderPubkeys.paymentBasepoint });
  return pendingOf(source, txid, o, 'to_remote', afterCsv(height, input.csvDelay), {
    input,
    key: { kind: 'payment' },
  });
}

/** A revoked counterparty commitment: every output with the revocation key, to_remote as usual. */
function revokedClaims(
  channel: ChannelParameters,
  point: Uint8Array,
  secret: Uint8Array,
  outputs: DescribedOutput[],
  txid: string,
  height: number,
): PendingOutput[] {
  const anchors = isAnchors(channel);
  const keys = commitmentKeysOf(channel, 'counterparty', point);
  const key: ClaimKey = { kind: 'revocation', perCommitmentSecret: secret };
  return outputs.flatMap((o): PendingOutput[] => {
    if (o.kind === 'to_remote') return [toRemoteClaim(channel, o, txid, height, 'revoked-commitment')];
    if (o.kind === 'to_local')
      // Theirs after their to_self_delay: the justice claim must confirm first.
      return [
        pendingOf('revoked-commitment', txid, o, 'to_local', afterCsv(height, 0), {
          input: sweepInput(txid, o, 'to-local-revocation', 0, anchors),
          key,
          deadlineHeight: height + channel.counterpartyToSelfDelay,
        }),
      ];
    if (o.kind === 'htlc' && o.htlc)
      // Their HTLC-timeout (after cltv_expiry) or HTLC-success can take it first; if one
      // confirms, its output is taken instead (resolveSpend).
      return [
        pendingOf('revoked-commitment', txid, o, 'htlc', afterCsv(height, 0), {
          htlc: o.htlc,
          input: sweepInput(
            txid,
            o,
            o.htlc.direction === 'offered' ? 'offered-htlc-revocation' : 'received-htlc-revocation',
            0,
            anchors,
            { pubkey: keys.revocationPubkey },
          ),
          key,
          deadlineHeight: o.htlc.cltvExpiry,
        }),
      ];
    return [];
  });
}
