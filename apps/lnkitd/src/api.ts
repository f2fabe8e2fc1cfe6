/**
 * The REST API, on loopback under /v1/, authenticated by `Authorization: Bearer <token>`.
 * Answers JSON; errors are `{ "error": { "code", "message" } }` with 400 for bad parameters
 * (the message names the parameter), 401 for a missing or wrong token, 404 / 405 for an
 * unknown endpoint or method, and for what is not there (a node the graph does not know, no
 * route: the router's code, `no-route`, `route-fee-limit`, `route-cltv-limit`; a channel,
 * `unknown-channel`), 409 when the request cannot apply (e.g. mine off regtest, a channel to a
 * peer not connected, too little in the wallet), 502 when a peer could not be reached, 503 while
 * the node cannot write, 500 otherwise. GET /v1/events is a stream of server-sent events.
 *
 * Every request is answered, whatever its target, before any work that needs the token: 400 for
 * a target that is not a path (`//`, `//[`), 408 for a client too slow to send its request, 413
 * for a body over the limit, 431 for headers over it; connections over the cap are closed at
 * once. Client faults are logged once per cause per interval (fault-log.ts), never per request.
 */
import { ECDH, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { decodeInvoice, InvoiceError, invoiceJson } from '@lnkit/invoice';
import {
  DEFAULT_GRAPH_PAGE,
  type GraphPageOptions,
  type LnkitNode,
  nodePrometheus,
  routeJson,
} from '@lnkit/node';
import type { LogFileStats, Logger } from '@lnkit/runtime';
import { channelRoutes } from './channel-api.ts';
import type { ChannelNode } from './channel-node.ts';
import { type EventStreamOptions, EventStreamStart, replayFrom, streamEvents } from './event-stream.ts';
import { type FaultLog, faultLog } from './fault-log.ts';
import { type ForwardNode, forwardRoutes } from './forward-api.ts';
import { type PaymentNode, paymentRoutes } from './payment-api.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const badParam = (param: string, what: string) =>
  new ApiError(400, 'invalid-parameter', `parameter "${param}" ${what}`);

/** What one client may take of the API; each is an lnkitd option (--api-max-connections, ...). */
export interface ApiLimits {
  /** Connections open at once; more are closed unanswered (Node's server.maxConnections). */
  maxConnections: number;
  /** Request line and headers; more is a 431 (Node's maxHeaderSize). */
  maxHeaderBytes: number;
  /** Request body; more is a 413 before (Content-Length) or while it is read. */
  maxBodyBytes: number;
  /** From connecting (or the previous response) to the end of the headers; then 408 and closed. */
  headersTimeoutMs: number;
  /** The whole request, body included (not the time to answer it); then 408 and closed. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

/** A CLI on loopback needs little: these leave room for scripts and stop a flood early. */
export const DEFAULT_API_LIMITS: Readonly<ApiLimits> = Object.freeze({
  maxConnections: 32,
  maxHeaderBytes: 8 * 1024,
  maxBodyBytes: 64 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
});

export interface ApiContext {
  node: LnkitNode;
  token: string;
  logger: Logger;
  /** Mines blocks on the embedded regtest chain (their coinbases to the node's wallet); absent on any other chain. */
  mine?: (blocks: number) => Promise<string[]>;
  /** Defaults: DEFAULT_API_LIMITS. */
  limits?: Partial<ApiLimits>;
  /** How often a cause of client faults may be logged (default 60 s). */
  faultIntervalMs?: number;
  /** The log file's counters (lines dropped on a full disk, rotations), for /v1/metrics. */
  logStats?: () => LogFileStats;
  /** GET /v1/events: heartbeat interval, how much a slow client may leave unread. */
  eventStream?: EventStreamOptions;
}

type Handler = (
  body: Record<string, unknown>,
  query: URLSearchParams,
  req: IncomingMessage,
) => Promise<unknown>;

/** The node's channel API as the daemon reads it (channel-node.ts); checked against LnkitNode here. */
const channelNode = (node: LnkitNode): ChannelNode => node;

const NODE_ID = /^(02|03)[0-9a-f]{64}$/i;

export function parsePeerAddress(
  value: unknown,
  param = 'peer',
): { nodeId: string; host: string; port: number } {
  if (value === undefined || value === null) throw badParam(param, 'is required: NODEID@HOST:PORT');
  if (typeof value !== 'string')
    throw badParam(param, `must be a string NODEID@HOST:PORT; got ${JSON.stringify(value)}`);
  const m = /^([0-9a-fA-F]{66})@(\[[0-9a-fA-F:]+\]|[^:@\s]+):(\d{1,5})$/.exec(value.trim());
  if (!m) throw badParam(param, `must be NODEID@HOST:PORT; got "${value}"`);
  if (!NODE_ID.test(m[1]!))
    throw badParam(param, 'must start with a 33-byte compressed public key (02 or 03 ...)');
  // BOLT 8: the node id is a secp256k1 point; a 66-hex string off the curve would only fail
  // later, in the handshake (or never be noticed behind a refused TCP connection).
  try {
    ECDH.convertKey(m[1]!, 'secp256k1', 'hex', 'hex', 'uncompressed');
  } catch {
    throw badParam(param, 'has a node id that is not a point on secp256k1');
  }
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw badParam(param, `has port ${port}, which is not 1-65535`);
  return { nodeId: m[1]!.toLowerCase(), host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * A whole number from min to max: a JSON number, or a string of decimal digits (the CLI sends
 * what was typed). Never what Number() makes of a string: "0x10" is not 16, nor "1e3" 1000.
 */
export function intParam(body: Record<string, unknown>, param: string, min: number, max: number): number {
  const raw = body[param];
  if (raw === undefined || raw === null)
    throw badParam(param, `is required (a whole number from ${min} to ${max})`);
  const n = typeof raw === 'string' ? (/^[0-9]{1,15}$/.test(raw) ? Number(raw) : Number.NaN) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    const got = JSON.stringify(raw).slice(0, 80);
    throw badParam(param, `must be a whole number from ${min} to ${max} in decimal digits; got ${got}`);
  }
  return n;
}

/** A node id: 33 bytes of hex that are a point on secp256k1 (BOLT 8's static key). */
export function nodeIdParam(body: Record<string, unknown>, param: string): string {
  const raw = body[param];
  if (raw === undefined || raw === null)
    throw badParam(param, 'is required: a 33-byte compressed public key in hex (66 characters)');
  if (typeof raw !== 'string' || !NODE_ID.test(raw))
    throw badParam(
      param,
      `must be a 33-byte compressed public key in hex (02 or 03, 66 characters); got ${JSON.stringify(raw).slice(0, 80)}`,
    );
  try {
    ECDH.convertKey(raw, 'secp256k1', 'hex', 'hex', 'uncompressed');
  } catch {
    throw badParam(param, 'is not a point on secp256k1');
  }
  return raw.toLowerCase();
}

/** The largest amount the router computes exactly (it searches in doubles): 2^53 - 1 msat, about 9 million BTC. */
const MAX_MSAT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An amount in msat from `min` up to 2^53 - 1: a string of decimal digits (how the API writes
 * amounts) or a whole JSON number. Absent: `undefined` unless required.
 */
export function msatParam(
  body: Record<string, unknown>,
  param: string,
  opts: { min: bigint; required: boolean },
): bigint | undefined {
  const raw = body[param];
  if (raw === undefined || raw === null) {
    if (opts.required) throw badParam(param, 'is required: an amount in msat, in decimal digits');
    return undefined;
  }
  const v =
    typeof raw === 'string' && /^[0-9]{1,16}$/.test(raw)
      ? BigInt(raw)
      : typeof raw === 'number' && Number.isSafeInteger(raw)
        ? BigInt(raw)
        : undefined;
  if (v === undefined || v < opts.min || v > MAX_MSAT)
    throw badParam(
      param,
      `must be an amount in msat from ${opts.min} to ${MAX_MSAT} in decimal digits; got ${JSON.stringify(raw).slice(0, 80)}`,
    );
  return v;
}

/** `limit` and `after` of a list's query string: a page of the graph. */
function pageParams(query: URLSearchParams): GraphPageOptions {
  const q = Object.fromEntries(query);
  return {
    limit: q.limit === undefined ? DEFAULT_GRAPH_PAGE : intParam(q, 'limit', 1, 100_000),
    ...(q.after !== undefined ? { after: intParam(q, 'after', 0, 0xffff_ffff) } : {}),
  };
}

/** The router's refusals: the request was fine, no route is (its `code` names why). */
const ROUTE_REFUSALS = new Set(['no-route', 'route-fee-limit', 'route-cltv-limit']);

function routes(ctx: ApiContext): Record<string, Record<string, Handler>> {
  const { node } = ctx;
  return {
    '/v1/getinfo': { GET: () => node.info() },
    '/v1/listpeers': { GET: async () => ({ peers: await node.listPeers() }) },
    '/v1/connect': {
      POST: async (body) => {
        const { nodeId, host, port } = parsePeerAddress(body.peer);
        if (nodeId === node.nodeId) throw badParam('peer', 'is this node itself');
        try {
          return { peer: await node.connect(nodeId, host, port) };
        } catch (e) {
          const err = e as Error & { code?: string };
          throw new ApiError(
            502,
            err.code ?? 'connect-failed',
            `could not connect to ${nodeId}@${host}:${port}: ${err.message}`,
          );
        }
      },
    },
    '/v1/disconnect': {
      POST: async (body) => {
        const nodeId = body.nodeId;
        if (typeof nodeId !== 'string' || !NODE_ID.test(nodeId)) {
          throw badParam('nodeId', 'must be a 33-byte compressed public key in hex (66 characters)');
        }
        return { nodeId: nodeId.toLowerCase(), wasConnected: await node.disconnect(nodeId) };
      },
    },
    '/v1/graphinfo': { GET: () => node.graphInfo() },
    '/v1/listnodes': {
      GET: async (_b, query) => {
        const page = await node.listNodes(pageParams(query));
        return { nodes: page.items, next: page.next };
      },
    },
    '/v1/listgraphchannels': {
      GET: async (_b, query) => {
        const page = await node.listGraphChannels(pageParams(query));
        return { channels: page.items, next: page.next };
      },
    },
    '/v1/getnode': {
      POST: async (body) => {
        const nodeId = nodeIdParam(body, 'nodeId');
        const found = await node.getNode(nodeId);
        if (!found) throw new ApiError(404, 'unknown-node', `node ${nodeId} is not in the network graph`);
        return found;
      },
    },
    '/v1/queryroutes': {
      POST: async (body) => {
        const nodeId = nodeIdParam(body, 'nodeId');
        const amountMsat = msatParam(body, 'amountMsat', { min: 1n, required: true })!;
        const maxFeeMsat = msatParam(body, 'maxFeeMsat', { min: 0n, required: false });
        try {
          const found = await node.queryRoutes(
            nodeId,
            amountMsat,
            maxFeeMsat !== undefined ? { maxFeeMsat } : {},
          );
          return { routes: found.map(routeJson) };
        } catch (e) {
          const err = e as Error & { code?: string };
          if (err.code && ROUTE_REFUSALS.has(err.code)) throw new ApiError(404, err.code, err.message);
          if (err.code === 'invalid-argument') throw new ApiError(400, 'invalid-parameter', err.message);
          throw e;
        }
      },
    },
    '/v1/metrics': {
      GET: async (_b, query) => {
        const metrics = await node.metrics();
        const log = ctx.logStats?.();
        if (query.get('format') !== 'prometheus')
          return {
            ...metrics,
            ...(log ? { log: { droppedLines: log.droppedLines, rotations: log.rotations } } : {}),
          };
        return new PrometheusText(nodePrometheus(metrics) + (log ? logPrometheus(log) : ''));
      },
    },
    '/v1/profile': {
      POST: async (body) => {
        const actor = body.actor;
        const names = node.actorNames();
        if (typeof actor !== 'string' || !names.includes(actor)) {
          throw badParam(
            'actor',
            `must name a running actor (${names.join(', ')}); got ${JSON.stringify(actor ?? null)}`,
          );
        }
        const seconds = intParam(body, 'seconds', 1, 300);
        return node.profile(actor, seconds);
      },
    },
    '/v1/decodeinvoice': {
      POST: async (body) => {
        const text = body.invoice;
        if (text === undefined || text === null || text === '')
          throw badParam('invoice', 'is required: a BOLT 11 invoice (lnbc..., lntb..., lntbs..., lnbcrt...)');
        if (typeof text !== 'string')
          throw badParam('invoice', `must be a string (a BOLT 11 invoice); got ${JSON.stringify(text)}`);
        try {
          return invoiceJson(decodeInvoice(text.trim()));
        } catch (e) {
          // A bad invoice is the caller's input, never a 500: InvoiceError names what is wrong.
          if (e instanceof InvoiceError)
            throw new ApiError(
              400,
              'invalid-invoice',
              `parameter "invoice" is not a valid BOLT 11 invoice: ${e.message}`,
            );
          throw e;
        }
      },
    },
    // Gives out an address durably (the wallet moves to the next one), so it is a POST.
    '/v1/newaddress': { POST: async () => ({ address: await node.newAddress() }) },
    // Amounts are bigints, written as strings (send()).
    '/v1/balance': { GET: async () => node.balance() },
    ...channelRoutes(channelNode(node), {
      apiError: (status, code, message) => new ApiError(status, code, message),
      badParam,
      nodeIdParam,
    }),
    ...paymentRoutes(node satisfies PaymentNode, {
      apiError: (status, code, message) => new ApiError(status, code, message),
      badParam,
      nodeIdParam,
      msatParam,
    }),
    ...forwardRoutes(node satisfies ForwardNode, {
      apiError: (status, code, message) => new ApiError(status, code, message),
      badParam,
      intParam,
      msatParam,
    }),
    // Server-sent events (event-stream.ts): answered by streaming, not by send().
    '/v1/events': {
      GET: async (_b, query, req) =>
        new EventStreamStart(replayFrom(req.headers['last-event-id'], query.get('since'), badParam)),
    },
    '/v1/mine': {
      POST: async (body) => {
        if (!ctx.mine) {
          throw new ApiError(
            409,
            'not-embedded',
            'mine works only on the embedded regtest chain (lnkitd --chain embedded)',
          );
        }
        const blocks = intParam(body, 'blocks', 1, 1000);
        const hashes = await ctx.mine(blocks);
        return { blocks: hashes.length, hashes };
      },
    },
  };
}

function logPrometheus(log: LogFileStats): string {
  return [
    '# HELP lnkit_log_lines_dropped_total Log lines lnkitd.log could not take (a full disk, an I/O error)',
    '# TYPE lnkit_log_lines_dropped_total counter',
    `lnkit_log_lines_dropped_total ${log.droppedLines}`,
    '# HELP lnkit_log_rotations_total Times lnkitd.log was rotated (--log-max-bytes)',
    '# TYPE lnkit_log_rotations_total counter',
    `lnkit_log_rotations_total ${log.rotations}`,
    '',
  ].join('\n');
}

class PrometheusText {
  constructor(readonly text: string) {}
}

function tokenMatches(header: string | undefined, token: string): boolean {
  // RFC 7235: the auth scheme name is case-insensitive.
  const m = /^Bearer (.+)$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!.trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const tooLarge = (maxBytes: number) =>
  new ApiError(413, 'body-too-large', `request body is over ${maxBytes} bytes (--api-max-body-bytes)`);

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid-json', 'request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError(400, 'invalid-json', 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  // A body left unread (an error answered before reading it) is not drained: the connection closes.
  if (!res.req.complete) res.setHeader('connection', 'close');
  if (body instanceof PrometheusText) {
    res.writeHead(status, {
      'content-type': 'text/plain; version=0.0.4',
      'content-length': Buffer.byteLength(body.text),
    });
    res.end(body.text);
    return;
  }
  const json = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/**
 * The path and query of a request target, or null when it is not one this API could serve.
 * Parsed by hand: `new URL('//', base)` throws (it reads `//` as the start of a host).
 */
export function parseTarget(target: string): { path: string; query: URLSearchParams } | null {
  let rest = target;
  // RFC 9112 section 3.2.2: a server must accept the absolute form too.
  if (/^https?:\/\//i.test(rest)) {
    try {
      const url = new URL(rest);
      rest = url.pathname + url.search;
    } catch {
      return null;
    }
  }
  if (!rest.startsWith('/') || rest.startsWith('//')) return null;
  const q = rest.indexOf('?');
  return {
    path: q < 0 ? rest : rest.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : rest.slice(q + 1)),
  };
}

const BAD_TARGET = 'the request target must be a path such as /v1/getinfo';

/** What a request that was never handed to the request handler is answered, by the parser's code. */
function clientErrorStatus(code: string | undefined): { status: number; cause: string; what: string } {
  if (code === 'HPE_HEADER_OVERFLOW')
    return { status: 431, cause: 'header-overflow', what: 'request headers over --api-max-header-bytes' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { status: 408, cause: 'request-timeout', what: 'request not sent in time (--api-*-timeout-ms)' };
  if (code === 'HPE_INVALID_URL') return { status: 400, cause: 'bad-request-target', what: BAD_TARGET };
  return { status: 400, cause: `not-http:${code ?? 'unknown'}`, what: 'not an HTTP/1.1 request' };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

function answerClientError(socket: Socket, status: number, code: string, message: string): void {
  // A response already started on this connection cannot be followed by another one.
  if (socket.writable && socket.bytesWritten === 0) {
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  // A client that never reads or closes must not keep the descriptor.
  setTimeout(() => socket.destroy(), 1000).unref();
}

export function createApiServer(ctx: ApiContext): Server {
  const table = routes(ctx);
  const limits: ApiLimits = { ...DEFAULT_API_LIMITS, ...ctx.limits };
  const faults: FaultLog = faultLog(ctx.logger, { intervalMs: ctx.faultIntervalMs ?? 60_000 });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = parseTarget(req.url ?? '');
    if (!target) {
      faults.fault('bad-request-target', 'warn', 'API requests whose target is not a path (answered 400)');
      throw new ApiError(400, 'bad-request-target', BAD_TARGET);
    }
    if (!tokenMatches(req.headers.authorization, ctx.token)) {
      faults.fault('unauthorized', 'warn', 'API requests without the right token (answered 401)');
      throw new ApiError(
        401,
        'unauthorized',
        'missing or wrong API token (Authorization: Bearer <token from DATADIR/api-token>)',
      );
    }
    const { path, query } = target;
    const route = Object.hasOwn(table, path) ? table[path] : undefined;
    if (!route) throw new ApiError(404, 'not-found', `no endpoint ${JSON.stringify(path.slice(0, 100))}`);
    const method = req.method ?? 'GET';
    const handler = Object.hasOwn(route, method) ? route[method] : undefined;
    if (!handler)
      throw new ApiError(405, 'method-not-allowed', `${path} takes ${Object.keys(route).join(', ')}`);
    let body: Record<string, unknown> = {};
    if (method === 'POST') {
      try {
        body = await readBody(req, limits.maxBodyBytes);
      } catch (e) {
        if (e instanceof ApiError && e.status === 413)
          faults.fault(
            'body-too-large',
            'warn',
            'API requests with a body over --api-max-body-bytes (answered 413)',
          );
        throw e;
      }
    }
    const answer = await handler(body, query, req);
    if (answer instanceof EventStreamStart)
      await streamEvents(res, channelNode(ctx.node).events, answer.afterSeq, ctx.eventStream);
    else send(res, 200, answer);
  };

  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often Node looks for connections past those timeouts (its default is 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        if (e instanceof ApiError) {
          send(res, e.status, { error: { code: e.code, message: e.message } });
          return;
        }
        // The connection, not the request: a request whose body was read to its end is
        // destroyed by then (autoDestroy), and its client is still waiting for the answer.
        if (res.destroyed || req.socket.destroyed) {
          faults.fault('client-gone', 'debug', 'API clients that went away before their answer');
          res.destroy();
          return;
        }
        const err = e as Error & { code?: string };
        const code = typeof err?.code === 'string' ? err.code : 'internal';
        faults.fault(`internal:${code}`, 'error', 'API requests failed', {
          code,
          err: String(err?.message ?? e),
        });
        send(res, 500, { error: { code, message: String(err?.message ?? e) } });
      });
    },
  );
  /** Connections given their last answer by the clientError handler: one per connection. */
  const answered = new WeakSet<Socket>();
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.on('drop', () =>
    faults.fault(
      'too-many-connections',
      'warn',
      'API connections over --api-max-connections (closed unanswered)',
      { maxConnections: limits.maxConnections },
    ),
  );
  // Requests the parser refused before the handler saw them: a bad request line, headers too
  // large, a client too slow. Node's own answer would not be logged or counted.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A client that hangs up in the middle of a request (or after its answer, before the
    // parser's own end) is gone, not sending something other than HTTP.
    if (
      err.code === 'ECONNRESET' ||
      err.code === 'EPIPE' ||
      err.code === 'HPE_INVALID_EOF_STATE' ||
      answered.has(socket)
    ) {
      faults.fault('client-reset', 'debug', 'API connections reset by the client');
      socket.destroy();
      return;
    }
    const { status, cause, what } = clientErrorStatus(err.code);
    faults.fault(cause, 'warn', `API connections closed: ${what} (answered ${status})`);
    answered.add(socket);
    answerClientError(socket, status, cause, what);
  });
  server.on('close', () => faults.close());
  return server;
}
