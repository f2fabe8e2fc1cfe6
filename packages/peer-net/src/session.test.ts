import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage, encodeMessage, Features, type Message } from '@lnkit/wire';
import { LNKIT_INIT_FEATURES } from './features.ts';
import { PeerSession, type SessionEffect, type SessionOptions } from './session.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const REGTEST = hex('06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f');
const MAINNET = hex('6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000');

function options(over: Partial<SessionOptions> = {}): SessionOptions {
  return {
    localFeatures: LNKIT_INIT_FEATURES,
    chainHashes: [],
    isHandledType: () => false,
    pingIntervalMs: 30_000,
    pongTimeoutMs: 10_000,
    initTimeoutMs: 5_000,
    ...over,
  };
}

function initBytes(
  features: Features,
  globalFeatures = Features.empty(),
  networks?: Uint8Array[],
): Uint8Array {
  return encodeMessage({
    type: 16,
    kind: 'init',
    globalFeatures,
    features,
    ...(networks ? { networks } : {}),
  });
}

function active(over: Partial<SessionOptions> = {}): PeerSession {
  const s = new PeerSession(options(over), 0);
  s.start();
  const fx = s.receive(initBytes(LNKIT_INIT_FEATURES), 1);
  assert.equal(fx[0]?.kind, 'initialized');
  return s;
}

function sent(fx: SessionEffect[]): Message[] {
  return fx.flatMap((e) => (e.kind === 'send' ? [decodeMessage(e.message) as Message] : []));
}

function disconnectCode(fx: SessionEffect[]): string | undefined {
  const d = fx.find((e) => e.kind === 'disconnect');
  return d?.kind === 'disconnect' ? d.code : undefined;
}

test('start sends init first, with our features in `features` and none in globalfeatures', () => {
  const s = new PeerSession(options({ chainHashes: [REGTEST] }), 0);
  const [init] = sent(s.start());
  assert.equal(init?.kind, 'init');
  if (init?.kind !== 'init') return;
  assert.ok(init.globalFeatures.isEmpty());
  assert.ok(init.features.equals(LNKIT_INIT_FEATURES));
  assert.deepEqual(init.networks, [REGTEST]);
});

test('init: global and local features are OR-ed; unknown odd bits are ignored', () => {
  const s = new PeerSession(options(), 0);
  s.start();
  const fx = s.receive(initBytes(Features.fromBits([12, 101]), Features.fromBits([9])), 1);
  assert.equal(fx.length, 1);
  const e = fx[0];
  assert.equal(e?.kind, 'initialized');
  if (e?.kind !== 'initialized') return;
  assert.deepEqual(
    e.features.bits().sort((a, b) => a - b),
    [9, 12, 101],
  );
  assert.ok(s.isActive);
});

test('init: an unknown even bit gets a warning, then a disconnect (BOLT 1)', () => {
  const s = new PeerSession(options(), 0);
  s.start();
  const fx = s.receive(initBytes(Features.fromBits([12, 100])), 1);
  assert.equal(sent(fx)[0]?.kind, 'warning');
  assert.equal(disconnectCode(fx), 'feature-mismatch');
  assert.equal(fx.at(-1)?.kind, 'disconnect');
});

test('init: a feature without its dependency (basic_mpp without payment_secret) is refused', () => {
  const s = new PeerSession(options(), 0);
  s.start();
  assert.equal(disconnectCode(s.receive(initBytes(Features.fromBits([17])), 1)), 'feature-mismatch');
});

test('init: networks with no common chain is refused; a common chain is accepted', () => {
  const a = new PeerSession(options({ chainHashes: [REGTEST] }), 0);
  assert.equal(
    disconnectCode(a.receive(initBytes(LNKIT_INIT_FEATURES, Features.empty(), [MAINNET]), 1)),
    'protocol',
  );
  const b = new PeerSession(options({ chainHashes: [REGTEST] }), 0);
  assert.equal(
    b.receive(initBytes(LNKIT_INIT_FEATURES, Features.empty(), [MAINNET, REGTEST]), 1)[0]?.kind,
    'initialized',
  );
});

test('a message before init is a protocol violation', () => {
  const s = new PeerSession(options(), 0);
  s.start();
  const fx = s.receive(
    encodeMessage({ type: 18, kind: 'ping', numPongBytes: 4, ignored: new Uint8Array(0) }),
    1,
  );
  assert.equal(sent(fx)[0]?.kind, 'warning');
  assert.equal(disconnectCode(fx), 'protocol');
});

const ping = (numPongBytes: number): Uint8Array =>
  encodeMessage({ type: 18, kind: 'ping', numPongBytes, ignored: new Uint8Array(0) });

/** The byteslen of each pong in the effects, in order. */
function pongs(fx: SessionEffect[]): number[] {
  return sent(fx).flatMap((m) => (m.kind === 'pong' ? [m.ignored.length] : []));
}

function limitHits(fx: SessionEffect[]): string[] {
  return fx.flatMap((e) => (e.kind === 'limit-hit' ? [e.limit] : []));
}

test('ping is answered with num_pong_bytes zero bytes; 65532 or more gets no pong', () => {
  const s = active();
  const fx = s.receive(
    encodeMessage({ type: 18, kind: 'ping', numPongBytes: 10, ignored: new Uint8Array(3) }),
    2,
  );
  // BOLT 1 pong: type 19, u16 byteslen = 10, then 10 zero bytes; marked, so the shell reports when it left.
  assert.deepEqual(fx, [{ kind: 'send', message: hex(`0013000a${'00'.repeat(10)}`), pong: true }]);
  assert.deepEqual(s.pongSettled(3), []);
  assert.deepEqual(s.receive(ping(65532), 3), []);
  assert.deepEqual(pongs(s.receive(ping(65531), 3)), [65531]);
  assert.equal(s.counters.pingsReceived, 3);
  assert.equal(s.counters.pongsSent, 2);
});

test('one pong on its way at a time: a ping that comes meanwhile is answered once the pong has left', () => {
  const s = active();
  assert.deepEqual(pongs(s.receive(ping(100), 10)), [100]);
  // The socket has not taken the first pong yet: the second ping waits, nothing is sent.
  assert.deepEqual(s.receive(ping(200), 11), []);
  assert.deepEqual(pongs(s.pongSettled(12)), [200]);
  assert.deepEqual(s.pongSettled(13), []);
  assert.equal(s.counters.pingsIgnored, 0);
});

test('a peer that waits for each pong is never held back: 2,000 pings over 1,000 s, every one answered', () => {
  const s = active();
  let answered = 0;
  for (let i = 0; i < 2000; i++) {
    const now = 1000 + i * 500;
    answered += pongs(s.receive(ping(i % 7), now)).length;
    s.pongSettled(now + 1);
  }
  assert.equal(answered, 2000);
  assert.deepEqual([s.counters.pingsIgnored, s.counters.pingsDelayed], [0, 0]);
});

test('a ping that comes while another waits takes its place; the older one is ignored and counted', () => {
  const s = active();
  assert.deepEqual(pongs(s.receive(ping(1), 10)), [1]);
  assert.deepEqual(s.receive(ping(2), 11), []);
  assert.deepEqual(limitHits(s.receive(ping(3), 12)), ['ping-ignored']);
  assert.deepEqual(limitHits(s.receive(ping(4), 13)), ['ping-ignored']);
  // The pong answers the latest ping, the one the peer waits for.
  assert.deepEqual(pongs(s.pongSettled(14)), [4]);
  assert.equal(s.counters.pingsIgnored, 2);
  assert.equal(s.counters.pongsSent, 2);
});

test('at most maxPongsPerWindow pongs per window; a ping beyond is answered when the next window opens', () => {
  const limits = { windowMs: 1000, maxPongsPerWindow: 3, maxIgnoredPerWindow: 10 };
  const s = active({ pingLimits: limits });
  // The window opened when the session started (at 0).
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(pongs(s.receive(ping(i), 100 + i)), [i]);
    s.pongSettled(100 + i);
  }
  const held = s.receive(ping(9), 200);
  assert.deepEqual(limitHits(held), ['ping-delayed']);
  assert.deepEqual(pongs(held), []);
  assert.deepEqual(s.tick(999), []);
  // Counted once, however many ticks it waits.
  assert.deepEqual(s.tick(999), []);
  assert.deepEqual(pongs(s.tick(1000)), [9]);
  assert.equal(s.counters.pingsDelayed, 1);
  assert.equal(s.counters.pingsIgnored, 0);
});

test('a ping flood: one pong, the rest ignored, then a warning and a disconnect (ping-flood)', () => {
  const limits = { windowMs: 10_000, maxPongsPerWindow: 20, maxIgnoredPerWindow: 100 };
  const s = active({ pingLimits: limits });
  // 10,000 pings asking for the largest pong, and the first pong never leaves (the peer does not read).
  const all: SessionEffect[] = [];
  let received = 0;
  for (let i = 0; i < 10_000 && !all.some((e) => e.kind === 'disconnect'); i++) {
    all.push(...s.receive(ping(65531), 100));
    received++;
  }
  assert.deepEqual(pongs(all), [65531]);
  // The first is answered, the second waits, and each of the next 101 replaces the waiting one.
  assert.equal(received, 1 + 1 + 101);
  assert.equal(s.counters.pingsIgnored, 101);
  // The last one ignored is counted too, then the warning, then the close.
  assert.equal(limitHits(all).length, 101);
  const last = all.slice(-3);
  assert.deepEqual(last[0], { kind: 'limit-hit', limit: 'ping-ignored' });
  assert.equal(sent(last)[0]?.kind, 'warning');
  assert.deepEqual(last[2], {
    kind: 'disconnect',
    code: 'ping-flood',
    reason: 'more than 100 pings in 10000 ms sent before their pongs',
    flush: true,
  });
  // Closed: the rest of the flood, and the pong that finally leaves, change nothing.
  assert.deepEqual(s.receive(ping(65531), 101), []);
  assert.deepEqual(s.pongSettled(102), []);
});

test('ignored pings are counted per window: a slow trickle of them is not a flood', () => {
  const limits = { windowMs: 1000, maxPongsPerWindow: 20, maxIgnoredPerWindow: 5 };
  const s = active({ pingLimits: limits });
  s.receive(ping(0), 10);
  s.receive(ping(0), 11);
  // Five ignored in each of ten windows (the first pong never leaves): never more than five in one.
  for (let w = 0; w < 10; w++)
    for (let i = 0; i < 5; i++)
      assert.equal(disconnectCode(s.receive(ping(0), 1000 * w + 500 + i)), undefined, `window ${w}`);
  assert.equal(s.counters.pingsIgnored, 50);
  assert.equal(disconnectCode([...s.receive(ping(0), 9600)]), 'ping-flood');
});

test('a peer that reads nothing while we send is dropped after sendStallTimeoutMs, at once and without a warning', () => {
  const s = active({ sendStallTimeoutMs: 5000 });
  s.outboundBlocked(1000);
  // A later report does not move the start: the socket has been full since 1000.
  s.outboundBlocked(3000);
  assert.deepEqual(s.tick(5999), []);
  const fx = s.tick(6000);
  assert.deepEqual(fx, [
    {
      kind: 'disconnect',
      code: 'send-stalled',
      reason: 'peer read nothing for 5000 ms while messages waited',
      flush: false,
    },
  ]);
});

test('a socket that drains in time is no stall, and the timeout counts from the next block', () => {
  const s = active({ sendStallTimeoutMs: 5000, pingIntervalMs: 1_000_000 });
  s.outboundBlocked(1000);
  s.outboundDrained();
  assert.deepEqual(s.tick(7000), []);
  s.outboundBlocked(8000);
  assert.deepEqual(s.tick(12_999), []);
  assert.equal(disconnectCode(s.tick(13_000)), 'send-stalled');
  // Before init too: a peer that never reads our init is dropped the same way.
  const t = new PeerSession(options({ sendStallTimeoutMs: 100, initTimeoutMs: 10_000 }), 0);
  t.start();
  t.outboundBlocked(0);
  assert.equal(disconnectCode(t.tick(100)), 'send-stalled');
});

test('idle peer is pinged; a matching pong clears it, a missing pong disconnects', () => {
  const s = active({ pingIntervalMs: 100, pongTimeoutMs: 50 });
  assert.deepEqual(s.tick(50), []);
  const [p] = s.tick(101);
  assert.equal(p?.kind, 'send');
  if (p?.kind === 'send') assert.equal(decodeMessage(p.message).kind, 'ping');
  // A pong of the wrong length does not count.
  assert.deepEqual(s.receive(encodeMessage({ type: 19, kind: 'pong', ignored: new Uint8Array(1) }), 110), []);
  const fx = s.receive(encodeMessage({ type: 19, kind: 'pong', ignored: new Uint8Array(0) }), 120);
  assert.deepEqual(fx, [{ kind: 'pong', roundTripMs: 19 }]);
  // Next idle period: ping again, and this time no pong.
  assert.equal(s.tick(230)[0]?.kind, 'send');
  assert.deepEqual(s.tick(260), []);
  const late = s.tick(281);
  assert.equal(disconnectCode(late), 'timeout');
  // No warning for a silent peer: it is not listening anyway.
  assert.deepEqual(sent(late), []);
});

test('no init within the timeout disconnects', () => {
  const s = new PeerSession(options({ initTimeoutMs: 100 }), 0);
  s.start();
  assert.deepEqual(s.tick(99), []);
  assert.equal(disconnectCode(s.tick(100)), 'timeout');
});

test('unknown odd types are ignored, unknown even types close the connection with a warning', () => {
  const s = active();
  assert.deepEqual(s.receive(hex('8001deadbeef'), 2), []);
  const fx = s.receive(hex('8000deadbeef'), 3);
  const [w] = sent(fx);
  assert.equal(w?.kind, 'warning');
  if (w?.kind === 'warning') {
    assert.deepEqual(w.channelId, new Uint8Array(32));
    assert.match(Buffer.from(w.data).toString(), /unknown even message type 32768/);
  }
  assert.equal(disconnectCode(fx), 'protocol');
  // Closed: nothing more happens.
  assert.deepEqual(s.receive(hex('8001'), 4), []);
});

test('registered custom types (odd or even) are delivered', () => {
  const s = active({ isHandledType: (t) => t === 32768 || t === 32769 });
  for (const m of [hex('8000aa'), hex('8001bb')]) {
    const [d] = s.receive(m, 2);
    assert.equal(d?.kind, 'deliver');
    if (d?.kind === 'deliver') {
      assert.equal(d.message.kind, 'unknown');
      assert.deepEqual(d.raw, m);
    }
  }
});

test('error and warning messages are delivered to subscribers', () => {
  const s = active();
  const err = encodeMessage({
    type: 17,
    kind: 'error',
    channelId: new Uint8Array(32),
    data: new TextEncoder().encode('bye'),
  });
  const [d] = s.receive(err, 2);
  assert.equal(d?.kind, 'deliver');
  if (d?.kind === 'deliver') assert.equal(d.message.kind, 'error');
});

test('a known message too short for its fields is answered with a warning and a disconnect', () => {
  const s = active();
  // ping (type 18) needs 4 bytes of fields; this has 1.
  const fx = s.receive(hex('001200'), 2);
  assert.equal(sent(fx)[0]?.kind, 'warning');
  assert.equal(disconnectCode(fx), 'protocol');
  // A frame too short to hold a type.
  const t = active();
  assert.equal(disconnectCode(t.receive(hex('00'), 2)), 'protocol');
});

test('random messages never throw: each is handled, ignored, or a typed disconnect', () => {
  for (let i = 0; i < 2000; i++) {
    const s = active({ isHandledType: (t) => t === 32769 });
    const len = Math.floor(Math.random() * 80);
    const bytes = new Uint8Array(len);
    for (let j = 0; j < len; j++) bytes[j] = Math.floor(Math.random() * 256);
    // Bias towards BOLT 1 types so their decoders see garbage too.
    if (len >= 2 && i % 2 === 0) bytes[0] = 0;
    if (len >= 2 && i % 4 === 0) bytes[1] = [1, 16, 17, 18, 19][i % 5]!;
    const fx = s.receive(bytes, 2);
    for (const e of fx) assert.ok(['send', 'deliver', 'disconnect'].includes(e.kind), e.kind);
  }
});
