/**
 * Small pieces the channel machine's transitions share: the messages it writes, failing a
 * channel (what to tell the peer, the wallet and the monitor in each phase), and the first
 * monitor update.
 */

import type { ChannelMonitorUpdate } from '@lnkit/monitor';
import { type ErrorMessage, printableData } from '@lnkit/wire';
import type { ChannelEffect, ChannelState, ClosureReason, Commitments, Step } from './channel-state.ts';
import { type Refusal, refusalText } from './checks.ts';
import { commitmentObscure } from './commitments.ts';
import { canForceClose, forceClose } from './force-close.ts';

const encoder = new TextEncoder();

/** The id the peer knows the channel by: channel_id once funding_created went, else the temporary one. */
export function peerChannelId(s: ChannelState): Uint8Array {
  return s.channelId ?? s.temporaryChannelId;
}

export function errorMessage(channelId: Uint8Array, text: string): ErrorMessage {
  return { type: 17, kind: 'error', channelId, data: encoder.encode(text) };
}

/** What the peer's error or warning says, if it is printable (BOLT 1: never print it verbatim otherwise). */
export function peerText(data: Uint8Array): string {
  return printableData(data) ?? `(${data.length} bytes, not printable)`;
}

/** Phases in which the funder holds a funding transaction that was never broadcast. */
const FUNDING_NOT_BROADCAST = new Set([
  'awaiting-funding-tx',
  'signing',
  'awaiting-funding-signed',
  'awaiting-persist',
]);
/** Phases in which the funding transaction may be on chain: a failure there is a force close. */
const FUNDING_OUT = new Set(['awaiting-confirmation', 'ready', 'shutdown', 'negotiating', 'closing']);

export interface FailOptions {
  /** The text of the `error` to send the peer (none when the peer failed the channel itself). */
  errorText?: string | undefined;
  refusal?: Refusal | undefined;
  /** Do not write a closing monitor update (the persist is what failed). */
  skipMonitor?: boolean;
  /** Override whether the monitor broadcasts our commitment (default: when the funding may be on chain). */
  broadcast?: boolean;
}

/**
 * Fails the channel (BOLT 1 "fail the channel", BOLT 5 "Failing a Channel"): an `error` to
 * the peer, the funder's coins back to its wallet if the funding never went out, and, once a
 * monitor exists, a closing update. When the funding may be on chain it is a force close
 * (force-close.ts): our commitment signed and broadcast, the channel `closing` until the
 * funding spend confirms — except once a mutual closing transaction is out, which already
 * spends the funding better than our commitment would.
 */
export function failChannel(s: ChannelState, reason: ClosureReason, o: FailOptions = {}): Step {
  // Already force-closing: our commitment is out or on its way; a later failure changes nothing.
  if (s.forceClose)
    return {
      state: s,
      effects: [{ kind: 'log', level: 'info', message: `while force-closing: ${describeClosure(reason)}` }],
    };
  const broadcast = o.broadcast ?? FUNDING_OUT.has(s.phase);
  if (broadcast && s.phase !== 'closing' && canForceClose(s))
    return forceClose(s, reason, { errorText: o.errorText, refusal: o.refusal, skipMonitor: o.skipMonitor });
  const effects: ChannelEffect[] = [];
  const id = peerChannelId(s);
  effects.push({
    kind: 'log',
    level: 'warn',
    message: `channel failed: ${describeClosure(reason)}`,
    refusal: o.refusal,
  });
  if (o.errorText !== undefined) effects.push({ kind: 'send', message: errorMessage(id, o.errorText) });
  if (s.role === 'funder' && FUNDING_NOT_BROADCAST.has(s.phase)) effects.push({ kind: 'release-funding' });
  let next = s.nextMonitorUpdateId;
  if (!o.skipMonitor && s.channelId && next > 1n) {
    const update: ChannelMonitorUpdate = {
      channelId: s.channelId,
      updateId: next,
      steps: [
        {
          kind: 'channel-closed',
          reason: reason.kind,
          broadcastHolderCommitment: broadcast,
        },
      ],
    };
    effects.push({ kind: 'persist-monitor', update });
    next += 1n;
  }
  effects.push({
    kind: 'event',
    event: { type: 'ChannelClosed', channelId: id, counterpartyNodeId: s.counterpartyNodeId, reason },
  });
  return {
    state: { ...s, phase: 'closed', closure: reason, nextMonitorUpdateId: next, pendingPersist: undefined },
    effects,
  };
}

/** A refusal of the peer's parameters or message: an `error` naming the field. */
export function refuseChannel(s: ChannelState, what: string, refusal: Refusal): Step {
  return failChannel(
    s,
    { kind: 'protocol-violation', field: refusal.field, message: refusal.reason },
    { errorText: refusalText(what, refusal), refusal },
  );
}

export function describeClosure(r: ClosureReason): string {
  switch (r.kind) {
    case 'counterparty-error':
      return `the peer sent an error: ${r.message}`;
    case 'protocol-violation':
      return `${r.field}: ${r.message}`;
    case 'persist-failed':
      return `a monitor update could not be persisted: ${r.message}`;
    case 'funding-failed':
      return `the funding transaction could not be built: ${r.message}`;
    case 'funding-timed-out':
      return `the funding did not confirm within ${r.blocks} blocks`;
    case 'disconnected-before-funding':
      return 'the peer disconnected before the funding was signed';
    case 'htlc-deadline':
      return htlcDeadlineText(r);
    case 'internal-error':
      return `internal error: ${r.message}`;
    case 'cooperative':
      return `closed cooperatively (started by the ${r.initiator === 'local' ? 'local node' : 'peer'}), closing transaction ${r.closingTxid}`;
    case 'holder-force-closed':
      return r.commitmentTxid
        ? `force-closed by this node, commitment transaction ${r.commitmentTxid}`
        : 'force-closed by this node before the funding was out';
    case 'funding-spent':
      return `the funding output was spent by ${r.spendingTxid}, a transaction this node did not make`;
    case 'not-resumed':
      return `not resumed at start: ${r.message}`;
  }
}

/** The first monitor update: everything the monitor must know (@lnkit/monitor's ChannelOpened). */
export function channelOpenedUpdate(s: ChannelState, c: Commitments): ChannelMonitorUpdate {
  const remote = s.remote;
  const funding = s.funding;
  if (!remote || !funding || !s.channelId)
    throw new Error('channel-opened update before the funding is known');
  return {
    channelId: s.channelId,
    updateId: s.nextMonitorUpdateId,
    steps: [
      {
        kind: 'channel-opened',
        channelId: s.channelId,
        counterpartyNodeId: s.counterpartyNodeId,
        isFunder: s.role === 'funder',
        channelType: s.channelType.type,
        announce: s.announce,
        fundingOutpoint: funding.outpoint,
        fundingSat: s.fundingSat,
        fundingScript: funding.script,
        fundingScriptPubKey: funding.scriptPubKey,
        fundingTx: funding.tx,
        channelKeyIndex: s.keys.channelKeyIndex,
        local: s.local,
        remote,
        commitmentNumberObscure: commitmentObscure(s, remote),
        minimumDepth: s.minimumDepth,
        createdAtHeight: s.createdAtHeight,
        holderCommitment: c.holder,
        counterpartyCommitment: c.counterparty,
        localShutdownScript: s.localShutdownScript,
      },
    ],
  };
}

/** An HTLC past its deadline, in words (the log, the peer's error, the user). */
export function htlcDeadlineText(r: Extract<ClosureReason, { kind: 'htlc-deadline' }>): string {
  return r.direction === 'offered'
    ? `HTLC ${r.htlcId} we offered expired at block ${r.cltvExpiry} and is still not settled at ${r.height}: it is timed out on chain`
    : `HTLC ${r.htlcId} we fulfilled expires at block ${r.cltvExpiry} and is still not settled at ${r.height}: it is claimed on chain`;
}
