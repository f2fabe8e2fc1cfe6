import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { createRootLogger, spawn } from '@lnkit/runtime';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import type actorDef from './peer-net.actor.ts';

const ACTOR = new URL('./peer-net.actor.ts', import.meta.url);
const quiet = createRootLogger({ level: 'silent' });

test('the PeerManager actor in a worker thread and in-process: connect, events, messages across threads', async () => {
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
  try {
    const { port } = await w.ref.listen('127.0.0.1', 0);
    const wId = await w.ref.nodeId();
    const pId = await p.ref.nodeId();
    const connected = firstValueFrom(w.ref.events$().pipe(filter((e) => e.type === 'connected')));
    const inbound = firstValueFrom(w.ref.messages$([32769]).pipe(take(2), toArray()));
    // Let the stream subscription reach the worker before the messages are sent.
    await new Promise((r) => setTimeout(r, 100));
    const info = await p.ref.connect(wId, '127.0.0.1', port);
    assert.equal(info.nodeId, wId);
    const ev = await connected;
    assert.equal(ev.nodeId, pId);
    await p.ref.send(wId, Uint8Array.of(0x80, 0x01, 7));
    await p.ref.send(wId, Uint8Array.of(0x80, 0x01, 8));
    const got = await inbound;
    assert.deepEqual(
      got.map((m) => [m.nodeId, m.type, [...m.raw]]),
      [
        [pId, 32769, [0x80, 0x01, 7]],
        [pId, 32769, [0x80, 0x01, 8]],
      ],
    );
    assert.ok((await p.ref.ping(wId)) >= 0);
    assert.deepEqual(
      (await w.ref.listPeers()).map((x) => x.nodeId),
      [pId],
    );
  } finally {
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
