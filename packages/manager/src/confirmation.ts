/**
 * From the funding being out to `ready`: the funding's confirmations from the block stream
 * (reorg-safe: the depth is always the current tip against the block that holds the funding
 * now), channel_ready both ways (BOLT 2 "The channel_ready Message"), and the fundee's
 * 2016-block timeout.
 */
import { bytesEqual, type ChannelReady, shortChannelId } from '@lnkit/wire';
import { failChannel, refuseChannel } from './channel-effects.ts';
import type { ChannelEffect, ChannelState, FundingInBlock, Step } from './channel-state.ts';
import { initialBalancesMsat } from './commitments.ts';
import { FUNDING_TIMEOUT_BLOCKS } from './config.ts';
import { validPoint } from './establish.ts';

/** Confirmations of the funding transaction at the current tip (0 when not in the active chain). */
export function fundingDepth(s: ChannelState): number {
  return s.confirmation ? s.bestHeight - s.confirmation.height + 1 : 0;
}

const watching = (s: ChannelState) => s.phase === 'awaiting-confirmation' || s.phase === 'ready';

export function onBlockConnected(s: ChannelState, height: number, funding: FundingInBlock | undefined): Step {
  let state: ChannelState = { ...s, bestHeight: height };
  // A force close keeps following the funding too: one that never confirms ends it (below).
  if (funding && (watching(s) || s.phase === 'closing')) {
    // BOLT 2 channel_ready: "MUST NOT send channel_ready unless outpoint of given by
    // funding_txid and funding_output_index in the funding_created message pays exactly
    // funding_satoshis to the scriptpubkey specified in BOLT 3."
    const expected = s.funding?.scriptPubKey;
    if (!expected || funding.valueSat !== s.fundingSat || !bytesEqual(funding.scriptPubKey, expected))
      return refuseChannel(state, 'funding transaction', {
        field: 'funding_txid',
        reason: 'the confirmed funding output does not pay funding_satoshis to the 2-of-2 script',
      });
    state = { ...state, confirmation: { height, txIndex: funding.txIndex }, confirmationUnknown: undefined };
  }
  return afterTipMoved(state);
}

export function onBlockDisconnected(s: ChannelState, height: number): Step {
  // The funding's block (or one below it) left the active chain: its transaction is back in
  // the mempool or gone, and is waited for again.
  const confirmation = s.confirmation && s.confirmation.height >= height ? undefined : s.confirmation;
  return afterTipMoved({ ...s, bestHeight: height - 1, confirmation });
}

function afterTipMoved(s: ChannelState): Step {
  if (s.phase === 'closing' && s.forceClose) return forceClosedFundingTimedOut(s);
  if (!watching(s)) return { state: s, effects: [] };
  // Reconfirmed after a reorg, in another block: the real short_channel_id moves with it.
  if (s.channelReadySent)
    return { state: s.confirmation ? { ...s, shortChannelId: realScid(s) } : s, effects: [] };
  if (s.confirmation && fundingDepth(s) >= s.minimumDepth) return sendChannelReady(s);
  // BOLT 2: "A non-funding node (fundee): SHOULD forget the channel if it does not see the
  // correct funding transaction after a timeout of 2016 blocks."
  if (
    s.role === 'fundee' &&
    !s.confirmation &&
    !s.confirmationUnknown &&
    s.bestHeight - s.createdAtHeight >= FUNDING_TIMEOUT_BLOCKS
  )
    return failChannel(
      s,
      { kind: 'funding-timed-out', blocks: FUNDING_TIMEOUT_BLOCKS },
      // Never seen on chain: there is no commitment worth broadcasting.
      {
        errorText: `the funding transaction did not confirm within ${FUNDING_TIMEOUT_BLOCKS} blocks`,
        broadcast: false,
      },
    );
  return { state: s, effects: [] };
}

function realScid(s: ChannelState): bigint | undefined {
  const c = s.confirmation;
  const vout = s.funding?.outpoint.vout;
  return c && vout !== undefined ? shortChannelId(c.height, c.txIndex, vout) : undefined;
}

function sendChannelReady(s: ChannelState): Step {
  const channelId = s.channelId;
  if (!channelId) throw new Error('channel_ready without a channel id');
  const ready: ChannelReady = {
    type: 36,
    kind: 'channel_ready',
    channelId,
    // BOLT 2: "MUST set second_per_commitment_point to the per-commitment point to be used for
    // commitment transaction #1".
    secondPerCommitmentPoint: s.keys.perCommitmentPoints[1],
    // BOLT 2: "if option_scid_alias was negotiated: MUST set short_channel_id alias. otherwise:
    // MAY set". Always set: LDK sends one too, and a peer may route to us by it before the
    // real one is announced. The alias is never the real short_channel_id (the manager picks it).
    shortChannelIdAlias: s.localAlias,
  };
  const state: ChannelState = { ...s, channelReadySent: true, shortChannelId: realScid(s) };
  // Reached while the peer is away: it goes out again after channel_reestablish (reestablish.ts).
  const effects: ChannelEffect[] = s.link === 'connected' ? [{ kind: 'send', message: ready }] : [];
  return becomeReadyIfBoth(state, effects);
}

function becomeReadyIfBoth(s: ChannelState, effects: ChannelEffect[]): Step {
  if (!s.channelReadySent || !s.channelReadyReceived || s.phase === 'ready') return { state: s, effects };
  const channelId = s.channelId;
  const scid = s.shortChannelId;
  if (!channelId || scid === undefined) throw new Error('ready without a channel id or short_channel_id');
  const { toLocalMsat, toRemoteMsat } = initialBalancesMsat(s);
  effects.push({
    kind: 'event',
    event: {
      type: 'ChannelReady',
      channelId,
      counterpartyNodeId: s.counterpartyNodeId,
      channelType: s.channelType,
      shortChannelId: scid,
      localAlias: s.localAlias,
      remoteAlias: s.remoteAlias,
      localBalanceMsat: toLocalMsat,
      remoteBalanceMsat: toRemoteMsat,
    },
  });
  return { state: { ...s, phase: 'ready' }, effects };
}

/** The peer's channel_ready: its next per-commitment point and, if sent, its alias for us. */
export function onChannelReady(s: ChannelState, m: ChannelReady): Step {
  if (!validPoint(m.secondPerCommitmentPoint))
    return refuseChannel(s, 'channel_ready', {
      field: 'second_per_commitment_point',
      reason: 'second_per_commitment_point is not a valid secp256k1 point',
    });
  if (s.phase === 'ready') {
    // BOLT 2: the sender "MAY send multiple channel_ready messages to the same peer with
    // different alias values"; the receiver "MAY use any of the alias it received".
    return {
      state: m.shortChannelIdAlias !== undefined ? { ...s, remoteAlias: m.shortChannelIdAlias } : s,
      effects: [],
    };
  }
  const known = s.remoteNextPerCommitmentPoint;
  if (known && !bytesEqual(known, m.secondPerCommitmentPoint))
    return refuseChannel(s, 'channel_ready', {
      field: 'second_per_commitment_point',
      reason: 'a second channel_ready with another second_per_commitment_point',
    });
  const state: ChannelState = {
    ...s,
    channelReadyReceived: true,
    remoteNextPerCommitmentPoint: m.secondPerCommitmentPoint,
    remoteAlias: m.shortChannelIdAlias ?? s.remoteAlias,
  };
  return becomeReadyIfBoth(state, []);
}

/**
 * A fundee's force close whose funding was never seen in a block: its commitment can never
 * confirm either. After the same 2016 blocks the channel is closed (its monitor keeps
 * watching, and was told to broadcast if the funding ever shows up).
 */
function forceClosedFundingTimedOut(s: ChannelState): Step {
  const channelId = s.channelId;
  if (
    s.role !== 'fundee' ||
    s.confirmation ||
    s.confirmationUnknown ||
    !channelId ||
    s.bestHeight - s.createdAtHeight < FUNDING_TIMEOUT_BLOCKS
  )
    return { state: s, effects: [] };
  const reason = { kind: 'funding-timed-out', blocks: FUNDING_TIMEOUT_BLOCKS } as const;
  return {
    state: { ...s, phase: 'closed', closure: reason },
    effects: [
      {
        kind: 'event',
        event: { type: 'ChannelClosed', channelId, counterpartyNodeId: s.counterpartyNodeId, reason },
      },
    ],
  };
}
