/**
 * A minimal bitcoind JSON-RPC client over HTTP: basic auth with rpcuser/rpcpassword, or
 * bitcoind's cookie file (re-read after a 401, since bitcoind writes a new cookie at each start).
 */
import { readFile } from 'node:fs/promises';
import { ChainSyncError, redactUrl } from './errors.ts';

export type RpcAuth = { user: string; password: string } | { cookieFile: string };

export interface RpcClientOptions {
  url: string;
  auth: RpcAuth;
  /** Per-request timeout; a slow node is reported as 'timeout' and retried by callers. */
  timeoutMs?: number;
}

export interface JsonRpc {
  readonly url: string;
  call<T = unknown>(method: string, params?: unknown[]): Promise<T>;
}

export class BitcoindRpcClient implements JsonRpc {
  /** The URL without credentials, safe to log. */
  readonly url: string;
  private readonly endpoint: string;
  private authHeader: string | undefined;
  private nextId = 0;

  constructor(private readonly options: RpcClientOptions) {
    this.url = redactUrl(options.url);
    let u: URL;
    try {
      u = new URL(options.url);
    } catch {
      throw new ChainSyncError('invalid-argument', `not a bitcoind RPC URL: ${this.url}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new ChainSyncError('invalid-argument', `bitcoind RPC URL must be http(s): ${this.url}`);
    }
    u.username = '';
    u.password = '';
    this.endpoint = u.toString();
  }

  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    let res = await this.post(method, params, false);
    if (res.status === 401 && 'cookieFile' in this.options.auth) res = await this.post(method, params, true);
    if (res.status === 401 || res.status === 403) {
      throw new ChainSyncError(
        'unauthorized',
        `bitcoind RPC at ${this.url} rejected the credentials (HTTP ${res.status}); check rpcuser/rpcpassword or the cookie file`,
      );
    }
    let body: { result?: unknown; error?: { code?: number; message?: string } | null };
    try {
      body = JSON.parse(res.text) as typeof body;
    } catch {
      throw new ChainSyncError(
        'bad-response',
        `bitcoind RPC at ${this.url} answered ${method} with HTTP ${res.status} and no JSON`,
      );
    }
    if (body.error) {
      const code = typeof body.error.code === 'number' ? body.error.code : undefined;
      const message = body.error.message ?? 'unknown error';
      // -5 (invalid address or key) is how bitcoind says "block/transaction not found".
      if (code === -5) throw new ChainSyncError('not-found', `${method} at ${this.url}: ${message}`, code);
      throw new ChainSyncError('rpc-error', message, code);
    }
    if (res.status !== 200)
      throw new ChainSyncError('bad-response', `bitcoind RPC at ${this.url} answered HTTP ${res.status}`);
    return body.result as T;
  }

  private async header(refresh: boolean): Promise<string> {
    if (this.authHeader && !refresh) return this.authHeader;
    const auth = this.options.auth;
    let credentials: string;
    if ('cookieFile' in auth) {
      try {
        credentials = (await readFile(auth.cookieFile, 'utf8')).trim();
      } catch (err) {
        throw new ChainSyncError(
          'unauthorized',
          `cannot read the bitcoind cookie file ${auth.cookieFile} for ${this.url}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
    } else {
      credentials = `${auth.user}:${auth.password}`;
    }
    this.authHeader = `Basic ${Buffer.from(credentials).toString('base64')}`;
    return this.authHeader;
  }

  private async post(
    method: string,
    params: unknown[],
    refreshAuth: boolean,
  ): Promise<{ status: number; text: string }> {
    const authorization = await this.header(refreshAuth);
    const body = JSON.stringify({ jsonrpc: '1.0', id: ++this.nextId, method, params });
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      return { status: res.status, text: await res.text() };
    } catch (err) {
      throw networkError(err, this.url, method);
    }
  }
}

/** Maps a fetch failure to 'timeout' or 'unreachable', naming the URL. */
export function networkError(err: unknown, url: string, what: string): ChainSyncError {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new ChainSyncError('timeout', `${what} at ${url} timed out`);
  }
  const code = e?.cause?.code ?? (err as Error)?.message ?? 'error';
  return new ChainSyncError('unreachable', `cannot reach ${url} for ${what}: ${code}`);
}
