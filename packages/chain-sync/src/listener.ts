/**
 * The Listen side of chain updates (LDK guide steps 10 and 15): what the ChannelManager and each
 * ChannelMonitor implement to receive full blocks, and synchronizeListeners, which brings each of
 * them from its own last block to the source's tip at start-up.
 */
import type { Logger } from '@lnkit/runtime';
import type { BestBlock, BlockData, BlockHeaderData, BlockSource } from './block-source.ts';
import { findChainDifference } from './chain-walk.ts';
import { ChainSyncError } from './errors.ts';

export interface ChainListener {
  blockConnected(block: BlockData, height: number): void | Promise<void>;
  blockDisconnected(header: BlockHeaderData, height: number): void | Promise<void>;
}

export interface ListenerAtBlock {
  listener: ChainListener;
  /** Display-order hex of the last block this listener processed (it may since have been reorged out). */
  bestBlockHash: string;
  bestBlockHeight: number;
}

/**
 * Brings every listener to the source's current tip: each is walked back from its own best block to
 * where that block's chain meets the active chain (disconnecting the stale blocks, highest first),
 * then forward. A block is fetched once and given to every listener that needs it, in chain order.
 * Resolves the tip every listener is now at; start the poller from there.
 */
export async function synchronizeListeners(
  source: BlockSource,
  listeners: ListenerAtBlock[],
  logger?: Logger,
): Promise<BestBlock> {
  const best = await source.getBestBlock();
  const tip = await source.getHeader(best.hashHex);
  const plans: { entry: ListenerAtBlock; forkHeight: number }[] = [];
  for (const entry of listeners) {
    const from = await source.getHeader(entry.bestBlockHash);
    if (from.height !== entry.bestBlockHeight) {
      throw new ChainSyncError(
        'invalid-argument',
        `listener at ${entry.bestBlockHash} says height ${entry.bestBlockHeight}, the source says ${from.height}`,
      );
    }
    const diff = await findChainDifference(source, from, tip);
    for (const header of diff.disconnected) await entry.listener.blockDisconnected(header, header.height);
    if (diff.disconnected.length > 0) {
      logger?.info(
        { fromHeight: from.height, forkHeight: diff.fork.height, disconnected: diff.disconnected.length },
        'listener was on a stale fork: disconnected its blocks back to the fork point',
      );
    }
    plans.push({ entry, forkHeight: diff.fork.height });
  }
  const lowest = Math.min(tip.height, ...plans.map((p) => p.forkHeight));
  // Headers of the active chain from lowest+1 to the tip, walked back from the tip.
  const path: BlockHeaderData[] = [];
  for (let h = tip; h.height > lowest; h = await source.getHeader(h.prevHashHex)) path.push(h);
  path.reverse();
  for (const header of path) {
    const needing = plans.filter((p) => p.forkHeight < header.height);
    if (needing.length === 0) continue;
    const block = await source.getBlock(header.hashHex);
    for (const p of needing) await p.entry.listener.blockConnected(block, header.height);
  }
  logger?.info(
    { height: tip.height, hash: tip.hashHex, listeners: listeners.length },
    'listeners synchronized to the tip',
  );
  return { hashHex: tip.hashHex, height: tip.height };
}
