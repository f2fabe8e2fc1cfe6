/**
 * The peer directory as a pure state machine: node id → logical `Peer`, each with at most one
 * current connection, and the rules that decide what happens to connections and redials. It
 * is fed what happened (the user connects or disconnects, a connection opened, exchanged init,
 * closed, a redial timer fired, and the time) and returns effects (dial this address, close
 * that connection, redial at T, emit connected / disconnected). The PeerManager performs them
 * with sockets and timers; this file has neither, so every rule is tested with explicit times.
 *
 * Connection apart from peer (as Eclair's Peer and PeerConnection): a connection (a
 * `Connection` in connection.ts, a `ConnectionRecord` here) dies with its socket; the Peer and
 * its persistence outlive reconnects.
 */
import { PeerNetError, type PeerNetErrorCode } from './errors.ts';
import {
  checkReconnectPolicy,
  failuresAfterDrop,
  type ReconnectPolicy,
  redialDelayMs,
} from './reconnect-policy.ts';

/** Names one connection for the life of the directory (never reused). */
export type ConnectionId = number;

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** What the directory knows of one connection. */
export interface ConnectionRecord {
  readonly id: ConnectionId;
  readonly nodeId: string;
  readonly inbound: boolean;
  /** Outbound: the address dialled. */
  readonly dialled: PeerAddress | undefined;
  /**
   * `opening`: TCP, handshake or init under way. `ready`: init exchanged, the peer's current
   * connection. `closing`: the directory asked for the close; its `closed` input is to come.
   */
  state: 'opening' | 'ready' | 'closing';
  readonly openedAt: number;
  readyAt: number | undefined;
  /** Dialled by a connect({ persistent }) whose peer becomes persistent once this is ready. */
  persistOnReady: boolean;
}

/** A persistent peer: where to redial it, and how its redials have gone. */
export interface Persistence {
  readonly address: PeerAddress;
  /** Redials scheduled since the last stable connection (the backoff exponent). */
  readonly failures: number;
  /** When the pending redial is due, if one is pending. */
  readonly redialAt: number | undefined;
}

/** The logical peer, as the directory shows it (a copy; plain data that crosses threads). */
export interface Peer {
  readonly nodeId: string;
  /** The one current connection (init exchanged), if connected. */
  readonly current: ConnectionId | undefined;
  /** Connections still opening or closing (not current). */
  readonly others: readonly ConnectionId[];
  readonly persistent: Persistence | undefined;
}

export type DirectoryEffect =
  /** Open an outbound connection; report it with `ready` / `closed` under this id. */
  | {
      readonly kind: 'dial';
      readonly connection: ConnectionId;
      readonly nodeId: string;
      readonly address: PeerAddress;
    }
  /** Close this connection (abort it, if still dialling); `code` undefined = a clean close. */
  | {
      readonly kind: 'close';
      readonly connection: ConnectionId;
      readonly code: PeerNetErrorCode | undefined;
      readonly reason: string;
    }
  /** Call `redialDue(nodeId, now)` at `at`; replaces any redial already scheduled for the peer. */
  | {
      readonly kind: 'schedule-redial';
      readonly nodeId: string;
      readonly at: number;
      readonly delayMs: number;
      readonly failures: number;
    }
  | { readonly kind: 'cancel-redial'; readonly nodeId: string }
  | { readonly kind: 'connected'; readonly nodeId: string; readonly connection: ConnectionId }
  | {
      readonly kind: 'disconnected';
      readonly nodeId: string;
      readonly connection: ConnectionId;
      readonly code: PeerNetErrorCode | undefined;
      readonly reason: string;
    };

export interface ConnectRequest {
  /** Keep the peer connected: redial it with backoff whenever it drops, once it has been reached. */
  persistent?: boolean;
  /**
   * With `persistent`: the caller reached this peer before (its own record from an earlier
   * run), so it is persistent from now on and redialled even if this first dial fails.
   */
  remembered?: boolean;
}

export interface ConnectResult {
  /** The connection that answers the request: the current one, one already dialling, or a new dial. */
  readonly connection: ConnectionId;
  /** It is the current connection already (nothing to wait for). */
  readonly ready: boolean;
  readonly effects: DirectoryEffect[];
}

export interface PeerDirectoryOptions {
  policy: ReconnectPolicy;
  /** In [0, 1): the jitter of each redial delay. */
  random: () => number;
}

interface PeerEntry {
  readonly nodeId: string;
  current: ConnectionId | undefined;
  /** Every live connection of this peer, the current one included. */
  readonly connections: Set<ConnectionId>;
  persistent: { address: PeerAddress; failures: number; redialAt: number | undefined } | undefined;
}

const REPLACED = 'replaced by a newer connection';

export class PeerDirectory {
  private readonly peers = new Map<string, PeerEntry>();
  private readonly connections = new Map<ConnectionId, ConnectionRecord>();
  private readonly policy: ReconnectPolicy;
  private nextId: ConnectionId = 1;
  private shut = false;

  constructor(private readonly options: PeerDirectoryOptions) {
    this.policy = checkReconnectPolicy(options.policy);
  }

  /** The logical peer, or undefined if the directory holds nothing for this node id. */
  peer(nodeId: string): Peer | undefined {
    const p = this.peers.get(nodeId);
    if (!p) return undefined;
    return {
      nodeId,
      current: p.current,
      others: [...p.connections].filter((c) => c !== p.current),
      persistent: p.persistent ? { ...p.persistent } : undefined,
    };
  }

  /** Every peer the directory holds: connected, connecting, or persistent and waiting to redial. */
  allPeers(): Peer[] {
    return [...this.peers.keys()].map((id) => this.peer(id)!);
  }

  connection(id: ConnectionId): Readonly<ConnectionRecord> | undefined {
    return this.connections.get(id);
  }

  /** The peer's current connection, if connected. */
  current(nodeId: string): ConnectionId | undefined {
    return this.peers.get(nodeId)?.current;
  }

  /** Connected peers and their current connections, oldest peer first. */
  connected(): { nodeId: string; connection: ConnectionId }[] {
    const out: { nodeId: string; connection: ConnectionId }[] = [];
    for (const p of this.peers.values())
      if (p.current !== undefined) out.push({ nodeId: p.nodeId, connection: p.current });
    return out;
  }

  /**
   * The user asks for a connection. Connected already: that connection answers (and, with
   * `persistent`, the peer becomes persistent at this address: it has been reached). A dial to
   * the same address under way: it answers too, rather than a second socket. Otherwise a new dial.
   * Without `remembered`, persistence waits for this dial to reach init: a connect that fails
   * leaves nothing redialling an address the user was told did not work.
   */
  connect(nodeId: string, address: PeerAddress, request: ConnectRequest, now: number): ConnectResult {
    if (this.shut) throw new PeerNetError('closed', 'peer directory is shut down');
    const peer = this.entry(nodeId);
    const persistent = request.persistent === true;
    if (persistent && (request.remembered || peer.current !== undefined)) this.persist(peer, address);
    if (peer.current !== undefined) return { connection: peer.current, ready: true, effects: [] };
    for (const id of peer.connections) {
      const c = this.connections.get(id)!;
      if (c.state === 'opening' && !c.inbound && sameAddress(c.dialled, address)) {
        c.persistOnReady ||= persistent;
        return { connection: id, ready: false, effects: [] };
      }
    }
    const dial = this.open(peer, false, address, now);
    dial.persistOnReady = persistent;
    return { connection: dial.id, ready: false, effects: [this.dialEffect(dial)] };
  }

  /** A peer dialled us and the BOLT 8 handshake proved its node id; init is to come. */
  inboundOpened(nodeId: string, now: number): ConnectionId {
    if (this.shut) throw new PeerNetError('closed', 'peer directory is shut down');
    return this.open(this.entry(nodeId), true, undefined, now).id;
  }

  /**
   * Init is exchanged on this connection. BOLT 1: "MUST use a single connection per peer" —
   * the newer connection wins, inbound or outbound: the older one is most often a half-open
   * socket the peer already gave up on (it restarted, or its network changed), which we
   * would otherwise keep until a ping timed out while the peer could not reach us.
   */
  ready(id: ConnectionId, now: number): DirectoryEffect[] {
    const c = this.connections.get(id);
    if (this.shut || !c || c.state !== 'opening') return [];
    const peer = this.peers.get(c.nodeId)!;
    const out: DirectoryEffect[] = [];
    const old = peer.current;
    if (old !== undefined) {
      // The old connection stops being the peer's now; its own close, when it comes, is no news.
      this.connections.get(old)!.state = 'closing';
      out.push({ kind: 'close', connection: old, code: 'disconnected', reason: REPLACED });
      out.push({
        kind: 'disconnected',
        nodeId: c.nodeId,
        connection: old,
        code: 'disconnected',
        reason: REPLACED,
      });
    }
    c.state = 'ready';
    c.readyAt = now;
    peer.current = id;
    if (c.persistOnReady && c.dialled) this.persist(peer, c.dialled);
    if (peer.persistent?.redialAt !== undefined) {
      peer.persistent.redialAt = undefined;
      out.push({ kind: 'cancel-redial', nodeId: c.nodeId });
    }
    out.push({ kind: 'connected', nodeId: c.nodeId, connection: id });
    return out;
  }

  /**
   * A connection ended (a failed dial, a handshake or init that never finished, a drop, or
   * the close the directory asked for). Only the current connection's end is a disconnect;
   * a persistent peer left with no connection is redialled. A second report is ignored.
   */
  closed(
    id: ConnectionId,
    now: number,
    code: PeerNetErrorCode | undefined,
    reason: string,
  ): DirectoryEffect[] {
    const c = this.connections.get(id);
    if (!c) return [];
    this.connections.delete(id);
    const peer = this.peers.get(c.nodeId)!;
    peer.connections.delete(id);
    const out: DirectoryEffect[] = [];
    if (peer.current === id) {
      peer.current = undefined;
      if (!this.shut) out.push({ kind: 'disconnected', nodeId: c.nodeId, connection: id, code, reason });
      if (peer.persistent && c.readyAt !== undefined) {
        peer.persistent.failures = failuresAfterDrop(this.policy, peer.persistent.failures, now - c.readyAt);
      }
    }
    out.push(...this.settle(peer, now));
    return out;
  }

  /** A redial timer fired. A stale one (the redial was cancelled or replaced) does nothing. */
  redialDue(nodeId: string, now: number): DirectoryEffect[] {
    const peer = this.peers.get(nodeId);
    const p = peer?.persistent;
    if (this.shut || !peer || !p || p.redialAt === undefined) return [];
    p.redialAt = undefined;
    // Connected, or a connection under way (a dial the user started, or the peer dialling
    // us): no second socket. If that one fails, `closed` schedules the next redial.
    if (peer.connections.size > 0) return [];
    return [this.dialEffect(this.open(peer, false, p.address, now))];
  }

  /** The user disconnects: every connection of the peer closes, and it is no longer persistent. */
  disconnect(nodeId: string): { closing: ConnectionId[]; effects: DirectoryEffect[] } {
    const peer = this.peers.get(nodeId);
    if (!peer) return { closing: [], effects: [] };
    const effects: DirectoryEffect[] = [];
    if (peer.persistent?.redialAt !== undefined) effects.push({ kind: 'cancel-redial', nodeId });
    peer.persistent = undefined;
    const closing = [...peer.connections];
    for (const id of closing) {
      const c = this.connections.get(id)!;
      if (c.state === 'closing') continue;
      // The current connection stays current until its close is reported: that report is the disconnect.
      if (c.state === 'opening') c.state = 'closing';
      effects.push({ kind: 'close', connection: id, code: undefined, reason: 'disconnected by the user' });
    }
    this.forgetIfEmpty(peer);
    return { closing, effects };
  }

  /** The node stops: every connection closes, no redial, and no event from now on. */
  shutdown(): DirectoryEffect[] {
    this.shut = true;
    const out: DirectoryEffect[] = [];
    for (const peer of this.peers.values()) {
      if (peer.persistent?.redialAt !== undefined) out.push({ kind: 'cancel-redial', nodeId: peer.nodeId });
      peer.persistent = undefined;
    }
    for (const c of this.connections.values()) {
      if (c.state === 'closing') continue;
      c.state = 'closing';
      out.push({ kind: 'close', connection: c.id, code: 'closed', reason: 'peer manager closed' });
    }
    return out;
  }

  private entry(nodeId: string): PeerEntry {
    let p = this.peers.get(nodeId);
    if (!p) {
      p = { nodeId, current: undefined, connections: new Set(), persistent: undefined };
      this.peers.set(nodeId, p);
    }
    return p;
  }

  private open(
    peer: PeerEntry,
    inbound: boolean,
    dialled: PeerAddress | undefined,
    now: number,
  ): ConnectionRecord {
    const c: ConnectionRecord = {
      id: this.nextId++,
      nodeId: peer.nodeId,
      inbound,
      dialled,
      state: 'opening',
      openedAt: now,
      readyAt: undefined,
      persistOnReady: false,
    };
    this.connections.set(c.id, c);
    peer.connections.add(c.id);
    return c;
  }

  private dialEffect(c: ConnectionRecord): DirectoryEffect {
    return { kind: 'dial', connection: c.id, nodeId: c.nodeId, address: c.dialled! };
  }

  private persist(peer: PeerEntry, address: PeerAddress): void {
    if (peer.persistent) peer.persistent.address = address;
    else peer.persistent = { address, failures: 0, redialAt: undefined };
  }

  /**
   * The invariant after every change: a persistent peer with no connection at all has one
   * redial pending, `initialDelayMs × 2^failures` from now (less jitter). A peer with
   * nothing left (not persistent, no connection) leaves the directory.
   */
  private settle(peer: PeerEntry, now: number): DirectoryEffect[] {
    const p = peer.persistent;
    if (this.shut || !p || peer.connections.size > 0 || p.redialAt !== undefined) {
      this.forgetIfEmpty(peer);
      return [];
    }
    const delayMs = redialDelayMs(this.policy, p.failures, this.options.random());
    p.failures += 1;
    p.redialAt = now + delayMs;
    return [{ kind: 'schedule-redial', nodeId: peer.nodeId, at: p.redialAt, delayMs, failures: p.failures }];
  }

  private forgetIfEmpty(peer: PeerEntry): void {
    if (!peer.persistent && peer.connections.size === 0) this.peers.delete(peer.nodeId);
  }
}

function sameAddress(a: PeerAddress | undefined, b: PeerAddress): boolean {
  return a !== undefined && a.host === b.host && a.port === b.port;
}
