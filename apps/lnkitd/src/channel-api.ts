/**
 * The channel endpoints: openchannel, listchannels, closechannel. Parameters are parsed strictly
 * (each bad one a 400 naming it); amounts are strings of decimal digits both ways; the node's
 * refusals keep their code, with the status that says whose move it is: 400 for what the caller
 * must change, 404 for a channel the node does not have, 409 for what cannot apply now (a peer
 * not connected, too little in the wallet, a channel the peer refused), 501 for what the node
 * does not do yet, 503 while the node cannot write.
 */
import type { ChannelNode, ChannelView, OpenChannelOptions } from './channel-node.ts';

/** Builds the API's errors; api.ts passes its own in, so there is one ApiError class. */
export type ApiErrorOf = (status: number, code: string, message: string) => Error;

type Body = Record<string, unknown>;

/** Bitcoin's supply cap in sat: no amount above it means anything. */
export const MAX_SAT = 21_000_000n * 100_000_000n;

const CHANNEL_ID = /^[0-9a-f]{64}$/i;
const TYPES = ['anchors', 'static-remotekey'] as const;

const got = (raw: unknown) => JSON.stringify(raw)?.slice(0, 80) ?? String(raw);

/**
 * A whole amount from `min` to `max`: a string of decimal digits (how the API writes amounts) or
 * a JSON number that is a safe integer. Absent: `undefined` unless required.
 */
function amountParam(
  body: Body,
  param: string,
  unit: 'sat' | 'msat',
  opts: { min: bigint; max: bigint; required: boolean },
  fail: (param: string, what: string) => Error,
): bigint | undefined {
  const raw = body[param];
  if (raw === undefined || raw === null) {
    if (opts.required) throw fail(param, `is required: an amount in ${unit}, in decimal digits`);
    return undefined;
  }
  const v =
    typeof raw === 'string' && /^[0-9]{1,19}$/.test(raw)
      ? BigInt(raw)
      : typeof raw === 'number' && Number.isSafeInteger(raw)
        ? BigInt(raw)
        : undefined;
  if (v === undefined || v < opts.min || v > opts.max)
    throw fail(
      param,
      `must be an amount in ${unit} from ${opts.min} to ${opts.max} in decimal digits; got ${got(raw)}`,
    );
  return v;
}

function boolParam(body: Body, param: string, fail: (param: string, what: string) => Error): boolean {
  const raw = body[param];
  if (raw === undefined || raw === null) return false;
  if (typeof raw !== 'boolean') throw fail(param, `must be true or false; got ${got(raw)}`);
  return raw;
}

/** A BOLT 2 channel_id: 32 bytes in hex. */
function channelIdParam(body: Body, fail: (param: string, what: string) => Error): string {
  const raw = body.channelId;
  if (raw === undefined || raw === null)
    throw fail('channelId', 'is required: a channel id (32 bytes in hex, 64 characters; see listchannels)');
  if (typeof raw !== 'string' || !CHANNEL_ID.test(raw))
    throw fail('channelId', `must be 32 bytes in hex (64 characters; see listchannels); got ${got(raw)}`);
  return raw.toLowerCase();
}

/** What openchannel was asked, checked; the node checks the rest (its limits, the peer, the wallet). */
export function parseOpenChannel(
  body: Body,
  nodeIdOf: (body: Body, param: string) => string,
  fail: (param: string, what: string) => Error,
): { nodeId: string; amountSat: bigint; opts: OpenChannelOptions } {
  const nodeId = nodeIdOf(body, 'nodeId');
  const amountSat = amountParam(body, 'amountSat', 'sat', { min: 1n, max: MAX_SAT, required: true }, fail)!;
  // BOLT 2: push_msat must be at most 1000 * funding_satoshis.
  const pushMsat = amountParam(
    body,
    'pushMsat',
    'msat',
    { min: 0n, max: amountSat * 1000n, required: false },
    fail,
  );
  const type = body.type;
  if (type !== undefined && type !== null && !TYPES.includes(type as (typeof TYPES)[number]))
    throw fail('type', `must be ${TYPES.join(' or ')}; got ${got(type)}`);
  const isPublic = body.public === undefined ? undefined : boolParam(body, 'public', fail);
  return {
    nodeId,
    amountSat,
    opts: {
      ...(pushMsat !== undefined ? { pushMsat } : {}),
      ...(typeof type === 'string' ? { type: type as OpenChannelOptions['type'] & string } : {}),
      ...(isPublic !== undefined ? { public: isPublic } : {}),
    },
  };
}

/** The node's refusals by code: [HTTP status, the code the API answers]. */
const NODE_REFUSALS: Record<string, [number, string]> = {
  'invalid-argument': [400, 'invalid-parameter'],
  'peer-not-connected': [409, 'peer-not-connected'],
  'insufficient-funds': [409, 'insufficient-funds'],
  'unknown-channel': [404, 'unknown-channel'],
  // The peer refused the channel, or it failed before its funding went out.
  'channel-failed': [409, 'channel-failed'],
  'not-supported': [501, 'not-supported'],
  'storage-unavailable': [503, 'storage-unavailable'],
  'not-running': [503, 'not-running'],
  // A payment the graph has no route for: the request was fine.
  'no-route': [409, 'no-route'],
  'unknown-htlc': [404, 'unknown-htlc'],
};

/** The node's refusal as the API's error, keeping its message; anything else unchanged (a 500). */
export function refusal(e: unknown, apiError: ApiErrorOf): unknown {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string' || !Object.hasOwn(NODE_REFUSALS, code)) return e;
  const [status, apiCode] = NODE_REFUSALS[code]!;
  return apiError(status, apiCode, (e as Error).message);
}

/** One channel as listchannels answers it: the fields first, then what scripts also want. */
export function channelJson(c: ChannelView): Record<string, unknown> {
  return {
    channelId: c.channelId,
    peer: c.peer,
    state: c.state,
    type: c.type,
    public: c.public,
    capacitySat: c.capacitySat.toString(),
    localBalanceMsat: c.localBalanceMsat.toString(),
    remoteBalanceMsat: c.remoteBalanceMsat.toString(),
    shortChannelId: c.shortChannelId,
    fundingTxid: c.fundingTxid,
    isFunder: c.isFunder,
    confirmations: c.confirmations,
    minimumDepth: c.minimumDepth,
    closingTxid: c.closingTxid,
    closedReason: c.closedReason ?? null,
    ...(c.onchain
      ? {
          onchain: {
            ...c.onchain,
            outputs: c.onchain.outputs.map((o) => ({ ...o, valueSat: o.valueSat.toString() })),
            pendingSweepSat: c.onchain.pendingSweepSat.toString(),
          },
        }
      : {}),
  };
}

type Handler = (body: Body) => Promise<unknown>;

export function channelRoutes(
  node: ChannelNode,
  helpers: {
    apiError: ApiErrorOf;
    badParam: (param: string, what: string) => Error;
    nodeIdParam: (body: Body, param: string) => string;
  },
): Record<string, Record<string, Handler>> {
  const { apiError, badParam } = helpers;
  const refused = (e: unknown) => refusal(e, apiError);
  return {
    '/v1/openchannel': {
      POST: async (body) => {
        const { nodeId, amountSat, opts } = parseOpenChannel(body, helpers.nodeIdParam, badParam);
        if (nodeId === node.nodeId) throw badParam('nodeId', 'is this node itself');
        try {
          const { channelId, fundingTxid } = await node.openChannel(nodeId, amountSat, opts);
          return { channelId, fundingTxid };
        } catch (e) {
          throw refused(e);
        }
      },
    },
    '/v1/listchannels': {
      GET: async () => {
        try {
          return { channels: (await node.listChannels()).map(channelJson) };
        } catch (e) {
          throw refused(e);
        }
      },
    },
    '/v1/closechannel': {
      POST: async (body) => {
        const channelId = channelIdParam(body, badParam);
        const force = boolParam(body, 'force', badParam);
        try {
          const closed = await node.closeChannel(channelId, force ? { force } : {});
          return { channelId: closed.channelId, closingTxid: closed.closingTxid };
        } catch (e) {
          throw refused(e);
        }
      },
    },
  };
}
