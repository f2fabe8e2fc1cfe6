/**
 * BOLT 2 "Message Retransmission" for a channel without HTLCs: after a reconnect each side
 * sends channel_reestablish and nothing else until the other's arrives; then channel_ready is
 * retransmitted when both say next_commitment_number 1, and a shutdown sent before is sent
 * again (the closing negotiation restarts). The payment work extends the commitment checks.
 */
import { bytesEqual, type ChannelReestablish } from '@lnkit/wire';
import { failChannel, refuseChannel } from './channel-effects.ts';
import type { ChannelEffect, ChannelState, Step } from './channel-state.ts';
import { resumeClose } from './closing.ts';
import { hasNormal, normalDisconnected, normalReconnected, normalReestablish } from './normal-operation.ts';

/** Phases in which the channel is remembered across a disconnect and must be reestablished. */
const REESTABLISHED = new Set(['awaiting-confirmation', 'ready', 'shutdown', 'negotiating']);

const ZERO_SECRET = new Uint8Array(32);

function ourReestablish(s: ChannelState): ChannelReestablish {
  const c = s.commitments;
  const channelId = s.channelId;
  if (!c || !channelId) throw new Error('reestablish before the first commitments');
  return {
    type: 136,
    kind: 'channel_reestablish',
    channelId,
    // "MUST set next_commitment_number to the commitment number of the next commitment_signed it expects to receive."
    nextCommitmentNumber: c.localCommitmentNumber + 1n,
    // "MUST set next_revocation_number to the commitment number of the next revoke_and_ack message it expects to receive."
    nextRevocationNumber: c.remoteCommitmentNumber,
    // "if next_revocation_number equals 0: MUST set your_last_per_commitment_secret to all zeroes"
    yourLastPerCommitmentSecret: ZERO_SECRET,
    myCurrentPerCommitmentPoint: s.keys.perCommitmentPoints[0],
  };
}

export function onPeerConnected(s: ChannelState): Step {
  if (!REESTABLISHED.has(s.phase)) return { state: { ...s, link: 'connected' }, effects: [] };
  // With HTLCs moved: the numbers are the ledger's (normal-operation.ts).
  if (hasNormal(s)) {
    const r = normalReconnected(s);
    return { state: { ...r.state, link: 'reestablishing' }, effects: [{ kind: 'send', message: r.message }] };
  }
  // "upon reconnection: MUST transmit channel_reestablish for each channel. MUST wait to
  // receive the other node's channel_reestablish message before sending any other messages for that channel."
  return { state: { ...s, link: 'reestablishing' }, effects: [{ kind: 'send', message: ourReestablish(s) }] };
}

export function onPeerDisconnectedKept(s: ChannelState): Step {
  if (hasNormal(s)) return { state: { ...normalDisconnected(s), link: 'disconnected' }, effects: [] };
  return { state: { ...s, link: 'disconnected' }, effects: [] };
}

export function onChannelReestablish(s: ChannelState, m: ChannelReestablish): Step {
  if (!REESTABLISHED.has(s.phase)) return { state: s, effects: [] };
  if (hasNormal(s)) return onNormalReestablish(s, m);
  const effects: ChannelEffect[] = [];
  // Theirs came first (their reconnect was seen before ours): ours goes now.
  if (s.link !== 'reestablishing') effects.push({ kind: 'send', message: ourReestablish(s) });
  const c = s.commitments;
  if (!c) return { state: s, effects };
  // "if next_commitment_number is zero: MUST immediately fail the channel and broadcast any relevant latest commitment transaction."
  if (m.nextCommitmentNumber === 0n)
    return refuseChannel(s, 'channel_reestablish', {
      field: 'next_commitment_number',
      reason: 'next_commitment_number is 0',
    });
  // "if next_revocation_number is greater than expected above, AND your_last_per_commitment_secret
  // is correct ...: MUST NOT broadcast its commitment transaction. SHOULD send an error" — the peer
  // holds a state newer than ours: we lost data, and our commitment would be a revoked one.
  if (m.nextRevocationNumber > c.localCommitmentNumber)
    return failChannel(
      s,
      {
        kind: 'protocol-violation',
        field: 'next_revocation_number',
        message: 'the peer has a newer state: this node lost data',
      },
      { errorText: 'we are behind: please fail the channel and broadcast your commitment', broadcast: false },
    );
  // "if your_last_per_commitment_secret does not match the expected values: SHOULD send an error
  // and fail the channel." Nothing is revoked yet, so it must be all zeroes.
  if (c.localCommitmentNumber === 0n && !bytesEqual(m.yourLastPerCommitmentSecret, ZERO_SECRET))
    return refuseChannel(s, 'channel_reestablish', {
      field: 'your_last_per_commitment_secret',
      reason: 'your_last_per_commitment_secret is not zero, and nothing was revoked',
    });
  // "if next_commitment_number is not equal to the commitment number of the next
  // commitment_signed that the receiving node would send: SHOULD send an error and fail the channel."
  if (m.nextCommitmentNumber !== c.remoteCommitmentNumber + 1n)
    return refuseChannel(s, 'channel_reestablish', {
      field: 'next_commitment_number',
      reason: `next_commitment_number ${m.nextCommitmentNumber} is not ${c.remoteCommitmentNumber + 1n}`,
    });
  const state: ChannelState = { ...s, link: 'connected' };
  // "if next_commitment_number is 1 in both the channel_reestablish it sent and received ...: MUST retransmit channel_ready."
  if (
    state.channelReadySent &&
    m.nextCommitmentNumber === 1n &&
    c.localCommitmentNumber === 0n &&
    state.channelId
  )
    effects.push({
      kind: 'send',
      message: {
        type: 36,
        kind: 'channel_ready',
        channelId: state.channelId,
        secondPerCommitmentPoint: state.keys.perCommitmentPoints[1],
        shortChannelIdAlias: state.localAlias,
      },
    });
  // "upon reconnection: if it has sent a previous shutdown: MUST retransmit shutdown."
  return resumeClose(state, effects);
}

/**
 * The peer's channel_reestablish once HTLCs moved: the numbers and the secret checked, and what
 * the peer missed retransmitted, by htlc/retransmit.ts; then a shutdown sent before, again.
 */
function onNormalReestablish(s: ChannelState, m: ChannelReestablish): Step {
  const effects: ChannelEffect[] = [];
  let state = s;
  if (s.link !== 'reestablishing') {
    const ours = normalReconnected(s);
    state = ours.state;
    effects.push({ kind: 'send', message: ours.message });
  }
  const r = normalReestablish(state, m);
  if (r.state.phase === 'closed') return { state: r.state, effects: [...effects, ...r.effects] };
  return resumeClose({ ...r.state, link: 'connected' }, [...effects, ...r.effects]);
}
