/**
 * The manager's PeerLink before the peers exist: step 9 spawns the ChannelManager, but the
 * PeerManager actor is step 13's. This link is what the manager is given; step 13 attaches the
 * peer actor to it (as one of its message handlers, before step 14 lets any peer in), and the
 * manager's streams flow from then on. Until then there is no peer to list or send to.
 */
import type { PeerLink, PeerLinkEvent, PeerLinkInfo } from '@lnkit/manager';
import { BehaviorSubject, EMPTY, type Observable, Subscription, switchMap } from 'rxjs';
import { NodeError } from './errors.ts';

export class DeferredPeerLink implements PeerLink {
  readonly #peers = new BehaviorSubject<PeerLink | undefined>(undefined);

  /** The peer actor's ref (a PeerLink as it is); the subscription's end detaches it. */
  attach(peers: PeerLink): Subscription {
    this.#peers.next(peers);
    return new Subscription(() => {
      if (this.#peers.value === peers) this.#peers.next(undefined);
    });
  }

  send(nodeId: string, message: Uint8Array): Promise<unknown> {
    const peers = this.#peers.value;
    if (!peers) return Promise.reject(new NodeError('peer-not-connected', `peer ${nodeId} is not connected`));
    return peers.send(nodeId, message);
  }

  messages$(types: number[]): Observable<{ nodeId: string; raw: Uint8Array }> {
    return this.#peers.pipe(switchMap((p) => (p ? p.messages$(types) : EMPTY)));
  }

  events$(): Observable<PeerLinkEvent> {
    return this.#peers.pipe(switchMap((p) => (p ? p.events$() : EMPTY)));
  }

  async listPeers(): Promise<PeerLinkInfo[]> {
    return (await this.#peers.value?.listPeers()) ?? [];
  }
}
