/**
 * One channel's state machine (Eclair's Commitments style): `step(state, input)` returns the
 * new state and the effects for the shell to perform, in order. No I/O, no clocks, no
 * signer: signatures, persists, the wallet and the chain come in as inputs, answers to the
 * effects that asked for them. Creating a channel is `openChannel` (funder) or
 * `acceptChannel` (fundee) in establish.ts.
 *
 * Phases: awaiting-accept → awaiting-funding-tx → signing → awaiting-funding-signed →
 * awaiting-persist → awaiting-confirmation → ready (funder); awaiting-funding-created →
 * signing → awaiting-persist → awaiting-confirmation → ready (fundee); then shutdown →
 * negotiating → closing → closed (closing.ts); any → closed on a failure.
 */
import {
  announceIfDue,
  announcementDisconnected,
  onAnnouncementSignatures,
  onAnnouncementSigned,
} from './announcement.ts';
import { describeClosure, failChannel, htlcDeadlineText, peerText } from './channel-effects.ts';
import type { ChannelInput, ChannelMessage, ChannelState, Step } from './channel-state.ts';
import type { PeerFeatures } from './checks.ts';
import {
  onCloseRequested,
  onClosingConfirmed,
  onClosingSignature,
  onClosingSigned,
  onShutdown,
} from './closing.ts';
import type { ChannelConfig } from './config.ts';
import { onBlockConnected, onBlockDisconnected, onChannelReady } from './confirmation.ts';
import {
  onAcceptChannel,
  onCounterpartySigned,
  onFirstUpdatePersisted,
  onFundingBuilt,
  onFundingCreated,
  onFundingSigned,
} from './establish.ts';
import { forceClose, onFundingSpent, onHolderCommitmentSigned } from './force-close.ts';
import { htlcPastDeadline } from './htlc/deadlines.ts';
import type { NormalContext } from './htlc/index.ts';
import { normalOperationStep } from './normal-operation.ts';
import { onChannelReestablish, onPeerConnected, onPeerDisconnectedKept } from './reestablish.ts';

export interface ChannelContext {
  config: ChannelConfig;
  features: PeerFeatures;
  /** The feerate a close the peer starts is aimed at (the fee estimator's, read when needed). */
  readonly closeFeeratePerKw: number;
  /** Normal operation's fee bounds and dust policy (normal-operation.ts has a tolerant default). */
  readonly normal?: NormalContext | undefined;
  /** Our node id: a public channel's announcement is signed for it (without it, none is made). */
  readonly localNodeId?: Uint8Array | undefined;
}

const unchanged = (state: ChannelState): Step => ({ state, effects: [] });
const REMEMBERED = new Set(['awaiting-confirmation', 'ready', 'shutdown', 'negotiating', 'closing']);

export function step(state: ChannelState, input: ChannelInput, ctx: ChannelContext): Step {
  if (state.phase === 'closed') return unchanged(state);
  const r = coreStep(state, input, ctx);
  // A public channel's announcement (a private one's update to the peer) follows from whatever
  // made it due (announcement.ts).
  return announceIfDue(r, ctx.localNodeId);
}

function coreStep(state: ChannelState, input: ChannelInput, ctx: ChannelContext): Step {
  // HTLC messages, commands and their answers: BOLT 2 normal operation (htlc/).
  const normal = normalOperationStep(state, input, ctx.normal);
  if (normal) return normal;
  switch (input.kind) {
    case 'message':
      return onMessage(state, input.message, ctx);
    case 'funding-built':
      if (state.phase !== 'awaiting-funding-tx') return unchanged(state);
      return onFundingBuilt(state, input.tx);
    case 'funding-failed':
      if (state.phase !== 'awaiting-funding-tx') return unchanged(state);
      return failChannel(
        state,
        { kind: 'funding-failed', message: input.message },
        { errorText: 'the funder could not fund the channel' },
      );
    case 'counterparty-commitment-signed':
      if (state.phase !== 'signing') return unchanged(state);
      return onCounterpartySigned(state, input.signature);
    case 'persisted':
      return onPersisted(state, input);
    case 'block-connected':
      return failAtHtlcDeadline(onBlockConnected(state, input.height, input.funding));
    case 'block-disconnected':
      return onBlockDisconnected(state, input.height);
    case 'peer-disconnected':
      return onPeerDisconnected(announcementDisconnected(state));
    case 'announcement-signed':
      return onAnnouncementSigned(state, input.shortChannelId, {
        nodeSignature: input.nodeSignature,
        bitcoinSignature: input.bitcoinSignature,
      });
    case 'peer-connected':
      return onPeerConnected(state);
    case 'close':
      return onCloseRequested(state, input.feeratePerKw, input.scriptPubKey);
    case 'closing-signature':
      return onClosingSignature(state, input.signature);
    case 'closing-confirmed':
      return onClosingConfirmed(state);
    case 'force-close':
      return onForceCloseRequested(state);
    case 'holder-commitment-signed':
      return onHolderCommitmentSigned(state, input.signature);
    case 'funding-spent':
      return onFundingSpent(state, input.txid);
    case 'internal-error':
      return failChannel(
        state,
        { kind: 'internal-error', message: input.message },
        { errorText: 'internal error' },
      );
    // Normal operation's own (normalOperationStep above took them).
    case 'add-htlc':
    case 'fulfill-htlc':
    case 'fail-htlc':
    case 'fail-malformed-htlc':
    case 'update-fee':
    case 'commit':
    case 'commitment-secret-released':
      return unchanged(state);
  }
}

/**
 * BOLT 2: "if an HTLC which it offered [or has fulfilled] is in either node's current
 * commitment transaction, AND is past this [timeout or fulfillment] deadline: SHOULD send an
 * `error` to the [other] peer (if connected). MUST fail the channel." The monitor then settles
 * it on chain: times out the one we offered, claims the one we fulfilled with its preimage.
 */
function failAtHtlcDeadline(r: Step): Step {
  const s = r.state;
  if (!s.normal || s.forceClose || (s.phase !== 'ready' && s.phase !== 'shutdown')) return r;
  const past = htlcPastDeadline(s.normal.ledger, s.bestHeight);
  if (!past) return r;
  const reason = {
    kind: 'htlc-deadline',
    direction: past.htlc.direction,
    htlcId: String(past.htlc.id),
    cltvExpiry: past.htlc.cltvExpiry,
    height: s.bestHeight,
  } as const;
  const failed = failChannel(s, reason, { errorText: htlcDeadlineText(reason) });
  return { state: failed.state, effects: [...r.effects, ...failed.effects] };
}

function onPersisted(state: ChannelState, input: Extract<ChannelInput, { kind: 'persisted' }>): Step {
  const pending = state.pendingPersist;
  // A closing update's answer, or a stale one: nothing waits on it.
  if (!pending || pending.updateId !== input.updateId) return unchanged(state);
  const status = input.status;
  if (status.status === 'in-progress') {
    // The persister will report completion later; until then the channel sends nothing that
    // depends on this update (DESIGN.md: "the channel pauses until it completes").
    return {
      state: { ...state, pendingPersist: { ...pending, inProgress: true } },
      effects: [
        {
          kind: 'log',
          level: 'info',
          message: `monitor update ${pending.updateId} in progress: channel paused`,
        },
      ],
    };
  }
  if (status.status === 'failed')
    return failChannel(
      state,
      { kind: 'persist-failed', message: status.reason },
      { errorText: 'internal error: the channel could not be stored', skipMonitor: true },
    );
  return onFirstUpdatePersisted(state);
}

/** Which phase expects which message; anything else is a protocol violation (or ignored, for the odd ones out). */
function onMessage(state: ChannelState, m: ChannelMessage, ctx: ChannelContext): Step {
  switch (m.kind) {
    case 'error':
      // BOLT 1: "upon receiving error: ... MUST fail the channel referred to by channel_id".
      return failChannel(state, { kind: 'counterparty-error', message: peerText(m.data) });
    case 'warning':
      return {
        state,
        effects: [{ kind: 'log', level: 'warn', message: `the peer sent a warning: ${peerText(m.data)}` }],
      };
    case 'accept_channel':
      if (state.phase !== 'awaiting-accept') return unexpected(state, m.kind);
      return onAcceptChannel(state, m, ctx.config, ctx.features);
    case 'funding_created':
      if (state.phase !== 'awaiting-funding-created') return unexpected(state, m.kind);
      return onFundingCreated(state, m);
    case 'funding_signed':
      if (state.phase !== 'awaiting-funding-signed') return unexpected(state, m.kind);
      return onFundingSigned(state, m);
    case 'channel_ready':
      // BOLT 2: "upon reconnection: MUST ignore any redundant channel_ready it receives".
      if (state.channelReadyReceived && state.phase !== 'ready') return unchanged(state);
      // The funder may see it while its own persist is still in progress (the fundee cannot
      // have seen the funding confirm before we broadcast it, but a peer may trust zero-conf).
      if (
        state.phase !== 'awaiting-confirmation' &&
        state.phase !== 'ready' &&
        state.phase !== 'awaiting-persist'
      )
        return unexpected(state, m.kind);
      return onChannelReady(state, m);
    case 'shutdown':
      return onShutdown(state, m, ctx.features, ctx.closeFeeratePerKw);
    case 'closing_signed':
      return onClosingSigned(state, m);
    case 'channel_reestablish':
      return onChannelReestablish(state, m);
    case 'announcement_signatures':
      return onAnnouncementSignatures(state, m, ctx.localNodeId);
    // Normal operation's (normalOperationStep took them in ready and shutdown).
    case 'update_add_htlc':
    case 'update_fulfill_htlc':
    case 'update_fail_htlc':
    case 'commitment_signed':
    case 'revoke_and_ack':
    case 'update_fee':
    case 'update_fail_malformed_htlc':
      return unexpected(state, m.kind);
  }
}

/**
 * The user's force close: once the funding is out, our commitment (failChannel's force close);
 * before, there is nothing to broadcast and the channel just fails (the funder's coins back).
 * A force close already under way is not started twice.
 */
function onForceCloseRequested(state: ChannelState): Step {
  if (state.forceClose) return unchanged(state);
  const reason = { kind: 'holder-force-closed', commitmentTxid: null } as const;
  const errorText = 'force-closed at the request of its operator';
  if (state.phase === 'closing' && state.close?.closingTxid)
    // A mutual closing transaction is out: ours would only race it. Still, the user asked.
    return forceClose(state, reason, { errorText });
  return failChannel(state, reason, { errorText });
}

function unexpected(state: ChannelState, kind: string): Step {
  return failChannel(
    state,
    { kind: 'protocol-violation', field: kind, message: `${kind} is not expected in phase ${state.phase}` },
    { errorText: `unexpected ${kind}` },
  );
}

/**
 * BOLT 2 (message retransmission): "the funder: MUST remember the channel for reconnection if
 * it has broadcast the funding transaction, otherwise it SHOULD NOT"; "the non-funding node:
 * MUST remember the channel for reconnection if it has sent the funding_signed message,
 * otherwise it SHOULD NOT." The funder's awaiting-persist is kept: the fundee has signed, and
 * the broadcast follows the persist whether or not the peer is connected.
 */
function onPeerDisconnected(state: ChannelState): Step {
  const remembered =
    REMEMBERED.has(state.phase) || (state.role === 'funder' && state.phase === 'awaiting-persist');
  if (remembered) return onPeerDisconnectedKept(state);
  return failChannel(state, { kind: 'disconnected-before-funding' });
}

export { describeClosure };
