/** The caps on connections as bookkeeping, without sockets; and the rate limit on misbehaviour logs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressGroup, DialSlots, InboundAdmission } from './connection-limits.ts';
import { PeerNetError } from './errors.ts';
import { LogLimiter } from './log-limiter.ts';

function ticket(a: ReturnType<InboundAdmission['admit']>): number {
  assert.ok(a.admitted, `refused: ${a.admitted ? '' : a.refusal}`);
  return a.ticket;
}

test('inbound: the total cap refuses the next connection, and a close frees its slot', () => {
  const a = new InboundAdmission({ maxConnections: 3, maxPerIp: 10, maxHandshakes: 10 });
  const held = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => ticket(a.admit(ip)));
  assert.deepEqual(a.admit('10.0.0.4'), { admitted: false, refusal: 'inbound-total' });
  a.release(held[1]!);
  ticket(a.admit('10.0.0.4'));
  assert.deepEqual(a.counts(), { connections: 3, handshakes: 3, addresses: 3 });
});

test('inbound: the per-IP cap counts one address, handshaking or established; others are not affected', () => {
  const a = new InboundAdmission({ maxConnections: 100, maxPerIp: 2, maxHandshakes: 100 });
  const first = ticket(a.admit('127.0.0.2'));
  ticket(a.admit('127.0.0.2'));
  a.established(first);
  // An established peer still holds its address's slot.
  assert.deepEqual(a.admit('127.0.0.2'), { admitted: false, refusal: 'inbound-per-ip' });
  ticket(a.admit('127.0.0.3'));
  // The same address written as IPv4-mapped IPv6 is the same address.
  assert.deepEqual(a.admit('::ffff:127.0.0.2'), { admitted: false, refusal: 'inbound-per-ip' });
  a.release(first);
  ticket(a.admit('127.0.0.2'));
});

test('inbound: the handshake cap counts until init, and init gives the slot back', () => {
  const a = new InboundAdmission({ maxConnections: 100, maxPerIp: 100, maxHandshakes: 2 });
  const t1 = ticket(a.admit('10.0.0.1'));
  const t2 = ticket(a.admit('10.0.0.2'));
  assert.deepEqual(a.admit('10.0.0.3'), { admitted: false, refusal: 'inbound-handshakes' });
  a.established(t1);
  a.established(t1); // twice is once
  const t3 = ticket(a.admit('10.0.0.3'));
  assert.deepEqual(a.counts(), { connections: 3, handshakes: 2, addresses: 3 });
  // A connection closed during its handshake gives back both its slots.
  a.release(t2);
  a.release(t2);
  assert.deepEqual(a.counts(), { connections: 2, handshakes: 1, addresses: 2 });
  a.release(t3);
  a.release(t1);
  assert.deepEqual(a.counts(), { connections: 0, handshakes: 0, addresses: 0 });
});

test('inbound: the caps are checked in order, total first, so each refusal names the cap that was full', () => {
  const a = new InboundAdmission({ maxConnections: 2, maxPerIp: 1, maxHandshakes: 1 });
  ticket(a.admit('10.0.0.1'));
  // The per-IP and the handshake caps are both full: per IP is named.
  assert.deepEqual(a.admit('10.0.0.1'), { admitted: false, refusal: 'inbound-per-ip' });
  assert.deepEqual(a.admit('10.0.0.2'), { admitted: false, refusal: 'inbound-handshakes' });
  // All three full: the total is named.
  const full = new InboundAdmission({ maxConnections: 1, maxPerIp: 1, maxHandshakes: 1 });
  ticket(full.admit('10.0.0.1'));
  assert.deepEqual(full.admit('10.0.0.1'), { admitted: false, refusal: 'inbound-total' });
});

test('inbound: a limit that is not a positive integer is refused', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => new InboundAdmission({ maxConnections: bad, maxPerIp: 1, maxHandshakes: 1 }),
      (e: unknown) => e instanceof PeerNetError && e.code === 'invalid-argument',
    );
  }
});

test('addressGroup: IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64, the rest as one group', () => {
  assert.equal(addressGroup('127.0.0.2'), '127.0.0.2');
  assert.equal(addressGroup('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(addressGroup('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressGroup('2001:0DB8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
  assert.equal(addressGroup('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressGroup('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressGroup('::1'), '0:0:0:0::/64');
  assert.equal(addressGroup(undefined), 'unknown');
  assert.equal(addressGroup('not an address'), 'unknown');
});

test('dial slots: at most max at once, the rest granted in order as slots free; a withdrawn waiter gets none', async () => {
  const slots = new DialSlots(2);
  const a = slots.acquire();
  const b = slots.acquire();
  const c = slots.acquire();
  const d = slots.acquire();
  const e = slots.acquire();
  assert.deepEqual(
    [a, b, c, d, e].map((x) => x.queued),
    [false, false, true, true, true],
  );
  assert.deepEqual(slots.counts(), { inFlight: 2, waiting: 3 });
  d.cancel();
  assert.equal(await d.granted, false);
  slots.release();
  assert.equal(await c.granted, true);
  slots.release();
  assert.equal(await e.granted, true);
  assert.deepEqual(slots.counts(), { inFlight: 2, waiting: 0 });
  slots.release();
  slots.release();
  assert.deepEqual(slots.counts(), { inFlight: 0, waiting: 0 });
});

test('misbehaviour logs: the first of each cause per interval at info, with how many were held back', () => {
  const l = new LogLimiter(60_000);
  assert.deepEqual(l.note('handshake:bad-version', 0), { level: 'info', suppressed: 0 });
  assert.deepEqual(l.note('handshake:bad-version', 1), { level: 'debug' });
  assert.deepEqual(l.note('handshake:bad-version', 59_999), { level: 'debug' });
  // Another cause has its own interval.
  assert.deepEqual(l.note('inbound-per-ip', 10), { level: 'info', suppressed: 0 });
  assert.deepEqual(l.note('handshake:bad-version', 60_000), { level: 'info', suppressed: 2 });
  assert.deepEqual(l.note('handshake:bad-version', 60_001), { level: 'debug' });
  assert.deepEqual(l.note('handshake:bad-version', 200_000), { level: 'info', suppressed: 1 });
});
