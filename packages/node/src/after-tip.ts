/**
 * Step 15's order between listeners: the chain tip handles each block first, and the other
 * listeners (the wallet, the ChainMonitor, the broadcaster) get it only once the tip has
 * stored it. Each listener keeps its own subscription (subscribeListener), so one that fails
 * stops only itself; this only holds each of them back until the tip is as far.
 *
 * Why the tip leads: it waits out a disk that refuses writes (storage-status.ts) and goes on
 * once one succeeds. Held behind it, the others make no write while it waits, so a full disk
 * is met by the tip's write, which can wait, rather than by a wallet's, which cannot be
 * retried (its memory would be ahead of its disk); and a listener's success elsewhere in the
 * store does not end the storage fault while the disk is still full for the tip.
 *
 * Every subscription sees the same shared stream in the same order, so "as far" is a count of
 * blocks (connected or disconnected) handled. A tip that fails for good holds the others where
 * it stopped: the node no longer follows the chain (info().chainError), and none of its
 * listeners runs ahead of what it shows.
 */
import type { BlockData, BlockHeaderData, ChainListener } from '@lnkit/chain-sync';

export class AfterTip {
  private handled = 0;
  private readonly waiting: { n: number; go: () => void }[] = [];

  /** The tip's listener, counting each block it has handled (durably, for the node's tip). */
  leader(tip: ChainListener): ChainListener {
    const done = () => {
      this.handled++;
      for (const w of this.waiting.filter((x) => x.n <= this.handled)) {
        this.waiting.splice(this.waiting.indexOf(w), 1);
        w.go();
      }
    };
    return {
      blockConnected: async (block: BlockData, height: number) => {
        await tip.blockConnected(block, height);
        done();
      },
      blockDisconnected: async (header: BlockHeaderData, height: number) => {
        await tip.blockDisconnected(header, height);
        done();
      },
      ...(tip.syncProgress ? { syncProgress: tip.syncProgress.bind(tip) } : {}),
    };
  }

  /** Another listener, given each block once the tip has handled it. */
  follower(listener: ChainListener): ChainListener {
    let seen = 0;
    const turn = (): Promise<void> | undefined => {
      const n = ++seen;
      if (n <= this.handled) return undefined;
      return new Promise<void>((go) => this.waiting.push({ n, go }));
    };
    return {
      blockConnected: async (block: BlockData, height: number) => {
        await turn();
        await listener.blockConnected(block, height);
      },
      blockDisconnected: async (header: BlockHeaderData, height: number) => {
        await turn();
        await listener.blockDisconnected(header, height);
      },
      ...(listener.syncProgress ? { syncProgress: listener.syncProgress.bind(listener) } : {}),
    };
  }
}
