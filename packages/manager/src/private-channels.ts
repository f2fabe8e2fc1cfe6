/**
 * Private channels and the payers who must find us over them (BOLT 7 "channel_update" sent to
 * the peer alone, BOLT 11 `r` fields): the peer's channel_update for its direction of our
 * channel, checked and kept, is what our invoices tell a payer the last hop charges.
 */
import { secp, sha256d } from '@lnkit/crypto';
import type { RouteHint } from '@lnkit/invoice';
import {
  CHANNEL_FLAG_DIRECTION,
  CHANNEL_FLAG_DISABLE,
  channelUpdate,
  channelUpdateSignedBytes,
} from '@lnkit/wire';
import type { ChannelState } from './channel-state.ts';

/** The peer's policy for forwarding to us over one channel, from its latest channel_update. */
export interface PeerPolicy {
  shortChannelId: bigint;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
  htlcMinimumMsat: bigint;
  htlcMaximumMsat: bigint;
  disabled: boolean;
  timestamp: number;
}

/** Invoices carry at most this many hints (a payer tries each; more only lengthens the invoice). */
export const MAX_ROUTE_HINTS = 3;

const channelShortIds = (s: ChannelState): bigint[] =>
  [s.shortChannelId, s.localAlias, s.remoteAlias].filter((x): x is bigint => x !== undefined);

/**
 * The peer's channel_update of a channel we have with it: checked to be for one of the
 * channel's short_channel_ids, in the peer's direction, signed by the peer's node key, and
 * newer than the one kept. Answers the policy, or why it is refused (undefined: not ours).
 */
export function checkPeerUpdate(
  raw: Uint8Array,
  peerNodeId: string,
  localNodeId: Uint8Array,
  channel: ChannelState,
  known: PeerPolicy | undefined,
): { policy: PeerPolicy } | { refused: string } {
  const m = channelUpdate.decode(raw);
  if (!channelShortIds(channel).includes(m.shortChannelId)) return { refused: 'not for this channel' };
  const peer = Uint8Array.from(Buffer.from(peerNodeId, 'hex'));
  // BOLT 7: direction 0 is node_1's, the lesser node id.
  const peerDirection = Buffer.compare(Buffer.from(peer), Buffer.from(localNodeId)) < 0 ? 0 : 1;
  if ((m.channelFlags & CHANNEL_FLAG_DIRECTION) !== peerDirection)
    return { refused: 'the direction is ours, not the peer’s' };
  if (known && m.timestamp <= known.timestamp) return { refused: 'not newer than the one kept' };
  if (!secp.verify(m.signature, sha256d(channelUpdateSignedBytes(raw)), peer))
    return { refused: 'the signature is not the peer’s' };
  return {
    policy: {
      shortChannelId: m.shortChannelId,
      feeBaseMsat: m.feeBaseMsat,
      feeProportionalMillionths: m.feeProportionalMillionths,
      cltvExpiryDelta: m.cltvExpiryDelta,
      htlcMinimumMsat: m.htlcMinimumMsat,
      htlcMaximumMsat: m.htlcMaximumMsat,
      disabled: (m.channelFlags & CHANNEL_FLAG_DISABLE) !== 0,
      timestamp: m.timestamp,
    },
  };
}

/**
 * The `r` fields of our invoices: a hop from the peer over each of our ready private channels
 * whose peer told us its policy (and did not disable it), those with the most the peer can
 * send us first. The channel is named by its real short_channel_id, which both ends forward by.
 */
export function routeHintsOf(
  channels: readonly { state: ChannelState; inboundMsat: bigint }[],
  policies: ReadonlyMap<string, PeerPolicy>,
): RouteHint[] {
  return channels
    .filter(({ state }) => !state.announce && state.phase === 'ready' && state.shortChannelId !== undefined)
    .map(({ state, inboundMsat }) => ({
      state,
      inboundMsat,
      policy: state.channelId && policies.get(Buffer.from(state.channelId).toString('hex')),
    }))
    .filter(
      (c): c is typeof c & { policy: PeerPolicy } => !!c.policy && !c.policy.disabled && c.inboundMsat > 0n,
    )
    .sort((a, b) => (b.inboundMsat > a.inboundMsat ? 1 : b.inboundMsat < a.inboundMsat ? -1 : 0))
    .slice(0, MAX_ROUTE_HINTS)
    .map(({ state, policy }) => [
      {
        nodeId: Uint8Array.from(Buffer.from(state.counterpartyNodeId, 'hex')),
        shortChannelId: state.shortChannelId as bigint,
        feeBaseMsat: policy.feeBaseMsat,
        feeProportionalMillionths: policy.feeProportionalMillionths,
        cltvExpiryDelta: policy.cltvExpiryDelta,
      },
    ]);
}
