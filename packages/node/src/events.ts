import type { PeerEvent } from '@lnkit/peer-net';
import type { NodeFault, NodeFaultKind } from './faults.ts';

/** What the node reports on `events$`, for an embedder's UI or the daemon's log. */
export type NodeEvent =
  | { type: 'sync-progress'; height: number; tipHeight: number; synced: boolean }
  | ({ type: 'peer' } & { event: PeerEvent })
  /** A fault of the machine began (`fault`) or ended (`fault: null`); see info().faults. */
  | { type: 'fault'; kind: NodeFaultKind; fault: NodeFault | null }
  /**
   * A chain listener stopped taking blocks (its write failed, or the chain stream itself
   * failed): it is no longer fed, and the node's chain state stays where it was.
   */
  | {
      type: 'chain-listener-failed';
      listener: string;
      message: string;
      /** The block it failed on, if it failed on one. */
      height?: number;
      hashHex?: string;
    }
  /**
   * A channel thread (NodeConfig.channelThreads) died: its channels answer no more. Stop the
   * node and start it again; each channel resumes from its monitor and snapshot (lnkitd exits).
   */
  | { type: 'channel-thread-died'; thread: number; message: string };
