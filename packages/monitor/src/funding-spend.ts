/**
 * What spent the funding output, and which of its outputs are the holder's to claim (BOLT 5
 * "Failing a Channel" and the three cases it handles: mutual close, unilateral close by
 * either side, and a revoked transaction close).
 *
 * Commitments are told apart from closing transactions by their shape (BOLT 3: locktime upper
 * byte 0x20, sequence upper byte 0x80), and from each other by txid: the holder's current and
 * previous, the counterparty's unrevoked ones. A counterparty commitment the monitor no longer
 * keeps is found by the number obscured in locktime and sequence: if its revocation secret is
 * held, the secret gives the commitment's point, the point its scripts, and an output with one
 * of them proves it is theirs.
 */
import { perCommitmentPointFromSecret } from '@lnkit/keys';
import {
  anchorScript,
  deriveCommitmentKeys,
  offeredHtlcScript,
  p2wpkh,
  p2wsh,
  receivedHtlcScript,
  type Transaction,
  toLocalScript,
  toRemoteAnchorsScript,
} from '@lnkit/tx';
import { channelObscuringFactor, commitmentNumberOf } from './commitment.ts';
import { equalBytes, revocationSecret } from './monitor.ts';
import type {
  ChannelMonitor,
  ChannelParameters,
  ClaimableOutput,
  CounterpartyCommitment,
  FundingSpend,
  HolderCommitment,
  MonitoredHtlc,
} from './types.ts';

const isAnchors = (c: ChannelParameters) => c.channelType === 'anchors_zero_fee_htlc_tx';

/** Whether `tx` spends the monitor's funding output. */
export function spendsFunding(monitor: ChannelMonitor, tx: Transaction): boolean {
  const { txid, vout } = monitor.channel.fundingOutpoint;
  return tx.ins.some((i) => i.index === vout && equalBytes(i.hash, txid));
}

/** Classifies a transaction that spends the funding output, confirmed in block `blockHashHex`. */
export function classifyFundingSpend(
  monitor: ChannelMonitor,
  tx: Transaction,
  height: number,
  blockHashHex: string,
): FundingSpend {
  const base = { txidHex: tx.getId(), height, blockHashHex, irrevocable: false };
  const { channel } = monitor;
  const n = commitmentNumberOf(tx, channelObscuringFactor(channel));
  if (n === undefined) return { ...base, kind: 'mutual-close', claimableOutputs: [] };
  const txid = tx.getHash();
  const at = { ...base, commitmentNumber: n };

  for (const holder of [monitor.holderCommitment, monitor.previousHolderCommitment]) {
    if (holder && equalBytes(holder.txid, txid))
      return { ...at, kind: 'holder-commitment', claimableOutputs: holderClaims(channel, holder) };
  }
  const live = monitor.counterpartyCommitments;
  for (const [i, theirs] of live.entries()) {
    if (!equalBytes(theirs.txid, txid)) continue;
    return {
      ...at,
      kind: i === live.length - 1 ? 'counterparty-commitment' : 'counterparty-previous-commitment',
      claimableOutputs: counterpartyClaims(channel, theirs),
    };
  }
  const revoked = revokedClaims(monitor, tx, n);
  if (revoked) return { ...at, kind: 'counterparty-revoked-commitment', claimableOutputs: revoked };
  // Not one the monitor knows; whatever pays the holder's static payment key is still its own.
  const payment = holderPaymentScript(channel);
  const claimableOutputs = tx.outs.flatMap((o, vout): ClaimableOutput[] =>
    equalBytes(o.script, payment)
      ? [{ vout, valueSat: o.value, scriptPubKey: payment, claim: 'payment' }]
      : [],
  );
  return { ...at, kind: 'unknown-commitment', claimableOutputs };
}

/** The holder's own commitment: its delayed to_local, its anchor, and its HTLCs through the second stage. */
function holderClaims(channel: ChannelParameters, c: HolderCommitment): ClaimableOutput[] {
  const out: ClaimableOutput[] = [];
  c.outputs.forEach((o, vout) => {
    const base = { vout, valueSat: o.valueSat, scriptPubKey: o.scriptPubKey, ...script(o.witnessScript) };
    if (o.kind === 'to_local') out.push({ ...base, claim: 'delayed', csvDelay: channel.holderToSelfDelay });
    else if (o.kind === 'to_local_anchor') out.push({ ...base, claim: 'anchor' });
    else if (o.kind === 'htlc') {
      const htlc = c.htlcs.find((h) => h.vout === vout);
      if (!htlc) return;
      // Offered by the holder: HTLC-timeout after cltv_expiry; received: HTLC-success with the preimage.
      out.push({
        ...base,
        claim: htlc.direction === 'offered' ? 'htlc-timeout' : 'htlc-preimage',
        htlc,
        secondStage: true,
        ...(isAnchors(channel) ? { csvDelay: 1 } : {}),
      });
    }
  });
  return out;
}

/** The counterparty's unrevoked commitment: the holder's to_remote, its anchor, and HTLCs spent directly. */
function counterpartyClaims(channel: ChannelParameters, c: CounterpartyCommitment): ClaimableOutput[] {
  const out: ClaimableOutput[] = [];
  const delay = isAnchors(channel) ? { csvDelay: 1 } : {};
  c.outputs.forEach((o, vout) => {
    const base = { vout, valueSat: o.valueSat, scriptPubKey: o.scriptPubKey, ...script(o.witnessScript) };
    // Owner's view: their "to_remote" and "to_remote_anchor" are the holder's.
    if (o.kind === 'to_remote') out.push({ ...base, claim: 'payment', ...delay });
    else if (o.kind === 'to_remote_anchor') out.push({ ...base, claim: 'anchor' });
    else if (o.kind === 'htlc') {
      const htlc = c.htlcs.find((h) => h.vout === vout);
      if (!htlc) return;
      // BOLT 5: an HTLC they offered is the holder's with the preimage; one they received, after its expiry.
      out.push({
        ...base,
        claim: htlc.direction === 'offered' ? 'htlc-preimage' : 'htlc-timeout',
        htlc,
        ...delay,
      });
    }
  });
  return out;
}

/**
 * A revoked counterparty commitment: its to_local and HTLC outputs with the revocation key, the
 * holder's to_remote and anchor. Undefined when `tx` is not a counterparty commitment whose
 * secret the holder has.
 */
function revokedClaims(monitor: ChannelMonitor, tx: Transaction, n: bigint): ClaimableOutput[] | undefined {
  const secret = revocationSecret(monitor, n);
  if (!secret) return undefined;
  const { channel } = monitor;
  const anchors = isAnchors(channel);
  const holder = channel.holderPubkeys;
  const theirs = channel.counterpartyPubkeys;
  const keys = deriveCommitmentKeys({
    perCommitmentPoint: perCommitmentPointFromSecret(secret),
    ownerDelayedPaymentBasepoint: theirs.delayedPaymentBasepoint,
    ownerHtlcBasepoint: theirs.htlcBasepoint,
    otherRevocationBasepoint: holder.revocationBasepoint,
    otherHtlcBasepoint: holder.htlcBasepoint,
    otherPaymentBasepoint: holder.paymentBasepoint,
  });
  const toLocal = toLocalScript(
    keys.revocationPubkey,
    channel.counterpartyToSelfDelay,
    keys.localDelayedPubkey,
  );
  const toLocalSpk = p2wsh(toLocal);
  const paymentSpk = holderPaymentScript(channel);
  const anchor = anchorScript(holder.fundingPubkey);
  const anchorSpk = p2wsh(anchor);
  const txid = tx.getHash();
  const kept = monitor.revokedCounterpartyHtlcs.find((r) => equalBytes(r.txid, txid));
  const htlcs: { htlc: MonitoredHtlc; script: Uint8Array }[] = (kept?.htlcs ?? []).map((htlc) => ({
    htlc,
    script:
      htlc.direction === 'offered'
        ? offeredHtlcScript(keys, htlc.paymentHash, anchors)
        : receivedHtlcScript(keys, htlc.paymentHash, htlc.cltvExpiry, anchors),
  }));

  const out: ClaimableOutput[] = [];
  let theirsProven = kept !== undefined;
  tx.outs.forEach((o, vout) => {
    const base = { vout, valueSat: o.value, scriptPubKey: new Uint8Array(o.script) };
    if (equalBytes(o.script, toLocalSpk)) {
      theirsProven = true;
      out.push({ ...base, witnessScript: toLocal, claim: 'revocation' });
    } else if (equalBytes(o.script, paymentSpk)) {
      theirsProven = true;
      out.push({
        ...base,
        ...holderPaymentWitness(channel),
        claim: 'payment',
        ...(anchors ? { csvDelay: 1 } : {}),
      });
    } else if (equalBytes(o.script, anchorSpk)) {
      out.push({ ...base, witnessScript: anchor, claim: 'anchor' });
    } else {
      const h = htlcs.find((x) => x.htlc.vout === vout && equalBytes(o.script, p2wsh(x.script)));
      if (h) out.push({ ...base, witnessScript: h.script, claim: 'revocation', htlc: h.htlc });
    }
  });
  return theirsProven ? out : undefined;
}

/** The holder's to_remote on a counterparty commitment: static_remotekey pays its payment_basepoint. */
function holderPaymentScript(channel: ChannelParameters): Uint8Array {
  const w = holderPaymentWitness(channel).witnessScript;
  return w ? p2wsh(w) : p2wpkh(channel.holderPubkeys.paymentBasepoint);
}

function holderPaymentWitness(channel: ChannelParameters): { witnessScript?: Uint8Array } {
  return isAnchors(channel)
    ? { witnessScript: toRemoteAnchorsScript(channel.holderPubkeys.paymentBasepoint) }
    : {};
}

function script(witnessScript: Uint8Array | undefined): { witnessScript?: Uint8Array } {
  return witnessScript ? { witnessScript } : {};
}
