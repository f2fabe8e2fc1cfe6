/**
 * A monitor as a ChainListener of its own, for guide step 10: at start each monitor read from
 * the store (step 8) is brought from its own best block to the chain tip by
 * `synchronizeListeners` — stale blocks disconnected, missed ones connected — before it is
 * handed to the ChainMonitor (step 11), which then writes it with its new best block.
 */
import type { BlockData, BlockHeaderData, ChainListener } from '@lnkit/chain-sync';
import { monitorBlockConnected, monitorBlockDisconnected } from './chain.ts';
import type { ChannelMonitor, MonitorEvent } from './types.ts';

export class MonitorSyncListener implements ChainListener {
  /** What the chain said while catching up (the ChainMonitor says a standing funding spend again on watch). */
  readonly events: MonitorEvent[] = [];

  constructor(public monitor: ChannelMonitor) {}

  /** Where synchronizeListeners starts this monitor from. */
  get bestBlockHash(): string {
    return this.monitor.bestBlock.hashHex;
  }

  get bestBlockHeight(): number {
    return this.monitor.bestBlock.height;
  }

  blockConnected(block: BlockData, height: number): void {
    const r = monitorBlockConnected(this.monitor, block.header, height, block.txdata);
    this.monitor = r.monitor;
    this.events.push(...r.events);
  }

  blockDisconnected(header: BlockHeaderData, height: number): void {
    const r = monitorBlockDisconnected(this.monitor, header, height);
    this.monitor = r.monitor;
    this.events.push(...r.events);
  }
}
