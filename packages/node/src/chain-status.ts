/**
 * Where the node stands against the chain beyond its durable tip: caught up or not, and, if
 * its chain tip could not be stored, why it no longer follows the chain.
 */
import type { SyncProgress } from '@lnkit/chain-sync';
import type { StorageStatus } from './storage-status.ts';

export interface ChainFailure {
  message: string;
  /** The block the node could not take, when it failed on one. */
  height?: number;
  hashHex?: string;
}

export class ChainStatus {
  private progress: SyncProgress | undefined;
  private failure: ChainFailure | undefined;

  /** Without storage the tip cannot be stored, so the node is not synced, whatever the stream says. */
  constructor(private readonly storage?: Pick<StorageStatus, 'available'>) {}

  /** Fed in stream order, after the blocks before it were stored (subscribeListener). */
  onProgress(progress: SyncProgress): void {
    this.progress = progress;
  }

  onFailure(failure: ChainFailure): void {
    this.failure ??= failure;
  }

  /** At the tip the chain stream last saw, with that tip stored; never while failed or while storage refuses writes. */
  get synced(): boolean {
    return !this.failure && (this.storage?.available ?? true) && (this.progress?.synced ?? false);
  }

  get error(): ChainFailure | undefined {
    return this.failure;
  }
}
