/**
 * BlockSource over bitcoind's REST interface (`-rest`): /rest/chaininfo.json,
 * /rest/headers/1/<hash>.json and .bin, /rest/block/<hash>.bin,
 * /rest/blockhashbyheight/<height>.json. Unauthenticated, as bitcoind's REST.
 */
import {
  type BestBlock,
  type BlockData,
  type BlockHeaderData,
  type BlockSource,
  checkHashHex,
  checkHeight,
  parseBlock,
  parseHeader,
} from './block-source.ts';
import { ChainSyncError, redactUrl } from './errors.ts';
import { HeaderCache } from './header-cache.ts';
import { networkError } from './rpc-client.ts';

export interface RestBlockSourceOptions {
  /** Base URL of the REST interface, e.g. http://127.0.0.1:8332/rest */
  url: string;
  timeoutMs?: number;
}

export class RestBlockSource implements BlockSource {
  readonly description: string;
  readonly headers = new HeaderCache();
  private readonly base: string;

  constructor(private readonly options: RestBlockSourceOptions) {
    this.base = options.url.replace(/\/$/, '');
    this.description = redactUrl(this.base);
  }

  async getBestBlock(): Promise<BestBlock> {
    const info = (await this.getJson('chaininfo.json')) as {
      bestblockhash?: unknown;
      blocks?: unknown;
    } | null;
    if (typeof info?.bestblockhash !== 'string' || typeof info.blocks !== 'number') {
      throw new ChainSyncError('bad-response', `chaininfo at ${this.description}: unexpected answer`);
    }
    return { hashHex: checkHashHex(info.bestblockhash), height: info.blocks };
  }

  async getHeader(hashHex: string): Promise<BlockHeaderData> {
    checkHashHex(hashHex);
    const cached = this.headers.get(hashHex);
    if (cached) return cached;
    const json = await this.getJson(`headers/1/${hashHex}.json`);
    const first = Array.isArray(json) ? (json[0] as { height?: unknown } | undefined) : undefined;
    if (!first || typeof first.height !== 'number') {
      // bitcoind's REST returns [] for a header off the active chain; such headers are only known
      // from the cache (they were seen while they were on it).
      throw new ChainSyncError(
        'not-found',
        `header ${hashHex} not on the active chain at ${this.description}`,
      );
    }
    const raw = await this.get(`headers/1/${hashHex}.bin`);
    const header = parseHeader(raw.subarray(0, 80), first.height, hashHex);
    this.headers.set(header);
    return header;
  }

  async getBlockHash(height: number): Promise<string> {
    checkHeight(height);
    const json = (await this.getJson(`blockhashbyheight/${height}.json`)) as { blockhash?: unknown } | null;
    if (typeof json?.blockhash !== 'string') {
      throw new ChainSyncError('bad-response', `blockhashbyheight at ${this.description}: unexpected answer`);
    }
    return checkHashHex(json.blockhash);
  }

  async getBlock(hashHex: string): Promise<BlockData> {
    const header = await this.getHeader(hashHex);
    return parseBlock(await this.get(`block/${hashHex}.bin`), header.height, hashHex);
  }

  /** A JSON answer; anything unparsable is the source's fault ('bad-response'), never a SyntaxError. */
  private async getJson(path: string): Promise<unknown> {
    const body = await this.get(path);
    try {
      return JSON.parse(new TextDecoder().decode(body)) as unknown;
    } catch {
      throw new ChainSyncError('bad-response', `GET ${path} at ${this.description}: not JSON`);
    }
  }

  private async get(path: string): Promise<Uint8Array> {
    const url = `${this.base}/${path}`;
    let res: Response;
    let body: Uint8Array;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
      // Reading the body is inside the try too: the source may die or stall mid-answer.
      body = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw networkError(err, this.description, `GET ${path}`);
    }
    if (res.status === 404)
      throw new ChainSyncError('not-found', `GET ${path} at ${this.description}: not found`);
    if (res.status === 401 || res.status === 403) {
      throw new ChainSyncError(
        'unauthorized',
        `REST at ${this.description} refused GET ${path} (HTTP ${res.status})`,
      );
    }
    if (res.status !== 200)
      throw new ChainSyncError('bad-response', `GET ${path} at ${this.description}: HTTP ${res.status}`);
    return body;
  }
}
