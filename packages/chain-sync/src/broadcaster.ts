/**
 * Broadcaster (LDK guide step 3, BroadcasterInterface): hands transactions to the network and keeps
 * rebroadcasting those not yet confirmed. It is also a ChainListener: a transaction seen in a
 * connected block stops being rebroadcast, and starts again if that block is disconnected.
 */
import type { Logger } from '@lnkit/runtime';
import { Transaction } from 'bitcoinjs-lib';
import type { BlockData, BlockHeaderData } from './block-source.ts';
import { ChainSyncError } from './errors.ts';
import { type IntervalScheduler, timerScheduler } from './interval.ts';
import type { ChainListener } from './listener.ts';
import type { JsonRpc } from './rpc-client.ts';

export type BroadcastResult =
  | { txid: string; accepted: true }
  | { txid: string; accepted: false; rpcCode?: number; reason: string };

export interface Broadcaster {
  broadcastTransactions(txs: Uint8Array[]): Promise<BroadcastResult[]>;
}

export interface BitcoindBroadcasterOptions {
  logger: Logger;
  rebroadcastIntervalMs?: number;
  /** Real timers by default; a test passes its own to run rebroadcast rounds by hand. */
  scheduler?: IntervalScheduler;
}

/** bitcoind's code for "already in the block chain": the transaction is confirmed, stop sending it. */
const RPC_VERIFY_ALREADY_IN_CHAIN = -27;

export class BitcoindBroadcaster implements Broadcaster, ChainListener {
  private readonly pendingTxs = new Map<string, Uint8Array>();
  private readonly confirmedAt = new Map<string, { raw: Uint8Array; height: number }>();
  private rounds: { cancel(): void } | undefined;

  constructor(
    private readonly rpc: JsonRpc,
    private readonly options: BitcoindBroadcasterOptions,
  ) {}

  /** Display-order txids still being rebroadcast. */
  get pending(): string[] {
    return [...this.pendingTxs.keys()];
  }

  async broadcastTransactions(txs: Uint8Array[]): Promise<BroadcastResult[]> {
    const results: BroadcastResult[] = [];
    for (const raw of txs) {
      let txid: string;
      try {
        txid = Transaction.fromBuffer(raw).getId();
      } catch (err) {
        results.push({
          txid: '',
          accepted: false,
          reason: `undecodable transaction: ${(err as Error).message}`,
        });
        continue;
      }
      if (!this.confirmedAt.has(txid)) this.pendingTxs.set(txid, raw);
      results.push(await this.send(txid, raw));
    }
    return results;
  }

  /** Sends every pending transaction again (bitcoind may have dropped it from its mempool). */
  async rebroadcastPending(): Promise<BroadcastResult[]> {
    const results: BroadcastResult[] = [];
    for (const [txid, raw] of this.pendingTxs) results.push(await this.send(txid, raw));
    return results;
  }

  start(): void {
    if (this.rounds) return;
    this.rounds = (this.options.scheduler ?? timerScheduler).every(
      this.options.rebroadcastIntervalMs ?? 60_000,
      async () => void (await this.rebroadcastPending()),
    );
  }

  stop(): void {
    this.rounds?.cancel();
    this.rounds = undefined;
  }

  blockConnected(block: BlockData, height: number): void {
    for (const tx of block.txdata) {
      const txid = tx.getId();
      const raw = this.pendingTxs.get(txid);
      if (!raw) continue;
      this.pendingTxs.delete(txid);
      this.confirmedAt.set(txid, { raw, height });
      this.options.logger.info({ txid, height }, 'broadcast transaction confirmed');
    }
  }

  blockDisconnected(_header: BlockHeaderData, height: number): void {
    for (const [txid, { raw, height: h }] of this.confirmedAt) {
      if (h < height) continue;
      this.confirmedAt.delete(txid);
      this.pendingTxs.set(txid, raw);
    }
  }

  private async send(txid: string, raw: Uint8Array): Promise<BroadcastResult> {
    try {
      const answer = await this.rpc.call<string>('sendrawtransaction', [Buffer.from(raw).toString('hex')]);
      if (answer !== txid)
        this.options.logger.warn({ txid, answer }, 'sendrawtransaction answered another txid');
      return { txid, accepted: true };
    } catch (err) {
      const rpcCode = err instanceof ChainSyncError ? err.rpcCode : undefined;
      const reason = (err as Error).message;
      if (rpcCode === RPC_VERIFY_ALREADY_IN_CHAIN) {
        // Confirmed already; the block stream records it when the block is connected.
        this.pendingTxs.delete(txid);
      }
      // Down or slow is not a rejection: say so, the transaction stays pending and is sent again.
      const transient = err instanceof ChainSyncError && err.transient;
      this.options.logger.warn(
        { txid, rpcCode, url: this.rpc.url, transient },
        transient
          ? `transaction ${txid} not sent, ${this.rpc.url} is unavailable (${reason}); will rebroadcast`
          : `transaction ${txid} rejected by ${this.rpc.url}: ${reason}`,
      );
      return rpcCode === undefined
        ? { txid, accepted: false, reason }
        : { txid, accepted: false, rpcCode, reason };
    }
  }
}
