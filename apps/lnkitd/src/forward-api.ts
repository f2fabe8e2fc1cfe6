/**
 * The forwarding endpoint: forwardinghistory — the HTLCs this node forwarded, in the issue's
 * shape (`{forwards: [{inChannel, outChannel, amountInMsat, amountOutMsat, feeMsat, resolvedAt,
 * status}]}`, with the payment hash, when it was created and a failure's name besides).
 * Amounts are strings of decimal digits; times are seconds since 1970 (null: not resolved yet).
 */
import { type ApiErrorOf, refusal } from './channel-api.ts';

export interface ForwardRow {
  inChannel: string;
  outChannel: string;
  paymentHash: string;
  amountInMsat: bigint;
  amountOutMsat: bigint;
  feeMsat: bigint;
  status: string;
  failure: string | null;
  createdAt: number;
  resolvedAt: number | null;
}

/** What the daemon uses of the node for forwards (LnkitNode.forwardingHistory). */
export interface ForwardNode {
  forwardingHistory(opts?: { since?: number }): Promise<{ forwards: ForwardRow[] }>;
}

/**
 * `since`: seconds since 1970, or a date and time (ISO 8601, e.g. 2026-12-01T14:00:00Z): the
 * forwards created from then on. Absent: all of them.
 */
export function sinceParam(raw: string | null, badParam: (param: string, what: string) => Error): number {
  if (raw === null || raw === '') return 0;
  if (/^[0-9]{1,12}$/.test(raw)) return Number(raw);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms) || ms < 0)
    throw badParam(
      'since',
      `must be seconds since 1970 or a date and time (2026-12-01T14:00:00Z); got ${JSON.stringify(raw).slice(0, 80)}`,
    );
  return Math.floor(ms / 1000);
}

export function forwardJson(f: ForwardRow): Record<string, unknown> {
  return {
    inChannel: f.inChannel,
    outChannel: f.outChannel,
    paymentHash: f.paymentHash,
    amountInMsat: f.amountInMsat.toString(),
    amountOutMsat: f.amountOutMsat.toString(),
    feeMsat: f.feeMsat.toString(),
    status: f.status,
    ...(f.failure !== null ? { failure: f.failure } : {}),
    createdAt: f.createdAt,
    resolvedAt: f.resolvedAt,
  };
}

type Handler = (body: Record<string, unknown>, query: URLSearchParams) => Promise<unknown>;

export function forwardRoutes(
  node: ForwardNode,
  helpers: { apiError: ApiErrorOf; badParam: (param: string, what: string) => Error },
): Record<string, Record<string, Handler>> {
  return {
    '/v1/forwardinghistory': {
      GET: async (_body, query) => {
        const since = sinceParam(query.get('since'), helpers.badParam);
        try {
          const { forwards } = await node.forwardingHistory({ since });
          return { forwards: forwards.map(forwardJson) };
        } catch (e) {
          throw refusal(e, helpers.apiError);
        }
      },
    },
  };
}
