/**
 * The REST API, on loopback under /v1/, authenticated by `Authorization: Bearer <token>`.
 * Answers JSON; errors are `{ "error": { "code", "message" } }` with 400 for bad parameters
 * (the message names the parameter), 401 for a missing or wrong token, 404 / 405 for an
 * unknown endpoint or method, 409 when the request cannot apply (e.g. mine off regtest),
 * 502 when a peer could not be reached, 500 otherwise.
 */
import { ECDH, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { decodeInvoice, InvoiceError, invoiceJson } from '@lnkit/invoice';
import type { LnkitNode } from '@lnkit/node';
import { type Logger, toPrometheus } from '@lnkit/runtime';

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

export interface ApiContext {
  node: LnkitNode;
  token: string;
  logger: Logger;
  /** Mines blocks on the embedded regtest chain; absent on any other chain. */
  mine?: (blocks: number) => Promise<string[]>;
}

type Handler = (body: Record<string, unknown>, query: URLSearchParams) => Promise<unknown>;

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

function intParam(body: Record<string, unknown>, param: string, min: number, max: number): number {
  const raw = body[param];
  if (raw === undefined || raw === null)
    throw badParam(param, `is required (a whole number from ${min} to ${max})`);
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw badParam(param, `must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw ?? null)}`);
  }
  return n;
}

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
    '/v1/metrics': {
      GET: async (_b, query) => {
        const snapshots = await node.metrics();
        return query.get('format') === 'prometheus'
          ? new PrometheusText(toPrometheus(snapshots))
          : { actors: snapshots };
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

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new ApiError(413, 'body-too-large', 'request body is over 64 KiB');
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
  if (body instanceof PrometheusText) {
    res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body.text);
    return;
  }
  const json = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(json);
}

export function createApiServer(ctx: ApiContext): Server {
  const table = routes(ctx);
  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      try {
        if (!tokenMatches(req.headers.authorization, ctx.token)) {
          throw new ApiError(
            401,
            'unauthorized',
            'missing or wrong API token (Authorization: Bearer <token from DATADIR/api-token>)',
          );
        }
        const route = table[url.pathname];
        if (!route) throw new ApiError(404, 'not-found', `no endpoint ${url.pathname}`);
        const handler = route[req.method ?? 'GET'];
        if (!handler)
          throw new ApiError(
            405,
            'method-not-allowed',
            `${url.pathname} takes ${Object.keys(route).join(', ')}`,
          );
        const body = req.method === 'POST' ? await readBody(req) : {};
        send(res, 200, await handler(body, url.searchParams));
      } catch (e) {
        if (e instanceof ApiError) {
          send(res, e.status, { error: { code: e.code, message: e.message } });
        } else {
          const err = e as Error & { code?: string };
          ctx.logger.error({ err: err.message, path: url.pathname }, 'API request failed');
          send(res, 500, { error: { code: err.code ?? 'internal', message: err.message } });
        }
      }
    })();
  });
}
