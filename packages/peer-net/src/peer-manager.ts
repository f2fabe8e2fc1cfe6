/**
 * The PeerManager actor: TCP listener and dialer, one Connection per socket, one
 * PeerSession per connection for the BOLT 1 rules, and the logical peers that outlive
 * connections (persistent peers are redialled with exponential backoff). Other actors see
 * peers through `events$` and their messages through `messages$` / `messagesOfType`, and
 * talk to them with `send`.
 */
import net from 'node:net';
import type { Logger } from '@lnkit/runtime';
import {
  encodeMessage,
  type Features,
  type Message,
  type MessageKind,
  PING_NO_REPLY_THRESHOLD,
  type UnknownMessage,
} from '@lnkit/wire';
import { filter, type Observable, Subject } from 'rxjs';
import { Connection } from './connection.ts';
import { PeerNetError, type PeerNetErrorCode } from './errors.ts';
import { describeFeatures, type FeatureInfo, LNKIT_INIT_FEATURES } from './features.ts';
import type { FrameSealer, NodeKeyEcdh } from './noise.ts';
import { PeerSession, type SessionEffect } from './session.ts';

export interface PeerManagerOptions {
  /** The node key, for the BOLT 8 handshake (it may live in the crypto pool). */
  nodeKey: NodeKeyEcdh;
  /** Init features to advertise; default LNKIT_INIT_FEATURES. */
  features?: Features;
  /** Chain hashes for init `networks` (empty: not sent, not checked). */
  chainHashes?: readonly Uint8Array[];
  logger?: Logger;
  /** TCP connect timeout (dialling). Default 10 s. */
  connectTimeoutMs?: number;
  /** BOLT 8 handshake timeout. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Time allowed for the peer's init after the handshake. Default 10 s. */
  initTimeoutMs?: number;
  /** Ping a peer from which nothing was received for this long. Default 30 s (BOLT 1 asks for no more than one ping per 30 s). */
  pingIntervalMs?: number;
  /** Disconnect when the pong is this late. Default 15 s. */
  pongTimeoutMs?: number;
  /** Resolution of the ping / init timers. Default 1 s. */
  timerMs?: number;
  /** Messages waiting in one peer's outbound queue before `send` rejects with 'queue-full'. Default 10,000. */
  maxQueueLength?: number;
  /** Largest incoming message accepted; BOLT 8 allows 65535. */
  maxMessageSize?: number;
  /** Backoff for persistent peers: first delay and cap. Default 1 s → 60 s. */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /**
   * Bulk frame encryption off this thread (e.g. a CryptoPool): used for a peer once
   * `sealerMinBatch` messages (default 32) are queued to it; see `pnpm bench peer-net`.
   */
  frameSealer?: FrameSealer;
  sealerMinBatch?: number;
}

export interface PeerInfo {
  /** 33-byte compressed public key, hex. */
  nodeId: string;
  /** host:port of the remote end. */
  address: string;
  inbound: boolean;
  features: FeatureInfo;
}

export type PeerEvent =
  | ({ readonly type: 'connected' } & PeerInfo)
  | {
      readonly type: 'disconnected';
      readonly nodeId: string;
      readonly address: string;
      readonly inbound: boolean;
      readonly reason: string;
      readonly code: PeerNetErrorCode | undefined;
    };

/** A message from a peer. Decoded when @lnkit/wire knows its type, `kind: 'unknown'` otherwise (custom types). */
export interface PeerMessage {
  readonly nodeId: string;
  readonly message: Message | UnknownMessage;
  /** The message as received (2-byte type + payload), e.g. to check a gossip signature. */
  readonly raw: Uint8Array;
}

export interface ConnectOptions {
  /** Keep this peer connected: redial with backoff whenever it drops. */
  persistent?: boolean;
}

interface Entry {
  connection: Connection;
  session: PeerSession;
  nodeId: string;
  inbound: boolean;
  address: string;
  /** Set once init is exchanged and this connection is the peer's one connection. */
  active: boolean;
  waiter?: { resolve: (info: PeerInfo) => void; reject: (e: Error) => void };
  pings: { resolve: (ms: number) => void; reject: (e: Error) => void }[];
  /** Set when we asked for the close (disconnect(), close(), replaced): no reconnect. */
  closedByUs: boolean;
}

interface Persistent {
  host: string;
  port: number;
  delayMs: number;
  timer?: NodeJS.Timeout;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function checkNodeId(nodeIdHex: string): Uint8Array {
  if (typeof nodeIdHex !== 'string' || !/^0[23][0-9a-fA-F]{64}$/.test(nodeIdHex)) {
    throw new PeerNetError('invalid-argument', 'node id must be 33 bytes of compressed public key in hex');
  }
  return Uint8Array.from(Buffer.from(nodeIdHex, 'hex'));
}

/** The lookup key of a peer: lower-case hex, or a typed error for what is not a string. */
function peerKey(nodeIdHex: string): string {
  if (typeof nodeIdHex !== 'string')
    throw new PeerNetError('invalid-argument', 'node id must be a hex string');
  return nodeIdHex.toLowerCase();
}

/**
 * Host and port as the caller gave them, checked here so that a bad value is a PeerNetError
 * and not the RangeError node:net would throw (or, for a persistent peer, a redial loop).
 */
function checkAddress(host: string, port: number, allowPortZero: boolean): void {
  if (typeof host !== 'string' || host.length === 0 || host.length > 253) {
    throw new PeerNetError('invalid-argument', 'host must be a non-empty host name or IP address');
  }
  if (!Number.isInteger(port) || port < (allowPortZero ? 0 : 1) || port > 65535) {
    throw new PeerNetError(
      'invalid-argument',
      `port must be an integer from ${allowPortZero ? 0 : 1} to 65535, got ${String(port)}`,
    );
  }
}

export class PeerManager {
  readonly nodeId: string;
  private readonly events = new Subject<PeerEvent>();
  private readonly messages = new Subject<PeerMessage>();
  readonly events$: Observable<PeerEvent> = this.events.asObservable();
  readonly messages$: Observable<PeerMessage> = this.messages.asObservable();

  private readonly opts: Required<
    Omit<
      PeerManagerOptions,
      'logger' | 'features' | 'chainHashes' | 'nodeKey' | 'frameSealer' | 'sealerMinBatch'
    >
  >;
  private readonly features: Features;
  private readonly chainHashes: readonly Uint8Array[];
  private readonly log: Logger | undefined;
  /** Active peers by node id (init exchanged). */
  private readonly peers = new Map<string, Entry>();
  /** Connections still in handshake or waiting for init. */
  private readonly pending = new Set<Entry>();
  private readonly sockets = new Set<net.Socket>();
  private readonly persistent = new Map<string, Persistent>();
  private readonly handledTypes = new Set<number>();
  private readonly servers: net.Server[] = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: PeerManagerOptions) {
    this.nodeId = hex(options.nodeKey.publicKey);
    this.features = options.features ?? LNKIT_INIT_FEATURES;
    this.chainHashes = options.chainHashes ?? [];
    // `component`, not `actor`: inside an actor the logger already carries the actor's name.
    this.log = options.logger?.child({ component: 'peer-manager' });
    this.opts = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      initTimeoutMs: options.initTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 30_000,
      pongTimeoutMs: options.pongTimeoutMs ?? 15_000,
      timerMs: options.timerMs ?? 1000,
      maxQueueLength: options.maxQueueLength ?? 10_000,
      maxMessageSize: options.maxMessageSize ?? 65535,
      reconnectInitialDelayMs: options.reconnectInitialDelayMs ?? 1000,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 60_000,
    };
    this.timer = setInterval(() => this.tick(), this.opts.timerMs);
    this.timer.unref();
  }

  /**
   * Declares message types some subscriber handles, so that unknown (custom) types among
   * them are delivered instead of ignored (odd) or refused (even). Types @lnkit/wire
   * decodes are always delivered.
   */
  registerMessageTypes(types: Iterable<number>): void {
    for (const t of types) {
      // BOLT 1: the type is a u16.
      if (!Number.isInteger(t) || t < 0 || t > 0xffff)
        throw new PeerNetError('invalid-argument', `message type must be a u16, got ${String(t)}`);
      this.handledTypes.add(t);
    }
  }

  /** Messages of the given type numbers, from every peer; registers the types (see registerMessageTypes). */
  messagesOfType(...types: number[]): Observable<PeerMessage> {
    this.registerMessageTypes(types);
    const set = new Set(types);
    return this.messages$.pipe(filter((m) => set.has(m.message.type)));
  }

  /** One peer's messages (optionally only these types; registers them as messagesOfType does). */
  messagesFrom(nodeIdHex: string, ...types: number[]): Observable<PeerMessage> {
    const nodeId = peerKey(nodeIdHex);
    this.registerMessageTypes(types);
    const set = new Set(types);
    return this.messages$.pipe(
      filter((m) => m.nodeId === nodeId && (set.size === 0 || set.has(m.message.type))),
    );
  }

  /** Messages of the given kinds (names as in the BOLTs, e.g. 'error', 'open_channel'), typed. */
  messagesOfKind<K extends MessageKind>(
    ...kinds: K[]
  ): Observable<PeerMessage & { message: Extract<Message, { kind: K }> }> {
    const set = new Set<string>(kinds);
    return this.messages$.pipe(
      filter((m): m is PeerMessage & { message: Extract<Message, { kind: K }> } => set.has(m.message.kind)),
    );
  }

  /** Listens for inbound connections; port 0 lets the OS choose. Resolves to the bound address. */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    if (this.closed) throw new PeerNetError('closed', 'peer manager is closed');
    checkAddress(host, port, true);
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log?.error({ err: e.message }, 'listener error'));
    this.servers.push(server);
    const a = server.address() as net.AddressInfo;
    this.log?.info({ host: a.address, port: a.port }, 'listening');
    return { host: a.address, port: a.port };
  }

  /**
   * Dials a peer and resolves once init is exchanged. Rejects with a PeerNetError on a
   * refused connection, a failed handshake (wrong node id), a timeout or a refused init.
   * With `persistent`, the peer is redialled with backoff whenever it drops (also when
   * this first attempt fails).
   */
  async connect(
    nodeIdHex: string,
    host: string,
    port: number,
    options: ConnectOptions = {},
  ): Promise<PeerInfo> {
    if (this.closed) throw new PeerNetError('closed', 'peer manager is closed');
    const nodeId = peerKey(nodeIdHex);
    const remoteKey = checkNodeId(nodeId);
    checkAddress(host, port, false);
    if (nodeId === this.nodeId)
      throw new PeerNetError('invalid-argument', 'cannot connect to our own node id');
    if (options.persistent) {
      const p = this.persistent.get(nodeId);
      if (p) {
        p.host = host;
        p.port = port;
      } else this.persistent.set(nodeId, { host, port, delayMs: this.opts.reconnectInitialDelayMs });
    }
    const existing = this.peers.get(nodeId);
    if (existing) return this.info(existing);
    try {
      return await this.dial(remoteKey, host, port);
    } catch (e) {
      if (this.persistent.has(nodeId)) this.scheduleReconnect(nodeId);
      throw e;
    }
  }

  /** Closes the connection to a peer and forgets that it was persistent. */
  async disconnect(nodeIdHex: string): Promise<void> {
    const nodeId = peerKey(nodeIdHex);
    const p = this.persistent.get(nodeId);
    if (p?.timer) clearTimeout(p.timer);
    this.persistent.delete(nodeId);
    const entry = this.peers.get(nodeId);
    if (!entry || entry.connection.isClosed) return;
    entry.closedByUs = true;
    await new Promise<void>((resolve) => {
      const done = entry.connection.onClose;
      entry.connection.onClose = (err) => {
        done(err);
        resolve();
      };
      entry.connection.close();
    });
  }

  listPeers(): PeerInfo[] {
    return [...this.peers.values()].map((e) => this.info(e));
  }

  /** Sends a message; resolves when the socket has taken it. Rejects with 'not-connected' or 'queue-full'. */
  send(nodeIdHex: string, message: Uint8Array | Message | UnknownMessage): Promise<void> {
    let entry: Entry | undefined;
    let bytes: Uint8Array;
    try {
      entry = this.peers.get(peerKey(nodeIdHex));
    } catch (e) {
      return Promise.reject(e);
    }
    if (!entry) return Promise.reject(new PeerNetError('not-connected', 'peer is not connected'));
    try {
      bytes = message instanceof Uint8Array ? message : encodeMessage(message);
    } catch (e) {
      return Promise.reject(e);
    }
    // BOLT 1: every message starts with its 2-byte type; fewer bytes would only make the peer close.
    if (bytes.length < 2)
      return Promise.reject(new PeerNetError('invalid-argument', 'a message starts with its 2-byte type'));
    return entry.connection.send(bytes);
  }

  /** Pings a peer now; resolves to the round trip in ms when the pong arrives. */
  ping(nodeIdHex: string, numPongBytes = 0): Promise<number> {
    // BOLT 1: a peer sends no pong for num_pong_bytes of 65532 or more, so such a ping could
    // only end in the pong timeout, which drops the peer: refuse it here instead.
    if (!Number.isInteger(numPongBytes) || numPongBytes < 0 || numPongBytes >= PING_NO_REPLY_THRESHOLD) {
      return Promise.reject(
        new PeerNetError(
          'invalid-argument',
          `num_pong_bytes must be an integer from 0 to ${PING_NO_REPLY_THRESHOLD - 1}`,
        ),
      );
    }
    let entry: Entry | undefined;
    try {
      entry = this.peers.get(peerKey(nodeIdHex));
    } catch (e) {
      return Promise.reject(e);
    }
    if (!entry) return Promise.reject(new PeerNetError('not-connected', 'peer is not connected'));
    return new Promise((resolve, reject) => {
      entry.pings.push({ resolve, reject });
      this.perform(entry, [entry.session.sendPing(Date.now(), numPongBytes)]);
    });
  }

  /** Messages waiting in a peer's outbound queue (0 if not connected). */
  queueLength(nodeIdHex: string): number {
    return this.peers.get(peerKey(nodeIdHex))?.connection.queueLength ?? 0;
  }

  /** Stops listening, closes every connection, cancels reconnects; completes the streams. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const p of this.persistent.values()) if (p.timer) clearTimeout(p.timer);
    this.persistent.clear();
    const serversClosed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const e of [...this.peers.values(), ...this.pending]) {
      e.closedByUs = true;
      e.connection.close(new PeerNetError('closed', 'peer manager closed'));
    }
    for (const s of this.sockets) s.destroy();
    await Promise.all(serversClosed);
    this.events.complete();
    this.messages.complete();
  }

  private info(e: Entry): PeerInfo {
    const features = e.session.features;
    return {
      nodeId: e.nodeId,
      address: e.address,
      inbound: e.inbound,
      features: features ? describeFeatures(features) : { hex: '', names: [] },
    };
  }

  private async dial(remoteKey: Uint8Array, host: string, port: number): Promise<PeerInfo> {
    const socket = net.connect({ host, port });
    this.track(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new PeerNetError('timeout', `TCP connect to ${host}:${port} timed out`));
      }, this.opts.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new PeerNetError('connect-failed', `TCP connect to ${host}:${port} failed: ${e.message}`));
      });
    });
    let connection: Connection;
    try {
      connection = await Connection.outbound(
        socket,
        this.options.nodeKey,
        remoteKey,
        this.connectionOptions(),
      );
    } catch (e) {
      const why = e instanceof PeerNetError ? e : new PeerNetError('connect-failed', 'handshake failed');
      // A bad act two from the node we dialled usually means it is not the node id we expected.
      const code = why.code.startsWith('handshake-') ? 'wrong-node-id' : why.code;
      throw new PeerNetError(code, `handshake with ${host}:${port} failed (${why.code}): ${why.message}`);
    }
    if (this.closed) {
      connection.close();
      throw new PeerNetError('closed', 'peer manager is closed');
    }
    return new Promise<PeerInfo>((resolve, reject) => {
      this.adopt(connection, { resolve, reject });
    });
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.track(socket);
    const address = `${socket.remoteAddress}:${socket.remotePort}`;
    Connection.inbound(socket, this.options.nodeKey, this.connectionOptions()).then(
      (connection) => {
        if (this.closed) connection.close();
        else this.adopt(connection);
      },
      (e: unknown) => {
        // Random bytes, a bad MAC or silence during the handshake: drop it; it never was a peer.
        const code = e instanceof PeerNetError ? e.code : 'handshake-state';
        this.log?.info({ address, code }, 'inbound handshake failed');
      },
    );
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private connectionOptions() {
    return {
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
      maxQueueLength: this.opts.maxQueueLength,
      maxMessageSize: this.opts.maxMessageSize,
      ...(this.options.frameSealer ? { frameSealer: this.options.frameSealer } : {}),
      ...(this.options.sealerMinBatch ? { sealerMinBatch: this.options.sealerMinBatch } : {}),
    };
  }

  private adopt(connection: Connection, waiter?: Entry['waiter']): void {
    const nodeId = hex(connection.remoteNodeId);
    const session = new PeerSession(
      {
        localFeatures: this.features,
        chainHashes: this.chainHashes,
        isHandledType: (t) => this.handledTypes.has(t),
        pingIntervalMs: this.opts.pingIntervalMs,
        pongTimeoutMs: this.opts.pongTimeoutMs,
        initTimeoutMs: this.opts.initTimeoutMs,
      },
      Date.now(),
    );
    const entry: Entry = {
      connection,
      session,
      nodeId,
      inbound: connection.inbound,
      address: connection.remoteAddress,
      active: false,
      pings: [],
      closedByUs: false,
      ...(waiter ? { waiter } : {}),
    };
    this.pending.add(entry);
    connection.onMessage = (raw) => this.perform(entry, session.receive(raw, Date.now()));
    connection.onClose = (err) => this.onClosed(entry, err);
    connection.start();
    if (!connection.isClosed) this.perform(entry, session.start());
  }

  private perform(entry: Entry, effects: SessionEffect[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'send':
          // Control messages (init, pong, warning) go through the same queue, in order.
          entry.connection.send(effect.message).catch(() => {});
          break;
        case 'initialized':
          this.onInitialized(entry);
          break;
        case 'deliver':
          if (entry.active)
            this.messages.next({ nodeId: entry.nodeId, message: effect.message, raw: effect.raw });
          break;
        case 'pong':
          for (const p of entry.pings.splice(0)) p.resolve(effect.roundTripMs);
          break;
        case 'disconnect': {
          const error = new PeerNetError(effect.code, effect.reason);
          this.log?.info(
            { peer: entry.nodeId, code: effect.code, reason: effect.reason },
            'disconnecting peer',
          );
          entry.connection.closeAfterFlush(error);
          break;
        }
      }
    }
  }

  private onInitialized(entry: Entry): void {
    this.pending.delete(entry);
    const previous = this.peers.get(entry.nodeId);
    if (previous) {
      // BOLT 1: "MUST use a single connection per peer". The newer connection wins: the older
      // one is most often a half-open socket the peer has already given up on.
      previous.closedByUs = true;
      previous.connection.close(new PeerNetError('disconnected', 'replaced by a newer connection'));
    }
    entry.active = true;
    this.peers.set(entry.nodeId, entry);
    const p = this.persistent.get(entry.nodeId);
    if (p) {
      if (p.timer) clearTimeout(p.timer);
      p.timer = undefined;
      p.delayMs = this.opts.reconnectInitialDelayMs;
    }
    const info = this.info(entry);
    this.log?.info(
      { peer: entry.nodeId, address: entry.address, inbound: entry.inbound, features: info.features.names },
      'peer connected',
    );
    this.events.next({ type: 'connected', ...info });
    entry.waiter?.resolve(info);
    entry.waiter = undefined;
  }

  private onClosed(entry: Entry, error: PeerNetError | undefined): void {
    this.pending.delete(entry);
    const reason = error?.message ?? 'connection closed';
    for (const p of entry.pings.splice(0)) p.reject(new PeerNetError('disconnected', reason));
    if (entry.waiter) {
      entry.waiter.reject(
        new PeerNetError(error?.code ?? 'disconnected', `peer disconnected before init: ${reason}`),
      );
      entry.waiter = undefined;
    }
    if (!entry.active) return;
    entry.active = false;
    if (this.peers.get(entry.nodeId) === entry) this.peers.delete(entry.nodeId);
    this.log?.info({ peer: entry.nodeId, code: error?.code, reason }, 'peer disconnected');
    if (!this.closed) {
      this.events.next({
        type: 'disconnected',
        nodeId: entry.nodeId,
        address: entry.address,
        inbound: entry.inbound,
        reason,
        code: error?.code,
      });
    }
    if (!entry.closedByUs && !this.peers.has(entry.nodeId) && this.persistent.has(entry.nodeId)) {
      this.scheduleReconnect(entry.nodeId);
    }
  }

  private scheduleReconnect(nodeId: string): void {
    const p = this.persistent.get(nodeId);
    if (!p || p.timer || this.closed) return;
    const delay = p.delayMs;
    p.delayMs = Math.min(p.delayMs * 2, this.opts.reconnectMaxDelayMs);
    this.log?.info({ peer: nodeId, delayMs: delay }, 'reconnecting to persistent peer');
    p.timer = setTimeout(() => {
      p.timer = undefined;
      if (this.closed || this.peers.has(nodeId) || !this.persistent.has(nodeId)) return;
      this.dial(checkNodeId(nodeId), p.host, p.port).catch((e: unknown) => {
        this.log?.info(
          { peer: nodeId, code: e instanceof PeerNetError ? e.code : undefined },
          'reconnect failed',
        );
        this.scheduleReconnect(nodeId);
      });
    }, delay);
    p.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    for (const e of [...this.pending, ...this.peers.values()]) {
      if (!e.connection.isClosed) this.perform(e, e.session.tick(now));
    }
  }
}
