/** The default BlockSource: bitcoind's JSON-RPC (getbestblockhash, getblockheader, getblock). */
import {
  type BestBlock,
  type BlockData,
  type BlockHeaderData,
  type BlockSource,
  checkHashHex,
  parseBlock,
  parseHeader,
} from './block-source.ts';
import { ChainSyncError } from './errors.ts';
import { HeaderCache } from './header-cache.ts';
import { BitcoindRpcClient, type JsonRpc, type RpcClientOptions } from './rpc-client.ts';

interface VerboseHeader {
  hash: string;
  height: number;
}

export class RpcBlockSource implements BlockSource {
  readonly rpc: JsonRpc;
  readonly headers = new HeaderCache();

  constructor(rpc: JsonRpc | RpcClientOptions) {
    this.rpc = 'call' in rpc ? rpc : new BitcoindRpcClient(rpc);
  }

  get description(): string {
    return this.rpc.url;
  }

  async getBestBlock(): Promise<BestBlock> {
    const hashHex = checkHashHex(await this.rpc.call<string>('getbestblockhash'));
    const header = await this.getHeader(hashHex);
    return { hashHex, height: header.height };
  }

  async getHeader(hashHex: string): Promise<BlockHeaderData> {
    checkHashHex(hashHex);
    const cached = this.headers.get(hashHex);
    if (cached) return cached;
    // Verbose for the height (the raw header has none), raw for the exact bytes.
    const verbose = await this.rpc.call<VerboseHeader>('getblockheader', [hashHex, true]);
    const rawHex = await this.rpc.call<string>('getblockheader', [hashHex, false]);
    if (typeof verbose?.height !== 'number' || typeof rawHex !== 'string') {
      throw new ChainSyncError(
        'bad-response',
        `getblockheader ${hashHex} at ${this.description}: unexpected answer`,
      );
    }
    const header = parseHeader(Buffer.from(rawHex, 'hex'), verbose.height, hashHex);
    this.headers.set(header);
    return header;
  }

  async getBlock(hashHex: string): Promise<BlockData> {
    const header = await this.getHeader(hashHex);
    // Verbosity 0: the serialized block, parsed here (bitcoind's JSON forms are slower and lossy).
    const rawHex = await this.rpc.call<string>('getblock', [hashHex, 0]);
    if (typeof rawHex !== 'string')
      throw new ChainSyncError('bad-response', `getblock ${hashHex}: expected hex`);
    return parseBlock(Buffer.from(rawHex, 'hex'), header.height, hashHex);
  }
}
