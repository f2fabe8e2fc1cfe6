/**
 * Transport figures, lnkit against LDK measured in the same run on loopback TCP:
 * - handshakes/s: TCP connect + BOLT 8 handshake + init exchange, then disconnect, one at a time;
 * - MB/s of 1 KiB messages (a custom odd type, 2-byte type + 1022 bytes) from one peer to another;
 * - the node key's ECDH in-thread against the crypto pool (handshakes/s for each);
 * - bulk frame encryption (1 KiB, BOLT 8 framing) in-thread against a Piscina pool, to show
 *   which one peer-net should use.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CryptoPool, randomBytes } from '@lnkit/crypto';
import { MessageEncryptor, type NodeKeyEcdh, nodeKeyEcdh, PeerManager } from '@lnkit/peer-net';
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

async function lnkitPair(keyA: NodeKeyEcdh, keyB: NodeKeyEcdh) {
  const a = new PeerManager({ nodeKey: keyA, maxQueueLength: 100_000 });
  const b = new PeerManager({ nodeKey: keyB, maxQueueLength: 100_000 });
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
async function lnkitThroughput(): Promise<number> {
  const { a, b, port, close } = await lnkitPair(nodeKeyEcdh(randomBytes(32)), nodeKeyEcdh(randomBytes(32)));
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

// A pool worker doing what MessageEncryptor does (BOLT 8 framing with rotation) for a batch of
// messages, carrying the cipher state in and out. Written to a temp file because Piscina loads
// workers from files.
const FRAME_WORKER = `
import { createCipheriv, createHmac } from 'node:crypto';
const hmac = (k, d) => createHmac('sha256', k).update(d).digest();
function seal(key, n, pt) {
  const nonce = Buffer.alloc(12); nonce.writeBigUInt64LE(BigInt(n), 4);
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(Buffer.alloc(0), { plaintextLength: pt.length });
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}
export default function ({ key, ck, nonce, messages }) {
  const out = [];
  const step = () => { if (++nonce === 1000) { const prk = hmac(ck, key); const t1 = hmac(prk, Buffer.of(1)); key = hmac(prk, Buffer.concat([t1, Buffer.of(2)])); ck = t1; nonce = 0; } };
  for (const m of messages) {
    const l = Buffer.alloc(2); l.writeUInt16BE(m.length);
    out.push(seal(key, nonce, l)); step();
    out.push(seal(key, nonce, m)); step();
  }
  return { key, ck, nonce, frames: Buffer.concat(out) };
}
`;

async function frameEncryption(emit: Emit): Promise<void> {
  const keys = { sendingKey: randomBytes(32), chainingKey: randomBytes(32) };
  const message = customMessage();
  const enc = new MessageEncryptor(keys);
  const inThread = (opsPerSecondSync(() => enc.encrypt(message), MS) * MESSAGE_SIZE) / 1e6;
  emit({
    name: 'peer-net.frame-encrypt',
    value: round(inThread),
    unit: 'MB/s',
    placement: 'in-thread',
    messageBytes: MESSAGE_SIZE,
  });

  const dir = mkdtempSync(join(tmpdir(), 'lnkit-frame-worker-'));
  const file = join(dir, 'frame-worker.mjs');
  writeFileSync(file, FRAME_WORKER);
  // Piscina as the crypto package uses it (resolved through @lnkit/crypto, whose dependency it is).
  const require = createRequire(fileURLToPath(import.meta.resolve('@lnkit/crypto')));
  const { Piscina } = require('piscina') as typeof import('piscina');
  const pool = new Piscina({ filename: file, minThreads: 2, maxThreads: 2 });
  try {
    for (const batch of [16, 64, 256]) {
      const messages = Array.from({ length: batch }, () => message);
      // Four connections at once (each connection's frames are sequential: its nonce orders them).
      const states = Array.from({ length: 4 }, () => ({
        key: randomBytes(32),
        ck: randomBytes(32),
        nonce: 0,
      }));
      const perSecond = await opsPerSecond(
        async () => {
          await Promise.all(
            states.map(async (s) => {
              const r = (await pool.run({ key: s.key, ck: s.ck, nonce: s.nonce, messages })) as {
                key: Uint8Array;
                ck: Uint8Array;
                nonce: number;
              };
              s.key = r.key;
              s.ck = r.ck;
              s.nonce = r.nonce;
            }),
          );
        },
        MS,
        batch * states.length,
      );
      emit({
        name: 'peer-net.frame-encrypt',
        value: round((perSecond * MESSAGE_SIZE) / 1e6),
        unit: 'MB/s',
        placement: 'pool',
        threads: 2,
        batch,
        connections: states.length,
        messageBytes: MESSAGE_SIZE,
        inThread: round(inThread),
      });
    }
  } finally {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function peerNetBench(emit: Emit): Promise<void> {
  const inThreadKeys = [nodeKeyEcdh(randomBytes(32)), nodeKeyEcdh(randomBytes(32))] as const;
  const lnkitHs = await lnkitHandshakes(inThreadKeys[0], inThreadKeys[1]);
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

  const pool = new CryptoPool({ threads: 2 });
  try {
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
  } finally {
    await pool.close();
  }

  const lnkitMb = await lnkitThroughput();
  const ldkMb = await ldkThroughput();
  emit({
    name: 'peer-net.throughput',
    value: round(lnkitMb),
    unit: 'MB/s',
    messageBytes: MESSAGE_SIZE,
    messages: MESSAGES,
    ldk: round(ldkMb),
    ratio: round(lnkitMb / ldkMb, 2),
  });

  await frameEncryption(emit);
}
