/** The default BlockSource: bitcoind's JSON-RPC (getbestblockhash, getblockheader, getblock). */
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
import { ChainSyncError } from './errors.ts';
import { HeaderCache } from './header-cache.ts';
import { BitcoindRpcClient, type JsonRpc, type RpcClientOptions } from './rpc-client.ts';

interface VerboseHeader {
  hash: string;
  height: number;
  version: number;
  previousblockhash?: string;
  merkleroot: string;
  time: number;
  bits: string;
  nonce: number;
}

/**
 * The 80 header bytes rebuilt from getblockheader's verbose fields, saving a second round trip
 * per header; parseHeader then checks they hash to the block's hash, so a wrong field is caught.
 */
function serializeHeader(v: VerboseHeader): Uint8Array | undefined {
  const numbers = [v.version, v.time, v.nonce];
  if (
    numbers.some((n) => typeof n !== 'number') ||
    typeof v.merkleroot !== 'string' ||
    typeof v.bits !== 'string'
  ) {
    return undefined;
  }
  const out = Buffer.alloc(80);
  out.writeInt32LE(v.version, 0);
  if (v.previousblockhash) Buffer.from(v.previousblockhash, 'hex').reverse().copy(out, 4);
  Buffer.from(v.merkleroot, 'hex').reverse().copy(out, 36);
  out.writeUInt32LE(v.time, 68);
  out.writeUInt32LE(Number.parseInt(v.bits, 16), 72);
  out.writeUInt32LE(v.nonce, 76);
  return new Uint8Array(out);
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
    // Verbose for the height (the raw header has none); the bytes are rebuilt from its fields.
    const verbose = await this.rpc.call<VerboseHeader>('getblockheader', [hashHex, true]);
    if (typeof verbose?.height !== 'number') {
      throw new ChainSyncError(
        'bad-response',
        `getblockheader ${hashHex} at ${this.description}: unexpected answer`,
      );
    }
    let raw = serializeHeader(verbose);
    if (!raw) {
      const rawHex = await this.rpc.call<string>('getblockheader', [hashHex, false]);
      if (typeof rawHex !== 'string')
        throw new ChainSyncError('bad-response', `getblockheader ${hashHex}: expected hex`);
      raw = Buffer.from(rawHex, 'hex');
    }
    const header = parseHeader(raw, verbose.height, hashHex);
    this.headers.set(header);
    return header;
  }

  async getBlockHash(height: number): Promise<string> {
    checkHeight(height);
    return checkHashHex(await this.rpc.call<string>('getblockhash', [height]));
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
