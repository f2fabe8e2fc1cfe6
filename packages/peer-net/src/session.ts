/**
 * The BOLT 1 rules of one connection, as a pure state machine: init exchange and feature
 * checks, ping/pong and their timeouts, and what to do with each incoming message
 * (handle, deliver, ignore, or warn and disconnect). It takes decrypted messages and the
 * time, and returns effects; the PeerManager performs them. No sockets, no timers.
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
}

export type SessionEffect =
  | { readonly kind: 'send'; readonly message: Uint8Array }
  | {
      readonly kind: 'initialized';
      readonly features: Features;
      readonly networks: readonly Uint8Array[] | undefined;
    }
  /** A message for subscribers (everything but init/ping/pong). */
  | { readonly kind: 'deliver'; readonly message: Message | UnknownMessage; readonly raw: Uint8Array }
  | { readonly kind: 'pong'; readonly roundTripMs: number }
  /** Close the connection; any 'send' before it in the same list (a warning) goes first. */
  | { readonly kind: 'disconnect'; readonly code: PeerNetErrorCode; readonly reason: string };

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
}

export class PeerSession {
  readonly counters: SessionCounters = { pingsSent: 0, pongsReceived: 0, pingsReceived: 0, pongsSent: 0 };
  private state: 'awaiting-init' | 'active' | 'closed' = 'awaiting-init';
  private readonly startedAt: number;
  private lastReceivedAt: number;
  private ping: { sentAt: number; numPongBytes: number } | null = null;
  private remoteFeatures: Features | undefined;

  constructor(
    private readonly options: SessionOptions,
    now: number,
  ) {
    this.startedAt = now;
    this.lastReceivedAt = now;
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
      case 'ping': {
        this.counters.pingsReceived++;
        // BOLT 1: respond with pong of num_pong_bytes, unless it is 65532 or more.
        if (message.numPongBytes >= PING_NO_REPLY_THRESHOLD) return [];
        this.counters.pongsSent++;
        const pong = encodeMessage({ type: 19, kind: 'pong', ignored: new Uint8Array(message.numPongBytes) });
        return [{ kind: 'send', message: pong }];
      }
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

  /** Timers: init timeout, idle ping, pong timeout. Call it now and then (every second or so). */
  tick(now: number): SessionEffect[] {
    if (this.state === 'closed') return [];
    if (this.state === 'awaiting-init') {
      if (now - this.startedAt >= this.options.initTimeoutMs)
        return this.fail('timeout', 'no init from peer', false);
      return [];
    }
    if (this.ping) {
      // BOLT 1: without a pong the node "MAY close the network connection, and MUST NOT fail the channels".
      if (now - this.ping.sentAt >= this.options.pongTimeoutMs)
        return this.fail('timeout', 'no pong from peer', false);
      return [];
    }
    if (now - this.lastReceivedAt >= this.options.pingIntervalMs) return [this.sendPing(now)];
    return [];
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

  private fail(code: PeerNetErrorCode, reason: string, warn: boolean): SessionEffect[] {
    this.state = 'closed';
    const out: SessionEffect[] = [];
    if (warn) out.push({ kind: 'send', message: connectionWarning(reason) });
    out.push({ kind: 'disconnect', code, reason });
    return out;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
