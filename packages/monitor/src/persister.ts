/**
 * MonitorPersister (LDK guide step 4, Persist): where monitors become durable. The lmdb
 * MonitorStore is the default; a user supplies their own (the guide's custom persister: a
 * remote backup, a second disk) by implementing this, and the node takes it in place of lnkit's.
 *
 * Every write answers a PersistStatus (DESIGN.md, the durability rule):
 * - `completed`: durable now; the channel may send what depends on it;
 * - `in-progress`: being made durable elsewhere; the channel pauses until the persister reports
 *   the completion (on `completions$`, or through `ChainMonitor.channelMonitorUpdated`);
 * - `failed`: it could not be made durable; the channel stops and the node says why.
 */
import type { PersistStatus } from '@lnkit/store';
import type { Observable } from 'rxjs';
import type { ChannelMonitor, ChannelMonitorUpdate, FundingKey } from './types.ts';

/** A later answer for an update that was `in-progress`: every update up to `updateId` is now durable (or failed). */
export interface PersistCompletion {
  fundingKey: FundingKey;
  updateId: bigint;
  status: PersistStatus;
}

export interface MonitorPersister {
  /** A new monitor, or one handed to the ChainMonitor at start: write it whole. */
  persistNewChannel(monitor: ChannelMonitor): Promise<PersistStatus>;
  /**
   * `update` was applied and `monitor` is the state after it; write at least the update. Without
   * `update`, the monitor's chain state moved (a funding spend seen, undone or final, or the
   * best block far ahead of the last write): write it whole.
   */
  updatePersistedChannel(monitor: ChannelMonitor, update?: ChannelMonitorUpdate): Promise<PersistStatus>;
  /** Every persisted monitor (guide step 8), each at its latest update. */
  readAll(): Promise<ChannelMonitor[]>;
  /**
   * A closed channel's monitor with nothing left to do on chain (LDK's
   * archive_persisted_channel): move it out of what `readAll` reads, keeping it somewhere for
   * the record. Without it, such monitors stay and are read at every start.
   */
  archivePersistedChannel?(monitor: ChannelMonitor): Promise<PersistStatus>;
  /** For a persister that answers `in-progress`: its completions, in order. */
  readonly completions$?: Observable<PersistCompletion>;
}
