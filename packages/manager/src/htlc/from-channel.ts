/**
 * Where normal operation starts: from a channel in phase `ready` (both channel_ready
 * exchanged), the parameters and the first state of normal.ts. Only reads ChannelState.
 */
import type { ChannelState } from '../channel-state.ts';
import { commitmentObscure } from '../commitments.ts';
import type { HtlcChannelParams } from './build.ts';
import { startNormal } from './normal.ts';
import type { NormalState } from './normal-state.ts';

export function htlcChannelParams(s: ChannelState): HtlcChannelParams {
  const { remote, funding, channelId } = s;
  if (!remote || !funding || !channelId) throw new Error('normal operation before the funding is known');
  return {
    channelId,
    channelType: s.channelType.type,
    isFunder: s.role === 'funder',
    fundingSat: s.fundingSat,
    fundingOutpoint: funding.outpoint,
    local: s.local,
    remote,
    obscuringFactor: commitmentObscure(s, remote),
  };
}

/**
 * The normal-operation state of a channel that just became ready: both at commitment 0, our
 * points 0 and 1 (open/accept and channel_ready), theirs likewise.
 */
export function normalFromChannel(s: ChannelState): NormalState {
  const c = s.commitments;
  const first = s.remoteFirstPerCommitmentPoint;
  const next = s.remoteNextPerCommitmentPoint;
  if (!c || !first || !next) throw new Error('normal operation before both channel_ready');
  return {
    ...startNormal({
      params: htlcChannelParams(s),
      feeratePerKw: c.feeratePerKw,
      toLocalMsat: c.toLocalMsat,
      toRemoteMsat: c.toRemoteMsat,
      holderNumber: c.localCommitmentNumber,
      holderPoint: s.keys.perCommitmentPoints[0],
      holderNextPoint: s.keys.perCommitmentPoints[1],
      counterpartyNumber: c.remoteCommitmentNumber,
      counterpartyPoint: first,
      counterpartyNextPoint: next,
      nextMonitorUpdateId: s.nextMonitorUpdateId,
    }),
    shutdownSent: s.close?.shutdownSent ?? false,
    shutdownReceived: s.close?.remoteScript !== undefined,
  };
}
