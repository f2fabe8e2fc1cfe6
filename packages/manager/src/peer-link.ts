/**
 * PeerLink: how the manager reaches peers — the PeerManager actor of @lnkit/peer-net, whose
 * ref has exactly these methods (`send`, `messages$`, `events$`, `listPeers`), or an in-thread
 * PeerManager behind a few lines of adapter. Messages cross as raw bytes (type + payload) and
 * are decoded here, on the manager's thread.
 */
import type { Observable } from 'rxjs';

export interface PeerLinkInfo {
  nodeId: string;
  /** The peer's init features (global and local OR-ed), BOLT 9 bytes in hex. */
  features: { hex: string };
}

export type PeerLinkEvent = ({ type: 'connected' } & PeerLinkInfo) | { type: 'disconnected'; nodeId: string };

export interface PeerLink {
  send(nodeId: string, message: Uint8Array): Promise<unknown>;
  /** Messages of these types from every peer, each with the sender's node id. */
  messages$(types: number[]): Observable<{ nodeId: string; raw: Uint8Array }>;
  events$(): Observable<PeerLinkEvent>;
  listPeers(): PeerLinkInfo[] | Promise<PeerLinkInfo[]>;
}
