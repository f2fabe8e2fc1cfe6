/**
 * Foundation figures: secp256k1 per backend, the crypto pool against in-thread by batch
 * size, and the actor runtime (call round trip and stream throughput, worker vs in-process).
 */
import { availableParallelism } from 'node:os';
import { availableBackends, CryptoPool, inThreadCrypto, nobleBackend, randomBytes } from '@lnkit/crypto';
import { createRootLogger, spawn } from '@lnkit/runtime';
import { lastValueFrom } from 'rxjs';
import type counterDef from '../../packages/runtime/src/test-actors/counter.actor.ts';
import { type Emit, opsPerSecond, opsPerSecondSync, round } from './harness.ts';

const COUNTER = new URL('../../packages/runtime/src/test-actors/counter.actor.ts', import.meta.url);

function keyPair() {
  const privateKey = randomBytes(32);
  privateKey[0] = 1;
  return { privateKey, publicKey: nobleBackend.publicKey(privateKey) };
}

export default async function foundation(emit: Emit): Promise<void> {
  const a = keyPair();
  const b = keyPair();
  const digest = randomBytes(32);
  const sig = nobleBackend.sign(digest, a.privateKey);

  for (const backend of availableBackends()) {
    emit({
      name: 'crypto.sign',
      backend: backend.name,
      value: round(opsPerSecondSync(() => backend.sign(digest, a.privateKey), 700)),
      unit: 'ops/s',
    });
    emit({
      name: 'crypto.verify',
      backend: backend.name,
      value: round(opsPerSecondSync(() => backend.verify(sig, digest, a.publicKey), 700)),
      unit: 'ops/s',
    });
    emit({
      name: 'crypto.ecdh',
      backend: backend.name,
      value: round(opsPerSecondSync(() => backend.ecdh(a.privateKey, b.publicKey), 700)),
      unit: 'ops/s',
    });
  }

  // The pool against in-thread, for batches of verifies (the gossip hot path).
  const threads = availableParallelism();
  const pool = new CryptoPool({ threads, chunkSize: 64 });
  try {
    const requests = Array.from({ length: 256 }, () => {
      const k = keyPair();
      const d = randomBytes(32);
      return { signature: nobleBackend.sign(d, k.privateKey), digest: d, publicKey: k.publicKey };
    });
    await pool.verifyBatch(requests); // warm the threads
    for (const size of [1, 8, 64, 256]) {
      const batch = requests.slice(0, size);
      const inThread = await opsPerSecond(() => inThreadCrypto.verifyBatch(batch), 700, size);
      // Keep two batches in flight so both threads have work, as a busy node would.
      const pooled = await opsPerSecond(
        () => Promise.all([pool.verifyBatch(batch), pool.verifyBatch(batch)]),
        700,
        2 * size,
      );
      emit({
        name: 'crypto.pool.verify',
        batch: size,
        threads,
        value: round(pooled),
        unit: 'verifies/s',
        inThread: round(inThread),
        ratio: round(pooled / inThread, 2),
      });
    }
  } finally {
    await pool.close();
  }

  // Actor round trip and stream throughput, worker against in-process.
  const logger = createRootLogger({ level: 'silent' });
  for (const placement of ['in-process', 'worker'] as const) {
    const h = await spawn<typeof counterDef>(COUNTER, {
      placement,
      config: {},
      logger,
      stream: { highWaterMark: 1_000_000 },
    });
    try {
      const callsPerSec = await opsPerSecond(() => h.ref.get(), 700);
      emit({
        name: 'runtime.call',
        placement,
        value: round(callsPerSec),
        unit: 'calls/s',
        roundTripUs: round(1e6 / callsPerSec, 1),
      });
      const n = 200_000;
      const t0 = performance.now();
      await lastValueFrom(h.ref.range$(n, 5000));
      const secs = (performance.now() - t0) / 1000;
      emit({ name: 'runtime.stream', placement, value: round(n / secs), unit: 'items/s', items: n });
    } finally {
      await h.stop();
    }
  }

  // In-thread actors (spawnLocal), one per channel: the cost of creating one while 10,000 live,
  // and a call round trip on one of them.
  const { spawnLocal } = await import('@lnkit/runtime');
  const counter = ((await import(COUNTER.href)) as { default: typeof counterDef }).default;
  const actors = 10_000;
  const locals = [];
  const t0 = performance.now();
  for (let i = 0; i < actors; i++)
    locals.push(await spawnLocal(counter, { name: `ch-${i}`, config: {}, logger }));
  const createUs = ((performance.now() - t0) * 1000) / actors;
  emit({ name: 'runtime.local.create', value: round(createUs, 2), unit: 'µs/actor', actors });
  const last = locals[actors - 1]!;
  const callsPerSec = await opsPerSecond(() => last.ref.get(), 700);
  emit({
    name: 'runtime.local.call',
    value: round(callsPerSec),
    unit: 'calls/s',
    roundTripUs: round(1e6 / callsPerSec, 2),
  });
  for (const h of locals) await h.stop();
}
