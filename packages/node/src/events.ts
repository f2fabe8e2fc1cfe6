import type { PeerEvent } from '@lnkit/peer-net';

/** What the node reports on `events$`, for an embedder's UI or the daemon's log. */
export type NodeEvent =
  | { type: 'sync-progress'; height: number; tipHeight: number; synced: boolean }
  | ({ type: 'peer' } & { event: PeerEvent });
