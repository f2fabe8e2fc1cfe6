import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { secp, sha256 } from '@lnkit/crypto';
import { KeysError } from './errors.ts';
import { KeysManager } from './keys-manager.ts';
import { loadOrCreateSeed } from './seed.ts';
import { ChannelSignerPool } from './signer-pool.ts';

const digest = (n: number) => sha256(Uint8Array.of(n & 0xff, n >> 8));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const root = mkdtempSync(join(tmpdir(), 'lnkit-signer-pool-'));
let pool: ChannelSignerPool;
let km: KeysManager;

before(() => {
  km = new KeysManager(loadOrCreateSeed(root).seed);
  // chunkSize 8: a commitment with 40 HTLCs is split over several tasks and both workers.
  pool = new ChannelSignerPool({ dataDir: root, threads: 2, chunkSize: 8 });
});
after(async () => {
  await pool.close();
  rmSync(root, { recursive: true, force: true });
});

test('the pool signer has the keys the KeysManager derives from the same seed file, and signs the same bytes', async () => {
  const pooled = await pool.createChannelSigner(5n);
  const local = km.createChannelSigner(5n);
  assert.deepEqual(pooled.pubkeys, local.pubkeys);
  for (const n of [0n, 1n, 1000n])
    assert.deepEqual(await pooled.getPerCommitmentPoint(n), await local.getPerCommitmentPoint(n));
  const request = {
    commitmentNumber: 3n,
    perCommitmentPoint: await local.getPerCommitmentPoint(9n),
    commitmentSighash: digest(1),
    htlcSighashes: Array.from({ length: 40 }, (_, i) => digest(100 + i)),
  };
  const sigs = await pooled.signCounterpartyCommitment(request);
  assert.equal(sigs.htlcSignatures.length, 40);
  assert.deepEqual(sigs, await local.signCounterpartyCommitment(request));
  assert.deepEqual(
    await pooled.signClosingTransaction(digest(7)),
    await local.signClosingTransaction(digest(7)),
  );
  await pooled.validateHolderCommitment(3n);
  await local.validateHolderCommitment(3n);
  const holder = {
    commitmentNumber: 3n,
    commitmentSighash: digest(2),
    htlcSighashes: [digest(3), digest(4)],
  };
  assert.deepEqual(await pooled.signHolderCommitment(holder), await local.signHolderCommitment(holder));
  // Different channels, different keys.
  assert.notDeepEqual((await pool.createChannelSigner(6n)).pubkeys, pooled.pubkeys);
});

test('the state rules hold with the keys in the pool', async () => {
  const signer = await pool.createChannelSigner(11n);
  await signer.validateHolderCommitment(0n);
  await assert.rejects(
    signer.releaseCommitmentSecret(0n),
    (e: unknown) => e instanceof KeysError && e.code === 'state-not-revocable',
  );
  await signer.validateHolderCommitment(1n);
  const secret0 = await signer.releaseCommitmentSecret(0n);
  assert.deepEqual(secp.publicKey(secret0), await signer.getPerCommitmentPoint(0n));
  await assert.rejects(
    signer.signHolderCommitment({ commitmentNumber: 0n, commitmentSighash: digest(0), htlcSighashes: [] }),
    (e: unknown) =>
      e instanceof KeysError && e.code === 'revoked-state' && !e.message.includes(toHex(secret0)),
  );
  const restored = await pool.createChannelSigner(11n, signer.state());
  await assert.rejects(
    restored.signHolderCommitment({
      commitmentNumber: 0n,
      commitmentSighash: digest(0),
      htlcSighashes: [digest(1)],
    }),
    (e: unknown) => e instanceof KeysError && e.code === 'revoked-state',
  );
});

test('no secret is in the calling thread: the signer prints and holds public keys only', async () => {
  const signer = await pool.createChannelSigner(12n);
  const secrets = Object.values(km.deriveChannelKeys(12n)).map(toHex);
  const printed =
    JSON.stringify(signer) + inspect(signer, { depth: 8, showHidden: true }) + inspect(pool, { depth: 8 });
  for (const s of secrets) assert.ok(!printed.includes(s));
  assert.ok(printed.includes(toHex(signer.pubkeys.fundingPubkey)));
});

test('bad input and a closed pool are typed errors, from the worker too', async () => {
  const signer = await pool.createChannelSigner(13n);
  // A peer's per_commitment_point off the curve: refused in the worker, code carried back.
  await assert.rejects(
    signer.signCounterpartyCommitment({
      commitmentNumber: 0n,
      perCommitmentPoint: Uint8Array.of(0x02, ...new Uint8Array(32).fill(0xff)),
      commitmentSighash: digest(1),
      htlcSighashes: [digest(2)],
    }),
    (e: unknown) => e instanceof KeysError && e.code === 'invalid-point',
  );
  await assert.rejects(
    pool.createChannelSigner(-1n),
    (e: unknown) => e instanceof KeysError && e.code === 'invalid-argument',
  );
  const missing = new ChannelSignerPool({ dataDir: join(root, 'no-such-dir'), threads: 1 });
  try {
    await assert.rejects(
      missing.createChannelSigner(0n),
      (e: unknown) => e instanceof KeysError && e.code === 'seed-unreadable',
    );
  } finally {
    await missing.close();
  }
  await missing.close();
  await assert.rejects(
    missing.createChannelSigner(0n),
    (e: unknown) => e instanceof KeysError && e.code === 'signer-unavailable',
  );
});

test('the node key lives in the pool: same node_id, ECDH and signatures as the KeysManager', async () => {
  const nodeKey = await pool.nodeKey();
  assert.equal(toHex(nodeKey.publicKey), toHex(km.nodeId));
  const peer = secp.publicKey(sha256(Uint8Array.of(9)));
  assert.equal(toHex(await nodeKey.ecdh(peer)), toHex(await km.ecdhWithNodeKey(peer)));
  const d = digest(77);
  const sig = await nodeKey.sign(d);
  assert.equal(toHex(sig), toHex(await km.signWithNodeKey(d)));
  assert.ok(secp.verify(sig, d, km.nodeId));
  assert.doesNotMatch(
    inspect(nodeKey, { depth: 5 }),
    /[0-9a-f]{64}(?![0-9a-f])/i,
    'only the public key is here',
  );
  const offCurve = new Uint8Array(33).fill(0xff); // x >= p: no such point
  offCurve[0] = 2;
  await assert.rejects(nodeKey.ecdh(offCurve), (e: KeysError) => e instanceof KeysError);
  await assert.rejects(nodeKey.ecdh(new Uint8Array(32)), (e: KeysError) => e.code === 'invalid-argument');
  await assert.rejects(nodeKey.sign(new Uint8Array(31)), (e: KeysError) => e.code === 'invalid-argument');
});

test('the node key ECDH lane: 200 at once (more than its slots) agree with the KeysManager, with and without the lane', async () => {
  const peers = Array.from({ length: 200 }, (_, i) => secp.publicKey(sha256(Uint8Array.of(i, 1))));
  const expected = await Promise.all(peers.map(async (p) => toHex(await km.ecdhWithNodeKey(p))));
  const viaLane = await pool.nodeKey();
  // Past 64 requests in flight, the lane is full and the rest go as pool tasks: same answers.
  assert.deepEqual((await Promise.all(peers.map((p) => viaLane.ecdh(p)))).map(toHex), expected);
  const tasksOnly = new ChannelSignerPool({ dataDir: root, threads: 1, nodeKeyLane: false });
  try {
    const viaTasks = await tasksOnly.nodeKey();
    assert.deepEqual(
      (await Promise.all(peers.slice(0, 20).map((p) => viaTasks.ecdh(p)))).map(toHex),
      expected.slice(0, 20),
    );
  } finally {
    await tasksOnly.close();
  }
  // A failure in the worker crosses the lane as a code: a point that is not on the curve.
  const offCurve = new Uint8Array(33).fill(0xff);
  offCurve[0] = 3;
  await assert.rejects(
    viaLane.ecdh(offCurve),
    (e: unknown) => e instanceof KeysError && e.code === 'signer-failed',
  );
  assert.equal(toHex(await viaLane.ecdh(peers[0]!)), expected[0], 'the lane works on after a failure');
});

test('closing the pool answers node key ECDHs still waiting on the lane with signer-unavailable', async () => {
  const closing = new ChannelSignerPool({ dataDir: root, threads: 1 });
  const nodeKey = await closing.nodeKey();
  const peers = Array.from({ length: 40 }, (_, i) => secp.publicKey(sha256(Uint8Array.of(i, 2))));
  const waiting = peers.map((p) =>
    nodeKey.ecdh(p).then(
      () => 'answered',
      (e: unknown) => e,
    ),
  );
  await closing.close();
  for (const outcome of await Promise.all(waiting)) {
    // Each was either answered before the close or refused by it, never left hanging.
    assert.ok(
      outcome === 'answered' || (outcome instanceof KeysError && outcome.code === 'signer-unavailable'),
      String(outcome),
    );
  }
  await assert.rejects(
    nodeKey.ecdh(peers[0]!),
    (e: unknown) => e instanceof KeysError && e.code === 'signer-unavailable',
  );
});
