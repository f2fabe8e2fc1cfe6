/**
 * The node's forwarding calls (node.ts): the history of the HTLCs this node forwarded, from
 * the manager's books (forward/ in @lnkit/manager; lmdb, so it survives a restart).
 */
import { DEFAULT_FORWARD_POLICY, type ForwardView } from '@lnkit/manager';
import type { NodeContext } from './context.ts';
import { NodeError } from './errors.ts';

export { DEFAULT_FORWARD_POLICY, type ForwardView };

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
