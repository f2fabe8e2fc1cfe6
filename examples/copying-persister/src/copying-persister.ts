/**
 * A MonitorPersister of your own (the LDK guide's step 4, "a custom persister"): lnkit's
 * MonitorStore does the work, and every monitor and every update is also written, as the same
 * versioned records, to a second directory — a second disk, a mounted backup. The channel goes
 * on only once both copies are durable: the answer is `completed` when both writes are, and
 * `failed` if either fails (DESIGN.md's durability rule: a channel must never act on state
 * that is not on disk).
 *
 * The copy's layout, one folder per channel (its funding outpoint, `txid_vout`):
 *
 *   <copyDir>/<txid>_<vout>/monitor.bin               the latest whole monitor
 *   <copyDir>/<txid>_<vout>/update-<20-digit id>.bin  each update since it
 *
 * Each file is written to a temporary name, fsynced, renamed, and the folder fsynced, so a
 * crash leaves the old file or the new one, never half of one. Recovery: decodeMonitor the
 * monitor file, then applyMonitorUpdate each later update in id order.
 *
 * Use it with the node's own store:
 *
 *   const store = await Store.open(dataDir, nodeStoreOptions(network));
 *   const node = await new NodeBuilder(config)
 *     .withStore(store)
 *     .withMonitorPersister(new CopyingPersister(new MonitorStore(store), copyDir))
 *     .build();
 */
import { mkdirSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ChannelMonitor,
  type ChannelMonitorUpdate,
  encodeMonitor,
  encodeMonitorUpdate,
  type MonitorPersister,
} from '@lnkit/monitor';
import { isCompleted, PersistStatus } from '@lnkit/store';

export class CopyingPersister implements MonitorPersister {
  constructor(
    private readonly inner: MonitorPersister,
    readonly copyDir: string,
  ) {
    mkdirSync(copyDir, { recursive: true, mode: 0o700 });
  }

  async persistNewChannel(monitor: ChannelMonitor): Promise<PersistStatus> {
    return this.both(this.inner.persistNewChannel(monitor), () => this.copyWhole(monitor));
  }

  async updatePersistedChannel(
    monitor: ChannelMonitor,
    update?: ChannelMonitorUpdate,
  ): Promise<PersistStatus> {
    return this.both(this.inner.updatePersistedChannel(monitor, update), () =>
      update ? this.copyUpdate(monitor, update) : this.copyWhole(monitor),
    );
  }

  /** The node reads its monitors back from lnkit's store; the copy is for recovery by hand. */
  readAll(): Promise<ChannelMonitor[]> {
    return this.inner.readAll();
  }

  /** The channel's folder in the copy. */
  folderOf(monitor: Pick<ChannelMonitor, 'fundingKey'>): string {
    return join(this.copyDir, monitor.fundingKey.replace(':', '_'));
  }

  /** Both writes at once, and the weaker answer of the two: completed only when both are durable. */
  private async both(inner: Promise<PersistStatus>, copy: () => Promise<void>): Promise<PersistStatus> {
    const copied = copy().then(
      () => PersistStatus.completed(),
      (err: Error) =>
        PersistStatus.failed(`the copy in ${this.copyDir} could not be written: ${err.message}`),
    );
    const [status, copy2] = await Promise.all([inner, copied]);
    return isCompleted(copy2) ? status : copy2;
  }

  /** The whole monitor; the updates it already holds are dropped from the copy. */
  private async copyWhole(monitor: ChannelMonitor): Promise<void> {
    const folder = this.folderOf(monitor);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    await writeDurably(folder, 'monitor.bin', encodeMonitor(monitor));
    for (const name of await readdir(folder))
      if (name.startsWith('update-') && updateIdOf(name) <= monitor.latestUpdateId)
        await rm(join(folder, name));
  }

  private async copyUpdate(monitor: ChannelMonitor, update: ChannelMonitorUpdate): Promise<void> {
    const folder = this.folderOf(monitor);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    await writeDurably(
      folder,
      `update-${update.updateId.toString().padStart(20, '0')}.bin`,
      encodeMonitorUpdate(update),
    );
  }
}

function updateIdOf(name: string): bigint {
  return BigInt(name.slice('update-'.length, name.length - '.bin'.length));
}

/** Temporary file, fsync, rename over the old one, fsync the folder: the old file or the new, whole. */
async function writeDurably(folder: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(folder, `.${name}.tmp`);
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, join(folder, name));
  const dir = await open(folder, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
