/**
 * A bitcoind-compatible REST subset (doc/REST-interface.md of Bitcoin Core) over the in-process
 * node, because bcoin's own REST (`/block/:hash`, `/header/:hash`) has other paths and shapes.
 * Served: chaininfo.json, block/<hash>.<bin|hex|json>, headers/<count>/<hash>.<fmt> and
 * headers/<hash>.<fmt>?count=<n>, blockhashbyheight/<height>.<fmt>.
 */
import type { RestReply } from './rpc-server.ts';

export interface RestBackend {
  call(method: string, params: unknown[]): Promise<unknown>;
  /** Display-hex hashes of the active chain from `fromHashHex` on, at most `count`; [] when not on it. */
  activeChainFrom(fromHashHex: string, count: number): Promise<string[]>;
  hashAtHeight(height: number): Promise<string | undefined>;
}

const HASH_HEX = /^[0-9a-f]{64}$/;
const MAX_HEADERS = 2000;

type Format = 'bin' | 'hex' | 'json';

function splitFormat(last: string): { id: string; format: Format } | undefined {
  const dot = last.lastIndexOf('.');
  if (dot < 0) return undefined;
  const format = last.slice(dot + 1);
  if (format !== 'bin' && format !== 'hex' && format !== 'json') return undefined;
  return { id: last.slice(0, dot), format };
}

function text(status: number, body: string): RestReply {
  return { status, contentType: 'text/plain', body: `${body}\r\n` };
}

function reply(format: Format, bytes: Uint8Array, json: unknown): RestReply {
  if (format === 'bin') return { status: 200, contentType: 'application/octet-stream', body: bytes };
  if (format === 'hex')
    return { status: 200, contentType: 'text/plain', body: `${Buffer.from(bytes).toString('hex')}\n` };
  return { status: 200, contentType: 'application/json', body: `${JSON.stringify(json)}\n` };
}

export async function serveRest(
  backend: RestBackend,
  path: string,
  query: URLSearchParams,
): Promise<RestReply> {
  const parts = path.split('/');
  const head = parts[0];
  if (head === 'chaininfo.json' && parts.length === 1) {
    return reply('json', new Uint8Array(), await backend.call('getblockchaininfo', []));
  }
  const last = parts[parts.length - 1] ?? '';
  const split = splitFormat(last);
  if (!split) return text(404, 'output format not found (available: bin, hex, json)');
  const { id, format } = split;

  if (head === 'block' && parts.length === 2) {
    if (!HASH_HEX.test(id)) return text(400, `Invalid hash: ${id}`);
    const hex = await backend.call('getblock', [id, 0]).catch(() => undefined);
    if (typeof hex !== 'string') return text(404, `${id} not found`);
    const json = format === 'json' ? await backend.call('getblock', [id, true]) : undefined;
    return reply(format, Buffer.from(hex, 'hex'), json);
  }

  if (head === 'headers' && (parts.length === 2 || parts.length === 3)) {
    const countText = parts.length === 3 ? parts[1] : (query.get('count') ?? '5');
    const count = Number(countText);
    if (!Number.isInteger(count) || count < 1 || count > MAX_HEADERS) {
      return text(400, `Header count is invalid or out of acceptable range (1-${MAX_HEADERS}): ${countText}`);
    }
    if (!HASH_HEX.test(id)) return text(400, `Invalid hash: ${id}`);
    const hashes = await backend.activeChainFrom(id, count);
    const raw: Buffer[] = [];
    const json: unknown[] = [];
    for (const h of hashes) {
      raw.push(Buffer.from((await backend.call('getblockheader', [h, false])) as string, 'hex'));
      if (format === 'json') json.push(await backend.call('getblockheader', [h, true]));
    }
    return reply(format, Buffer.concat(raw), json);
  }

  if (head === 'blockhashbyheight' && parts.length === 2) {
    const height = Number(id);
    if (!Number.isInteger(height) || height < 0) return text(400, `Invalid height: ${id}`);
    const hashHex = await backend.hashAtHeight(height);
    if (!hashHex) return text(404, 'Block height out of range');
    // .bin is the hash in internal byte order; .hex and .json show it in display order.
    const internal = Buffer.from(hashHex, 'hex').reverse();
    if (format === 'hex') return { status: 200, contentType: 'text/plain', body: `${hashHex}\n` };
    return reply(format, internal, { blockhash: hashHex });
  }

  return text(404, 'not found');
}
