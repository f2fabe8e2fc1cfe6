/**
 * The forwarding endpoints: setfees — the fees and delta this node asks of forwards, per
 * channel or for all — and forwardinghistory — the HTLCs this node forwarded, in the issue's
 * shape (`{forwards: [{inChannel, outChannel, amountInMsat, amountOutMsat, feeMsat, resolvedAt,
 * status}]}`, with the payment hash, when it was created and a failure's name besides).
 * Amounts are strings of decimal digits; times are seconds since 1970 (null: not resolved yet).
 */
import {
  type ForwardPolicy,
  type InterceptAnswer,
  type InterceptedHtlc,
  interceptedData,
  MIN_CLTV_EXPIRY_DELTA,
} from '@lnkit/node';
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

/** A channel's relay policy as setfees answers it. */
export type FeesRow = { channel: string } & ForwardPolicy;

/** What the daemon uses of the node for forwards (LnkitNode.forwardingHistory, setFees, the interceptor). */
export interface ForwardNode {
  forwardingHistory(opts?: { since?: number }): Promise<{ forwards: ForwardRow[] }>;
  setFees(channel: string, change: Partial<ForwardPolicy>): Promise<FeesRow>;
  listIntercepted(): Promise<InterceptedHtlc[]>;
  resolveIntercepted(id: string, answer: InterceptAnswer): Promise<void>;
}

/** BOLT 7's widths: the fees are u32, cltv_expiry_delta a u16 (and no less than the manager's minimum). */
const U32_MAX = 0xffff_ffff;

export function feesJson(f: FeesRow): Record<string, unknown> {
  return {
    channel: f.channel,
    baseMsat: f.feeBaseMsat,
    ppm: f.feeProportionalMillionths,
    cltvDelta: f.cltvExpiryDelta,
    htlcMinimumMsat: f.htlcMinimumMsat.toString(),
    htlcMaximumMsat: f.htlcMaximumMsat.toString(),
    enabled: f.enabled,
  };
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
  helpers: {
    apiError: ApiErrorOf;
    badParam: (param: string, what: string) => Error;
    intParam: (body: Record<string, unknown>, param: string, min: number, max: number) => number;
    msatParam: (
      body: Record<string, unknown>,
      param: string,
      opts: { min: bigint; required: boolean },
    ) => bigint | undefined;
  },
): Record<string, Record<string, Handler>> {
  const optionalInt = (body: Record<string, unknown>, param: string, min: number, max: number) =>
    body[param] === undefined || body[param] === null ? undefined : helpers.intParam(body, param, min, max);
  return {
    // setfees: {channel: CHANNEL_ID | "all", baseMsat?, ppm?, cltvDelta?, htlcMinimumMsat?, htlcMaximumMsat?}.
    '/v1/setfees': {
      POST: async (body) => {
        const channel = body.channel;
        if (typeof channel !== 'string' || channel === '')
          throw helpers.badParam('channel', 'is required: a channel id (64 hex characters) or all');
        const change = {
          feeBaseMsat: optionalInt(body, 'baseMsat', 0, U32_MAX),
          feeProportionalMillionths: optionalInt(body, 'ppm', 0, U32_MAX),
          cltvExpiryDelta: optionalInt(body, 'cltvDelta', MIN_CLTV_EXPIRY_DELTA, 0xffff),
          htlcMinimumMsat: helpers.msatParam(body, 'htlcMinimumMsat', { min: 0n, required: false }),
          htlcMaximumMsat: helpers.msatParam(body, 'htlcMaximumMsat', { min: 0n, required: false }),
        };
        const given = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
        if (Object.keys(given).length === 0)
          throw helpers.badParam(
            'baseMsat',
            'or ppm, cltvDelta, htlcMinimumMsat, htlcMaximumMsat: give at least one to change',
          );
        try {
          return feesJson(await node.setFees(channel, given));
        } catch (e) {
          throw refusal(e, helpers.apiError);
        }
      },
    },
    // The HTLC interceptor (lnkitd --intercept-forwards): what it holds, and the answer for one.
    '/v1/intercepted': {
      GET: async () => {
        try {
          return { htlcs: (await node.listIntercepted()).map(interceptedData) };
        } catch (e) {
          throw refusal(e, helpers.apiError);
        }
      },
    },
    // resolvehtlc: {id, action: resume | fail | settle, failure? (fail), preimage? (settle, hex)}.
    '/v1/resolvehtlc': {
      POST: async (body) => {
        const { id, action } = body;
        if (typeof id !== 'string' || id === '')
          throw helpers.badParam('id', 'is required: <channel id>:<htlc id>, as /v1/intercepted lists it');
        let answer: InterceptAnswer;
        if (action === 'resume') answer = { action };
        else if (action === 'fail') {
          if (typeof body.failure !== 'string')
            throw helpers.badParam('failure', 'is required to fail: a BOLT 4 failure name');
          answer = { action, failure: body.failure };
        } else if (action === 'settle') {
          if (typeof body.preimage !== 'string')
            throw helpers.badParam('preimage', 'is required to settle: 32 bytes in hex');
          answer = { action, preimage: body.preimage.toLowerCase() };
        } else
          throw helpers.badParam(
            'action',
            `must be resume, fail or settle; got ${JSON.stringify(action).slice(0, 40)}`,
          );
        try {
          await node.resolveIntercepted(id, answer);
          return { id, action };
        } catch (e) {
          throw refusal(e, helpers.apiError);
        }
      },
    },
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
