/**
 * The logical peer over its connections: persistent peers are redialled with exponential
 * backoff (doubling to a cap, back to the first delay after a success), and BOLT 1's
 * single connection per peer (a newer connection replaces the older one).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { createRootLogger } from '@lnkit/runtime';
import { filter, firstValueFrom } from 'rxjs';
import { type NodeKeyEcdh, nodeKeyEcdh } from './noise.ts';
import { type PeerEvent, PeerManager, type PeerManagerOptions } from './peer-manager.ts';

const managers: PeerManager[] = [];
const servers: net.Server[] = [];
after(async () => {
  for (const m of managers) await m.close();
  // A failed assertion must not leave a listener that keeps the test process alive.
  for (const s of servers) if (s.listening) await new Promise<void>((r) => s.close(() => r()));
});

function manager(nodeKey: NodeKeyEcdh, over: Partial<PeerManagerOptions> = {}): PeerManager {
  const m = new PeerManager({ nodeKey, timerMs: 20, handshakeTimeoutMs: 500, initTimeoutMs: 500, ...over });
  managers.push(m);
  return m;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nextEvent(m: PeerManager, type: PeerEvent['type'], nodeId: string): Promise<PeerEvent> {
  return firstValueFrom(m.events$.pipe(filter((e) => e.type === type && e.nodeId === nodeId)));
}

async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await wait(5);
  }
}

/** A real pino logger whose JSON lines are kept, to read the delays the manager chose. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createRootLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return {
    logger,
    reconnectDelays: () =>
      lines.filter((l) => l.msg === 'reconnecting to persistent peer').map((l) => l.delayMs as number),
  };
}

test('persistent peer: redial delays double up to the cap, are really waited, and reset after a success', {
  timeout: 20_000,
}, async () => {
  const INITIAL = 40;
  const MAX = 200;
  const remoteKey = nodeKeyEcdh(randomBytes(32));
  const remoteId = Buffer.from(remoteKey.publicKey).toString('hex');
  const b1 = manager(remoteKey);
  const { port } = await b1.listen('127.0.0.1', 0);
  const log = capturingLogger();
  const a = manager(nodeKeyEcdh(randomBytes(32)), {
    logger: log.logger,
    reconnectInitialDelayMs: INITIAL,
    reconnectMaxDelayMs: MAX,
  });
  await a.connect(remoteId, '127.0.0.1', port, { persistent: true });

  // The remote node goes away; in its place a socket that accepts and hangs up at once,
  // so each redial fails in the handshake and we can time the attempts on the server side.
  const down = nextEvent(a, 'disconnected', remoteId);
  await b1.close();
  await down;
  const attempts: number[] = [];
  const refuser = net.createServer((s) => {
    attempts.push(performance.now());
    s.destroy();
  });
  servers.push(refuser);
  await new Promise<void>((r) => refuser.listen(port, '127.0.0.1', r));
  await waitUntil(() => log.reconnectDelays().length >= 6, 5000, 'six redial attempts scheduled');

  // BOLT 1 asks nothing here; this is the node's own policy: 40, 80, 160, then the 200 cap.
  assert.deepEqual(log.reconnectDelays().slice(0, 6), [INITIAL, 80, 160, MAX, MAX, MAX]);
  // The delays are really waited: no two attempts the refuser saw are closer than the
  // first delay (2 ms of slack for timer rounding), and the later ones are at least the cap apart.
  assert.ok(attempts.length >= 3, `refuser saw ${attempts.length} attempts`);
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
  for (const gap of gaps) assert.ok(gap >= INITIAL - 2, `attempts ${gap.toFixed(1)} ms apart`);
  assert.ok(gaps.at(-1)! >= MAX - 2, `last gap ${gaps.at(-1)!.toFixed(1)} ms, cap ${MAX} ms`);

  // The remote node is back: the next redial succeeds.
  await new Promise<void>((r) => refuser.close(() => r()));
  const up = nextEvent(a, 'connected', remoteId);
  const b2 = manager(remoteKey);
  await b2.listen('127.0.0.1', port);
  await up;

  // After a success the backoff starts again from the first delay.
  const before = log.reconnectDelays().length;
  const downAgain = nextEvent(a, 'disconnected', remoteId);
  await b2.close();
  await downAgain;
  await waitUntil(() => log.reconnectDelays().length > before, 2000, 'a redial after the second drop');
  assert.equal(log.reconnectDelays()[before], INITIAL);

  // disconnect() forgets the peer: no redial is scheduled any more.
  await a.disconnect(remoteId);
  const after = log.reconnectDelays().length;
  await wait(3 * MAX);
  assert.equal(log.reconnectDelays().length, after);
});

test('BOLT 1 single connection per peer: a newer connection from the same node replaces the older one', {
  timeout: 10_000,
}, async () => {
  const a = manager(nodeKeyEcdh(randomBytes(32)));
  const { port } = await a.listen('127.0.0.1', 0);
  const bKey = nodeKeyEcdh(randomBytes(32));
  const b1 = manager(bKey);
  const b2 = manager(bKey);
  await b1.connect(a.nodeId, '127.0.0.1', port);
  const b1Down = nextEvent(b1, 'disconnected', a.nodeId);
  await b2.connect(a.nodeId, '127.0.0.1', port);
  // The older connection is closed by a; b1 sees it end.
  await b1Down;
  assert.deepEqual(b1.listPeers(), []);
  assert.deepEqual(
    a.listPeers().map((p) => p.nodeId),
    [b2.nodeId],
  );
  // The newer one is the one a talks on.
  assert.ok((await b2.ping(a.nodeId)) >= 0);
  assert.ok((await a.ping(b2.nodeId)) >= 0);
});
