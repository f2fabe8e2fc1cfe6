/**
 * The funding output check of channel_announcement (BOLT 7: "if the `short_channel_id`'s output
 * does NOT correspond to a P2WSH (using `bitcoin_key_1` and `bitcoin_key_2`, as specified in
 * BOLT #3) OR the output is spent: MUST ignore the message"), and the capacity it gives.
 *
 * `UtxoLookup` is what the gossip code asks: the output a short_channel_id points at. The
 * default, `ChainUtxoLookup`, finds it on a `UtxoSource` — a block source that can also say
 * whether an output is unspent (LDK's `UtxoSource`: `get_block_hash_by_height`, `get_block`,
 * `is_output_unspent`) — with a cache of answers and of the last blocks fetched, since
 * announcements come in short_channel_id order during a sync and many share a block.
 * `rpcUtxoSource` makes one from bitcoind's JSON-RPC (`gettxout` for the spent check).
 */

import {
  type BestBlock,
  type BlockData,
  type BlockSource,
  ChainSyncError,
  type JsonRpc,
} from '@lnkit/chain-sync';
import { sha256 } from '@lnkit/crypto';
import { scidBlock, scidOutputIndex, scidTxIndex } from '@lnkit/wire';
import { compareAt } from './layout.ts';

export type UtxoResult =
  | {
      readonly status: 'unspent';
      readonly scriptPubKey: Uint8Array;
      readonly valueSat: bigint;
      /** The funding transaction id, internal byte order (as a spending input names it). */
      readonly txid: Uint8Array;
      readonly confirmations: number;
    }
  /** The output exists and was spent. */
  | { readonly status: 'spent' }
  /** No such block, transaction or output on the active chain. */
  | { readonly status: 'missing' }
  /** The source could not answer now (down, slow): try again later, decide nothing. */
  | { readonly status: 'unavailable'; readonly reason: string };

export interface UtxoLookup {
  /** Never rejects: a failure of the source is `unavailable`. */
  lookup(shortChannelId: bigint): Promise<UtxoResult>;
}

export interface UtxoSource {
  getBestBlock(): Promise<BestBlock>;
  getBlockHash(height: number): Promise<string>;
  getBlock(hashHex: string): Promise<BlockData>;
  isOutputUnspent(txidHex: string, vout: number): Promise<boolean>;
}

/** BOLT 3 funding output: P2WSH of `2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG`, keys in lexicographic order. */
export function fundingScriptPubKey(key1: Uint8Array, o1: number, key2: Uint8Array, o2: number): Uint8Array {
  const script = new Uint8Array(71);
  const [a, ao, b, bo] = compareAt(key1, o1, key2, o2, 33) <= 0 ? [key1, o1, key2, o2] : [key2, o2, key1, o1];
  script[0] = 0x52; // OP_2
  script[1] = 33;
  script.set(a.subarray(ao, ao + 33), 2);
  script[35] = 33;
  script.set(b.subarray(bo, bo + 33), 36);
  script[69] = 0x52; // OP_2
  script[70] = 0xae; // OP_CHECKMULTISIG
  const out = new Uint8Array(34);
  out[0] = 0x00; // witness v0
  out[1] = 32;
  out.set(sha256(script), 2);
  return out;
}

/** An answer as kept: an unspent output with its block height (its confirmations change). */
type Found =
  | (Omit<Extract<UtxoResult, { status: 'unspent' }>, 'confirmations'> & { readonly height: number })
  | Exclude<UtxoResult, { status: 'unspent' }>;

export interface ChainUtxoLookupOptions {
  /** Answers kept (unspent, spent, missing; never unavailable). Default 20,000. */
  cacheSize?: number;
  /** Blocks kept, by height. Default 4. */
  blockCacheSize?: number;
  /** How long the best block is reused before asking again. Default 10 s. */
  bestBlockMaxAgeMs?: number;
  now?: () => number;
}

/** A map that forgets its oldest entry past `size` (insertion order; a hit moves to the end). */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly size: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as K);
  }
  delete(k: K): void {
    this.map.delete(k);
  }
}

export class ChainUtxoLookup implements UtxoLookup {
  private readonly answers: Lru<bigint, Found>;
  private readonly blocks: Lru<number, Promise<BlockData | undefined>>;
  private readonly inFlight = new Map<bigint, Promise<Found>>();
  private best: { at: number; block: Promise<BestBlock> } | undefined;
  private readonly now: () => number;
  private readonly bestMaxAgeMs: number;
  /** Lookups that reached the source (not answered from the cache). */
  sourceLookups = 0;

  constructor(
    private readonly source: UtxoSource,
    options: ChainUtxoLookupOptions = {},
  ) {
    this.answers = new Lru(options.cacheSize ?? 20_000);
    this.blocks = new Lru(options.blockCacheSize ?? 4);
    this.now = options.now ?? Date.now;
    this.bestMaxAgeMs = options.bestBlockMaxAgeMs ?? 10_000;
  }

  lookup(scid: bigint): Promise<UtxoResult> {
    const cached = this.answers.get(scid);
    if (cached) return this.fresh(cached);
    let pending = this.inFlight.get(scid);
    if (!pending) {
      pending = this.fetch(scid).then(
        (r) => {
          this.inFlight.delete(scid);
          if (r.cacheable) this.answers.set(scid, r.answer);
          return r.answer;
        },
        (e: unknown): Found => {
          this.inFlight.delete(scid);
          return { status: 'unavailable', reason: (e as Error).message };
        },
      );
      this.inFlight.set(scid, pending);
    }
    return pending.then((a) => this.fresh(a));
  }

  /** A cached answer as of now: an unspent output's confirmations count from the current best block. */
  private async fresh(a: Found): Promise<UtxoResult> {
    if (a.status !== 'unspent') return a;
    let best: BestBlock;
    try {
      best = await this.bestBlock();
    } catch (e) {
      return unavailable(e);
    }
    const { height, ...rest } = a;
    return { ...rest, confirmations: best.height - height + 1 };
  }

  /** Forgets what is known of an output (its spend was seen, a reorg happened). */
  forget(scid: bigint): void {
    this.answers.delete(scid);
  }

  private bestBlock(): Promise<BestBlock> {
    const now = this.now();
    if (!this.best || now - this.best.at >= this.bestMaxAgeMs) {
      const block = this.source.getBestBlock();
      this.best = { at: now, block };
      block.catch(() => {
        if (this.best?.block === block) this.best = undefined;
      });
    }
    return this.best.block;
  }

  private block(height: number): Promise<BlockData | undefined> {
    let b = this.blocks.get(height);
    if (!b) {
      b = this.source.getBlockHash(height).then(
        (hash) => this.source.getBlock(hash),
        (e: unknown) => {
          if (
            e instanceof ChainSyncError &&
            (e.code === 'not-found' || (e.code === 'rpc-error' && !e.transient))
          )
            return undefined;
          throw e;
        },
      );
      this.blocks.set(height, b);
      b.catch(() => this.blocks.delete(height));
    }
    return b;
  }

  /** The answer, and whether it may be kept (not when the source was down, nor for a block not yet there). */
  private async fetch(scid: bigint): Promise<{ answer: Found; cacheable: boolean }> {
    this.sourceLookups++;
    const height = scidBlock(scid);
    let best: BestBlock;
    try {
      best = await this.bestBlock();
    } catch (e) {
      return { answer: unavailable(e), cacheable: false };
    }
    if (height > best.height) return { answer: { status: 'missing' }, cacheable: false };
    let block: BlockData | undefined;
    try {
      block = await this.block(height);
    } catch (e) {
      return { answer: unavailable(e), cacheable: false };
    }
    const tx = block?.txdata[scidTxIndex(scid)];
    const out = tx?.outs[scidOutputIndex(scid)];
    if (!tx || !out) return { answer: { status: 'missing' }, cacheable: true };
    let unspent: boolean;
    try {
      unspent = await this.source.isOutputUnspent(tx.getId(), scidOutputIndex(scid));
    } catch (e) {
      return { answer: unavailable(e), cacheable: false };
    }
    if (!unspent) return { answer: { status: 'spent' }, cacheable: true };
    return {
      answer: {
        status: 'unspent',
        scriptPubKey: new Uint8Array(out.script),
        valueSat: BigInt(out.value),
        txid: new Uint8Array(tx.getHash()),
        height,
      },
      cacheable: true,
    };
  }
}

function unavailable(e: unknown): { readonly status: 'unavailable'; readonly reason: string } {
  return { status: 'unavailable', reason: e instanceof Error ? e.message : String(e) };
}

/** A UtxoSource from a block source and bitcoind's JSON-RPC (`gettxout`: null when spent or unknown). */
export function rpcUtxoSource(blocks: BlockSource, rpc: JsonRpc): UtxoSource {
  const getBlockHash =
    blocks.getBlockHash?.bind(blocks) ?? ((height: number) => rpc.call<string>('getblockhash', [height]));
  return {
    getBestBlock: () => blocks.getBestBlock(),
    getBlockHash,
    getBlock: (hash) => blocks.getBlock(hash),
    async isOutputUnspent(txidHex, vout) {
      return (await rpc.call<unknown>('gettxout', [txidHex, vout, true])) !== null;
    },
  };
}
