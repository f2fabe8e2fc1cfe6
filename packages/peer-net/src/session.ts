/**
 * The BOLT 1 rules of one connection, as a pure state machine: init exchange and feature
 * checks, ping/pong and their timeouts, the limits on answering pings, a peer that stops
 * reading, and what to do with each incoming message (handle, deliver, ignore, or warn and
 * disconnect). It takes decrypted messages, what the socket did, and the time, and returns
 * effects; the PeerManager performs them. No sockets, no timers.
 */
import {
  decodeMessage,
  encodeMessage,
  Features,
  featureProblems,
  initFeatures,
  isOddType,
  type Message,
  PING_NO_REPLY_THRESHOLD,
  type UnknownMessage,
  WireError,
} from '@lnkit/wire';
import type { PeerNetErrorCode } from './errors.ts';

export interface SessionOptions {
  /** Our init features (BOLT 9): only what this node implements. */
  localFeatures: Features;
  /** Chains we gossip or open channels for (init `networks`); empty = do not send or check. */
  chainHashes: readonly Uint8Array[];
  /** Whether some subscriber handles this (known or custom) message type. */
  isHandledType(type: number): boolean;
  /** Ping when nothing has been received for this long. */
  pingIntervalMs: number;
  /** Disconnect when a pong is this late. */
  pongTimeoutMs: number;
  /** Disconnect when the peer's init is this late. */
  initTimeoutMs: number;
  /** How many pings are answered, and when a flood ends the connection. Default DEFAULT_PING_LIMITS. */
  pingLimits?: PingLimits;
  /**
   * Disconnect when the socket has refused more data (it waits for 'drain') for this long:
   * the peer is not reading what we send. Default DEFAULT_SEND_STALL_TIMEOUT_MS.
   */
  sendStallTimeoutMs?: number;
}

/**
 * The ping answering limits. BOLT 1 asks every ping below 65532 bytes to be answered, and
 * says in its rationale: "Limited precautions are recommended against `ping` flooding,
 * however some latitude is given because of network delays." A ping costs the peer 40 bytes
 * on the wire and can ask for a pong of 65,531: answered without limit, a peer that never
 * reads its pongs makes us hold every one of them. So:
 * - at most one pong is on its way at a time (queued, until the socket has taken it), and at
 *   most one ping waits for its pong: a ping that comes while one already waits takes its
 *   place, and the older one is ignored and counted. A peer that waits for each pong before
 *   its next ping (as every implementation does) never loses one;
 * - at most `maxPongsPerWindow` pongs per `windowMs`; a ping beyond that waits for the next
 *   window (latitude: a burst is answered late, not dropped);
 * - more than `maxIgnoredPerWindow` pings ignored within one window is a flood: a warning,
 *   then the connection closes (`ping-flood`).
 */
export interface PingLimits {
  readonly windowMs: number;
  readonly maxPongsPerWindow: number;
  readonly maxIgnoredPerWindow: number;
}

/**
 * 20 pongs per 10 s: 2 a second on average, far above the one ping per 10–60 s that LDK, lnd,
 * CLN and Eclair send, with room for the extra pings LDK sends while it streams gossip; at
 * 65,531 bytes each, at most about 130 KB/s of pongs to one peer. 100 ignored pings in a
 * window: no peer that waits for its pongs ignores one; a flood of 10,000 ends after about 100.
 */
export const DEFAULT_PING_LIMITS: PingLimits = {
  windowMs: 10_000,
  maxPongsPerWindow: 20,
  maxIgnoredPerWindow: 100,
};

/** 30 s: twice the pong timeout; a peer that takes nothing we send for that long is not reading. */
export const DEFAULT_SEND_STALL_TIMEOUT_MS = 30_000;

export type SessionEffect =
  /** `pong`: report with `pongSettled` once the socket took it (or it could not be queued). */
  | { readonly kind: 'send'; readonly message: Uint8Array; readonly pong?: true }
  | {
      readonly kind: 'initialized';
      readonly features: Features;
      readonly networks: readonly Uint8Array[] | undefined;
    }
  /** A message for subscribers (everything but init/ping/pong). */
  | { readonly kind: 'deliver'; readonly message: Message | UnknownMessage; readonly raw: Uint8Array }
  | { readonly kind: 'pong'; readonly roundTripMs: number }
  /** A limit held a ping back: `ping-delayed` (answered in a later window) or `ping-ignored` (a newer one took its place). */
  | { readonly kind: 'limit-hit'; readonly limit: 'ping-delayed' | 'ping-ignored' }
  /**
   * Close the connection. `flush`: any 'send' before it in the same list (a warning) goes
   * first; without it, at once (nothing can be written: the peer is not reading).
   */
  | {
      readonly kind: 'disconnect';
      readonly code: PeerNetErrorCode;
      readonly reason: string;
      readonly flush: boolean;
    };

const ZERO_CHANNEL_ID = new Uint8Array(32);
const BOLT1_TYPES = new Set([16, 18, 19]);

/** A warning for all channels (channel_id 0): BOLT 1 "MAY set channel_id to all zero if the warning is not related to a specific channel". */
export function connectionWarning(text: string): Uint8Array {
  return encodeMessage({
    type: 1,
    kind: 'warning',
    channelId: ZERO_CHANNEL_ID,
    data: new TextEncoder().encode(text),
  });
}

/** What one connection's BOLT 1 control traffic did: proof that a ping crossed, for metrics and tests. */
export interface SessionCounters {
  pingsSent: number;
  /** Pongs that answered our ping (the right length, while one was outstanding). */
  pongsReceived: number;
  pingsReceived: number;
  pongsSent: number;
  /** Pings a newer ping replaced before their pong could go (see PingLimits). */
  pingsIgnored: number;
  /** Pings answered in a later window than the one they came in (see PingLimits). */
  pingsDelayed: number;
}

export class PeerSession {
  readonly counters: SessionCounters = {
    pingsSent: 0,
    pongsReceived: 0,
    pingsReceived: 0,
    pongsSent: 0,
    pingsIgnored: 0,
    pingsDelayed: 0,
  };
  private state: 'awaiting-init' | 'active' | 'closed' = 'awaiting-init';
  private readonly startedAt: number;
  private lastReceivedAt: number;
  private ping: { sentAt: number; numPongBytes: number } | null = null;
  private remoteFeatures: Features | undefined;
  private readonly pingLimits: PingLimits;
  private readonly sendStallTimeoutMs: number;
  /** Our pong is queued and the socket has not taken it yet. */
  private pongOnItsWay = false;
  /** The num_pong_bytes of the one ping waiting for its pong (the latest one), if any. */
  private waitingPing: number | undefined;
  /** Whether the waiting ping was already counted as delayed. */
  private waitingPingDelayed = false;
  private pingWindow = { startedAt: 0, pongs: 0, ignored: 0 };
  /** Since when the socket has refused more data, while it does. */
  private blockedSince: number | undefined;

  constructor(
    private readonly options: SessionOptions,
    now: number,
  ) {
    this.startedAt = now;
    this.lastReceivedAt = now;
    this.pingLimits = options.pingLimits ?? DEFAULT_PING_LIMITS;
    this.sendStallTimeoutMs = options.sendStallTimeoutMs ?? DEFAULT_SEND_STALL_TIMEOUT_MS;
    this.pingWindow.startedAt = now;
  }

  get isActive(): boolean {
    return this.state === 'active';
  }

  get features(): Features | undefined {
    return this.remoteFeatures;
  }

  /** BOLT 1: "MUST send init as the first Lightning message for any connection." */
  start(): SessionEffect[] {
    const chains = this.options.chainHashes;
    const message = encodeMessage({
      type: 16,
      kind: 'init',
      // BOLT 1: "SHOULD NOT set features greater than 13 in globalfeatures" — all go in `features`.
      globalFeatures: Features.empty(),
      features: this.options.localFeatures,
      ...(chains.length > 0 ? { networks: chains.map((c) => c.slice()) } : {}),
    });
    return [{ kind: 'send', message }];
  }

  /** One decrypted message from the peer. */
  receive(raw: Uint8Array, now: number): SessionEffect[] {
    if (this.state === 'closed') return [];
    this.lastReceivedAt = now;
    let message: Message | UnknownMessage;
    try {
      message = decodeMessage(raw);
    } catch (e) {
      // BOLT 1: "upon receiving a known message with insufficient length for the contents: MUST close the connection"
      // (and the same for an invalid extension). Say why first, so the peer can diagnose it.
      const why = e instanceof WireError ? e.message : 'malformed message';
      return this.fail('protocol', `malformed message: ${why}`, true);
    }

    if (this.state === 'awaiting-init') {
      if (message.kind !== 'init') {
        // BOLT 1: init MUST be the first message; the peer broke that, nothing else can be trusted.
        return this.fail('protocol', `expected init, got message type ${message.type}`, true);
      }
      return this.onInit(message.globalFeatures, message.features, message.networks);
    }

    switch (message.kind) {
      case 'init':
        // A second init on one connection has no meaning; tell the peer and carry on.
        return [{ kind: 'send', message: connectionWarning('unexpected second init') }];
      case 'ping':
        return this.onPing(message.numPongBytes, now);
      case 'pong': {
        const p = this.ping;
        // BOLT 1: a pong that matches no ping "MAY close the connection"; we only ignore it.
        if (!p || message.ignored.length !== p.numPongBytes) return [];
        this.ping = null;
        this.counters.pongsReceived++;
        return [{ kind: 'pong', roundTripMs: now - p.sentAt }];
      }
      case 'unknown':
        if (this.options.isHandledType(message.type)) return [{ kind: 'deliver', message, raw }];
        // BOLT 1: "upon receiving a message of odd, unknown type: MUST ignore the received message."
        if (isOddType(message.type)) return [];
        // BOLT 1: "upon receiving a message of even, unknown type: MUST close the connection."
        return this.fail('protocol', `unknown even message type ${message.type}`, true);
      default:
        if (!BOLT1_TYPES.has(message.type)) return [{ kind: 'deliver', message, raw }];
        return [];
    }
  }

  /**
   * Our last pong left: the socket took it, or it could not be queued (the connection is
   * full or closed). The ping waiting behind it, if any, may be answered now.
   */
  pongSettled(now: number): SessionEffect[] {
    this.pongOnItsWay = false;
    return this.answerWaitingPing(now);
  }

  /** The socket refused more data (its write returned false): the peer reads slower than we send. */
  outboundBlocked(now: number): void {
    this.blockedSince ??= now;
  }

  /** The socket drained: whatever was waiting has been taken. */
  outboundDrained(): void {
    this.blockedSince = undefined;
  }

  /** Timers: init timeout, idle ping, pong timeout, a stalled peer, a delayed pong. Call it now and then (every second or so). */
  tick(now: number): SessionEffect[] {
    if (this.state === 'closed') return [];
    if (this.blockedSince !== undefined && now - this.blockedSince >= this.sendStallTimeoutMs) {
      // No warning: it would wait behind what the peer is not reading.
      return this.fail(
        'send-stalled',
        `peer read nothing for ${this.sendStallTimeoutMs} ms while messages waited`,
        false,
        false,
      );
    }
    if (this.state === 'awaiting-init') {
      if (now - this.startedAt >= this.options.initTimeoutMs)
        return this.fail('timeout', 'no init from peer', false);
      return [];
    }
    // A ping held back by the window's limit is answered once a new window opens.
    const out = this.answerWaitingPing(now);
    if (this.ping) {
      // BOLT 1: without a pong the node "MAY close the network connection, and MUST NOT fail the channels".
      if (now - this.ping.sentAt >= this.options.pongTimeoutMs)
        return this.fail('timeout', 'no pong from peer', false);
      return out;
    }
    if (now - this.lastReceivedAt >= this.options.pingIntervalMs) out.push(this.sendPing(now));
    return out;
  }

  /** A ping now (also used by tests and by `PeerManager.ping`). */
  sendPing(now: number, numPongBytes = 0): SessionEffect {
    this.ping = { sentAt: now, numPongBytes };
    this.counters.pingsSent++;
    // BOLT 1: "SHOULD set ignored to 0s" and never to secrets.
    return {
      kind: 'send',
      message: encodeMessage({ type: 18, kind: 'ping', numPongBytes, ignored: new Uint8Array(0) }),
    };
  }

  /** BOLT 1: "if num_pong_bytes is less than 65532: MUST respond by sending a pong", within PingLimits. */
  private onPing(numPongBytes: number, now: number): SessionEffect[] {
    this.counters.pingsReceived++;
    // BOLT 1: "otherwise (num_pong_bytes is not less than 65532): MUST ignore the ping."
    if (numPongBytes >= PING_NO_REPLY_THRESHOLD) return [];
    this.rollPingWindow(now);
    if (this.waitingPing !== undefined) {
      // The peer did not wait for its pong: the newer ping takes the older one's place.
      this.waitingPing = numPongBytes;
      this.counters.pingsIgnored++;
      this.pingWindow.ignored++;
      const hit: SessionEffect = { kind: 'limit-hit', limit: 'ping-ignored' };
      if (this.pingWindow.ignored > this.pingLimits.maxIgnoredPerWindow) {
        return [
          hit,
          ...this.fail(
            'ping-flood',
            `more than ${this.pingLimits.maxIgnoredPerWindow} pings in ${this.pingLimits.windowMs} ms sent before their pongs`,
            true,
          ),
        ];
      }
      return [hit];
    }
    this.waitingPing = numPongBytes;
    this.waitingPingDelayed = false;
    return this.answerWaitingPing(now);
  }

  /** Sends the waiting ping's pong if no pong is on its way and the window allows one more. */
  private answerWaitingPing(now: number): SessionEffect[] {
    const numPongBytes = this.waitingPing;
    if (numPongBytes === undefined || this.pongOnItsWay || this.state !== 'active') return [];
    this.rollPingWindow(now);
    if (this.pingWindow.pongs >= this.pingLimits.maxPongsPerWindow) {
      if (this.waitingPingDelayed) return [];
      this.waitingPingDelayed = true;
      this.counters.pingsDelayed++;
      return [{ kind: 'limit-hit', limit: 'ping-delayed' }];
    }
    this.waitingPing = undefined;
    this.pongOnItsWay = true;
    this.pingWindow.pongs++;
    this.counters.pongsSent++;
    // BOLT 1: a pong "SHOULD set ignored to 0s".
    const pong = encodeMessage({ type: 19, kind: 'pong', ignored: new Uint8Array(numPongBytes) });
    return [{ kind: 'send', message: pong, pong: true }];
  }

  private rollPingWindow(now: number): void {
    if (now - this.pingWindow.startedAt >= this.pingLimits.windowMs)
      this.pingWindow = { startedAt: now, pongs: 0, ignored: 0 };
  }

  private onInit(
    globalFeatures: Features,
    features: Features,
    networks: readonly Uint8Array[] | undefined,
  ): SessionEffect[] {
    // BOLT 1: "MUST combine (bitwise OR) the two feature bitmaps into one logical features map".
    const remote = initFeatures({ globalFeatures, features });
    for (const p of featureProblems(remote, 'init')) {
      // BOLT 1: unknown even bits, or missing transitive dependencies: "MUST close the connection".
      if (p.reason === 'unknown-required')
        return this.fail('feature-mismatch', `peer requires unknown feature bit ${p.bit}`, true);
      if (p.reason === 'missing-dependency') {
        return this.fail('feature-mismatch', `peer sets ${p.feature} without ${p.dependency}`, true);
      }
      // A known feature in the wrong context is not a reason to close in BOLT 1; ignore it.
    }
    const ours = this.options.chainHashes;
    if (networks && ours.length > 0 && !networks.some((n) => ours.some((o) => sameBytes(n, o)))) {
      // BOLT 1: "upon receiving networks containing no common chains: MAY close the connection."
      return this.fail('protocol', 'no common chain in networks', true);
    }
    this.state = 'active';
    this.remoteFeatures = remote;
    return [{ kind: 'initialized', features: remote, networks }];
  }

  private fail(code: PeerNetErrorCode, reason: string, warn: boolean, flush = true): SessionEffect[] {
    this.state = 'closed';
    this.waitingPing = undefined;
    const out: SessionEffect[] = [];
    if (warn) out.push({ kind: 'send', message: connectionWarning(reason) });
    out.push({ kind: 'disconnect', code, reason, flush });
    return out;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
