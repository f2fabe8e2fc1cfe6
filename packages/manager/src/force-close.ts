/**
 * Force close (BOLT 5 "Unilateral Close Handling"): our latest commitment, with the peer's
 * signature we hold and ours from the signer, broadcast; the channel stays `closing` until a
 * block spends the funding output, then it is `closed`. The monitor is told first (a
 * `channel-closed` update asking it to broadcast our commitment), so it keeps watching and,
 * after a restart, knows what the channel did. The claims of the outputs after it are the
 * on-chain work (the monitor knows every one of them).
 */
import { finalizeFundingSpend, SIGHASH_ALL, Transaction } from '@lnkit/tx';
import { describeClosure, errorMessage, peerChannelId } from './channel-effects.ts';
import type { ChannelEffect, ChannelState, ClosureReason, Step } from './channel-state.ts';
import type { Refusal } from './checks.ts';

export interface ForceCloseOptions {
  /** The `error` for the peer, sent after our commitment is broadcast (none when the peer failed the channel). */
  errorText?: string | undefined;
  refusal?: Refusal | undefined;
  /** Do not write the closing monitor update (the persist is what failed). */
  skipMonitor?: boolean | undefined;
}

/** Whether the channel holds a commitment it can broadcast (both first commitments exchanged). */
export function canForceClose(s: ChannelState): boolean {
  return Boolean(s.commitments && s.funding && s.remote && s.channelId);
}

/**
 * Starts a force close: the monitor's `channel-closed` update, then our signature of our
 * latest commitment (answered with `holder-commitment-signed`). The error to the peer goes
 * only after our commitment is out: a peer that hears it first may broadcast its own, and the
 * chain takes whichever comes first.
 */
export function forceClose(s: ChannelState, reason: ClosureReason, o: ForceCloseOptions = {}): Step {
  const c = s.commitments;
  const funding = s.funding;
  const channelId = s.channelId;
  if (!c || !funding || !channelId) throw new Error('force close without a commitment');
  const effects: ChannelEffect[] = [
    {
      kind: 'log',
      level: 'warn',
      message: `force-closing the channel: ${describeClosure(reason)}`,
      refusal: o.refusal,
    },
  ];
  let next = s.nextMonitorUpdateId;
  if (!o.skipMonitor) {
    effects.push({
      kind: 'persist-monitor',
      update: {
        channelId,
        updateId: next,
        steps: [{ kind: 'channel-closed', reason: reason.kind, broadcastHolderCommitment: true }],
      },
    });
    next += 1n;
  }
  effects.push(signHolderCommitment(s));
  return {
    state: {
      ...s,
      phase: 'closing',
      closure: reason,
      nextMonitorUpdateId: next,
      pendingPersist: undefined,
      forceClose: { errorText: o.errorText },
    },
    effects,
  };
}

/** The signer's request for our latest commitment's funding input (BIP 143, SIGHASH_ALL). */
export function signHolderCommitment(s: ChannelState): ChannelEffect {
  const holder = s.commitments?.holder;
  const funding = s.funding;
  if (!holder || !funding) throw new Error('no holder commitment to sign');
  const tx = Transaction.fromBuffer(Buffer.from(holder.tx));
  return {
    kind: 'sign-holder-commitment',
    commitmentNumber: holder.commitmentNumber,
    sighash: new Uint8Array(tx.hashForWitnessV0(0, funding.script, s.fundingSat, SIGHASH_ALL)),
  };
}

/** Our signature came back: the commitment is complete; broadcast it, then tell the peer. */
export function onHolderCommitmentSigned(s: ChannelState, signature: Uint8Array): Step {
  const fc = s.forceClose;
  const holder = s.commitments?.holder;
  const funding = s.funding;
  const remote = s.remote;
  if (s.phase !== 'closing' || !fc || fc.commitmentTx || !holder || !funding || !remote)
    return { state: s, effects: [] };
  const signed = finalizeFundingSpend(
    Transaction.fromBuffer(Buffer.from(holder.tx)),
    funding.script,
    s.keys.pubkeys.fundingPubkey,
    signature,
    remote.fundingPubkey,
    holder.counterpartySignature,
  );
  const tx = new Uint8Array(signed.toBuffer());
  const commitmentTxid = signed.getId();
  const effects: ChannelEffect[] = [
    { kind: 'broadcast', tx, what: 'commitment' },
    { kind: 'log', level: 'info', message: `our commitment ${commitmentTxid} broadcast` },
  ];
  if (fc.errorText !== undefined)
    effects.push({ kind: 'send', message: errorMessage(peerChannelId(s), fc.errorText) });
  const closure =
    s.closure?.kind === 'holder-force-closed'
      ? { kind: 'holder-force-closed' as const, commitmentTxid }
      : s.closure;
  return {
    state: { ...s, closure, forceClose: { errorText: undefined, commitmentTxid, commitmentTx: tx } },
    effects,
  };
}

/**
 * A block spends the funding output. In a close of ours (force or mutual) the channel is now
 * closed; in any other phase after the funding went out, the peer (or someone holding both
 * keys) closed it without us: closed too, and the monitor is told (it classifies the spend and
 * holds what is ours to claim). A reorg of the spend is the monitor's to follow.
 */
export function onFundingSpent(s: ChannelState, txid: string): Step {
  const channelId = s.channelId;
  if (!channelId || !s.commitments) return { state: s, effects: [] };
  if (s.close?.closingTxid === txid && s.phase === 'closing') {
    const reason = { kind: 'cooperative', initiator: s.close.initiator, closingTxid: txid } as const;
    return closed(s, reason, { reason: 'cooperative', broadcastHolderCommitment: false });
  }
  if (s.forceClose) {
    const reason =
      s.closure && s.closure.kind !== 'holder-force-closed'
        ? s.closure
        : { kind: 'holder-force-closed' as const, commitmentTxid: s.forceClose.commitmentTxid ?? txid };
    return closed(s, reason);
  }
  return closed(
    s,
    { kind: 'funding-spent', spendingTxid: txid },
    { reason: 'funding-spent', broadcastHolderCommitment: false },
  );
}

function closed(
  s: ChannelState,
  reason: ClosureReason,
  monitorStep?: { reason: string; broadcastHolderCommitment: boolean },
): Step {
  const channelId = s.channelId as Uint8Array;
  const effects: ChannelEffect[] = [];
  let next = s.nextMonitorUpdateId;
  if (monitorStep) {
    effects.push({
      kind: 'persist-monitor',
      update: { channelId, updateId: next, steps: [{ kind: 'channel-closed', ...monitorStep }] },
    });
    next += 1n;
  }
  effects.push({
    kind: 'event',
    event: { type: 'ChannelClosed', channelId, counterpartyNodeId: s.counterpartyNodeId, reason },
  });
  return {
    state: { ...s, phase: 'closed', closure: reason, nextMonitorUpdateId: next, pendingPersist: undefined },
    effects,
  };
}
