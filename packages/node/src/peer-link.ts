/**
 * The manager's PeerLink before the peers exist: step 9 spawns the ChannelManager, but the
 * PeerManager actor is step 13's. This link is what the manager is given; step 13 attaches the
 * peer actor to it (as one of its message handlers, before step 14 lets any peer in), and the
 * manager's streams flow from then on. Until then there is no peer to list or send to.
 *
 * The peer actor runs in a worker the supervisor restarts after a crash, and a crash ends the
 * streams opened on it. The link opens them again (after a backoff), so the manager is not left
 * deaf, and first says `disconnected` for every peer that was connected: the connections died
 * with the worker, and the channels must reestablish when their peers come back.
 */
import type { PeerLink, PeerLinkEvent, PeerLinkInfo } from '@lnkit/manager';
import type { Logger } from '@lnkit/runtime';
import {
  BehaviorSubject,
  catchError,
  concat,
  defer,
  EMPTY,
  from,
  type Observable,
  retry,
  Subscription,
  switchMap,
  tap,
  throwError,
  timer,
} from 'rxjs';
import { NodeError } from './errors.ts';

/** Reopening a stream of a crashed peer actor: 250 ms, doubling up to 30 s, again from 250 ms once one flows. */
const backoffMs = (attempt: number) => Math.min(30_000, 250 * 2 ** Math.min(attempt - 1, 7));

export class DeferredPeerLink implements PeerLink {
  readonly #peers = new BehaviorSubject<PeerLink | undefined>(undefined);

  constructor(private readonly log: Logger) {}

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
    return this.#peers.pipe(
      // defer: each reopening asks the actor again (a stream of a dead worker stays dead).
      switchMap((p) => (p ? defer(() => p.messages$(types)).pipe(this.#reopened('message stream')) : EMPTY)),
    );
  }

  events$(): Observable<PeerLinkEvent> {
    return this.#peers.pipe(switchMap((p) => (p ? this.#events(p) : EMPTY)));
  }

  async listPeers(): Promise<PeerLinkInfo[]> {
    return (await this.#peers.value?.listPeers()) ?? [];
  }

  /** The peer events, with a `disconnected` for each connected peer when the stream fails. */
  #events(p: PeerLink): Observable<PeerLinkEvent> {
    const connected = new Set<string>();
    return defer(() => p.events$()).pipe(
      tap((e) => {
        if (e.type === 'connected') connected.add(e.nodeId);
        else connected.delete(e.nodeId);
      }),
      catchError((err: unknown) => {
        const gone = [...connected].map((nodeId) => ({ type: 'disconnected' as const, nodeId }));
        connected.clear();
        return concat(
          from(gone),
          throwError(() => err),
        );
      }),
      this.#reopened('event stream'),
    );
  }

  #reopened<T>(what: string) {
    return retry<T>({
      resetOnSuccess: true,
      delay: (err: unknown, attempt: number) => {
        const ms = backoffMs(attempt);
        this.log.warn(
          { err: (err as Error)?.message, attempt, retryInMs: ms },
          `the peer actor's ${what} to the channel manager ended (${(err as Error)?.message}); reopening it in ${ms} ms`,
        );
        return timer(ms);
      },
    });
  }
}
