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
  INTERCEPT_FAILURES,
  type InterceptedHtlc,
  type InterceptFailure,
  type InterceptResolution,
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
  INTERCEPT_FAILURES,
  type InterceptedHtlc,
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
    const policy = await ctx.get('channelManager').ref.setPolicy(channel, change);
    // Public channels: the network hears of the new policy now (step 19), not at the next refresh.
    await ctx
      .get('announcer')
      .refresh()
      .catch((err: unknown) =>
        ctx.log.warn({ err: (err as Error).message }, 'setfees: the new channel_updates could not be sent'),
      );
    return { channel, ...policy };
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

/** A held HTLC as the event log and the API give it: amounts as decimal strings. */
export function interceptedData(h: InterceptedHtlc): Record<string, string | number> {
  return {
    id: h.id,
    inChannelId: h.inChannelId,
    outShortChannelId: h.outShortChannelId,
    outChannelId: h.outChannelId,
    paymentHash: h.paymentHash,
    amountInMsat: h.amountInMsat.toString(),
    amountOutMsat: h.amountOutMsat.toString(),
    inCltvExpiry: h.inCltvExpiry,
    outCltvExpiry: h.outCltvExpiry,
    expiresAt: h.expiresAt,
  };
}

/** The HTLCs the interceptor holds now (none when it is off). */
export async function listIntercepted(ctx: NodeContext): Promise<InterceptedHtlc[]> {
  return ctx.get('channelManager').ref.listIntercepted();
}

/** What the operator answers for a held HTLC: `preimage` in hex for settle. */
export type InterceptAnswer =
  | { action: 'resume' }
  | { action: 'fail'; failure: string }
  | { action: 'settle'; preimage: string };

export async function resolveIntercepted(
  ctx: NodeContext,
  id: string,
  answer: InterceptAnswer,
): Promise<void> {
  if (!ctx.config.interceptForwards)
    throw new NodeError('invalid-argument', 'the HTLC interceptor is off (NodeConfig.interceptForwards)');
  if (typeof id !== 'string' || !/^[0-9a-f]{64}:[0-9]{1,20}$/.test(id))
    throw new NodeError(
      'invalid-argument',
      `id must be <channel id>:<htlc id>; got ${JSON.stringify(id).slice(0, 90)}`,
    );
  let r: InterceptResolution;
  switch (answer?.action) {
    case 'resume':
      r = { action: 'resume' };
      break;
    case 'fail':
      if (!(INTERCEPT_FAILURES as readonly string[]).includes(answer.failure))
        throw new NodeError(
          'invalid-argument',
          `failure must be one of ${INTERCEPT_FAILURES.join(', ')}; got ${JSON.stringify(answer.failure).slice(0, 60)}`,
        );
      r = { action: 'fail', failure: answer.failure as InterceptFailure };
      break;
    case 'settle':
      if (typeof answer.preimage !== 'string' || !/^[0-9a-f]{64}$/.test(answer.preimage))
        throw new NodeError('invalid-argument', 'preimage must be 32 bytes in hex (64 characters)');
      r = { action: 'settle', preimage: Uint8Array.from(Buffer.from(answer.preimage, 'hex')) };
      break;
    default:
      throw new NodeError('invalid-argument', 'action must be resume, fail or settle');
  }
  try {
    await ctx.get('channelManager').ref.resolveIntercepted(id, r);
  } catch (err) {
    throw nodeErrorOf(err);
  }
}
