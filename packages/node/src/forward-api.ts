/**
 * The node's forwarding calls (node.ts): the history of the HTLCs this node forwarded, from
 * the manager's books (forward/ in @lnkit/manager; lmdb, so it survives a restart), and the
 * fees it charges (setfees), kept there too.
 */
import {
  DEFAULT_FORWARD_POLICY,
  DEFAULT_PEER_FORWARD_LIMITS,
  type ForwardPolicy,
  type ForwardView,
  MIN_CLTV_EXPIRY_DELTA,
  type PolicyChange,
} from '@lnkit/manager';
import { nodeErrorOf } from './channel-api.ts';
import type { NodeContext } from './context.ts';
import { NodeError } from './errors.ts';

export {
  DEFAULT_FORWARD_POLICY,
  DEFAULT_PEER_FORWARD_LIMITS,
  type ForwardPolicy,
  type ForwardView,
  MIN_CLTV_EXPIRY_DELTA,
  type PolicyChange,
};

/**
 * Sets the fees, cltv_expiry_delta or HTLC limits of one channel (its id in hex) or of every
 * channel (`all`, also those opened later); durable when it resolves. Answers the policy now
 * in force for it. A value out of range or an unknown channel is refused, naming it.
 */
export async function setFees(
  ctx: NodeContext,
  channel: string,
  change: PolicyChange,
): Promise<{ channel: string } & ForwardPolicy> {
  if (channel !== 'all' && !/^[0-9a-f]{64}$/.test(channel))
    throw new NodeError(
      'invalid-argument',
      `channel must be a channel id (64 hex characters) or all; got ${JSON.stringify(channel).slice(0, 80)}`,
    );
  try {
    return { channel, ...(await ctx.get('channelManager').ref.setPolicy(channel, change)) };
  } catch (err) {
    throw nodeErrorOf(err);
  }
}

/** Forwards oldest first; `since` (seconds since 1970): those created from then on. */
export async function forwardingHistory(
  ctx: NodeContext,
  opts: { since?: number } = {},
): Promise<{ forwards: ForwardView[] }> {
  const since = opts.since ?? 0;
  if (!Number.isInteger(since) || since < 0)
    throw new NodeError(
      'invalid-argument',
      `since must be a whole number of seconds since 1970; got ${String(since)}`,
    );
  return { forwards: await ctx.get('channelManager').ref.listForwards(since) };
}
