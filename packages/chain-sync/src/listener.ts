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
  /**
   * Optional: the poller's progress, fed by subscribeListener in stream order, so it comes only
   * after this listener has handled every block before it (`synced` then means this listener
   * is at the tip). synchronizeListeners does not call it.
   */
  syncProgress?(progress: SyncProgress): void | Promise<void>;
}

export interface SyncProgress {
  /** The height of the last block the stream gave. */
  height: number;
  tipHeight: number;
  synced: boolean;
}

export interface ListenerAtBlock {
  listener: ChainListener;
  /** Display-order hex of the last block this listener processed (it may since have been reorged out). */
  bestBlockHash: string;
  bestBlockHeight: number;
}

export interface SynchronizeOptions {
  /**
   * Retries while the source is down or slow (transient errors), with the delay doubling from
   * initialBackoffMs to maxBackoffMs; a definite error (bad credentials, unknown block) is thrown
   * at once. Default: 250 ms to 30 s, for ever (the node waits for its chain before it starts).
   */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Give up after this many consecutive failures (default: never). */
  maxAttempts?: number;
}

/**
 * Brings every listener to the source's current tip: each is walked back from its own best block to
 * where that block's chain meets the active chain (disconnecting the stale blocks, highest first),
 * then forward. A block is fetched once and given to every listener that needs it, in chain order.
 * Resolves the tip every listener is now at; start the poller from there.
 *
 * Each listener's position is tracked block by block, so when the source fails part-way the
 * retry continues from where each listener is: no block is given twice or skipped.
 */
export async function synchronizeListeners(
  source: BlockSource,
  listeners: ListenerAtBlock[],
  logger?: Logger,
  options: SynchronizeOptions = {},
): Promise<BestBlock> {
  const positions = listeners.map((entry) => ({
    listener: entry.listener,
    hashHex: entry.bestBlockHash,
    height: entry.bestBlockHeight,
    checked: false,
  }));
  for (let attempt = 1; ; attempt++) {
    try {
      return await synchronizeOnce(source, positions, logger);
    } catch (err) {
      const transient = err instanceof ChainSyncError && err.transient;
      if (!transient || (options.maxAttempts !== undefined && attempt >= options.maxAttempts)) throw err;
      const delay = Math.min(
        options.maxBackoffMs ?? 30_000,
        (options.initialBackoffMs ?? 250) * 2 ** Math.min(attempt - 1, 20),
      );
      logger?.warn(
        { url: source.description, code: err.code, attempt, retryInMs: delay },
        `block source ${source.description} failed (${err.code}) while synchronizing listeners: ${err.message}; retrying in ${delay} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

interface Position {
  listener: ChainListener;
  hashHex: string;
  height: number;
  /** The caller's height was checked against the source (once, on the first attempt that got there). */
  checked: boolean;
}

async function synchronizeOnce(
  source: BlockSource,
  positions: Position[],
  logger: Logger | undefined,
): Promise<BestBlock> {
  const best = await source.getBestBlock();
  const tip = await source.getHeader(best.hashHex);
  const plans: { at: Position; forkHeight: number }[] = [];
  for (const at of positions) {
    const from = await source.getHeader(at.hashHex);
    if (!at.checked && from.height !== at.height) {
      throw new ChainSyncError(
        'invalid-argument',
        `listener at ${at.hashHex} says height ${at.height}, the source says ${from.height}`,
      );
    }
    at.checked = true;
    const diff = await findChainDifference(source, from, tip);
    for (const header of diff.disconnected) {
      await at.listener.blockDisconnected(header, header.height);
      at.hashHex = header.prevHashHex;
      at.height = header.height - 1;
    }
    if (diff.disconnected.length > 0) {
      logger?.info(
        { fromHeight: from.height, forkHeight: diff.fork.height, disconnected: diff.disconnected.length },
        'listener was on a stale fork: disconnected its blocks back to the fork point',
      );
    }
    plans.push({ at, forkHeight: diff.fork.height });
  }
  const lowest = Math.min(tip.height, ...plans.map((p) => p.forkHeight));
  // Headers of the active chain from lowest+1 to the tip, walked back from the tip.
  const path: BlockHeaderData[] = [];
  for (let h = tip; h.height > lowest; h = await source.getHeader(h.prevHashHex)) path.push(h);
  path.reverse();
  for (const header of path) {
    const needing = plans.filter((p) => p.at.height < header.height);
    if (needing.length === 0) continue;
    const block = await source.getBlock(header.hashHex);
    for (const p of needing) {
      await p.at.listener.blockConnected(block, header.height);
      p.at.hashHex = header.hashHex;
      p.at.height = header.height;
    }
  }
  logger?.info(
    { height: tip.height, hash: tip.hashHex, listeners: positions.length },
    'listeners synchronized to the tip',
  );
  return { hashHex: tip.hashHex, height: tip.height };
}
