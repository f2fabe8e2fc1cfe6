import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { CryptoPool, randomBytes } from '@lnkit/crypto';
import { captureLogger, nextEvent, waitFor } from '@lnkit/test-support';
import { decodeMessage, Features } from '@lnkit/wire';
import { firstValueFrom, take, toArray } from 'rxjs';
import { PeerNetError } from './errors.ts';
import { HandshakeInitiator, type NodeKeyEcdh, nodeKeyEcdh } from './noise.ts';
import { type PeerEvent, PeerManager, type PeerManagerOptions } from './peer-manager.ts';
import { rawPeer } from './testing/raw-peer.ts';

const managers: PeerManager[] = [];
after(async () => {
  for (const m of managers) await m.close();
});

function key(): NodeKeyEcdh {
  return nodeKeyEcdh(randomBytes(32));
}

function manager(over: Partial<PeerManagerOptions> = {}): PeerManager {
  const m = new PeerManager({ nodeKey: key(), timerMs: 20, ...over });
  managers.push(m);
  return m;
}

function peerEvent(m: PeerManager, type: PeerEvent['type'], nodeId?: string): Promise<PeerEvent> {
  return nextEvent(m.events$, (e) => e.type === type && (nodeId === undefined || e.nodeId === nodeId), {
    what: `${type} ${nodeId ?? ''}`,
  });
}

const _hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Pings and proves the ping crossed: the other side counted that ping on its connection to
 * us and answered it, and our side counted a pong of the requested length (PeerSession
 * ignores any other). A number back from ping() alone proves nothing.
 */
async function pingCrosses(from: PeerManager, to: PeerManager, numPongBytes = 0): Promise<void> {
  const theirs = to.connectionStats(from.nodeId);
  const ours = from.connectionStats(to.nodeId);
  assert.ok(theirs && ours, 'both sides connected');
  await from.ping(to.nodeId, numPongBytes);
  const after = to.connectionStats(from.nodeId);
  assert.equal(after?.pingsReceived, theirs.pingsReceived + 1, 'the other side received the ping');
  assert.equal(after?.pongsSent, theirs.pongsSent + 1, 'and answered it');
  assert.equal(from.connectionStats(to.nodeId)?.pongsReceived, ours.pongsReceived + 1);
}

/** Waits for a condition; the timeout is generous (a busy machine), and `what` names it if it never comes. */
const waitUntil = (cond: () => boolean, what: string) => waitFor(cond, { what });

test('two peers: handshake, init with features, messages both ways, ping, clean disconnect seen by both', async () => {
  const a = manager();
  const b = manager({
    features: Features.of({ required: ['option_static_remotekey'], optional: ['gossip_queries'] }),
  });
  const { port } = await a.listen('127.0.0.1', 0);
  const aSees = peerEvent(a, 'connected');
  const info = await b.connect(a.nodeId, '127.0.0.1', port);
  assert.equal(info.nodeId, a.nodeId);
  assert.equal(info.inbound, false);
  // LNKIT_INIT_FEATURES: bits 1, 8, 12, 14 and 45 (BOLT 9 numbering), big-endian bytes.
  assert.equal(info.features.hex, '200000005102');
  assert.deepEqual(info.features.names.sort(), [
    'option_channel_type/optional',
    'option_data_loss_protect/optional',
    'option_static_remotekey/required',
    'payment_secret/required',
    'var_onion_optin/required',
  ]);
  const ev = await aSees;
  assert.equal(ev.type, 'connected');
  if (ev.type === 'connected') {
    assert.equal(ev.nodeId, b.nodeId);
    assert.equal(ev.inbound, true);
    assert.deepEqual(ev.features.names.sort(), [
      'gossip_queries/optional',
      'option_static_remotekey/required',
    ]);
    assert.equal(ev.features.hex, '1080');
  }
  assert.deepEqual(
    a.listPeers().map((p) => p.nodeId),
    [b.nodeId],
  );

  // A custom odd message type both ways, through the per-type stream.
  const atA = firstValueFrom(a.messagesOfType(32769).pipe(take(3), toArray()));
  b.messagesOfType(32769);
  for (let i = 0; i < 3; i++) await b.send(a.nodeId, Uint8Array.of(0x80, 0x01, i));
  const got = await atA;
  assert.deepEqual(
    got.map((m) => [m.nodeId, [...m.raw]]),
    [0, 1, 2].map((i) => [b.nodeId, [0x80, 0x01, i]]),
  );
  const fromB = firstValueFrom(a.messagesFrom(b.nodeId, 32771));
  await b.send(a.nodeId, Uint8Array.of(0x80, 0x03, 9));
  assert.deepEqual([...(await fromB).raw], [0x80, 0x03, 9]);
  const atB = firstValueFrom(b.messagesOfKind('error'));
  await a.send(b.nodeId, {
    type: 17,
    kind: 'error',
    channelId: new Uint8Array(32).fill(1),
    data: new Uint8Array(0),
  });
  assert.deepEqual(
    (await atB).message.kind === 'error' && (await atB).message.channelId,
    new Uint8Array(32).fill(1),
  );

  await pingCrosses(b, a, 100);
  await pingCrosses(a, b);

  const aDown = peerEvent(a, 'disconnected');
  const bDown = peerEvent(b, 'disconnected');
  await b.disconnect(a.nodeId);
  await Promise.all([aDown, bDown]);
  assert.deepEqual(a.listPeers(), []);
  assert.deepEqual(b.listPeers(), []);
  await assert.rejects(
    b.send(a.nodeId, Uint8Array.of(0x80, 0x01)),
    (e: unknown) => e instanceof PeerNetError && e.code === 'not-connected',
  );
});

test('connect rejects clearly: wrong node id, closed port, own node id', async () => {
  const a = manager();
  const { port } = await a.listen('127.0.0.1', 0);
  const b = manager();
  const other = key();
  await assert.rejects(
    b.connect(Buffer.from(other.publicKey).toString('hex'), '127.0.0.1', port),
    (e: unknown) => e instanceof PeerNetError && e.code === 'wrong-node-id',
  );
  const spare = net.createServer();
  await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
  const closedPort = (spare.address() as net.AddressInfo).port;
  await new Promise<void>((r) => spare.close(() => r()));
  await assert.rejects(
    b.connect(a.nodeId, '127.0.0.1', closedPort),
    (e: unknown) => e instanceof PeerNetError && e.code === 'connect-failed',
  );
  await assert.rejects(
    b.connect(b.nodeId, '127.0.0.1', port),
    (e: unknown) => e instanceof PeerNetError && e.code === 'invalid-argument',
  );
  await assert.rejects(
    b.connect('zz', '127.0.0.1', port),
    (e: unknown) => e instanceof PeerNetError && e.code === 'invalid-argument',
  );
});

test('bad arguments are PeerNetError invalid-argument, and a refused ping leaves the peer connected', async () => {
  const a = manager();
  const { port } = await a.listen('127.0.0.1', 0);
  const b = manager();
  const isInvalid = (e: unknown) => e instanceof PeerNetError && e.code === 'invalid-argument';
  for (const badPort of [0, -1, 65536, 1.5, Number.NaN]) {
    await assert.rejects(b.connect(a.nodeId, '127.0.0.1', badPort), isInvalid, `port ${badPort}`);
    await assert.rejects(b.connect(a.nodeId, '127.0.0.1', badPort, { persistent: true }), isInvalid);
  }
  await assert.rejects(b.connect(a.nodeId, '', port), isInvalid);
  await assert.rejects(b.listen('127.0.0.1', 70000), isInvalid);
  assert.throws(() => b.registerMessageTypes([65536]), isInvalid);
  await b.connect(a.nodeId, '127.0.0.1', port);
  // BOLT 1: no pong comes for num_pong_bytes >= 65532, so such a ping is refused up front
  // instead of ending in the pong timeout that would drop the peer.
  for (const n of [65532, 65535, -1, 2.5]) await assert.rejects(b.ping(a.nodeId, n), isInvalid, `${n}`);
  await assert.rejects(b.send(a.nodeId, Uint8Array.of(0x80)), isInvalid);
  await assert.rejects(b.send(42 as unknown as string, Uint8Array.of(0x80, 0x01)), isInvalid);
  // The largest pong a peer still sends comes back, and only a pong of that length counts.
  await pingCrosses(b, a, 65531);
  assert.equal(b.listPeers().length, 1);
});

test('robustness: bad peers are dropped, a good peer keeps working, nothing crashes', {
  timeout: 30_000,
}, async () => {
  // Short handshake and init timeouts, so that the silent peers below are dropped soon.
  const a = manager({ maxMessageSize: 4096, handshakeTimeoutMs: 1000, initTimeoutMs: 1000 });
  const { port } = await a.listen('127.0.0.1', 0);
  const codes: (string | undefined)[] = [];
  a.events$.subscribe((e) => {
    if (e.type === 'disconnected') codes.push(e.code);
  });
  const good = manager();
  await good.connect(a.nodeId, '127.0.0.1', port);
  const stillGood = async () => {
    await pingCrosses(good, a);
    assert.deepEqual(
      a.listPeers().map((p) => p.nodeId),
      [good.nodeId],
    );
  };

  // 1. Random bytes instead of act one.
  const junk = net.connect(port, '127.0.0.1');
  let junkClosed = false;
  junk.on('close', () => {
    junkClosed = true;
  });
  junk.on('error', () => {});
  junk.write(randomBytes(50));
  await waitUntil(() => junkClosed, 'random-bytes peer dropped');
  await stillGood();

  // 2. A peer that connects and sends nothing: dropped at the handshake timeout.
  const silent = net.connect(port, '127.0.0.1');
  let silentClosed = false;
  silent.on('close', () => {
    silentClosed = true;
  });
  silent.on('error', () => {});
  await waitUntil(() => silentClosed, 'silent peer dropped');
  await stillGood();

  // 3. A peer that finishes the handshake but never sends init.
  const noInit = await rawPeer(port, a.nodeId);
  await waitUntil(() => noInit.closed, 'no-init peer dropped');
  await stillGood();

  // 4. Flipped bit in the length prefix (its MAC fails).
  for (const flip of ['length', 'body-mac'] as const) {
    const p = await rawPeer(port, a.nodeId);
    p.sendInit();
    await waitUntil(() => a.listPeers().length === 2, 'raw peer connected');
    // A good message in the same write, just before the bad frame, still reaches subscribers.
    const good = p.frame(Uint8Array.of(0x80, 0x03, 7));
    const frame = p.frame(Uint8Array.of(0x80, 0x01, 1, 2, 3));
    frame[flip === 'length' ? 0 : frame.length - 1]! ^= 0x01;
    const delivered = firstValueFrom(a.messagesFrom(p.nodeId, 32771));
    p.socket.write(Buffer.concat([good, frame]));
    assert.deepEqual([...(await delivered).raw], [0x80, 0x03, 7]);
    await waitUntil(() => p.closed, `${flip} flip dropped`);
    await waitUntil(() => codes.length === 1, 'disconnect event');
    assert.equal(codes.pop(), 'bad-mac');
    await stillGood();
  }

  // 5. A frame cut short: header and half a body, then silence. The ping it gets is never answered.
  {
    const b = manager();
    // Pinged after 100 ms of silence; the pong timeout is long enough for b to answer on a busy machine.
    const a2 = manager({ pingIntervalMs: 100, pongTimeoutMs: 2000 });
    const down = peerEvent(a2, 'disconnected');
    const { port: port2 } = await a2.listen('127.0.0.1', 0);
    await b.connect(a2.nodeId, '127.0.0.1', port2);
    const p = await rawPeer(port2, a2.nodeId);
    p.sendInit();
    await waitUntil(() => a2.listPeers().length === 2, 'raw peer connected');
    const frame = p.frame(new Uint8Array(100).fill(0x80));
    p.socket.write(frame.subarray(0, 18 + 50));
    await waitUntil(() => p.closed, 'cut-short frame peer dropped');
    const ev = await down;
    assert.equal(ev.type === 'disconnected' && ev.code, 'timeout');
    assert.deepEqual(
      a2.listPeers().map((x) => x.nodeId),
      [b.nodeId],
    );
    await pingCrosses(b, a2);
  }

  // 5b. A frame cut short, then the peer hangs up: the half frame is dropped with the connection.
  {
    const p = await rawPeer(port, a.nodeId);
    p.sendInit();
    await waitUntil(() => a.listPeers().length === 2, 'raw peer connected');
    const gone = peerEvent(a, 'disconnected', p.nodeId);
    p.socket.end(p.frame(new Uint8Array(100).fill(0x80)).subarray(0, 18 + 50));
    await gone;
    codes.pop();
    await stillGood();
  }

  // 6. An unknown even message: a warning first, then the close.
  {
    const p = await rawPeer(port, a.nodeId);
    p.sendInit();
    await waitUntil(() => a.listPeers().length === 2, 'raw peer connected');
    p.send(Uint8Array.of(0x80, 0x00, 0xff));
    await waitUntil(() => p.closed, 'unknown-even peer dropped');
    const msgs = p.messages().map((m) => decodeMessage(m));
    assert.deepEqual(
      msgs.map((m) => m.kind),
      ['init', 'warning'],
    );
    await waitUntil(() => codes.length === 1, 'disconnect event');
    assert.equal(codes.pop(), 'protocol');
    await stillGood();
  }

  // 7. A malformed known message (a ping cut inside its fixed fields): BOLT 1 "MUST close the
  // connection"; lnkit says why in a warning first.
  {
    const p = await rawPeer(port, a.nodeId);
    p.sendInit();
    await waitUntil(() => a.listPeers().length === 2, 'raw peer connected');
    p.send(Uint8Array.of(0x00, 0x12, 0x00));
    await waitUntil(() => p.closed, 'malformed-message peer dropped');
    const msgs = p.messages().map((m) => decodeMessage(m));
    assert.deepEqual(
      msgs.map((m) => m.kind),
      ['init', 'warning'],
    );
    const warning = msgs[1]!;
    assert.ok(warning.kind === 'warning' && warning.channelId.every((b) => b === 0));
    await waitUntil(() => codes.length === 1, 'disconnect event');
    assert.equal(codes.pop(), 'protocol');
    await stillGood();
  }

  // 8. An oversized frame (the length field says more than this node accepts).
  {
    const p = await rawPeer(port, a.nodeId);
    p.sendInit();
    await waitUntil(() => a.listPeers().length === 2, 'raw peer connected');
    p.send(new Uint8Array(5000).fill(0x80));
    await waitUntil(() => p.closed, 'oversized frame peer dropped');
    await waitUntil(() => codes.length === 1, 'disconnect event');
    assert.equal(codes.pop(), 'message-too-long');
    await stillGood();
  }
});

test('a flood during the handshake is cut off at the buffer cap, not held while the node key works', async () => {
  // The node key does not answer until the flooding peer is gone (a busy crypto pool, at its
  // worst), so the whole flood arrives while act one is being answered. Without the cap the
  // bytes would pile up and fail later as a bad act three, or at the handshake timeout.
  const { logger, waitForLine } = captureLogger({ level: 'info' });
  const inner = key();
  let floodDropped: () => void = () => {};
  const gate = new Promise<void>((r) => {
    floodDropped = r;
  });
  const slowKey: NodeKeyEcdh = {
    publicKey: inner.publicKey,
    ecdh: async (pub) => {
      await gate;
      return inner.ecdh(pub);
    },
  };
  const a = manager({ nodeKey: slowKey, logger, handshakeTimeoutMs: 60_000 });
  const { port } = await a.listen('127.0.0.1', 0);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.on('data', () => {});
  let closed = false;
  socket.on('close', () => {
    closed = true;
    floodDropped();
  });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const hs = new HandshakeInitiator(key(), inner.publicKey);
  // Act one, then 300 KB: far more than act three and one init (what may precede our init).
  socket.write(Buffer.concat([hs.actOne(), new Uint8Array(300_000)]));
  await waitUntil(() => closed, 'flooding peer dropped');
  const failed = await waitForLine((l) => l.msg === 'inbound handshake failed', {
    what: 'handshake failure logged',
  });
  assert.equal(failed.code, 'message-too-long');
  assert.deepEqual(a.listPeers(), []);
});

test('outbound queue: a peer that stops reading fills the queue and send rejects with queue-full', async () => {
  const a = manager({ maxQueueLength: 8 });
  const { port } = await a.listen('127.0.0.1', 0);
  const p = await rawPeer(port, a.nodeId);
  p.sendInit();
  await waitUntil(() => a.listPeers().length === 1, 'raw peer connected');
  p.socket.pause();
  const big = new Uint8Array(60_000);
  big[0] = 0x80;
  big[1] = 0x01;
  let full: PeerNetError | undefined;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < 2000 && !full; i++) {
    sends.push(
      a.send(a.listPeers()[0]!.nodeId, big).catch((e) => {
        if (e instanceof PeerNetError && e.code === 'queue-full') full = e;
      }),
    );
    // Let the socket write between bursts, so its buffer fills and the queue backs up behind it.
    if (i % 8 === 7) await new Promise((r) => setImmediate(r));
  }
  assert.ok(full, 'expected a queue-full rejection');
  assert.ok(a.queueLength(a.listPeers()[0]!.nodeId) <= 8);
  // Once the peer reads again, the queue drains and pending sends resolve.
  p.socket.resume();
  await Promise.all(sends);
  await waitUntil(() => a.queueLength(a.listPeers()[0]!.nodeId) === 0, 'queue drained');
  p.socket.destroy();
});

test('idle pings between two lnkit peers are answered, so neither drops the other', async () => {
  // Pinged after 50 ms of silence; the pong timeout is generous, so a busy machine cannot fail
  // this, while a ping left unanswered still would (no pong, no count).
  const a = manager({ pingIntervalMs: 50, pongTimeoutMs: 10_000 });
  const b = manager({ pingIntervalMs: 50, pongTimeoutMs: 10_000 });
  const { port } = await a.listen('127.0.0.1', 0);
  const drops: PeerEvent[] = [];
  for (const m of [a, b]) m.events$.subscribe((e) => e.type === 'disconnected' && drops.push(e));
  await b.connect(a.nodeId, '127.0.0.1', port);
  // Three idle ping rounds each way, every one answered with a pong that was counted.
  await waitFor(
    () =>
      [a.connectionStats(b.nodeId), b.connectionStats(a.nodeId)].every(
        (s) => s && s.pongsReceived >= 3 && s.pongsSent >= 3,
      ),
    { what: 'three idle ping rounds answered on both sides' },
  );
  assert.deepEqual(drops, []);
  assert.equal(a.listPeers().length, 1);
  assert.equal(b.listPeers().length, 1);
});

test('node key ECDH and bulk frames in the crypto pool: handshake works, frames arrive complete and in order', async () => {
  const pool = new CryptoPool({ threads: 2 });
  try {
    // The listener's node key lives behind the pool (its ECDH runs there during the handshake).
    const aKey = nodeKeyEcdh(randomBytes(32), pool);
    // Warm the pool first: its threads load in the order of a second, longer than this test's
    // 500 ms handshake timeout (a node starts its pool before it listens).
    await aKey.ecdh(key().publicKey);
    const a = manager({ nodeKey: aKey });
    let batches = 0;
    const sealer = {
      encryptBatch: (r: Parameters<CryptoPool['encryptBatch']>[0]) => {
        batches++;
        return pool.encryptBatch(r);
      },
    };
    const b = manager({ frameSealer: sealer, sealerMinBatch: 16, maxQueueLength: 5000 });
    const { port } = await a.listen('127.0.0.1', 0);
    await b.connect(a.nodeId, '127.0.0.1', port);
    const count = 3000;
    const received = firstValueFrom(a.messagesOfType(32769).pipe(take(count), toArray()));
    const sends: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      // Sizes vary so a misplaced frame cannot decrypt by accident.
      const m = new Uint8Array(4 + (i % 300));
      m[0] = 0x80;
      m[1] = 0x01;
      m[2] = i >> 8;
      m[3] = i & 0xff;
      sends.push(b.send(a.nodeId, m));
    }
    await Promise.all(sends);
    const got = await received;
    assert.equal(got.length, count);
    got.forEach((m, i) => {
      assert.equal((m.raw[2]! << 8) | m.raw[3]!, i);
      assert.equal(m.raw.length, 4 + (i % 300));
    });
    assert.equal(a.listPeers().length, 1);
    // 3,000 messages queued in one tick: the pool did the work, in batches of 128.
    assert.ok(batches >= 3000 / 128, `sealer batches: ${batches}`);
  } finally {
    await pool.close();
  }
});
