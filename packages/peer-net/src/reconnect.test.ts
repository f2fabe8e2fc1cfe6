/**
 * The directory's rules through the PeerManager's sockets and timers: persistent peers are
 * redialled until they are back, a failed first connect leaves nothing redialling, and BOLT 1's
 * single connection per peer (a newer connection replaces the older one). The rules themselves,
 * with exact times, are in peer-directory.test.ts; here each test waits for events, not delays.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { nextEvent, waitFor } from '@lnkit/test-support';
import { PeerNetError } from './errors.ts';
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
  const m = new PeerManager({ nodeKey, timerMs: 20, ...over });
  managers.push(m);
  return m;
}

function peerEvent(m: PeerManager, type: PeerEvent['type'], nodeId: string): Promise<PeerEvent> {
  return nextEvent(m.events$, (e) => e.type === type && e.nodeId === nodeId, { what: `${type} ${nodeId}` });
}

/** Pings and proves the ping crossed: the other side counted it and answered, and the pong was counted here. */
async function pingCrosses(from: PeerManager, to: PeerManager): Promise<void> {
  const theirs = to.connectionStats(from.nodeId);
  const ours = from.connectionStats(to.nodeId);
  assert.ok(theirs && ours, 'both sides connected');
  await from.ping(to.nodeId, 9);
  assert.equal(to.connectionStats(from.nodeId)?.pingsReceived, theirs.pingsReceived + 1);
  assert.equal(to.connectionStats(from.nodeId)?.pongsSent, theirs.pongsSent + 1);
  assert.equal(from.connectionStats(to.nodeId)?.pongsReceived, ours.pongsReceived + 1);
}

test('persistent peer: redialled while it is down, connected again when it is back; disconnect() forgets it', {
  timeout: 60_000,
}, async () => {
  const remoteKey = nodeKeyEcdh(randomBytes(32));
  const remoteId = Buffer.from(remoteKey.publicKey).toString('hex');
  const b1 = manager(remoteKey);
  const { port } = await b1.listen('127.0.0.1', 0);
  const a = manager(nodeKeyEcdh(randomBytes(32)), { reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 80 });
  await a.connect(remoteId, '127.0.0.1', port, { persistent: true });
  assert.deepEqual(a.peer(remoteId), {
    nodeId: remoteId,
    connected: true,
    connecting: 0,
    persistent: { host: '127.0.0.1', port, failures: 0 },
  });

  // The remote node goes away; in its place a socket that accepts and hangs up at once, so
  // each redial reaches the port and fails in the handshake.
  const down = peerEvent(a, 'disconnected', remoteId);
  await b1.close();
  await down;
  let attempts = 0;
  const refuser = net.createServer((s) => {
    attempts++;
    s.destroy();
  });
  servers.push(refuser);
  await new Promise<void>((r) => refuser.listen(port, '127.0.0.1', r));
  await waitFor(() => attempts >= 3 && (a.peer(remoteId)?.persistent?.failures ?? 0) >= 3, {
    what: 'three redials refused',
  });
  assert.equal(a.peer(remoteId)?.connected, false);

  // The remote node is back on its port: the next redial connects.
  await new Promise<void>((r) => refuser.close(() => r()));
  const up = peerEvent(a, 'connected', remoteId);
  const b2 = manager(remoteKey);
  await b2.listen('127.0.0.1', port);
  const ev = await up;
  assert.equal(ev.type === 'connected' && ev.inbound, false);
  assert.equal(a.peer(remoteId)?.connected, true);
  assert.equal(a.peer(remoteId)?.persistent?.redialAt, undefined, 'no redial pending while connected');
  assert.deepEqual(
    b2.listPeers().map((p) => p.nodeId),
    [a.nodeId],
  );
  await pingCrosses(a, b2);

  // It drops again: a redial is pending; disconnect() cancels it and forgets the peer.
  const downAgain = peerEvent(a, 'disconnected', remoteId);
  await b2.close();
  await downAgain;
  await waitFor(() => a.peer(remoteId)?.persistent?.redialAt !== undefined || a.peer(remoteId)?.connecting, {
    what: 'a redial pending or under way',
  });
  await a.disconnect(remoteId);
  assert.equal(a.peer(remoteId), undefined);
  assert.deepEqual(a.listPeers(), []);
});

test('a failed first connect is not made persistent; a remembered peer is redialled after one', async () => {
  const a = manager(nodeKeyEcdh(randomBytes(32)), { reconnectInitialDelayMs: 60_000 });
  const spare = net.createServer();
  await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
  const closedPort = (spare.address() as net.AddressInfo).port;
  await new Promise<void>((r) => spare.close(() => r()));
  const id = Buffer.from(nodeKeyEcdh(randomBytes(32)).publicKey).toString('hex');
  await assert.rejects(
    a.connect(id, '127.0.0.1', closedPort, { persistent: true }),
    (e: unknown) => e instanceof PeerNetError && e.code === 'connect-failed',
  );
  assert.equal(a.peer(id), undefined, 'nothing left redialling an address that did not work');

  await assert.rejects(
    a.connect(id, '127.0.0.1', closedPort, { persistent: true, remembered: true }),
    (e: unknown) => e instanceof PeerNetError && e.code === 'connect-failed',
  );
  const p = a.peer(id);
  assert.equal(p?.persistent?.failures, 1);
  assert.ok(p?.persistent?.redialAt !== undefined, 'a redial is pending');
  await a.disconnect(id);
  assert.equal(a.peer(id), undefined);
});

test('BOLT 1 single connection per peer: a newer connection from the same node replaces the older one', {
  timeout: 30_000,
}, async () => {
  const a = manager(nodeKeyEcdh(randomBytes(32)));
  const { port } = await a.listen('127.0.0.1', 0);
  const bKey = nodeKeyEcdh(randomBytes(32));
  const b1 = manager(bKey);
  const b2 = manager(bKey);
  const events: PeerEvent[] = [];
  a.events$.subscribe((e) => events.push(e));
  await b1.connect(a.nodeId, '127.0.0.1', port);
  const b1Down = peerEvent(b1, 'disconnected', a.nodeId);
  const aSeesB2 = nextEvent(a.events$, (e) => e.type === 'connected' && events.length > 1);
  await b2.connect(a.nodeId, '127.0.0.1', port);
  // The older connection is closed by a; b1 sees it end.
  await Promise.all([b1Down, aSeesB2]);
  assert.deepEqual(b1.listPeers(), []);
  assert.deepEqual(
    a.listPeers().map((p) => p.nodeId),
    [b2.nodeId],
  );
  // One event per transition: the old connection's end, then the new one, and no more.
  assert.deepEqual(
    events.map((e) => [e.type, e.type === 'disconnected' ? e.reason : '']),
    [
      ['connected', ''],
      ['disconnected', 'replaced by a newer connection'],
      ['connected', ''],
    ],
  );
  // The newer connection is the one a talks on: pings cross it both ways.
  await pingCrosses(b2, a);
  await pingCrosses(a, b2);
  assert.equal(b1.connectionStats(a.nodeId), undefined);
});
