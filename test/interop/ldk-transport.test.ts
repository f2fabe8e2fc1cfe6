/**
 * Transport interop with LDK (lightningdevkit 0.1.0, WASM) over TCP loopback, both
 * directions: the BOLT 8 handshake completes, init is exchanged and each side sees the
 * other's features, pings are answered, and a clean disconnect is seen by both.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { LNKIT_INIT_FEATURES, nodeKeyEcdh, type PeerEvent, PeerManager } from '@lnkit/peer-net';
import { nextEvent } from '@lnkit/test-support';
import { initLdk, LdkPeer } from '../support/ldk/ldk-peer.ts';

const cleanups: (() => Promise<void>)[] = [];
before(async () => {
  await initLdk();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function lnkit(): PeerManager {
  const m = new PeerManager({ nodeKey: nodeKeyEcdh(randomBytes(32)), timerMs: 50 });
  cleanups.push(() => m.close());
  return m;
}

async function ldkPeer(): Promise<LdkPeer> {
  const p = await LdkPeer.create({ traceLogs: true });
  cleanups.push(() => p.stop());
  return p;
}

const peerEvent = (m: PeerManager, type: PeerEvent['type'], nodeId: string): Promise<PeerEvent> =>
  nextEvent(m.events$, (e) => e.type === type && e.nodeId === nodeId, { what: `${type} ${nodeId}` });

/** LDK's own bytes for what it thinks lnkit offered: must be lnkit's init features, exactly. */
const LNKIT_FEATURES_HEX = Buffer.from(LNKIT_INIT_FEATURES.toMinimalBytes()).toString('hex');

/** Generous: the machine running the tests may be busy; a condition that holds returns at once. */
const LDK_WAIT_MS = 30_000;

const pongsAtLdk = (ldk: LdkPeer) => ldk.logs.filter((l) => /Received message Pong/.test(l)).length;

/**
 * LDK's timer tick pings every peer and drops one that has sent nothing since the previous
 * tick while a ping was outstanding. Each of three ticks here waits for LDK to log the pong
 * lnkit sent back to that tick's ping; then LDK must still list lnkit.
 */
async function survivesLdkPings(ldk: LdkPeer, m: PeerManager): Promise<void> {
  for (let i = 1; i <= 3; i++) {
    const before = pongsAtLdk(ldk);
    ldk.timerTick();
    await ldk.waitFor(
      () => pongsAtLdk(ldk) > before,
      LDK_WAIT_MS,
      `LDK to receive lnkit's pong to ping ${i}`,
    );
  }
  assert.deepEqual(
    ldk.listPeers().map((p) => p.nodeId),
    [m.nodeId],
  );
  // And LDK answers lnkit's ping: ping() resolves only on the matching pong, and LDK logged the ping.
  const pingsAtLdk = () => ldk.logs.filter((l) => /Received message Ping/.test(l)).length;
  const pingsBefore = pingsAtLdk();
  assert.equal(typeof (await m.ping(ldk.nodeId, 32)), 'number');
  assert.equal(pingsAtLdk(), pingsBefore + 1, 'LDK received the ping it answered');
}

function checkLdkFeatures(names: string[]): void {
  // What LDK 0.1 requires of every peer and sets itself (BOLT 9 names).
  for (const n of [
    'option_static_remotekey/required',
    'var_onion_optin/required',
    'payment_secret/required',
  ]) {
    assert.ok(names.includes(n), `LDK features should include ${n}: ${names.join(',')}`);
  }
}

test('lnkit dials LDK: handshake, init, features both ways, pings, clean disconnect', async () => {
  const ldk = await ldkPeer();
  const port = await ldk.start();
  const m = lnkit();
  const info = await m.connect(ldk.nodeId, '127.0.0.1', port);
  assert.equal(info.nodeId, ldk.nodeId);
  assert.equal(info.inbound, false);
  checkLdkFeatures(info.features.names);

  await ldk.waitFor(() => ldk.listPeers().length === 1, LDK_WAIT_MS, 'LDK lists lnkit');
  const seen = ldk.listPeers()[0]!;
  assert.equal(seen.nodeId, m.nodeId);
  assert.equal(seen.inbound, true);
  assert.equal(seen.featuresHex.replace(/^(00)+/, ''), LNKIT_FEATURES_HEX);

  await survivesLdkPings(ldk, m);

  const down = peerEvent(m, 'disconnected', ldk.nodeId);
  await m.disconnect(ldk.nodeId);
  const ev = await down;
  assert.equal(ev.type === 'disconnected' ? ev.code : 'not-a-disconnect', undefined);
  await ldk.waitFor(() => ldk.listPeers().length === 0, LDK_WAIT_MS, 'LDK sees the disconnect');
  assert.deepEqual(m.listPeers(), []);
  assert.deepEqual(
    ldk.logs.filter((l) => /error/i.test(l)),
    [],
  );
});

test('LDK dials lnkit: handshake, init, features both ways, pings, clean disconnect from LDK', async () => {
  const m = lnkit();
  const { port } = await m.listen('127.0.0.1', 0);
  const ldk = await ldkPeer();
  const up = peerEvent(m, 'connected', ldk.nodeId);
  await ldk.connect(m.nodeId, '127.0.0.1', port);
  const ev = await up;
  assert.equal(ev.type, 'connected');
  if (ev.type === 'connected') {
    assert.equal(ev.inbound, true);
    checkLdkFeatures(ev.features.names);
  }
  const seen = ldk.listPeers()[0]!;
  assert.equal(seen.nodeId, m.nodeId);
  assert.equal(seen.inbound, false);
  assert.equal(seen.featuresHex.replace(/^(00)+/, ''), LNKIT_FEATURES_HEX);

  await survivesLdkPings(ldk, m);

  const down = peerEvent(m, 'disconnected', ldk.nodeId);
  ldk.disconnectAll();
  const ev2 = await down;
  assert.equal(ev2.type, 'disconnected');
  // A clean close from LDK: no error code on lnkit's side (not a bad MAC, timeout or protocol fault).
  assert.equal(ev2.type === 'disconnected' ? ev2.code : 'not-a-disconnect', undefined);
  assert.deepEqual(m.listPeers(), []);
  assert.deepEqual(ldk.listPeers(), []);
});

test('LDK refuses nothing lnkit sends in a long session: 2,000 pings cross key rotations', async () => {
  // BOLT 8 rotates keys every 1,000 uses (500 messages); LDK checks every MAC.
  const m = lnkit();
  const { port } = await m.listen('127.0.0.1', 0);
  const ldk = await ldkPeer();
  await ldk.connect(m.nodeId, '127.0.0.1', port);
  for (let i = 0; i < 2000; i += 100) {
    await Promise.all(Array.from({ length: 100 }, () => m.ping(ldk.nodeId, 1)));
  }
  assert.deepEqual(
    m.listPeers().map((p) => p.nodeId),
    [ldk.nodeId],
  );
  assert.equal(ldk.listPeers().length, 1);
});

test('LDK sends an unknown even message: lnkit warns, then disconnects, and LDK logs the warning', async () => {
  const m = lnkit();
  const { port } = await m.listen('127.0.0.1', 0);
  // Custom types must be enabled for LDK to send one; 32768 is even and unknown to lnkit.
  const ldk = await LdkPeer.create({ traceLogs: true, customTypes: [32768] });
  cleanups.push(() => ldk.stop());
  await ldk.connect(m.nodeId, '127.0.0.1', port);
  const down = peerEvent(m, 'disconnected', ldk.nodeId);
  ldk.sendCustom(m.nodeId, 32768, Uint8Array.of(1, 2, 3));
  ldk.processEvents();
  const ev = await down;
  assert.equal(ev.type === 'disconnected' && ev.code, 'protocol');
  await ldk.waitFor(() => ldk.listPeers().length === 0, LDK_WAIT_MS, 'LDK sees the disconnect');
  const warned = ldk.logs.filter((l) => /unknown even message type 32768/.test(l));
  assert.ok(warned.length > 0, `LDK logs: ${ldk.logs.slice(-5).join(' | ')}`);
});
