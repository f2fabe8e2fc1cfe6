/**
 * The test chain's HTTP front: bitcoind-style JSON-RPC (HTTP basic auth, user and password both
 * checked, optional cookie) and a bitcoind-compatible REST subset under /rest/. bcoin's own HTTP
 * server checks only the password and has no /rest/ endpoints, so the test chain serves its own
 * and dispatches each call to the in-process node.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RpcErrorCode, TestChainError } from './errors.ts';

export interface RestReply {
  status: number;
  contentType: string;
  body: Uint8Array | string;
}

export interface RpcServerOptions {
  host: string;
  port: number;
  rpcUser: string;
  rpcPassword: string;
  /** Extra accepted credentials, as bitcoind's cookie file (`__cookie__:<hex>`). */
  cookie?: { user: string; password: string };
  call(method: string, params: unknown[]): Promise<unknown>;
  rest(path: string, query: URLSearchParams): Promise<RestReply>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

export class RpcServer {
  private server: Server | undefined;
  private boundPort: number;

  constructor(private readonly options: RpcServerOptions) {
    this.boundPort = options.port;
  }

  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Listens on the configured port (0 = chosen by the OS the first time, then kept for restarts). */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err instanceof Error ? err.message : 'internal error');
      });
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException) =>
        reject(
          new TestChainError(
            RpcErrorCode.miscError,
            `cannot serve JSON-RPC on ${this.options.host}:${this.boundPort}: ${err.code ?? err.message}`,
          ),
        );
      server.once('error', failed);
      server.listen(this.boundPort, this.options.host, () => {
        server.off('error', failed);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes the listener and every open connection (as a stopped bitcoind would). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const ok = (u: string, p: string) => safeEqual(user, u) && safeEqual(password, p);
    if (ok(this.options.rpcUser, this.options.rpcPassword)) return true;
    const cookie = this.options.cookie;
    return cookie !== undefined && ok(cookie.user, cookie.password);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // bitcoind's REST interface is unauthenticated (it is enabled with -rest); JSON-RPC is not.
    if (req.method === 'GET' && url.pathname.startsWith('/rest/')) {
      const reply = await this.options.rest(url.pathname.slice('/rest/'.length), url.searchParams);
      res.writeHead(reply.status, { 'content-type': reply.contentType });
      res.end(reply.body);
      return;
    }
    if (req.method !== 'POST' || (url.pathname !== '/' && !url.pathname.startsWith('/wallet/'))) {
      res.writeHead(404).end();
      return;
    }
    if (!this.authorized(req)) {
      req.resume();
      // bitcoind answers 401 with an empty body and this header.
      res.writeHead(401, { 'www-authenticate': 'Basic realm="jsonrpc"' }).end();
      return;
    }
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      sendJson(res, 500, { result: null, error: { code: -32700, message: 'Parse error' }, id: null });
      return;
    }
    if (Array.isArray(body)) {
      const replies = [];
      for (const one of body) replies.push((await this.callOne(one)).reply);
      sendJson(res, 200, replies);
      return;
    }
    const { status, reply } = await this.callOne(body);
    sendJson(res, status, reply);
  }

  private async callOne(request: unknown): Promise<{ status: number; reply: unknown }> {
    const req = (typeof request === 'object' && request !== null ? request : {}) as Record<string, unknown>;
    const id = req.id ?? null;
    if (typeof req.method !== 'string') {
      return {
        status: 400,
        reply: { result: null, error: { code: -32600, message: 'Invalid Request object' }, id },
      };
    }
    const params = Array.isArray(req.params) ? req.params : [];
    try {
      const result = await this.options.call(req.method, params);
      return { status: 200, reply: { result: result ?? null, error: null, id } };
    } catch (err) {
      const code = err instanceof TestChainError ? err.code : RpcErrorCode.internalError;
      const message = err instanceof Error ? err.message : String(err);
      // bitcoind (JSON-RPC 1.0 mode): 404 for an unknown method, 500 for any other error.
      const status = code === RpcErrorCode.methodNotFound ? 404 : 500;
      return { status, reply: { result: null, error: { code, message }, id } };
    }
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new TestChainError(RpcErrorCode.miscError, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(value)}\n`);
}

/** A fresh cookie as bitcoind writes it: user `__cookie__`, 32 random bytes as hex. */
export function newCookie(): { user: string; password: string } {
  return { user: '__cookie__', password: randomBytes(32).toString('hex') };
}
