/**
 * The three answers of a persist (DESIGN.md, the durability rule; LDK's
 * ChannelMonitorUpdateStatus):
 *
 * - `completed`: the update is durable on disk now; the channel may send what depends on it.
 * - `in-progress`: the update is being made durable elsewhere (a remote backup, a batch); the
 *   caller must pause the channel — send nothing that depends on it — until a completion for
 *   this update is reported.
 * - `failed`: the update could not be made durable; the channel stops and the node says why
 *   (`reason`). It must never be treated as completed.
 */
import type { Key, NamedDb } from './store.ts';

export type PersistStatus =
  | { readonly status: 'completed' }
  | { readonly status: 'in-progress' }
  | { readonly status: 'failed'; readonly reason: string };

const COMPLETED: PersistStatus = Object.freeze({ status: 'completed' });
const IN_PROGRESS: PersistStatus = Object.freeze({ status: 'in-progress' });

export const PersistStatus = {
  completed: (): PersistStatus => COMPLETED,
  inProgress: (): PersistStatus => IN_PROGRESS,
  failed: (reason: string): PersistStatus => Object.freeze({ status: 'failed', reason }),
};

export function isCompleted(s: PersistStatus): s is { readonly status: 'completed' } {
  return s.status === 'completed';
}

export function isInProgress(s: PersistStatus): s is { readonly status: 'in-progress' } {
  return s.status === 'in-progress';
}

export function isFailed(s: PersistStatus): s is { readonly status: 'failed'; readonly reason: string } {
  return s.status === 'failed';
}

/**
 * Runs a durable write and answers with its status: `completed` once it resolved (a NamedDb
 * write resolves only after the commit is flushed to disk), `failed` with the error's message
 * when it throws or rejects — synchronously too (a closed store, a value its record codec
 * refuses). It never answers `in-progress`: a local write is either on disk or not.
 */
export async function persistWith(write: () => Promise<unknown>): Promise<PersistStatus> {
  try {
    await write();
    return COMPLETED;
  } catch (e) {
    return PersistStatus.failed(e instanceof Error ? e.message : String(e));
  }
}

/** `db.put(key, value)` as a PersistStatus. */
export function persistPut<V>(db: NamedDb<V>, key: Key, value: V): Promise<PersistStatus> {
  return persistWith(() => db.put(key, value));
}
