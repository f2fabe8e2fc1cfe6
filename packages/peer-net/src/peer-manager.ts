/**
 * The PeerManager: the I/O shell around two pure cores. It owns the TCP listener and dialer,
 * one `Connection` per socket (connection.ts), one `PeerSession` per connection for the BOLT 1
 * rules (session.ts), and the timers; the `PeerDirectory` (peer-directory.ts) decides which
 * connection is a peer's, what a new one replaces, and when a persistent peer is redialled.
 * Each socket event becomes an input to one of the cores, and their effects are performed
 * here. The caps on connections (connection-limits.ts) are asked before a socket is kept or
 * opened; every limit hit is counted (`stats()`) and logged through a rate limit
 * (log-limiter.ts). Other actors see peers through `events$`, their messages through
 * `messages$` / `messagesOfType`, and talk to them with `send`.
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
import {
  Connection,
  DEFAULT_MAX_QUEUE_BYTES,
  formatAddress,
  SOCKET_WRITE_BUFFER_BYTES,
} from './connection.ts';
import {
  checkLimit,
  DEFAULT_INBOUND_LIMITS,
  DEFAULT_MAX_DIALS_IN_FLIGHT,
  DialSlots,
  InboundAdmission,
  type InboundRefusal,
} from './connection-limits.ts';
import { PeerNetError, type PeerNetErrorCode } from './errors.ts';
import { describeFeatures, type FeatureInfo, LNKIT_INIT_FEATURES } from './features.ts';
import { DEFAULT_MISBEHAVIOUR_LOG_INTERVAL_MS, LogLimiter, logMisbehaviour } from './log-limiter.ts';
import type { FrameSealer, NodeKeyEcdh } from './noise.ts';
import {
  type ConnectionId,
  type DirectoryEffect,
  type Peer,
  type PeerAddress,
  PeerDirectory,
} from './peer-directory.ts';
import { DEFAULT_RECONNECT_POLICY } from './reconnect-policy.ts';
import {
  DEFAULT_PING_LIMITS,
  DEFAULT_SEND_STALL_TIMEOUT_MS,
  PeerSession,
  type SessionCounters,
  type SessionEffect,
} from './session.ts';

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
  /** Bytes waiting in one peer's outbound queue before `send` rejects with 'queue-full'. Default 1 MiB (connection.ts). */
  maxQueueBytes?: number;
  /** Disconnect a peer that read nothing for this long while messages for it waited. Default 30 s (session.ts). */
  sendStallTimeoutMs?: number;
  /** Ping answering (session.ts PingLimits): the window, default 10 s… */
  pingWindowMs?: number;
  /** …pongs sent per window at most (a ping beyond waits for the next window), default 20… */
  maxPongsPerWindow?: number;
  /** …and pings ignored per window before the peer is dropped for a ping flood, default 100. */
  maxIgnoredPingsPerWindow?: number;
  /** Inbound connections held at once (handshaking or peers). Default 256 (connection-limits.ts). */
  maxInboundConnections?: number;
  /** Of those, from one IPv4 address or IPv6 /64. Default 8. */
  maxInboundPerIp?: number;
  /** Of those, still in the BOLT 8 handshake or before init. Default 64. */
  maxInboundHandshakes?: number;
  /** Outbound dials (TCP connect and handshake) at once; more wait their turn. Default 32. */
  maxDialsInFlight?: number;
  /** Peer misbehaviour is logged at info at most once per cause per this interval, otherwise at debug. Default 60 s. */
  misbehaviourLogIntervalMs?: number;
  /** Largest incoming message accepted; BOLT 8 allows 65535. */
  maxMessageSize?: number;
  /** Backoff for persistent peers: first delay and cap. Default 1 s → 60 s (reconnect-policy.ts). */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** A connection up this long resets the backoff to the first delay. Default: the cap, 60 s. */
  reconnectStableAfterMs?: number;
  /** Fraction of each redial delay taken off at random (0..1). Default 0.1. */
  reconnectJitter?: number;
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
  /**
   * Keep this peer connected: redial with backoff whenever it drops. It takes effect once
   * this connect succeeds (or at once if the peer is connected): a connect that fails leaves
   * nothing redialling.
   */
  persistent?: boolean;
  /**
   * With `persistent`: the caller reached this peer before (e.g. its own record from an
   * earlier run), so it is persistent at once and redialled even if this first dial fails.
   */
  remembered?: boolean;
}

/** One peer's current connection: its traffic, and its BOLT 1 control messages (proof a ping crossed). */
export interface ConnectionStats extends SessionCounters {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** The limits in force (PeerManagerOptions with their defaults filled in). */
export interface PeerLimits {
  maxInboundConnections: number;
  maxInboundPerIp: number;
  maxInboundHandshakes: number;
  maxDialsInFlight: number;
  maxQueueLength: number;
  maxQueueBytes: number;
  sendStallTimeoutMs: number;
  pingWindowMs: number;
  maxPongsPerWindow: number;
  maxIgnoredPingsPerWindow: number;
}

/** Since the PeerManager started: every limit hit, and the peer misbehaviour that ended connections. */
export interface PeerNetCounters {
  /** Inbound sockets closed at accept because maxInboundConnections were held. */
  inboundRefusedTotal: number;
  /** … because maxInboundPerIp were held from that address. */
  inboundRefusedPerIp: number;
  /** … because maxInboundHandshakes were under way. */
  inboundRefusedHandshakes: number;
  /** Dials that waited for a slot (maxDialsInFlight). */
  dialsQueued: number;
  /** Pings answered in a later window (maxPongsPerWindow). */
  pingsDelayed: number;
  /** Pings replaced by a newer one before their pong could go. */
  pingsIgnored: number;
  /** Connections closed for a ping flood (maxIgnoredPingsPerWindow). */
  pingFloodDisconnects: number;
  /** Sends refused with 'queue-full' (maxQueueLength / maxQueueBytes). */
  sendsRefusedQueueFull: number;
  /** Connections closed because the peer read nothing for sendStallTimeoutMs. */
  sendStallDisconnects: number;
  /** Inbound BOLT 8 handshakes that failed (bad acts, silence, a flood during the handshake). */
  handshakesFailed: number;
  /** Connections closed for a frame that did not verify or was too long (BOLT 8). */
  badFrames: number;
  /** Connections closed for a BOLT 1 violation: malformed or unknown even message, features, chains. */
  protocolErrors: number;
  /** Connections closed because init or a pong never came. */
  timeouts: number;
}

/** What `stats()` returns: plain data, so that it crosses threads as the actor's answer. */
export interface PeerNetStats {
  limits: PeerLimits;
  current: {
    peers: number;
    inboundConnections: number;
    inboundHandshakes: number;
    dialsInFlight: number;
    dialsWaiting: number;
    /** Bytes waiting in every connection's outbound queue and socket buffer. */
    queuedBytes: number;
  };
  counters: PeerNetCounters;
}

/** A logical peer as `peer()` shows it: connected or not, persistent or not, its redial. */
export interface PeerState {
  nodeId: string;
  connected: boolean;
  /** Connections opening or closing besides the current one. */
  connecting: number;
  persistent?: { host: string; port: number; failures: number; redialAt?: number };
}

type Waiter = { resolve: (info: PeerInfo) => void; reject: (e: Error) => void };

/** The shell's side of one connection: its socket or Connection, its session, who waits on it. */
interface Link {
  readonly id: ConnectionId;
  readonly nodeId: string;
  readonly inbound: boolean;
  /** Outbound, until the handshake is done: the socket, so that a close can abort the dial. */
  socket: net.Socket | undefined;
  connection: Connection | undefined;
  session: PeerSession | undefined;
  /** Set when the directory closed it before its Connection existed (an aborted dial). */
  aborted: PeerNetError | undefined;
  /** Withdraws a dial still waiting for a slot (maxDialsInFlight). */
  cancelDial: (() => void) | undefined;
  /** Inbound: its place in the admission counts, whose handshake slot init gives back. */
  ticket: number | undefined;
  waiters: Waiter[];
  pings: { resolve: (ms: number) => void; reject: (e: Error) => void }[];
  /** Resolves once its end has been reported to the directory. */
  readonly ended: Promise<void>;
  end: (() => void) | undefined;
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
      | 'logger'
      | 'features'
      | 'chainHashes'
      | 'nodeKey'
      | 'frameSealer'
      | 'sealerMinBatch'
      | 'reconnectInitialDelayMs'
      | 'reconnectMaxDelayMs'
      | 'reconnectStableAfterMs'
      | 'reconnectJitter'
    >
  >;
  private readonly features: Features;
  private readonly chainHashes: readonly Uint8Array[];
  private readonly log: Logger | undefined;
  /** Which connection is whose, and when to redial: the rules live there, the I/O here. */
  private readonly directory: PeerDirectory;
  private readonly links = new Map<ConnectionId, Link>();
  /** Effects waiting to be performed, in order (performing one may feed the directory again). */
  private readonly queue: DirectoryEffect[] = [];
  private draining = false;
  /** Links whose end was reported; kept until the effects of that report are performed. */
  private readonly retired: Link[] = [];
  private readonly redialTimers = new Map<string, NodeJS.Timeout>();
  private readonly sockets = new Set<net.Socket>();
  private readonly handledTypes = new Set<number>();
  private readonly servers: net.Server[] = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly admission: InboundAdmission;
  private readonly dialSlots: DialSlots;
  private readonly logLimiter: LogLimiter;
  private readonly counters: PeerNetCounters = {
    inboundRefusedTotal: 0,
    inboundRefusedPerIp: 0,
    inboundRefusedHandshakes: 0,
    dialsQueued: 0,
    pingsDelayed: 0,
    pingsIgnored: 0,
    pingFloodDisconnects: 0,
    sendsRefusedQueueFull: 0,
    sendStallDisconnects: 0,
    handshakesFailed: 0,
    badFrames: 0,
    protocolErrors: 0,
    timeouts: 0,
  };

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
      maxQueueBytes: options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES,
      sendStallTimeoutMs: options.sendStallTimeoutMs ?? DEFAULT_SEND_STALL_TIMEOUT_MS,
      pingWindowMs: options.pingWindowMs ?? DEFAULT_PING_LIMITS.windowMs,
      maxPongsPerWindow: options.maxPongsPerWindow ?? DEFAULT_PING_LIMITS.maxPongsPerWindow,
      maxIgnoredPingsPerWindow: options.maxIgnoredPingsPerWindow ?? DEFAULT_PING_LIMITS.maxIgnoredPerWindow,
      maxInboundConnections: options.maxInboundConnections ?? DEFAULT_INBOUND_LIMITS.maxConnections,
      maxInboundPerIp: options.maxInboundPerIp ?? DEFAULT_INBOUND_LIMITS.maxPerIp,
      maxInboundHandshakes: options.maxInboundHandshakes ?? DEFAULT_INBOUND_LIMITS.maxHandshakes,
      maxDialsInFlight: options.maxDialsInFlight ?? DEFAULT_MAX_DIALS_IN_FLIGHT,
      misbehaviourLogIntervalMs: options.misbehaviourLogIntervalMs ?? DEFAULT_MISBEHAVIOUR_LOG_INTERVAL_MS,
    };
    for (const name of [
      'maxQueueLength',
      'maxQueueBytes',
      'sendStallTimeoutMs',
      'pingWindowMs',
      'maxPongsPerWindow',
      'maxIgnoredPingsPerWindow',
    ] as const)
      checkLimit(name, this.opts[name]);
    this.admission = new InboundAdmission({
      maxConnections: this.opts.maxInboundConnections,
      maxPerIp: this.opts.maxInboundPerIp,
      maxHandshakes: this.opts.maxInboundHandshakes,
    });
    this.dialSlots = new DialSlots(this.opts.maxDialsInFlight);
    this.logLimiter = new LogLimiter(this.opts.misbehaviourLogIntervalMs);
    const maxDelayMs = options.reconnectMaxDelayMs ?? DEFAULT_RECONNECT_POLICY.maxDelayMs;
    this.directory = new PeerDirectory({
      policy: {
        initialDelayMs: options.reconnectInitialDelayMs ?? DEFAULT_RECONNECT_POLICY.initialDelayMs,
        maxDelayMs,
        stableAfterMs: options.reconnectStableAfterMs ?? maxDelayMs,
        jitter: options.reconnectJitter ?? DEFAULT_RECONNECT_POLICY.jitter,
      },
      random: Math.random,
    });
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
    const server = net.createServer({ highWaterMark: SOCKET_WRITE_BUFFER_BYTES }, (socket) =>
      this.accept(socket),
    );
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
   * Dials a peer and resolves once init is exchanged (at once if it is connected already).
   * Rejects with a PeerNetError on a refused connection, a failed handshake (wrong node id),
   * a timeout or a refused init. With `persistent`, the peer is redialled with backoff
   * whenever it drops once this connect has succeeded (see ConnectOptions).
   */
  async connect(
    nodeIdHex: string,
    host: string,
    port: number,
    options: ConnectOptions = {},
  ): Promise<PeerInfo> {
    if (this.closed) throw new PeerNetError('closed', 'peer manager is closed');
    const nodeId = peerKey(nodeIdHex);
    checkNodeId(nodeId);
    checkAddress(host, port, false);
    if (nodeId === this.nodeId)
      throw new PeerNetError('invalid-argument', 'cannot connect to our own node id');
    const r = this.directory.connect(
      nodeId,
      { host, port },
      { persistent: options.persistent === true, remembered: options.remembered === true },
      Date.now(),
    );
    this.perform(r.effects);
    const link = this.links.get(r.connection);
    if (!link) throw new PeerNetError('disconnected', 'the connection ended before it could be used');
    if (r.ready) return this.info(link);
    return new Promise<PeerInfo>((resolve, reject) => link.waiters.push({ resolve, reject }));
  }

  /** Closes every connection to a peer and forgets that it was persistent (no redial). */
  async disconnect(nodeIdHex: string): Promise<void> {
    const { closing, effects } = this.directory.disconnect(peerKey(nodeIdHex));
    const ended = closing.flatMap((id) => this.links.get(id)?.ended ?? []);
    this.perform(effects);
    await Promise.all(ended);
  }

  listPeers(): PeerInfo[] {
    return this.directory.connected().flatMap(({ connection }) => {
      const link = this.links.get(connection);
      return link ? [this.info(link)] : [];
    });
  }

  /** The logical peer: connected or not, and for a persistent one its address and pending redial. */
  peer(nodeIdHex: string): PeerState | undefined {
    const p = this.directory.peer(peerKey(nodeIdHex));
    return p ? peerState(p) : undefined;
  }

  /** Counters of a peer's current connection (undefined if not connected). */
  connectionStats(nodeIdHex: string): ConnectionStats | undefined {
    const link = this.currentLink(peerKey(nodeIdHex));
    if (!link?.connection || !link.session) return undefined;
    return { ...link.connection.stats, ...link.session.counters };
  }

  /** Sends a message; resolves when the socket has taken it. Rejects with 'not-connected' or 'queue-full'. */
  send(nodeIdHex: string, message: Uint8Array | Message | UnknownMessage): Promise<void> {
    let link: Link | undefined;
    let bytes: Uint8Array;
    try {
      link = this.currentLink(peerKey(nodeIdHex));
    } catch (e) {
      return Promise.reject(e);
    }
    if (!link?.connection) return Promise.reject(new PeerNetError('not-connected', 'peer is not connected'));
    try {
      bytes = message instanceof Uint8Array ? message : encodeMessage(message);
    } catch (e) {
      return Promise.reject(e);
    }
    // BOLT 1: every message starts with its 2-byte type; fewer bytes would only make the peer close.
    if (bytes.length < 2)
      return Promise.reject(new PeerNetError('invalid-argument', 'a message starts with its 2-byte type'));
    return link.connection.send(bytes);
  }

  /** Pings a peer now; resolves to the round trip in ms when its pong arrives. */
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
    let link: Link | undefined;
    try {
      link = this.currentLink(peerKey(nodeIdHex));
    } catch (e) {
      return Promise.reject(e);
    }
    const session = link?.session;
    if (!link || !session) return Promise.reject(new PeerNetError('not-connected', 'peer is not connected'));
    return new Promise((resolve, reject) => {
      link.pings.push({ resolve, reject });
      this.performSession(link, [session.sendPing(Date.now(), numPongBytes)]);
    });
  }

  /** Messages waiting in a peer's outbound queue (0 if not connected). */
  queueLength(nodeIdHex: string): number {
    return this.currentLink(peerKey(nodeIdHex))?.connection?.queueLength ?? 0;
  }

  /** The limits in force, what they hold now, and how often each was hit (for metrics). */
  stats(): PeerNetStats {
    const o = this.opts;
    const inbound = this.admission.counts();
    const dials = this.dialSlots.counts();
    let queuedBytes = 0;
    for (const link of this.links.values()) queuedBytes += link.connection?.queueBytes ?? 0;
    return {
      limits: {
        maxInboundConnections: o.maxInboundConnections,
        maxInboundPerIp: o.maxInboundPerIp,
        maxInboundHandshakes: o.maxInboundHandshakes,
        maxDialsInFlight: o.maxDialsInFlight,
        maxQueueLength: o.maxQueueLength,
        maxQueueBytes: o.maxQueueBytes,
        sendStallTimeoutMs: o.sendStallTimeoutMs,
        pingWindowMs: o.pingWindowMs,
        maxPongsPerWindow: o.maxPongsPerWindow,
        maxIgnoredPingsPerWindow: o.maxIgnoredPingsPerWindow,
      },
      current: {
        peers: this.directory.connected().length,
        inboundConnections: inbound.connections,
        inboundHandshakes: inbound.handshakes,
        dialsInFlight: dials.inFlight,
        dialsWaiting: dials.waiting,
        queuedBytes,
      },
      counters: { ...this.counters },
    };
  }

  /** Stops listening, closes every connection, cancels redials; completes the streams. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const serversClosed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.perform(this.directory.shutdown());
    // Inbound sockets still in their handshake are not in the directory yet.
    for (const s of this.sockets) s.destroy();
    await Promise.all(serversClosed);
    this.events.complete();
    this.messages.complete();
  }

  private currentLink(nodeId: string): Link | undefined {
    const id = this.directory.current(nodeId);
    return id === undefined ? undefined : this.links.get(id);
  }

  private info(link: Link): PeerInfo {
    const features = link.session?.features;
    return {
      nodeId: link.nodeId,
      address: link.connection?.remoteAddress ?? '?',
      inbound: link.inbound,
      features: features ? describeFeatures(features) : { hex: '', names: [] },
    };
  }

  /** Performs directory effects in order; effects that performing one produces wait their turn. */
  private perform(effects: DirectoryEffect[]): void {
    this.queue.push(...effects);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) this.performOne(e);
    } finally {
      this.draining = false;
      for (const link of this.retired.splice(0)) this.links.delete(link.id);
    }
  }

  private performOne(effect: DirectoryEffect): void {
    switch (effect.kind) {
      case 'dial': {
        const link = this.newLink(effect.connection, effect.nodeId, false);
        this.dial(link, effect.address);
        break;
      }
      case 'close': {
        const link = this.links.get(effect.connection);
        if (!link) break;
        const error = effect.code ? new PeerNetError(effect.code, effect.reason) : undefined;
        if (link.connection) link.connection.close(error);
        else {
          // Still dialling: destroying the socket makes the dial fail, which reports the end
          // (a dial still waiting for a slot is withdrawn, and ends the same way).
          link.aborted = error ?? new PeerNetError('disconnected', effect.reason);
          link.socket?.destroy();
          link.cancelDial?.();
        }
        break;
      }
      case 'schedule-redial': {
        clearTimeout(this.redialTimers.get(effect.nodeId));
        // The e2e tests count these lines; the fields are what an operator wants to see.
        this.log?.info(
          { peer: effect.nodeId, delayMs: effect.delayMs, failures: effect.failures },
          'reconnecting to persistent peer',
        );
        const t = setTimeout(
          () => {
            this.redialTimers.delete(effect.nodeId);
            this.perform(this.directory.redialDue(effect.nodeId, Date.now()));
          },
          Math.max(0, effect.at - Date.now()),
        );
        t.unref();
        this.redialTimers.set(effect.nodeId, t);
        break;
      }
      case 'cancel-redial':
        clearTimeout(this.redialTimers.get(effect.nodeId));
        this.redialTimers.delete(effect.nodeId);
        break;
      case 'connected': {
        const link = this.links.get(effect.connection)!;
        const info = this.info(link);
        // Debug: anyone can connect and go at will, and the node logs its events$ at info.
        this.log?.debug(
          { peer: info.nodeId, address: info.address, inbound: info.inbound, features: info.features.names },
          'peer connected',
        );
        this.events.next({ type: 'connected', ...info });
        for (const w of link.waiters.splice(0)) w.resolve(info);
        break;
      }
      case 'disconnected': {
        const link = this.links.get(effect.connection)!;
        const info = this.info(link);
        this.log?.debug({ peer: info.nodeId, code: effect.code, reason: effect.reason }, 'peer disconnected');
        this.events.next({
          type: 'disconnected',
          nodeId: info.nodeId,
          address: info.address,
          inbound: info.inbound,
          reason: effect.reason,
          code: effect.code,
        });
        break;
      }
    }
  }

  private newLink(id: ConnectionId, nodeId: string, inbound: boolean): Link {
    let end: (() => void) | undefined;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const link: Link = {
      id,
      nodeId,
      inbound,
      socket: undefined,
      connection: undefined,
      session: undefined,
      aborted: undefined,
      cancelDial: undefined,
      ticket: undefined,
      waiters: [],
      pings: [],
      ended,
      end,
    };
    this.links.set(id, link);
    return link;
  }

  private dial(link: Link, { host, port }: PeerAddress): void {
    const slot = this.dialSlots.acquire();
    if (slot.queued) {
      this.counters.dialsQueued++;
      this.log?.debug(
        { peer: link.nodeId, maxDialsInFlight: this.opts.maxDialsInFlight },
        'dial waits for a slot',
      );
    }
    link.cancelDial = slot.cancel;
    const connectAndHandshake = async (): Promise<Connection> => {
      // Node's Duplex takes `highWaterMark` for its write buffer; @types/node does not list it here.
      const socket = new net.Socket({
        highWaterMark: SOCKET_WRITE_BUFFER_BYTES,
      } as net.SocketConstructorOpts).connect({ host, port });
      link.socket = socket;
      this.track(socket);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new PeerNetError('timeout', `TCP connect to ${host}:${port} timed out`));
        }, this.opts.connectTimeoutMs);
        const closed = () => {
          clearTimeout(timer);
          reject(new PeerNetError('connect-failed', `TCP connect to ${host}:${port} closed`));
        };
        socket.once('connect', () => {
          clearTimeout(timer);
          // Or every connection's close, long after, would build this error (and its stack) for nothing.
          socket.off('close', closed);
          resolve();
        });
        socket.once('close', closed);
        // Left on: it fires only on an error, and keeps one listened for until the connection adds its own.
        socket.once('error', (e) => {
          clearTimeout(timer);
          reject(new PeerNetError('connect-failed', `TCP connect to ${host}:${port} failed: ${e.message}`));
        });
      });
      try {
        return await Connection.outbound(
          socket,
          this.options.nodeKey,
          checkNodeId(link.nodeId),
          this.connectionOptions(),
        );
      } catch (e) {
        const why = e instanceof PeerNetError ? e : new PeerNetError('connect-failed', 'handshake failed');
        // A bad act two from the node we dialled usually means it is not the node id we expected.
        const code = why.code.startsWith('handshake-') ? 'wrong-node-id' : why.code;
        throw new PeerNetError(code, `handshake with ${host}:${port} failed (${why.code}): ${why.message}`);
      }
    };
    const run = async (): Promise<Connection> => {
      const granted = await slot.granted;
      link.cancelDial = undefined;
      if (!granted || link.aborted) {
        if (granted) this.dialSlots.release();
        throw link.aborted ?? new PeerNetError('disconnected', 'dial withdrawn');
      }
      try {
        return await connectAndHandshake();
      } finally {
        this.dialSlots.release();
      }
    };
    run().then(
      (connection) => {
        link.socket = undefined;
        if (link.aborted) {
          connection.close(link.aborted);
          this.ended(link, link.aborted);
        } else this.adopt(link, connection);
      },
      (e: unknown) => {
        const error =
          link.aborted ?? (e instanceof PeerNetError ? e : new PeerNetError('connect-failed', String(e)));
        this.log?.info({ peer: link.nodeId, code: error.code, reason: error.message }, 'dial failed');
        this.ended(link, error);
      },
    );
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const address = formatAddress(socket.remoteAddress, socket.remotePort);
    const admission = this.admission.admit(socket.remoteAddress);
    if (!admission.admitted) {
      // Refused before a byte is read: the descriptor is given back at once.
      this.countRefusal(admission.refusal);
      logMisbehaviour(
        this.log,
        this.logLimiter,
        admission.refusal,
        { address, limit: admission.refusal },
        'inbound connection refused',
      );
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const ticket = admission.ticket;
    socket.once('close', () => this.admission.release(ticket));
    this.track(socket);
    Connection.inbound(socket, this.options.nodeKey, this.connectionOptions()).then(
      (connection) => {
        if (this.closed) {
          connection.close();
          return;
        }
        const nodeId = hex(connection.remoteNodeId);
        const link = this.newLink(this.directory.inboundOpened(nodeId, Date.now()), nodeId, true);
        link.ticket = ticket;
        this.adopt(link, connection);
      },
      (e: unknown) => {
        // Random bytes, a bad MAC or silence during the handshake: drop it; it never was a peer.
        const code = e instanceof PeerNetError ? e.code : 'handshake-state';
        this.counters.handshakesFailed++;
        logMisbehaviour(
          this.log,
          this.logLimiter,
          `handshake:${code}`,
          { address, code },
          'inbound handshake failed',
        );
      },
    );
  }

  private countRefusal(refusal: InboundRefusal): void {
    if (refusal === 'inbound-total') this.counters.inboundRefusedTotal++;
    else if (refusal === 'inbound-per-ip') this.counters.inboundRefusedPerIp++;
    else this.counters.inboundRefusedHandshakes++;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private connectionOptions() {
    return {
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
      maxQueueLength: this.opts.maxQueueLength,
      maxQueueBytes: this.opts.maxQueueBytes,
      maxMessageSize: this.opts.maxMessageSize,
      ...(this.options.frameSealer ? { frameSealer: this.options.frameSealer } : {}),
      ...(this.options.sealerMinBatch ? { sealerMinBatch: this.options.sealerMinBatch } : {}),
    };
  }

  /** The handshake is done: a PeerSession takes the connection's messages from here on. */
  private adopt(link: Link, connection: Connection): void {
    const session = new PeerSession(
      {
        localFeatures: this.features,
        chainHashes: this.chainHashes,
        isHandledType: (t) => this.handledTypes.has(t),
        pingIntervalMs: this.opts.pingIntervalMs,
        pongTimeoutMs: this.opts.pongTimeoutMs,
        initTimeoutMs: this.opts.initTimeoutMs,
        pingLimits: {
          windowMs: this.opts.pingWindowMs,
          maxPongsPerWindow: this.opts.maxPongsPerWindow,
          maxIgnoredPerWindow: this.opts.maxIgnoredPingsPerWindow,
        },
        sendStallTimeoutMs: this.opts.sendStallTimeoutMs,
      },
      Date.now(),
    );
    link.connection = connection;
    link.session = session;
    connection.onMessage = (raw) => this.performSession(link, session.receive(raw, Date.now()));
    connection.onClose = (err) => this.ended(link, err);
    connection.onBackpressure = (blocked) => {
      if (blocked) session.outboundBlocked(Date.now());
      else session.outboundDrained();
    };
    connection.onQueueFull = () => {
      this.counters.sendsRefusedQueueFull++;
    };
    // BOLT 1: init goes first. Queue ours before the connection reads: start() handles what the
    // peer sent during the handshake (often its init) at once, and a subscriber woken by the
    // 'connected' that init brings may send before this line otherwise.
    this.performSession(link, session.start());
    connection.start();
  }

  private performSession(link: Link, effects: SessionEffect[]): void {
    const connection = link.connection!;
    for (const effect of effects) {
      switch (effect.kind) {
        case 'send': {
          // Control messages (init, pong, warning) go through the same queue, in order.
          const sent = connection.send(effect.message);
          if (effect.pong) {
            // The next pong may go once the socket has taken this one (or it could not be queued).
            const settled = () => {
              if (!connection.isClosed) this.performSession(link, link.session!.pongSettled(Date.now()));
            };
            sent.then(settled, settled);
          } else sent.catch(() => {});
          break;
        }
        case 'initialized':
          if (link.ticket !== undefined) this.admission.established(link.ticket);
          this.perform(this.directory.ready(link.id, Date.now()));
          break;
        case 'limit-hit':
          if (effect.limit === 'ping-ignored') this.counters.pingsIgnored++;
          else this.counters.pingsDelayed++;
          logMisbehaviour(
            this.log,
            this.logLimiter,
            effect.limit,
            { peer: link.nodeId, limit: effect.limit },
            'ping held back by its limit',
          );
          break;
        case 'deliver':
          // Only the peer's current connection speaks for it.
          if (this.directory.current(link.nodeId) === link.id)
            this.messages.next({ nodeId: link.nodeId, message: effect.message, raw: effect.raw });
          break;
        case 'pong':
          for (const p of link.pings.splice(0)) p.resolve(effect.roundTripMs);
          break;
        case 'disconnect': {
          const error = new PeerNetError(effect.code, effect.reason);
          this.countDisconnect(effect.code);
          logMisbehaviour(
            this.log,
            this.logLimiter,
            `disconnect:${effect.code}`,
            { peer: link.nodeId, code: effect.code, reason: effect.reason },
            'disconnecting peer',
          );
          if (effect.flush) connection.closeAfterFlush(error);
          else connection.close(error);
          break;
        }
      }
    }
  }

  private countDisconnect(code: PeerNetErrorCode): void {
    const c = this.counters;
    if (code === 'ping-flood') c.pingFloodDisconnects++;
    else if (code === 'send-stalled') c.sendStallDisconnects++;
    else if (code === 'timeout') c.timeouts++;
    else c.protocolErrors++;
  }

  /** A link's socket is gone (dial failed, handshake failed, or the connection closed): tell whoever waits, then the directory. */
  private ended(link: Link, error: PeerNetError | undefined): void {
    if (!link.end) return;
    link.end();
    link.end = undefined;
    // BOLT 8: a frame that does not verify (or is too long) ends the connection at once; the
    // Connection closed itself, and only this says why.
    if (link.session && (error?.code === 'bad-mac' || error?.code === 'message-too-long')) {
      this.counters.badFrames++;
      logMisbehaviour(
        this.log,
        this.logLimiter,
        `frame:${error.code}`,
        { peer: link.nodeId, code: error.code, reason: error.message },
        'peer sent a bad frame',
      );
    }
    const reason = error?.message ?? 'connection closed';
    for (const p of link.pings.splice(0)) p.reject(new PeerNetError('disconnected', reason));
    for (const w of link.waiters.splice(0)) {
      // Before the handshake the dial's own error says it best; after it, init never came.
      w.reject(
        link.session
          ? new PeerNetError(error?.code ?? 'disconnected', `peer disconnected before init: ${reason}`)
          : (error ?? new PeerNetError('disconnected', reason)),
      );
    }
    this.retired.push(link);
    this.perform(this.directory.closed(link.id, Date.now(), error?.code, reason));
  }

  private tick(): void {
    const now = Date.now();
    for (const link of this.links.values()) {
      if (link.session && link.connection && !link.connection.isClosed)
        this.performSession(link, link.session.tick(now));
    }
  }
}

function peerState(p: Peer): PeerState {
  const persistent = p.persistent;
  return {
    nodeId: p.nodeId,
    connected: p.current !== undefined,
    connecting: p.others.length,
    ...(persistent
      ? {
          persistent: {
            host: persistent.address.host,
            port: persistent.address.port,
            failures: persistent.failures,
            ...(persistent.redialAt !== undefined ? { redialAt: persistent.redialAt } : {}),
          },
        }
      : {}),
  };
}
