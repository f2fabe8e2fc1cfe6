/**
 * What spent the funding output, and which of its outputs are the holder's to claim (BOLT 5:
 * mutual close, unilateral close by either side, revoked transaction close).
 *
 * Commitments are told apart from closing transactions by their shape (BOLT 3: locktime upper
 * byte 0x20, sequence upper byte 0x80), and from each other by txid: the holder's current and
 * previous, the counterparty's unrevoked ones. A counterparty commitment the monitor no longer
 * keeps is found by the number obscured in locktime and sequence: if its revocation secret is
 * held, the secret gives the commitment's point, the point its scripts, and an output with its
 * to_local or the holder's to_remote proves it is theirs.
 */
import { perCommitmentPointFromSecret } from '@lnkit/keys';
import type { Transaction } from '@lnkit/tx';
import { commitmentNumberOf, equal } from './commitment.ts';
import { revocationSecret } from './monitor.ts';
import { type DescribedOutput, describeCommitmentOutputs } from './outputs.ts';
import type { ChannelMonitor, ChannelParameters, ClaimableOutput, FundingSpend } from './types.ts';

/** Whether `tx` spends the monitor's funding output. */
export function spendsFunding(monitor: ChannelMonitor, tx: Transaction): boolean {
  const { txid, vout } = monitor.channel.fundingOutpoint;
  return tx.ins.some((i) => i.index === vout && equal(i.hash, txid));
}

/** Classifies a transaction that spends the funding output, confirmed in block `blockHashHex`. */
export function classifyFundingSpend(
  monitor: ChannelMonitor,
  tx: Transaction,
  height: number,
  blockHashHex: string,
): FundingSpend {
  const txid = tx.getId();
  const base = { txidHex: txid, height, blockHashHex, irrevocable: false };
  const { channel } = monitor;
  const n = commitmentNumberOf(tx, channel.obscuringFactor);
  if (n === undefined) return { ...base, kind: 'mutual-close', claimableOutputs: [] };
  const at = { ...base, commitmentNumber: n };

  for (const holder of [monitor.holderCommitment, monitor.previousHolderCommitment]) {
    if (holder?.txid !== txid) continue;
    const outputs = describeCommitmentOutputs(channel, 'holder', holder.perCommitmentPoint, tx, holder.htlcs);
    return { ...at, kind: 'holder-commitment', claimableOutputs: holderClaims(channel, outputs) };
  }
  const live = monitor.counterpartyCommitments;
  for (const [i, theirs] of live.entries()) {
    if (theirs.txid !== txid) continue;
    const outputs = describeCommitmentOutputs(
      channel,
      'counterparty',
      theirs.perCommitmentPoint,
      tx,
      theirs.htlcs,
    );
    return {
      ...at,
      kind: i === live.length - 1 ? 'counterparty-commitment' : 'counterparty-previous-commitment',
      claimableOutputs: counterpartyClaims(channel, outputs),
    };
  }
  const secret = revocationSecret(monitor, n);
  if (secret) {
    const kept = monitor.revokedCounterpartyHtlcs.find((r) => r.txid === txid);
    const point = perCommitmentPointFromSecret(secret);
    const outputs = describeCommitmentOutputs(channel, 'counterparty', point, tx, kept?.htlcs);
    // The number alone could be one of the holder's own old commitments: only their to_local,
    // the holder's to_remote or a kept txid make it theirs.
    if (kept || outputs.some((o) => o.kind === 'to_local' || o.kind === 'to_remote'))
      return {
        ...at,
        kind: 'counterparty-revoked-commitment',
        claimableOutputs: revokedClaims(channel, outputs),
      };
  }
  // None the monitor knows; whatever pays the holder's static payment key is still its own
  // (to_remote does not depend on the commitment's point, so any valid point finds it).
  const outputs = describeCommitmentOutputs(
    channel,
    'counterparty',
    channel.holderPubkeys.paymentBasepoint,
    tx,
  );
  return {
    ...at,
    kind: 'unknown-commitment',
    claimableOutputs: counterpartyClaims(channel, outputs).filter((c) => c.claim === 'payment'),
  };
}

const anchorsDelay = (channel: ChannelParameters) =>
  channel.channelType === 'anchors_zero_fee_htlc_tx' ? { csvDelay: 1 } : {};

function claimable(o: DescribedOutput): Omit<ClaimableOutput, 'claim'> {
  return {
    vout: o.vout,
    valueSat: o.valueSat,
    scriptPubKey: o.scriptPubKey,
    ...(o.witnessScript ? { witnessScript: o.witnessScript } : {}),
    ...(o.htlc ? { htlc: o.htlc } : {}),
  };
}

/** The holder's own commitment: its delayed to_local, its anchor, and its HTLCs through the second stage. */
function holderClaims(channel: ChannelParameters, outputs: DescribedOutput[]): ClaimableOutput[] {
  return outputs.flatMap((o): ClaimableOutput[] => {
    if (o.kind === 'to_local')
      return [{ ...claimable(o), claim: 'delayed', csvDelay: channel.holderToSelfDelay }];
    if (o.kind === 'to_local_anchor') return [{ ...claimable(o), claim: 'anchor' }];
    if (o.kind === 'htlc' && o.htlc)
      // Offered by the holder: HTLC-timeout after cltv_expiry; received: HTLC-success with the preimage.
      return [
        {
          ...claimable(o),
          claim: o.htlc.direction === 'offered' ? 'htlc-timeout' : 'htlc-preimage',
          secondStage: true,
          ...anchorsDelay(channel),
        },
      ];
    return [];
  });
}

/** The counterparty's unrevoked commitment: the holder's to_remote, its anchor, and HTLCs spent directly. */
function counterpartyClaims(channel: ChannelParameters, outputs: DescribedOutput[]): ClaimableOutput[] {
  return outputs.flatMap((o): ClaimableOutput[] => {
    // Owner's view: their "to_remote" and "to_remote_anchor" are the holder's.
    if (o.kind === 'to_remote') return [{ ...claimable(o), claim: 'payment', ...anchorsDelay(channel) }];
    if (o.kind === 'to_remote_anchor') return [{ ...claimable(o), claim: 'anchor' }];
    if (o.kind === 'htlc' && o.htlc)
      // BOLT 5: an HTLC they offered is the holder's with the preimage; one they received, after its expiry.
      return [
        {
          ...claimable(o),
          claim: o.htlc.direction === 'offered' ? 'htlc-preimage' : 'htlc-timeout',
          ...anchorsDelay(channel),
        },
      ];
    return [];
  });
}

/** A revoked counterparty commitment: to_local and HTLCs with the revocation key, plus what is the holder's anyway. */
function revokedClaims(channel: ChannelParameters, outputs: DescribedOutput[]): ClaimableOutput[] {
  return outputs.flatMap((o): ClaimableOutput[] => {
    if (o.kind === 'to_local' || o.kind === 'htlc') return [{ ...claimable(o), claim: 'revocation' }];
    if (o.kind === 'to_remote') return [{ ...claimable(o), claim: 'payment', ...anchorsDelay(channel) }];
    if (o.kind === 'to_remote_anchor') return [{ ...claimable(o), claim: 'anchor' }];
    return [];
  });
}
