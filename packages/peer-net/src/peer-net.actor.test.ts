import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { createRootLogger, spawn } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import { nodeKeyEcdh } from './noise.ts';
import { type PeerEvent, PeerManager } from './peer-manager.ts';
import type actorDef from './peer-net.actor.ts';
import type { RawPeerMessage } from './peer-net.actor.ts';

const ACTOR = new URL('./peer-net.actor.ts', import.meta.url);
const quiet = createRootLogger({ level: 'silent' });

test('the PeerManager actor in a worker thread and in-process: connect, events, messages across threads', {
  timeout: 60_000,
}, async () => {
  const w = await spawn<typeof actorDef>(ACTOR, {
    placement: 'worker',
    config: { nodeSecret: randomBytes(32) },
    logger: quiet,
    logLevel: 'silent',
  });
  const p = await spawn<typeof actorDef>(ACTOR, {
    placement: 'in-process',
    config: { nodeSecret: randomBytes(32) },
    logger: quiet,
  });
  const probe = new PeerManager({ nodeKey: nodeKeyEcdh(randomBytes(32)) });
  try {
    const { port } = await w.ref.listen('127.0.0.1', 0);
    const wId = await w.ref.nodeId();
    const pId = await p.ref.nodeId();
    // A subscription reaches the worker some time after subscribe() returns, and nothing says
    // when; what it misses is lost. So each stream is probed until it shows it is live.
    const events: PeerEvent[] = [];
    const eventsSub = w.ref.events$().subscribe((e) => events.push(e));
    await waitFor(
      async () => {
        await probe.connect(wId, '127.0.0.1', port);
        await probe.disconnect(wId);
        return events.some((e) => e.nodeId === probe.nodeId);
      },
      { what: "the worker's event stream to be live" },
    );
    const info = await p.ref.connect(wId, '127.0.0.1', port);
    assert.equal(info.nodeId, wId);
    const ev = await waitFor(() => events.find((e) => e.type === 'connected' && e.nodeId === pId), {
      what: 'the connected event from the worker',
    });
    assert.equal(ev.type === 'connected' && ev.inbound, true);

    const inbound: RawPeerMessage[] = [];
    const messagesSub = w.ref.messages$([32769]).subscribe((m) => inbound.push(m));
    await waitFor(
      async () => {
        await p.ref.send(wId, Uint8Array.of(0x80, 0x01, 0));
        return inbound.length > 0;
      },
      { what: "the worker's message stream to be live" },
    );
    await p.ref.send(wId, Uint8Array.of(0x80, 0x01, 7));
    await p.ref.send(wId, Uint8Array.of(0x80, 0x01, 8));
    const notProbes = () => inbound.filter((m) => m.raw[2] !== 0);
    await waitFor(() => notProbes().length >= 2, { what: 'two messages through the worker' });
    assert.deepEqual(
      notProbes().map((m) => [m.nodeId, m.type, [...m.raw]]),
      [
        [pId, 32769, [0x80, 0x01, 7]],
        [pId, 32769, [0x80, 0x01, 8]],
      ],
    );
    eventsSub.unsubscribe();
    messagesSub.unsubscribe();

    // A ping that crossed: the worker counted it and answered; the pong was counted here.
    const before = await w.ref.connectionStats(pId);
    assert.ok(before);
    await p.ref.ping(wId, 12);
    const after = await w.ref.connectionStats(pId);
    assert.equal(after?.pingsReceived, before.pingsReceived + 1);
    assert.equal(after?.pongsSent, before.pongsSent + 1);
    assert.equal((await p.ref.connectionStats(wId))?.pongsReceived, 1);
    assert.deepEqual(
      (await w.ref.listPeers()).map((x) => x.nodeId),
      [pId],
    );
    assert.equal((await w.ref.peer(pId))?.connected, true);
    // The limits and their counters cross the thread as plain data, for the node's metrics.
    const stats = await w.ref.stats();
    assert.equal(stats.limits.maxInboundPerIp, 8);
    assert.deepEqual([stats.current.peers, stats.current.inboundHandshakes], [1, 0]);
    assert.equal(stats.counters.pingsIgnored, 0);
  } finally {
    await probe.close();
    await p.stop();
    await w.stop();
  }
});

test('with nodeKeyDataDir the node key stays in a signer pool: same node id as the seed gives, handshakes work', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { KeysManager, loadOrCreateSeed } = await import('@lnkit/keys');
  const dataDir = mkdtempSync(join(tmpdir(), 'lnkit-peer-actor-'));
  const expected = Buffer.from(new KeysManager(loadOrCreateSeed(dataDir).seed).nodeId).toString('hex');
  const w = await spawn<typeof actorDef>(ACTOR, {
    placement: 'worker',
    config: { nodeKeyDataDir: dataDir },
    logger: quiet,
    logLevel: 'silent',
  });
  const p = await spawn<typeof actorDef>(ACTOR, {
    placement: 'in-process',
    config: { nodeSecret: randomBytes(32) },
    logger: quiet,
  });
  try {
    assert.equal(await w.ref.nodeId(), expected);
    const { port } = await w.ref.listen('127.0.0.1', 0);
    const info = await p.ref.connect(expected, '127.0.0.1', port);
    assert.equal(info.nodeId, expected, 'the BOLT 8 handshake proved the pooled node key');
    await assert.rejects(
      spawn<typeof actorDef>(ACTOR, { placement: 'in-process', config: {}, logger: quiet }),
      /exactly one of nodeSecret or nodeKeyDataDir/,
    );
  } finally {
    await p.stop();
    await w.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
