import type { BlockHeaderData } from './block-source.ts';

/**
 * A bounded cache of headers by display hash. Headers never change for a hash, so entries are
 * only evicted for size (oldest inserted first); stale-fork headers stay until evicted, which is
 * what a reorg walk-back needs.
 */
export class HeaderCache {
  private readonly byHash = new Map<string, BlockHeaderData>();

  constructor(private readonly capacity = 10_000) {}

  get(hashHex: string): BlockHeaderData | undefined {
    return this.byHash.get(hashHex);
  }

  set(header: BlockHeaderData): void {
    if (this.byHash.has(header.hashHex)) return;
    this.byHash.set(header.hashHex, header);
    if (this.byHash.size > this.capacity) {
      const oldest = this.byHash.keys().next().value;
      if (oldest !== undefined) this.byHash.delete(oldest);
    }
  }

  get size(): number {
    return this.byHash.size;
  }
}
