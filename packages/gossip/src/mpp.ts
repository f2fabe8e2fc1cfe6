/**
 * Multi-path splitting (route search only: BOLT 4 `basic_mpp` parts, sent by the payment code).
 * Used when no single path admits the whole amount.
 *
 * Greedy, one part at a time, over the same search kernel:
 *   - look for a path for what remains; failing that, for half of it, and so on down to the
 *     smallest part that still lets the rest fit in the parts left (remaining / parts left);
 *   - grow the part to the most its path carries, up to what remains (a path found for half may
 *     carry more);
 *   - count what the part sends over each channel as in flight, so the next searches see only the
 *     capacity left (the kernel checks amount + in flight against the capacity) and the scorer
 *     prices the sum (LDK's ChannelUsage does the same);
 *   - each part may spend the fee budget left in proportion to its share of the amount left,
 *     so the parts' fees together stay within the query's limit.
 */
import type { PreparedQuery } from './default-router.ts';
import { GossipError } from './errors.ts';
import { type FoundPath, forwardingFeeMsat, type PathSearch } from './pathfinder.ts';
import type { Route } from './router.ts';

/**
 * The amount the first hop of `path` carries to deliver `amountMsat`, or NaN if some hop would
 * not take its amount (htlc limits, the capacity left after earlier parts).
 */
export function sentOver(s: PathSearch, path: FoundPath, amountMsat: number): number {
  let amount = amountMsat;
  for (let k = path.edges.length - 1; k >= 0; k--) {
    const e = path.edges[k]!;
    const p = s.policyOf(e);
    if (amount < p.htlcMinimumMsat || amount > p.htlcMaximumMsat || amount + s.inFlight(e) > p.limitMsat)
      return Number.NaN;
    if (k > 0) amount += forwardingFeeMsat(p.feeBaseMsat, p.feeProportionalMillionths, amount);
  }
  return amount;
}

export function splitPayment(
  s: PathSearch,
  q: PreparedQuery,
  routeFor: (path: FoundPath, amountMsat: number) => Route,
): Route[] {
  const parts: Route[] = [];
  let remaining = q.amountMsat;
  let feeLeft = q.maxFeeMsat;
  while (remaining > 0) {
    const slots = q.maxParts - parts.length;
    if (slots === 0) throw unsplittable(q, remaining, parts.length);
    const smallest = Math.ceil(remaining / slots);
    const feeShare = (amount: number) => Math.floor((feeLeft * amount) / remaining);
    let amount = remaining;
    let found = false;
    for (;;) {
      if (s.run(q.payer, q.payee, { ...q.limits, amountMsat: amount, maxFeeMsat: feeShare(amount) })) {
        found = true;
        break;
      }
      if (amount <= smallest) break;
      amount = Math.max(smallest, Math.ceil(amount / 2));
    }
    if (!found) throw unsplittable(q, remaining, parts.length);
    const path = s.pathFrom(q.payer, q.payee);
    const fits = (d: number) => {
      const first = sentOver(s, path, d);
      return !Number.isNaN(first) && first - d <= feeShare(d);
    };
    // The largest amount the path carries, between what was found and what remains.
    let lo = amount;
    let hi = remaining;
    if (fits(hi)) lo = hi;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    const route = routeFor(path, lo);
    parts.push(route);
    route.hops.forEach((hop, k) => {
      s.addInFlight(path.edges[k]!, Number(hop.amountMsat));
    });
    remaining -= lo;
    feeLeft -= Number(route.feeMsat);
  }
  return parts;
}

function unsplittable(q: PreparedQuery, remaining: number, parts: number): GossipError {
  return new GossipError(
    'no-route',
    `no route for ${q.amountMsat} msat in up to ${q.maxParts} parts: ${remaining} msat left to place after ${parts} part(s)`,
  );
}
