/**
 * MonitorPersister (guide step 4, LDK's chain::Watch as the manager sees it): where a channel's
 * monitor updates go, answering one of three (DESIGN.md, the durability rule): completed
 * (durable now), in progress (the channel pauses until `completed$` reports it), failed (the
 * channel stops). It is the channel's side, not @lnkit/monitor's MonitorPersister (LDK's
 * Persist, which writes whole monitors): the ChainMonitor implements this one. The update shape
 * and its record are @lnkit/monitor's, the one declaration of what is persisted.
 */

import {
  applyMonitorUpdate,
  type BestBlock,
  type ChannelMonitor,
  type ChannelMonitorUpdate,
  createMonitor,
  decodeMonitorUpdate,
  encodeMonitorUpdate,
} from '@lnkit/monitor';
import { type NamedDb, PersistStatus, persistWith, type Store } from '@lnkit/store';
import type { Observable } from 'rxjs';

/** A persist that answered in-progress has completed. `channelId` in hex. */
export interface PersistCompletion {
  channelId: string;
  updateId: bigint;
}

export interface MonitorPersister {
  /** Makes `update` durable (or starts to), in update order per channel. */
  persist(update: ChannelMonitorUpdate): Promise<PersistStatus> | PersistStatus;
  /** Completions of persists that answered in-progress. */
  readonly completed$?: Observable<PersistCompletion>;
  /**
   * A preimage for an HTLC of a channel past normal operation (closing, closed): its monitor
   * claims the HTLC on chain with it. Without it such a preimage reaches no monitor.
   */
  providePaymentPreimage?(channelId: Uint8Array, preimage: Uint8Array): Promise<boolean>;
}

/** The database the default persister writes: `<channel id hex>/<update id, 20 digits>` → record. */
export const MONITOR_UPDATES_DB = 'channel-monitor-updates';

const keyOf = (channelIdHex: string, updateId: bigint) =>
  `${channelIdHex}/${updateId.toString().padStart(20, '0')}`;

/**
 * An interim default for a manager without a ChainMonitor (tests, interop): every update as
 * @lnkit/monitor's channel-monitor-update record in one lmdb database; a put resolves only once it is
 * flushed to disk, so `completed` means durable. It never answers in-progress. It refuses an
 * update whose id is not the next of its channel (a monitor applies them in order).
 */
export class LmdbMonitorPersister implements MonitorPersister {
  readonly #db: NamedDb<Uint8Array>;
  readonly #lastId = new Map<string, bigint>();

  constructor(store: Store) {
    this.#db = store.db(MONITOR_UPDATES_DB);
    for (const u of this.readAll()) this.#lastId.set(Buffer.from(u.channelId).toString('hex'), u.updateId);
  }

  async persist(update: ChannelMonitorUpdate): Promise<PersistStatus> {
    const id = Buffer.from(update.channelId).toString('hex');
    const last = this.#lastId.get(id) ?? 0n;
    if (update.updateId !== last + 1n)
      return PersistStatus.failed(
        `monitor update ${update.updateId} of ${id} is out of order (last was ${last})`,
      );
    const status = await persistWith(() =>
      this.#db.put(keyOf(id, update.updateId), encodeMonitorUpdate(update)),
    );
    if (status.status === 'completed') this.#lastId.set(id, update.updateId);
    return status;
  }

  /** Every update stored, in channel then update order. */
  readAll(): ChannelMonitorUpdate[] {
    const out: ChannelMonitorUpdate[] = [];
    for (const { value } of this.#db.entries()) out.push(decodeMonitorUpdate(value));
    return out;
  }

  /**
   * The monitors these updates make (each channel's updates applied in order from its first),
   * at `bestBlock`: what a restart hands the manager (`monitors`) when this interim persister
   * stands in for the ChainMonitor. They have not seen the chain; the ChainMonitor's have.
   */
  readMonitors(bestBlock: BestBlock): ChannelMonitor[] {
    const byChannel = new Map<string, ChannelMonitor>();
    for (const u of this.readAll()) {
      const id = Buffer.from(u.channelId).toString('hex');
      const m = byChannel.get(id);
      byChannel.set(id, m ? applyMonitorUpdate(m, u) : createMonitor(u, bestBlock));
    }
    return [...byChannel.values()];
  }
}
