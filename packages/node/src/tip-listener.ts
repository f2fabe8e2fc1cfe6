/**
 * The node's own chain listener: it remembers the best block it has processed, durably, so a
 * restart resumes from there (synchronizeListeners walks it back if that block was reorged out
 * while the node was down). `best` moves only once the write of the new tip has resolved, so
 * what the node shows (info().blockHeight) is always what a crash would leave on disk.
 */
import type {
  BestBlock,
  BlockData,
  BlockHeaderData,
  BlockSource,
  ChainListener,
  ListenerAtBlock,
} from '@lnkit/chain-sync';
import { type NamedDb, recordDb, type Store } from '@lnkit/store';
import { CHAIN_TIP, chainTipRecord } from './records.ts';

export class TipListener implements ChainListener {
  private constructor(
    private readonly meta: NamedDb<BestBlock>,
    private current: BestBlock,
  ) {}

  /**
   * The tip stored in the data dir, or the source's tip on first start (stored before use).
   * Throws StoreError record-too-new for a tip written by a newer lnkit in a form this one
   * cannot read.
   */
  static async load(store: Store, source: BlockSource): Promise<TipListener> {
    const meta = recordDb(store.db(CHAIN_TIP.db), chainTipRecord);
    const stored = meta.get(CHAIN_TIP.key);
    if (stored) return new TipListener(meta, stored);
    const best = await source.getBestBlock();
    await meta.put(CHAIN_TIP.key, best);
    return new TipListener(meta, best);
  }

  /** The last block whose write is durable. */
  get best(): BestBlock {
    return this.current;
  }

  atBlock(): ListenerAtBlock {
    return { listener: this, bestBlockHash: this.current.hashHex, bestBlockHeight: this.current.height };
  }

  blockConnected(block: BlockData, height: number): Promise<void> {
    return this.moveTo({ hashHex: block.header.hashHex, height });
  }

  blockDisconnected(header: BlockHeaderData, height: number): Promise<void> {
    return this.moveTo({ hashHex: header.prevHashHex, height: height - 1 });
  }

  /** Durable first, then in memory; a failed write leaves both at the previous tip. */
  private async moveTo(next: BestBlock): Promise<void> {
    await this.meta.put(CHAIN_TIP.key, next);
    this.current = next;
  }
}
