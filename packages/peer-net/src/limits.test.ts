/**
 * The limits through real loopback sockets: a ping flood from four connections, measured in
 * a child process that runs only a PeerManager; the caps on inbound connections (in total,
 * per IP, in handshake) and on dials; a peer that stops reading; the rate-limited logs.
 * Every wait is for an event or a condition; the only bounds on numbers are the issue's own
 * (RSS growth under 50 MiB during the flood, back near the start after).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import net from 'node:net';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { randomBytes } from '@lnkit/crypto';
import { captureLogger, nextEvent, waitFor } from '@lnkit/test-support';
import { PeerNetError } from './errors.ts';
import { nodeKeyEcdh } from './noise.ts';
import {
  type ConnectionStats,
  type PeerEvent,
  PeerManager,
  type PeerManagerOptions,
  type PeerNetStats,
} from './peer-manager.ts';
import { extraLoopbackWorks, pingMessage, type RawPeer, rawPeer } from './testing/raw-peer.ts';

const MiB = 1024 * 1024;
const managers: PeerManager[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const m of managers) await m.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function manager(over: Partial<PeerManagerOptions> = {}): PeerManager {
  const m = new PeerManager({ nodeKey: nodeKeyEcdh(randomBytes(32)), timerMs: 20, ...over });
  managers.push(m);
  return m;
}

/** The PeerManager of testing/manager.child.ts, reached over IPC. */
class ManagerChild {
  private readonly replies = new Map<number, (value: unknown) => void>();
  private nextId = 1;
  readonly ready: Promise<{ port: number; nodeId: string }>;

  constructor(private readonly child: ChildProcess) {
    let ready: (v: { port: number; nodeId: string }) => void = () => {};
    this.ready = new Promise((r) => {
      ready = r;
    });
    this.replies.set(0, (v) => ready(v as { port: number; nodeId: string }));
    child.on('message', (m: { id: number; value: unknown }) => {
      const reply = this.replies.get(m.id);
      this.replies.delete(m.id);
      reply?.(m.value);
    });
  }

  static start(options: Omit<PeerManagerOptions, 'nodeKey'>): ManagerChild {
    const child = fork(
      fileURLToPath(new URL('./testing/manager.child.ts', import.meta.url)),
      [JSON.stringify(options)],
      {
        execArgv: ['--expose-gc', '--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    children.push(child);
    return new ManagerChild(child);
  }

  private request<T>(message: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.replies.set(id, (v) => resolve(v as T));
      this.child.send({ id, ...message }, (err) => err && reject(err));
    });
  }

  rss = () => this.request<{ rss: number; peakRss: number }>({ type: 'rss' });
  resetPeak = () => this.request<number>({ type: 'reset-peak' });
  stats = () => this.request<PeerNetStats>({ type: 'stats' });
  connectionStats = (nodeId: string) =>
    this.request<ConnectionStats | null>({ type: 'connectionStats', nodeId });

  async close(): Promise<void> {
    const exited = nextEvent(this.child, 'exit', undefined, { what: 'the child to exit' });
    await this.request({ type: 'close' });
    await exited;
  }
}

/** After the handshake and init: 10,000 pings asking for 65,531-byte pongs, in one write; never reads. */
async function pingFlood(port: number, nodeId: string): Promise<RawPeer> {
  const p = await rawPeer(port, nodeId);
  p.socket.pause();
  p.sendInit();
  const ping = pingMessage(65531);
  p.socket.write(Buffer.concat(Array.from({ length: 10_000 }, () => p.frame(ping))));
  return p;
}

/** A good peer in this process connects to the child and gets its pong back. */
async function goodPeerWorks(port: number, nodeId: string): Promise<void> {
  const good = manager();
  await good.connect(nodeId, '127.0.0.1', port);
  assert.equal(typeof (await good.ping(nodeId, 1000)), 'number');
  await good.close();
}

/**
 * Warm-up (the code paths, the JIT, the buffers a pong needs), then the baseline RSS once the
 * warm-up connection is gone, after full GCs.
 */
async function baseline(child: ManagerChild, port: number, nodeId: string): Promise<number> {
  const warm = await rawPeer(port, nodeId);
  warm.sendInit();
  for (let i = 0; i < 5; i++) warm.send(pingMessage(65531));
  await waitFor(() => warm.messages().length > 0 || undefined, { what: 'the warm-up pongs' });
  await goodPeerWorks(port, nodeId);
  warm.socket.destroy();
  await waitFor(async () => (await child.stats()).current.inboundConnections === 0, {
    what: 'the warm-up connections gone',
  });
  return child.resetPeak();
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

test('a ping flood from four connections, as the node ships: dropped for flooding; RSS grows < 50 MiB and comes back', {
  timeout: 120_000,
}, async (t) => {
  const child = ManagerChild.start({});
  const { port, nodeId } = await child.ready;
  const start = await baseline(child, port, nodeId);
  const before = await child.stats();
  const flooders = await Promise.all([1, 2, 3, 4].map(() => pingFlood(port, nodeId)));
  const stats = await waitFor(
    async () => {
      const s = await child.stats();
      return s.counters.pingFloodDisconnects === 4 && s.current.inboundConnections === 0 && s;
    },
    { what: 'the four flooders dropped for a ping flood' },
  );
  const during = await child.rss();
  for (const f of flooders) f.socket.destroy();
  const afterRss = (await child.rss()).rss;
  t.diagnostic(
    `RSS ${mib(start)} at the start, +${mib(during.peakRss - start)} at most during, +${mib(afterRss - start)} after`,
  );
  // One pong each was answered; then every ping beyond one waiting was ignored, up to the limit.
  assert.equal(
    stats.counters.pingsIgnored - before.counters.pingsIgnored,
    4 * (stats.limits.maxIgnoredPingsPerWindow + 1),
  );
  assert.ok(
    during.peakRss - start < 50 * MiB,
    `RSS grew by ${mib(during.peakRss - start)} during the flood (from ${mib(start)})`,
  );
  assert.ok(afterRss - start < 20 * MiB, `RSS ${mib(afterRss - start)} above the start after the flood`);
  await goodPeerWorks(port, nodeId);
  await child.close();
});

test('the same flood with the flood disconnect off: all 40,000 pings read, one pong on its way at a time; RSS < 50 MiB', {
  timeout: 120_000,
}, async (t) => {
  // Only the one-pong-at-a-time rule and the pong rate bound what the node holds here.
  const child = ManagerChild.start({ maxIgnoredPingsPerWindow: 1_000_000_000 });
  const { port, nodeId } = await child.ready;
  const start = await baseline(child, port, nodeId);
  const flooders = await Promise.all([1, 2, 3, 4].map(() => pingFlood(port, nodeId)));
  const perConnection = await waitFor(
    async () => {
      const all = await Promise.all(flooders.map((f) => child.connectionStats(f.nodeId)));
      return all.every((s) => s?.pingsReceived === 10_000) && (all as ConnectionStats[]);
    },
    { what: 'every ping of the four floods read by the node' },
  );
  const during = await child.rss();
  for (const s of perConnection) {
    // Each ping was answered, replaced by a newer one, or is the one still waiting.
    assert.ok(s.pongsSent + s.pingsIgnored >= 9_999, `pongs ${s.pongsSent}, ignored ${s.pingsIgnored}`);
    assert.ok(s.pingsIgnored > 0);
  }
  for (const f of flooders) f.socket.destroy();
  await waitFor(async () => (await child.stats()).current.inboundConnections === 0, {
    what: 'the flooders gone',
  });
  const afterRss = (await child.rss()).rss;
  t.diagnostic(
    `RSS ${mib(start)} at the start, +${mib(during.peakRss - start)} at most during, +${mib(afterRss - start)} after`,
  );
  assert.ok(
    during.peakRss - start < 50 * MiB,
    `RSS grew by ${mib(during.peakRss - start)} during the flood (from ${mib(start)})`,
  );
  assert.ok(afterRss - start < 20 * MiB, `RSS ${mib(afterRss - start)} above the start after the flood`);
  await goodPeerWorks(port, nodeId);
  await child.close();
});

/** A TCP connection that sends nothing (it holds a handshake slot until the handshake timeout). */
async function silentSocket(
  port: number,
  localAddress?: string,
): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await nextEvent(socket, 'connect', undefined, { what: `a connection from ${localAddress ?? '127.0.0.1'}` });
  return { socket, closed };
}

const held = async (m: PeerManager, n: number) =>
  waitFor(() => m.stats().current.inboundConnections === n, { what: `${n} inbound connections held` });

test('caps on inbound connections: per IP and in total, the extra ones closed at once; a good peer gets in after', async (t) => {
  if (!(await extraLoopbackWorks())) {
    t.skip('this host does not route 127.0.0.2 to itself: the per-IP cap needs several loopback addresses');
    return;
  }
  // Silent sockets stay in their handshake for the whole test (60 s timeout).
  const m = manager({
    maxInboundConnections: 5,
    maxInboundPerIp: 2,
    maxInboundHandshakes: 10,
    handshakeTimeoutMs: 60_000,
  });
  const { port } = await m.listen('127.0.0.1', 0);
  const open: net.Socket[] = [];
  for (const ip of ['127.0.0.2', '127.0.0.2']) open.push((await silentSocket(port, ip)).socket);
  await held(m, 2);
  // A third from 127.0.0.2: closed before anything is read.
  const third = await silentSocket(port, '127.0.0.2');
  await third.closed;
  assert.equal(m.stats().counters.inboundRefusedPerIp, 1);
  // Other addresses still get in, up to the total.
  for (const ip of ['127.0.0.3', '127.0.0.3', '127.0.0.4']) open.push((await silentSocket(port, ip)).socket);
  await held(m, 5);
  const sixth = await silentSocket(port, '127.0.0.5');
  await sixth.closed;
  const s = m.stats();
  assert.equal(s.counters.inboundRefusedTotal, 1);
  assert.equal(s.counters.inboundRefusedPerIp, 1);
  assert.deepEqual([s.current.inboundConnections, s.current.inboundHandshakes], [5, 5]);
  // Once they go, their slots are free: a good peer connects (from 127.0.0.1) and its ping crosses.
  for (const socket of open) socket.destroy();
  await held(m, 0);
  const good = manager();
  await good.connect(m.nodeId, '127.0.0.1', port);
  assert.equal(typeof (await good.ping(m.nodeId)), 'number');
  assert.equal(m.stats().current.inboundHandshakes, 0, 'init gave the handshake slot back');
  assert.equal(m.stats().current.inboundConnections, 1);
});

test('the cap on handshakes in progress: silent sockets fill it, peers already in are untouched, and init frees a slot', async () => {
  const m = manager({ maxInboundHandshakes: 2, maxInboundPerIp: 100, handshakeTimeoutMs: 60_000 });
  const { port } = await m.listen('127.0.0.1', 0);
  const first = manager();
  await first.connect(m.nodeId, '127.0.0.1', port);
  const silent = [await silentSocket(port), await silentSocket(port)];
  await held(m, 3);
  assert.equal(m.stats().current.inboundHandshakes, 2);
  const extra = await silentSocket(port);
  await extra.closed;
  assert.equal(m.stats().counters.inboundRefusedHandshakes, 1);
  // A peer dialling now is refused as well: its dial fails, clearly.
  const late = manager({ connectTimeoutMs: 30_000 });
  await assert.rejects(late.connect(m.nodeId, '127.0.0.1', port), PeerNetError);
  // The peer that was in before still works.
  assert.equal(typeof (await first.ping(m.nodeId)), 'number');
  for (const s of silent) s.socket.destroy();
  await held(m, 1);
  await late.connect(m.nodeId, '127.0.0.1', port);
  assert.equal(m.stats().current.inboundHandshakes, 0);
});

test('a peer that never reads while we have a lot to send is disconnected (send-stalled), and its memory is given back', async () => {
  const m = manager({ sendStallTimeoutMs: 300, maxQueueBytes: 512 * 1024, maxQueueLength: 100_000 });
  const { port } = await m.listen('127.0.0.1', 0);
  const p = await rawPeer(port, m.nodeId);
  p.sendInit();
  await waitFor(() => m.listPeers().length === 1, { what: 'the raw peer connected' });
  p.socket.pause();
  const down = nextEvent(m.events$, (e: PeerEvent) => e.type === 'disconnected', {
    what: 'the stalled peer dropped',
  });
  const big = new Uint8Array(60_000);
  big[0] = 0x80;
  big[1] = 0x01;
  // Send until the queue is full (the kernel's buffers, then the socket's, then the queue), or
  // until the peer is dropped: on a slow machine the stall may come first, and that is the point.
  await waitFor(
    async () => {
      for (let i = 0; i < 8; i++) m.send(p.nodeId, big).catch(() => {});
      await new Promise((r) => setImmediate(r));
      return m.stats().counters.sendsRefusedQueueFull > 0 || m.listPeers().length === 0;
    },
    { what: 'a send refused with queue-full' },
  );
  const ev = await down;
  assert.equal(ev.type === 'disconnected' && ev.code, 'send-stalled');
  assert.equal(m.stats().counters.sendStallDisconnects, 1);
  // Nothing of it is held once its socket has closed: no queued bytes, no connection.
  await held(m, 0);
  const s = m.stats();
  assert.deepEqual([s.current.queuedBytes, s.current.peers], [0, 0]);
  p.socket.destroy();
});

test('the outbound queue is bounded in bytes: queue-full names the bytes, and the queue drains once the peer reads', async () => {
  const m = manager({ maxQueueBytes: 300_000, maxQueueLength: 100_000, sendStallTimeoutMs: 60_000 });
  const { port } = await m.listen('127.0.0.1', 0);
  const p = await rawPeer(port, m.nodeId);
  p.sendInit();
  await waitFor(() => m.listPeers().length === 1, { what: 'the raw peer connected' });
  p.socket.pause();
  const big = new Uint8Array(60_000);
  big[0] = 0x80;
  big[1] = 0x01;
  const sends: Promise<void>[] = [];
  let refusal: PeerNetError | undefined;
  const full = await waitFor(
    async () => {
      for (let i = 0; i < 8 && !refusal; i++) {
        sends.push(
          m.send(p.nodeId, big).catch((e: unknown) => {
            if (e instanceof PeerNetError && e.code === 'queue-full') refusal ??= e;
          }),
        );
      }
      // Let the socket write between bursts, so that its buffer fills and the queue backs up behind it.
      await new Promise((r) => setImmediate(r));
      return refusal;
    },
    { what: 'a send refused with queue-full' },
  );
  assert.match(full.message, /bytes/);
  // What waits is within the cap, plus what the socket holds above it (its write buffer and one message).
  assert.ok(m.queueLength(p.nodeId) * 60_000 <= 300_000);
  p.socket.resume();
  await Promise.all(sends);
  await waitFor(() => m.stats().current.queuedBytes === 0, { what: 'the queue drained' });
  assert.equal(m.listPeers().length, 1);
  p.socket.destroy();
});

test('dials in flight are capped: the extra ones wait their turn and then succeed; one withdrawn while waiting rejects', async () => {
  const targets = [manager(), manager(), manager()];
  const ports = await Promise.all(targets.map(async (x) => (await x.listen('127.0.0.1', 0)).port));
  const m = manager({ maxDialsInFlight: 1 });
  const connects = targets.map((x, i) => m.connect(x.nodeId, '127.0.0.1', ports[i]!));
  assert.deepEqual(
    [m.stats().current.dialsInFlight, m.stats().current.dialsWaiting, m.stats().counters.dialsQueued],
    [1, 2, 2],
  );
  await Promise.all(connects);
  assert.equal(m.listPeers().length, 3);
  await Promise.all(targets.map((x) => m.disconnect(x.nodeId)));
  // A disconnect while the dial waits for its slot withdraws it; the connect says so.
  const first = m.connect(targets[0]!.nodeId, '127.0.0.1', ports[0]!);
  const second = m.connect(targets[1]!.nodeId, '127.0.0.1', ports[1]!);
  await m.disconnect(targets[1]!.nodeId);
  await assert.rejects(second, PeerNetError);
  await first;
  assert.deepEqual(m.stats().current.dialsWaiting, 0);
});

test('peer misbehaviour is logged at info once per cause per interval, with the count held back; the rest at debug', async () => {
  const { logger, lines } = captureLogger({ level: 'debug' });
  const m = manager({ logger });
  const { port } = await m.listen('127.0.0.1', 0);
  for (let i = 0; i < 5; i++) {
    // BOLT 8 act one with an unknown version byte.
    const s = await silentSocket(port);
    s.socket.end(Buffer.alloc(50, 0xff));
    await s.closed;
  }
  await waitFor(() => m.stats().counters.handshakesFailed === 5, { what: 'five failed handshakes counted' });
  const failed = lines.filter((l) => l.msg === 'inbound handshake failed');
  assert.deepEqual(
    failed.map((l) => [l.level, l.code]),
    [[30, 'handshake-bad-version'], ...Array.from({ length: 4 }, () => [20, 'handshake-bad-version'])],
  );
  // Never 'undefined:undefined': a socket's address is read before it can be lost.
  assert.ok(failed.every((l) => typeof l.address === 'string' && /^127\.0\.0\.1:\d+$/.test(l.address)));
});
