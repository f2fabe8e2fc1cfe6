/**
 * Loads bcoin 1.0.2 (CommonJS, no types) and describes the small part of it the test chain uses.
 * bcoin's native helpers are not built in this workspace, so it must see NODE_BACKEND=js before
 * it is first required: that is why it is loaded lazily, after the variable is set.
 */
import { createRequire } from 'node:module';

export interface BcoinScript {
  toRaw(): Buffer;
  equals(other: BcoinScript): boolean;
}
export interface BcoinAddress {
  toString(network?: string): string;
}
export interface BcoinOutput {
  value: number;
  script: BcoinScript;
}
/** bcoin 1.0.2 keys everything by hash hex in internal byte order (`hash('hex')`). */
export interface BcoinOutpoint {
  hash: string;
  index: number;
}
export interface BcoinInput {
  prevout: BcoinOutpoint;
}
export interface BcoinTX {
  inputs: BcoinInput[];
  outputs: BcoinOutput[];
  hash(enc: 'hex'): string;
  txid(): string;
  toRaw(): Buffer;
  isCoinbase(): boolean;
}
export interface BcoinCoin {
  hash: string;
  index: number;
  height: number;
  value: number;
  coinbase: boolean;
}
export interface BcoinBlock {
  txs: BcoinTX[];
  hash(enc: 'hex'): string;
  rhash(): string;
}
export interface BcoinChainEntry {
  hash: string;
  height: number;
  nonce: number;
  rhash(): string;
}
export interface BcoinKeyRing {
  getAddress(): BcoinAddress;
}
export interface BcoinMTX {
  outputs: BcoinOutput[];
  addOutput(script: BcoinScript, value: number): void;
  fund(coins: BcoinCoin[], options: { changeAddress: BcoinAddress; rate: number }): Promise<unknown>;
  sign(ring: BcoinKeyRing): number;
  toTX(): BcoinTX;
}
export interface BcoinVerifyError extends Error {
  type: string;
  code: string;
  reason: string;
  score: number;
}
export interface BcoinCPUJob {
  attempt: { items: unknown[]; fees: number; coinbaseFlags: Buffer };
  refresh(): void;
  mineAsync(): Promise<BcoinBlock | null>;
}
export interface BcoinRpcResponse {
  result: unknown;
  error: { code: number; message: string } | null;
  id: unknown;
}
export interface BcoinFullNode {
  network: { type: string };
  /** Creates the folders of an on-disk node (prefix). */
  ensure(): Promise<void>;
  chain: {
    height: number;
    tip: BcoinChainEntry;
    add(block: BcoinBlock): Promise<BcoinChainEntry | null>;
    getEntry(hashOrHeight: string | number): Promise<BcoinChainEntry | null>;
    isMainChain(entry: BcoinChainEntry): Promise<boolean>;
    getRawBlock(hash: string): Promise<Buffer | null>;
    getBlock(hash: string): Promise<BcoinBlock | null>;
  };
  mempool: {
    addTX(tx: BcoinTX): Promise<string[] | null>;
    hasEntry(hash: string): boolean;
    hasOrphan(hash: string): boolean;
    removeOrphan(hash: string): boolean;
    isSpent(hash: string, index: number): boolean;
  };
  miner: {
    mineBlock?: never;
    cpu: {
      mineBlock(tip: null, address: BcoinAddress): Promise<BcoinBlock>;
      createJob(tip: BcoinChainEntry, address: BcoinAddress): Promise<BcoinCPUJob>;
    };
  };
  fees: { estimateFee(blocks: number, smart: boolean): number } | null;
  rpc: {
    calls: Record<string, (params: unknown[], help: boolean) => Promise<unknown>>;
    call(body: unknown, query: unknown): Promise<BcoinRpcResponse | BcoinRpcResponse[]>;
  };
  http: { open(): Promise<void>; close(): Promise<void> };
  getCoin(hash: string, index: number): Promise<BcoinCoin | null>;
  open(): Promise<void>;
  close(): Promise<void>;
}

export interface BcoinModule {
  FullNode: new (options: Record<string, unknown>) => BcoinFullNode;
  KeyRing: { generate(compressed?: boolean): BcoinKeyRing };
  MTX: new () => BcoinMTX;
  TX: { fromRaw(raw: Buffer): BcoinTX };
  Coin: { fromTX(tx: BcoinTX, index: number, height: number): BcoinCoin };
  Script: { fromRaw(raw: Buffer): BcoinScript };
  Address: { fromScript(script: BcoinScript): BcoinAddress | null };
}

let loaded: BcoinModule | undefined;

export function loadBcoin(): BcoinModule {
  if (loaded) return loaded;
  // bcoin picks its crypto backend when first required; the native one is not built here.
  process.env.NODE_BACKEND ??= 'js';
  const require = createRequire(import.meta.url);
  loaded = require('bcoin') as BcoinModule;
  return loaded;
}
