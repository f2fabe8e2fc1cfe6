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

test('ping is answered with num_pong_bytes zero bytes; 65532 or more gets no pong', () => {
  const s = active();
  const fx = s.receive(
    encodeMessage({ type: 18, kind: 'ping', numPongBytes: 10, ignored: new Uint8Array(3) }),
    2,
  );
  assert.equal(fx.length, 1);
  // BOLT 1 pong: type 19, u16 byteslen = 10, then 10 zero bytes.
  assert.deepEqual(fx[0], { kind: 'send', message: hex(`0013000a${'00'.repeat(10)}`) });
  assert.deepEqual(
    s.receive(encodeMessage({ type: 18, kind: 'ping', numPongBytes: 65532, ignored: new Uint8Array(0) }), 3),
    [],
  );
  assert.equal(
    s.receive(encodeMessage({ type: 18, kind: 'ping', numPongBytes: 65531, ignored: new Uint8Array(0) }), 3)
      .length,
    1,
  );
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
