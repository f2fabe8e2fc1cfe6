/**
 * The node's own chain listener: it remembers the best block it has processed, durably,
 * so a restart resumes from there (synchronizeListeners walks it back if that block was
 * reorged out while the node was down).
 */
import type {
  BestBlock,
  BlockData,
  BlockHeaderData,
  BlockSource,
  ChainListener,
  ListenerAtBlock,
} from '@lnkit/chain-sync';
import type { NamedDb, Store } from '@lnkit/store';

const KEY = 'chain-tip';

export class TipListener implements ChainListener {
  private constructor(
    private readonly meta: NamedDb<BestBlock>,
    public best: BestBlock,
  ) {}

  /** The tip stored in the data dir, or the source's tip on first start. */
  static async load(store: Store, source: BlockSource): Promise<TipListener> {
    const meta = store.db<BestBlock>('meta', 'structured');
    const stored = meta.get(KEY);
    if (stored) return new TipListener(meta, stored);
    const best = await source.getBestBlock();
    await meta.put(KEY, best);
    return new TipListener(meta, best);
  }

  atBlock(): ListenerAtBlock {
    return { listener: this, bestBlockHash: this.best.hashHex, bestBlockHeight: this.best.height };
  }

  async connected(hashHex: string, height: number): Promise<void> {
    this.best = { hashHex, height };
    await this.meta.put(KEY, this.best);
  }

  async disconnected(prevHashHex: string, prevHeight: number): Promise<void> {
    this.best = { hashHex: prevHashHex, height: prevHeight };
    await this.meta.put(KEY, this.best);
  }

  blockConnected(block: BlockData, height: number): Promise<void> {
    return this.connected(block.header.hashHex, height);
  }

  blockDisconnected(header: BlockHeaderData, height: number): Promise<void> {
    return this.disconnected(header.prevHashHex, height - 1);
  }
}
