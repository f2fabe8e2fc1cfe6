/**
 * Shows progress while listeners catch up with the chain at start: a log line at most
 * every `everyMs` with the height reached, the target and an estimate of the time left.
 */
import type { BlockData, BlockHeaderData, ChainListener, ListenerAtBlock } from '@lnkit/chain-sync';
import type { Logger } from '@lnkit/runtime';

export function withSyncProgress(
  entry: ListenerAtBlock,
  log: Logger,
  targetHeight: number,
  everyMs = 2000,
): ListenerAtBlock {
  const inner = entry.listener;
  const startHeight = entry.bestBlockHeight;
  const started = Date.now();
  let lastLog = started;
  const listener: ChainListener = {
    blockDisconnected: (header: BlockHeaderData, height: number) => inner.blockDisconnected(header, height),
    async blockConnected(block: BlockData, height: number) {
      await inner.blockConnected(block, height);
      const now = Date.now();
      if (now - lastLog < everyMs && height < targetHeight) return;
      lastLog = now;
      const done = height - startHeight;
      const total = Math.max(1, targetHeight - startHeight);
      const rate = done / Math.max(0.001, (now - started) / 1000);
      const leftSeconds = rate > 0 ? Math.round((targetHeight - height) / rate) : undefined;
      log.info(
        { height, targetHeight, blocksPerSecond: Math.round(rate), leftSeconds },
        `syncing to the chain tip: block ${height} of ${targetHeight} (${Math.floor((100 * done) / total)}%)`,
      );
    },
  };
  return { ...entry, listener };
}
