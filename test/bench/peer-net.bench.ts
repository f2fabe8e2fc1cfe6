/**
 * Transport figures, lnkit against LDK measured in the same run on loopback TCP:
 * - handshakes/s: TCP connect + BOLT 8 handshake + init exchange, then disconnect, one at a time;
 * - MB/s of 1 KiB messages (a custom odd type, 2-byte type + 1022 bytes) from one peer to another;
 * - the node key's ECDH in-thread against the crypto pool (handshakes/s for each);
 * - bulk frame encryption (1 KiB, BOLT 8 framing) in-thread against a Piscina pool, to show
 *   which one peer-net should use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoPool, randomBytes } from '@lnkit/crypto';
import { ChannelSignerPool, loadOrCreateSeed } from '@lnkit/keys';
import {
  type FrameSealer,
  MessageEncryptor,
  type NodeKeyEcdh,
  nodeKeyEcdh,
  PeerManager,
} from '@lnkit/peer-net';
import { filter, firstValueFrom } from 'rxjs';
import { LdkPeer } from '../support/ldk/ldk-peer.ts';
import { type Emit, opsPerSecond, opsPerSecondSync, round } from './harness.ts';

const CUSTOM_TYPE = 32769;
const MESSAGE_SIZE = 1024;
const MESSAGES = 20_000;
const MS = 2000;

function customMessage(): Uint8Array {
  const m = new Uint8Array(MESSAGE_SIZE);
  m[0] = CUSTOM_TYPE >> 8;
  m[1] = CUSTOM_TYPE & 0xff;
  return m;
}

async function lnkitPair(keyA: NodeKeyEcdh, keyB: NodeKeyEcdh, frameSealer?: FrameSealer) {
  const a = new PeerManager({ nodeKey: keyA, maxQueueLength: 100_000 });
  const b = new PeerManager({
    nodeKey: keyB,
    maxQueueLength: 100_000,
    ...(frameSealer ? { frameSealer } : {}),
  });
  const { port } = await a.listen('127.0.0.1', 0);
  return { a, b, port, close: async () => Promise.all([a.close(), b.close()]) };
}

async function lnkitHandshakes(keyA: NodeKeyEcdh, keyB: NodeKeyEcdh): Promise<number> {
  const { a, b, port, close } = await lnkitPair(keyA, keyB);
  try {
    return await opsPerSecond(async () => {
      const aGone =
        a.listPeers().length === 0
          ? null
          : firstValueFrom(a.events$.pipe(filter((e) => e.type === 'disconnected')));
      await b.connect(a.nodeId, '127.0.0.1', port);
      await b.disconnect(a.nodeId);
      // The listener must have dropped the old connection before the next one (as LDK below).
      if (a.listPeers().length > 0)
        await (aGone ?? firstValueFrom(a.events$.pipe(filter((e) => e.type === 'disconnected'))));
    }, MS);
  } finally {
    await close();
  }
}

async function ldkHandshakes(): Promise<number> {
  const a = await LdkPeer.create();
  const b = await LdkPeer.create();
  const port = await b.start();
  try {
    return await opsPerSecond(async () => {
      await a.connect(b.nodeId, '127.0.0.1', port);
      a.disconnect(b.nodeId);
      await b.waitFor(() => b.listPeers().length === 0, 5000, 'LDK listener drops the peer');
    }, MS);
  } finally {
    await a.stop();
    await b.stop();
  }
}

/** Sends MESSAGES 1 KiB messages from b to a; returns MB/s from first send to last receipt. */
async function lnkitThroughput(frameSealer?: FrameSealer): Promise<number> {
  const { a, b, port, close } = await lnkitPair(
    nodeKeyEcdh(randomBytes(32)),
    nodeKeyEcdh(randomBytes(32)),
    frameSealer,
  );
  try {
    await b.connect(a.nodeId, '127.0.0.1', port);
    let received = 0;
    let done: () => void = () => {};
    const all = new Promise<void>((r) => {
      done = r;
    });
    a.messagesOfType(CUSTOM_TYPE).subscribe(() => {
      if (++received === MESSAGES) done();
    });
    const message = customMessage();
    const start = performance.now();
    // A window of 1,000 unacknowledged sends: the queue's backpressure, not memory, bounds it.
    let last: Promise<void> = Promise.resolve();
    for (let i = 0; i < MESSAGES; i++) {
      last = b.send(a.nodeId, message);
      if (i % 1000 === 999) await last;
    }
    await all;
    const seconds = (performance.now() - start) / 1000;
    return (MESSAGES * MESSAGE_SIZE) / seconds / 1e6;
  } finally {
    await close();
  }
}

async function ldkThroughput(): Promise<number> {
  const a = await LdkPeer.create({ customTypes: [CUSTOM_TYPE] });
  const b = await LdkPeer.create({ customTypes: [CUSTOM_TYPE] });
  const port = await a.start();
  try {
    await b.connect(a.nodeId, '127.0.0.1', port);
    const payload = new Uint8Array(MESSAGE_SIZE - 2);
    const start = performance.now();
    for (let i = 0; i < MESSAGES; i++) {
      b.sendCustom(a.nodeId, CUSTOM_TYPE, payload);
      if (i % 1000 === 999) {
        b.processEvents();
        await new Promise((r) => setImmediate(r));
      }
    }
    b.processEvents();
    await a.waitFor(() => a.customReceived.count >= MESSAGES, 60_000, 'LDK receives every message');
    const seconds = (performance.now() - start) / 1000;
    return (MESSAGES * MESSAGE_SIZE) / seconds / 1e6;
  } finally {
    await a.stop();
    await b.stop();
  }
}

async function frameEncryption(emit: Emit, pool: CryptoPool): Promise<number> {
  const message = customMessage();
  const enc = new MessageEncryptor({ sendingKey: randomBytes(32), chainingKey: randomBytes(32) });
  const inThread = (opsPerSecondSync(() => enc.encrypt(message), MS) * MESSAGE_SIZE) / 1e6;
  emit({
    name: 'peer-net.frame-encrypt',
    value: round(inThread),
    unit: 'MB/s',
    placement: 'in-thread',
    messageBytes: MESSAGE_SIZE,
  });
  let best = 0;
  for (const batch of [16, 64, 256]) {
    const messages = Array.from({ length: batch }, () => message);
    // Four connections at once; each plans its frames (keys, nonces) in order, the pool encrypts.
    const encryptors = Array.from(
      { length: 4 },
      () => new MessageEncryptor({ sendingKey: randomBytes(32), chainingKey: randomBytes(32) }),
    );
    const perSecond = await opsPerSecond(
      () => Promise.all(encryptors.map((e) => pool.encryptBatch(messages.flatMap((m) => e.plan(m))))),
      MS,
      batch * encryptors.length,
    );
    const mb = (perSecond * MESSAGE_SIZE) / 1e6;
    best = Math.max(best, mb);
    emit({
      name: 'peer-net.frame-encrypt',
      value: round(mb),
      unit: 'MB/s',
      placement: 'crypto-pool',
      threads: pool.threads,
      batch,
      connections: encryptors.length,
      messageBytes: MESSAGE_SIZE,
      inThread: round(inThread),
    });
  }
  return best;
}

export default async function peerNetBench(emit: Emit): Promise<void> {
  const pool = new CryptoPool({ threads: 2 });
  try {
    const lnkitHs = await lnkitHandshakes(nodeKeyEcdh(randomBytes(32)), nodeKeyEcdh(randomBytes(32)));
    const ldkHs = await ldkHandshakes();
    emit({
      name: 'peer-net.handshakes',
      value: round(lnkitHs),
      unit: 'handshakes/s',
      includes: 'tcp+noise+init',
      nodeKey: 'in-thread',
      ldk: round(ldkHs),
      ratio: round(lnkitHs / ldkHs, 2),
    });
    // The node key's ECDH through the pool (where the key would live in production).
    const poolHs = await lnkitHandshakes(
      nodeKeyEcdh(randomBytes(32), pool),
      nodeKeyEcdh(randomBytes(32), pool),
    );
    emit({
      name: 'peer-net.handshakes',
      value: round(poolHs),
      unit: 'handshakes/s',
      includes: 'tcp+noise+init',
      nodeKey: 'crypto-pool',
      inThread: round(lnkitHs),
      ldk: round(ldkHs),
      ratio: round(poolHs / ldkHs, 2),
    });

    // As the node runs it: each side's node key in its own keys signer pool (seed read there).
    const dirs = [
      mkdtempSync(join(tmpdir(), 'lnkit-bench-a-')),
      mkdtempSync(join(tmpdir(), 'lnkit-bench-b-')),
    ];
    const signerPools = dirs.map((dataDir) => {
      loadOrCreateSeed(dataDir);
      return new ChannelSignerPool({ dataDir, threads: 1 });
    });
    try {
      const [keyA, keyB] = await Promise.all(signerPools.map((p) => p.nodeKey()));
      const signerHs = await lnkitHandshakes(keyA!, keyB!);
      emit({
        name: 'peer-net.handshakes',
        value: round(signerHs),
        unit: 'handshakes/s',
        includes: 'tcp+noise+init',
        nodeKey: 'signer-pool',
        inThread: round(lnkitHs),
        ldk: round(ldkHs),
        ratio: round(signerHs / ldkHs, 2),
      });
    } finally {
      await Promise.all(signerPools.map((p) => p.close()));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }

    const ldkMb = await ldkThroughput();
    const lnkitMb = await lnkitThroughput();
    emit({
      name: 'peer-net.throughput',
      value: round(lnkitMb),
      unit: 'MB/s',
      frames: 'in-thread',
      messageBytes: MESSAGE_SIZE,
      messages: MESSAGES,
      ldk: round(ldkMb),
      ratio: round(lnkitMb / ldkMb, 2),
    });
    const pooledMb = await lnkitThroughput(pool);
    emit({
      name: 'peer-net.throughput',
      value: round(pooledMb),
      unit: 'MB/s',
      frames: 'crypto-pool',
      messageBytes: MESSAGE_SIZE,
      messages: MESSAGES,
      inThread: round(lnkitMb),
      ldk: round(ldkMb),
      ratio: round(pooledMb / ldkMb, 2),
    });

    await frameEncryption(emit, pool);
  } finally {
    await pool.close();
  }
}
