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
  sequence: number;
  /** Witness stack items (a P2WPKH spend: signature, public key). */
  witness: { items: Buffer[] };
}
/** bcoin's CoinView: the coins a transaction spends, from the chain and the mempool. */
export type BcoinCoinView = object;
export interface BcoinTX {
  version: number;
  inputs: BcoinInput[];
  outputs: BcoinOutput[];
  hash(enc: 'hex'): string;
  txid(): string;
  toRaw(): Buffer;
  isCoinbase(): boolean;
  /** Context-free checks (bitcoind's CheckTransaction): [valid, reason, ban score]. */
  checkSanity(): [boolean, string, number];
  /** True when `view` holds every coin the transaction spends. */
  hasCoins(view: BcoinCoinView): boolean;
  getWeight(): number;
  getVirtualSize(): number;
}
/**
 * A mempool transaction with bcoin's bookkeeping. `size` is the sigop-adjusted vsize (bitcoind's
 * GetTxSize); `deltaFee` is the fee after prioritisetransaction (bitcoind's modified fee);
 * `descFee`/`descSize` add up the entry and all its in-mempool descendants.
 */
export interface BcoinMempoolEntry {
  tx: BcoinTX;
  size: number;
  fee: number;
  deltaFee: number;
  descFee: number;
  descSize: number;
  hash(enc: 'hex'): string;
  txid(): string;
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
  /** When set, the ring's address and signatures are P2WPKH. */
  witness: boolean;
  getAddress(): BcoinAddress;
  /** HASH160 of the public key. */
  getKeyHash(): Buffer;
}
export interface BcoinMTX {
  version: number;
  inputs: BcoinInput[];
  outputs: BcoinOutput[];
  /** Spends output `index` of `tx` (the coin joins the MTX's own view, for signing). */
  addTX(tx: BcoinTX, index: number): BcoinInput;
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
/** One transaction of a block template, as the miner selected it. */
export interface BcoinBlockEntry {
  tx: BcoinTX;
  /** Internal-order hex. */
  hash: string;
  fee: number;
  sigops: number;
}
/** bcoin's BlockTemplate: the transactions of the next block and their running totals. */
export interface BcoinBlockTemplate {
  items: BcoinBlockEntry[];
  weight: number;
  sigops: number;
  fees: number;
  coinbaseFlags: Buffer;
  /** Rebuilds the coinbase (reward + fees, witness commitment) and the merkle tree from `items`. */
  refresh(): void;
}
export interface BcoinCPUJob {
  attempt: BcoinBlockTemplate;
  refresh(): void;
  mineAsync(): Promise<BcoinBlock | null>;
}
export interface BcoinRpcResponse {
  result: unknown;
  error: { code: number; message: string } | null;
  id: unknown;
}
export interface BcoinMempool {
  addTX(tx: BcoinTX): Promise<string[] | null>;
  hasEntry(hash: string): boolean;
  getEntry(hash: string): BcoinMempoolEntry | undefined;
  hasOrphan(hash: string): boolean;
  removeOrphan(hash: string): boolean;
  isSpent(hash: string, index: number): boolean;
  /** The mempool entry spending an outpoint, if any. */
  getSpent(hash: string, index: number): BcoinMempoolEntry | undefined;
  /** Coins of the chain and of mempool transactions that `tx` spends (no lock). */
  getCoinView(tx: BcoinTX): Promise<BcoinCoinView>;
  /** In-mempool ancestors of an entry (which need not be in the mempool itself). */
  getAncestors(entry: BcoinMempoolEntry): BcoinMempoolEntry[];
  /** bcoin's contextual checks of an entry: sequence locks, fees, ancestor limit, scripts. */
  verify(entry: BcoinMempoolEntry, view: BcoinCoinView): Promise<void>;
  /** Locktime finality against the tip (bitcoind's "non-final"). */
  verifyFinal(tx: BcoinTX, flags: number): Promise<boolean>;
  /** Removes an entry and its descendants, updating its ancestors' descendant totals. */
  evictEntry(entry: BcoinMempoolEntry): void;
  /** Adds an already verified entry (no checks), updating its ancestors' descendant totals. */
  addEntry(entry: BcoinMempoolEntry, view: BcoinCoinView): Promise<void>;
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
  mempool: BcoinMempool;
  miner: {
    mineBlock?: never;
    /** Fills a template with mempool transactions (parents before children). */
    assemble(attempt: BcoinBlockTemplate): void;
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
  MempoolEntry: { fromTX(tx: BcoinTX, view: BcoinCoinView, height: number): BcoinMempoolEntry };
  blockchain: { common: { lockFlags: { STANDARD_LOCKTIME_FLAGS: number } } };
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
