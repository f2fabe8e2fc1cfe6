/**
 * The Confirm/Filter path for sources without full blocks (Esplora-like): instead of scanning
 * blocks, ask the source where each registered transaction is (and which transaction spends each
 * registered output), then tell the Confirm consumers
 * in LDK's order: what a reorg unconfirmed, the new best block, then what is newly confirmed.
 */
import type { Logger } from '@lnkit/runtime';
import { Transaction } from 'bitcoinjs-lib';
import {
  type BestBlock,
  type BlockHeaderData,
  type BlockSource,
  checkHashHex,
  displayHex,
} from './block-source.ts';
import type { Confirm } from './confirm.ts';
import { ChainSyncError } from './errors.ts';
import type { WatchedFilter, WatchedOutput } from './filter.ts';
import type { JsonRpc } from './rpc-client.ts';

export type TxStatus =
  | { confirmed: false }
  | { confirmed: true; blockHashHex: string; height: number; txIndex: number; tx: Transaction };

/** What a non-full-block source answers. getHeader/getBestBlock as in BlockSource. */
export interface TxStatusSource extends Pick<BlockSource, 'description' | 'getBestBlock' | 'getHeader'> {
  /** undefined when the source does not know the transaction at all. */
  getTxStatus(txidHex: string): Promise<TxStatus | undefined>;
  /**
   * The txid of the transaction that spends `output` in a block of the active chain, or undefined
   * while it is unspent there (Esplora's `outspend`). Without it, registered outputs are not watched.
   */
  getOutputSpend?(output: WatchedOutput): Promise<string | undefined>;
}

/** TxStatusSource over bitcoind JSON-RPC (needs -txindex for confirmed transactions). */
export class RpcTxStatusSource implements TxStatusSource {
  constructor(
    private readonly rpc: JsonRpc,
    private readonly blocks: BlockSource,
  ) {}

  get description(): string {
    return this.rpc.url;
  }

  getBestBlock(): Promise<BestBlock> {
    return this.blocks.getBestBlock();
  }

  getHeader(hashHex: string): Promise<BlockHeaderData> {
    return this.blocks.getHeader(hashHex);
  }

  async getTxStatus(txidHex: string): Promise<TxStatus | undefined> {
    let answer: { hex?: string; blockhash?: string | null };
    try {
      answer = await this.rpc.call('getrawtransaction', [txidHex, true]);
    } catch (err) {
      if (err instanceof ChainSyncError && err.code === 'not-found') return undefined;
      throw err;
    }
    if (typeof answer !== 'object' || answer === null) {
      throw new ChainSyncError(
        'bad-response',
        `getrawtransaction ${txidHex} at ${this.description}: unexpected answer`,
      );
    }
    if (!answer.blockhash) return { confirmed: false };
    // Only a block on the active chain confirms (bitcoind shows -1 confirmations for a stale one).
    const block = await this.rpc.call<{ confirmations?: unknown; height?: unknown; tx?: unknown } | null>(
      'getblock',
      [answer.blockhash, 1],
    );
    if (
      typeof block?.confirmations !== 'number' ||
      typeof block.height !== 'number' ||
      !Array.isArray(block.tx)
    ) {
      throw new ChainSyncError(
        'bad-response',
        `getblock ${answer.blockhash} at ${this.description}: unexpected answer`,
      );
    }
    if (!(block.confirmations > 0)) return { confirmed: false };
    const txIndex = block.tx.indexOf(txidHex);
    if (txIndex < 0 || typeof answer.hex !== 'string') {
      throw new ChainSyncError('bad-response', `transaction ${txidHex} not in its block ${answer.blockhash}`);
    }
    let tx: Transaction;
    try {
      tx = Transaction.fromHex(answer.hex);
    } catch (err) {
      throw new ChainSyncError(
        'bad-response',
        `transaction ${txidHex} is unparsable: ${(err as Error).message}`,
      );
    }
    // The bytes must be the transaction asked for, or a consumer would act on the wrong one.
    if (tx.getId() !== txidHex) {
      throw new ChainSyncError('bad-response', `getrawtransaction ${txidHex} returned ${tx.getId()}`);
    }
    return { confirmed: true, blockHashHex: answer.blockhash, height: block.height, txIndex, tx };
  }

  async getOutputSpend(output: WatchedOutput): Promise<string | undefined> {
    // Chain only (includemempool false): a spend in the mempool is not a confirmation.
    const unspent = await this.rpc.call<unknown>('gettxout', [output.txidHex, output.vout, false]);
    if (unspent !== null) return undefined;
    const funding = await this.getTxStatus(output.txidHex);
    if (!funding?.confirmed) return undefined;
    return findSpendInBlocks(this.rpc, this.blocks, output, funding.height);
  }
}

/**
 * bitcoind has no spend index: an output that `gettxout` no longer shows as unspent on the chain
 * is looked for in the blocks from its own block to the tip (once; TxStatusSync remembers it).
 */
async function findSpendInBlocks(
  rpc: JsonRpc,
  blocks: BlockSource,
  output: WatchedOutput,
  fromHeight: number,
): Promise<string | undefined> {
  const tipHeight = (await blocks.getBestBlock()).height;
  for (let height = fromHeight; height <= tipHeight; height++) {
    const hashHex = await rpc.call<string>('getblockhash', [height]);
    const block = await blocks.getBlock(checkHashHex(hashHex));
    for (const tx of block.txdata) {
      for (const input of tx.ins) {
        if (input.index === output.vout && displayHex(input.hash) === output.txidHex) return tx.getId();
      }
    }
  }
  return undefined;
}

export interface TxStatusSyncLoopOptions {
  logger: Logger;
  /** Time between rounds (default 1 s). */
  intervalMs?: number;
  /** First retry delay after a failed round, doubled per consecutive failure up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export class TxStatusSync {
  /** The spender found for each registered output (`txid:vout`), followed as a registered tx. */
  private readonly spenders = new Map<string, string>();
  private loop: Promise<void> | undefined;
  private running = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly source: TxStatusSource,
    private readonly filter: WatchedFilter,
    private readonly consumers: Confirm[],
  ) {}

  /**
   * Runs sync() in rounds until stop(). A failed round (source down or slow) is logged with the
   * source's URL and retried with backoff; it never rejects, so it cannot take the node down.
   */
  start(options: TxStatusSyncLoopOptions): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run(options);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(options: TxStatusSyncLoopOptions): Promise<void> {
    let failures = 0;
    const url = this.source.description;
    while (this.running) {
      let delay = options.intervalMs ?? 1000;
      try {
        await this.sync();
        if (failures > 0) options.logger.info({ url, failures }, `transaction status source ${url} is back`);
        failures = 0;
      } catch (err) {
        failures++;
        delay = Math.min(
          options.maxBackoffMs ?? 30_000,
          (options.initialBackoffMs ?? 250) * 2 ** Math.min(failures - 1, 20),
        );
        const code = err instanceof ChainSyncError ? err.code : 'unexpected';
        options.logger.warn(
          { url, code, attempt: failures, retryInMs: delay },
          `transaction status source ${url} failed (${code}): ${(err as Error).message}; retrying in ${delay} ms`,
        );
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** One sync round. Throws on source failure (start() runs rounds and retries them). */
  async sync(): Promise<void> {
    const best = await this.source.getBestBlock();
    const tip = await this.source.getHeader(best.hashHex);
    const statuses = new Map<string, TxStatus | undefined>();
    const statusOf = async (txid: string) => {
      if (!statuses.has(txid)) statuses.set(txid, await this.source.getTxStatus(txid));
      return statuses.get(txid);
    };
    for (const c of this.consumers) {
      for (const r of c.getRelevantTxids()) {
        const s = await statusOf(r.txidHex);
        if (!s?.confirmed || s.blockHashHex !== r.blockHashHex) await c.transactionUnconfirmed(r.txidHex);
      }
    }
    for (const c of this.consumers) await c.bestBlockUpdated(tip, tip.height);
    // A registered output is relevant through the transaction that spends it (LDK's
    // register_output): once found, the spender is followed like a registered transaction.
    const watched = new Set(this.filter.registeredTxids);
    for (const output of this.source.getOutputSpend ? this.filter.registeredOutputs : []) {
      const key = `${output.txidHex}:${output.vout}`;
      let spender = this.spenders.get(key);
      // A spender reorged out may be replaced by another spend: look again.
      if (spender !== undefined && !(await statusOf(spender))?.confirmed) spender = undefined;
      spender ??= await this.source.getOutputSpend?.(output);
      if (spender === undefined) this.spenders.delete(key);
      else {
        this.spenders.set(key, spender);
        watched.add(spender);
      }
    }
    const confirmed: Extract<TxStatus, { confirmed: true }>[] = [];
    for (const txid of watched) {
      const s = await statusOf(txid);
      if (s?.confirmed) confirmed.push(s);
    }
    confirmed.sort((a, b) => a.height - b.height || a.txIndex - b.txIndex);
    for (const c of this.consumers) {
      const known = new Set(c.getRelevantTxids().map((r) => `${r.txidHex}@${r.blockHashHex}`));
      for (const s of confirmed) {
        if (known.has(`${s.tx.getId()}@${s.blockHashHex}`)) continue;
        const header = await this.source.getHeader(s.blockHashHex);
        await c.transactionsConfirmed(header, [[s.txIndex, s.tx]], s.height);
      }
    }
  }
}
