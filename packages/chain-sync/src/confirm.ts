/**
 * Confirm (LDK guide step 15, the non-Listen half): consumers told about their own transactions
 * only, not full blocks. ConfirmDriver drives Confirm consumers from the chain events with a
 * WatchedFilter, so the same monitor code runs on a full-block source or a filtered one.
 */
import type { Transaction } from 'bitcoinjs-lib';
import type { BlockHeaderData } from './block-source.ts';
import type { WatchedFilter } from './filter.ts';
import type { ChainEvent } from './poller.ts';

export interface RelevantTxid {
  txidHex: string;
  height: number;
  blockHashHex: string;
}

export interface Confirm {
  /** Relevant transactions of a block on the best chain, with their index in the block. */
  transactionsConfirmed(
    header: BlockHeaderData,
    txdata: [number, Transaction][],
    height: number,
  ): void | Promise<void>;
  /** A transaction previously confirmed is no longer on the best chain (its block was reorged out). */
  transactionUnconfirmed(txidHex: string): void | Promise<void>;
  bestBlockUpdated(header: BlockHeaderData, height: number): void | Promise<void>;
  /** What this consumer believes is confirmed, so a sync can unconfirm what a reorg removed. */
  getRelevantTxids(): RelevantTxid[];
}

export class ConfirmDriver {
  /** Headers of the blocks seen connected, by height, so a disconnect can report the new best block. */
  private readonly headersByHeight = new Map<number, BlockHeaderData>();

  constructor(
    private readonly filter: WatchedFilter,
    private readonly consumers: Confirm[],
  ) {}

  async handle(event: ChainEvent): Promise<void> {
    if (event.type === 'blockConnected') {
      this.headersByHeight.set(event.height, event.header);
      const relevant = this.filter.filterBlock(event.txdata);
      for (const c of this.consumers) {
        if (relevant.length > 0) await c.transactionsConfirmed(event.header, relevant, event.height);
        await c.bestBlockUpdated(event.header, event.height);
      }
    } else if (event.type === 'blockDisconnected') {
      this.headersByHeight.delete(event.height);
      for (const c of this.consumers) {
        for (const r of c.getRelevantTxids()) {
          if (r.blockHashHex === event.header.hashHex) await c.transactionUnconfirmed(r.txidHex);
        }
        // The new best block is the parent; its header is known only if this driver saw it
        // connected. If not (the stream started above it), the connects that follow every
        // disconnect in the stream report the new best block instead.
        const prev = this.headersByHeight.get(event.height - 1);
        if (prev) await c.bestBlockUpdated(prev, prev.height);
      }
    }
  }
}
