/**
 * The caps on connections, as plain bookkeeping: which inbound socket may stay (in total, per
 * address, and while its handshake and init are under way), and how many dials run at once.
 * Nothing here touches a socket: the PeerManager asks before it keeps an accepted socket or
 * opens one, and reports when each ends. Each refusal names the cap, for metrics and logs.
 *
 * BOLT 1 and BOLT 8 set no such limits; they are the node's own defence against a peer (or
 * many keys from one host) holding descriptors and memory. Only inbound connections are
 * capped by address: dials are the operator's own choice, and only their number in flight
 * is bounded.
 */
import { isIP } from 'node:net';
import { PeerNetError } from './errors.ts';

export interface InboundLimits {
  /** Inbound connections held at once, from the accept to the close. */
  readonly maxConnections: number;
  /** Of those, from one IPv4 address or one IPv6 /64 (addressGroup). */
  readonly maxPerIp: number;
  /** Of those, still in the BOLT 8 handshake or waiting for the peer's init. */
  readonly maxHandshakes: number;
}

/**
 * 256 connections: a routing node with a few hundred peers, while staying well inside the
 * usual soft limit of 1,024 descriptors (the store, the logs, the API and the chain source
 * need theirs); 8 per address: room for a few nodes behind one NAT, while one host alone gets
 * 1/32 of the slots; 64 handshakes: a reconnect storm after a restart goes through at the
 * measured ~300 handshakes/s, and silent sockets (dropped at the 10 s handshake timeout) can
 * hold at most a quarter of the slots. A node whose inbound peers all arrive through Tor or
 * another proxy sees one address for all of them: raise maxPerIp there.
 */
export const DEFAULT_INBOUND_LIMITS: InboundLimits = {
  maxConnections: 256,
  maxPerIp: 8,
  maxHandshakes: 64,
};

/** 32 dials at once: more would only queue in the kernel; the rest wait their turn, in order. */
export const DEFAULT_MAX_DIALS_IN_FLIGHT = 32;

export type InboundRefusal = 'inbound-total' | 'inbound-per-ip' | 'inbound-handshakes';

export type Admission =
  | { readonly admitted: true; readonly ticket: number }
  | { readonly admitted: false; readonly refusal: InboundRefusal };

export function checkLimit(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new PeerNetError('invalid-argument', `${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * What an inbound connection counts against: its address group, and the handshake slot it
 * holds until init. `admit` when the socket is accepted, `established` when init is
 * exchanged, `release` when the socket closes (both are idempotent).
 */
export class InboundAdmission {
  private readonly tickets = new Map<number, { group: string; handshaking: boolean }>();
  private readonly perGroup = new Map<string, number>();
  private handshakes = 0;
  private nextTicket = 1;

  constructor(readonly limits: InboundLimits) {
    checkLimit('maxInboundConnections', limits.maxConnections);
    checkLimit('maxInboundPerIp', limits.maxPerIp);
    checkLimit('maxInboundHandshakes', limits.maxHandshakes);
  }

  /** Checks the caps in order (total, per address, handshakes); the first one full refuses. */
  admit(remoteAddress: string | undefined): Admission {
    const group = addressGroup(remoteAddress);
    if (this.tickets.size >= this.limits.maxConnections) return { admitted: false, refusal: 'inbound-total' };
    const fromGroup = this.perGroup.get(group) ?? 0;
    if (fromGroup >= this.limits.maxPerIp) return { admitted: false, refusal: 'inbound-per-ip' };
    if (this.handshakes >= this.limits.maxHandshakes)
      return { admitted: false, refusal: 'inbound-handshakes' };
    const ticket = this.nextTicket++;
    this.tickets.set(ticket, { group, handshaking: true });
    this.perGroup.set(group, fromGroup + 1);
    this.handshakes++;
    return { admitted: true, ticket };
  }

  /** Init exchanged: the connection is a peer's and gives its handshake slot back. */
  established(ticket: number): void {
    const t = this.tickets.get(ticket);
    if (!t?.handshaking) return;
    t.handshaking = false;
    this.handshakes--;
  }

  /** The socket closed: every slot it held is free. */
  release(ticket: number): void {
    const t = this.tickets.get(ticket);
    if (!t) return;
    this.tickets.delete(ticket);
    if (t.handshaking) this.handshakes--;
    const n = (this.perGroup.get(t.group) ?? 1) - 1;
    if (n === 0) this.perGroup.delete(t.group);
    else this.perGroup.set(t.group, n);
  }

  /** Inbound connections held, and of those the ones still in handshake or init. */
  counts(): { connections: number; handshakes: number; addresses: number } {
    return { connections: this.tickets.size, handshakes: this.handshakes, addresses: this.perGroup.size };
  }
}

/**
 * The unit an address cap counts: an IPv4 address, or an IPv6 /64 (one host is commonly given
 * a whole /64, so counting single IPv6 addresses would cap nothing). IPv4-mapped IPv6
 * addresses count as their IPv4 address. Anything else (a socket reset before its address
 * was read) counts as one group, 'unknown'.
 */
export function addressGroup(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const kind = isIP(address);
  if (kind === 4) return address;
  if (kind !== 6) return 'unknown';
  const bare = address.split('%')[0]!.toLowerCase();
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::1.2.3.4) takes two groups; it lies past the /64 either way.
  const missing = 8 - left.length - right.length;
  const groups = tail === undefined ? left : [...left, ...new Array<string>(missing).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Dials in flight at once: `acquire` grants a slot at once while one is free, otherwise when
 * one is released, first come first served. `cancel` withdraws a waiter (its `granted`
 * resolves to false); a caller granted a slot gives it back with `release`.
 */
export class DialSlots {
  private inFlight = 0;
  private readonly waiting: ((granted: boolean) => void)[] = [];

  constructor(readonly max: number) {
    checkLimit('maxDialsInFlight', max);
  }

  /** `queued`: it had to wait (a cap hit). `granted` resolves true with a slot, false if cancelled first. */
  acquire(): { queued: boolean; granted: Promise<boolean>; cancel: () => void } {
    if (this.inFlight < this.max) {
      this.inFlight++;
      return { queued: false, granted: Promise.resolve(true), cancel: () => {} };
    }
    let settle: (granted: boolean) => void = () => {};
    const granted = new Promise<boolean>((resolve) => {
      settle = (g) => {
        if (g) this.inFlight++;
        resolve(g);
      };
    });
    this.waiting.push(settle);
    return {
      queued: true,
      granted,
      cancel: () => {
        const i = this.waiting.indexOf(settle);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        settle(false);
      },
    };
  }

  release(): void {
    this.inFlight--;
    this.waiting.shift()?.(true);
  }

  counts(): { inFlight: number; waiting: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length };
  }
}
