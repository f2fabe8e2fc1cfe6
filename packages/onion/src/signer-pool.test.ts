/**
 * The peel with the node's real ECDH: @lnkit/keys' ChannelSignerPool, whose workers hold the node
 * key (read from keys_seed) — this thread, which parses the onion, never does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256 } from '@lnkit/crypto';
import { ChannelSignerPool, KeysManager, loadOrCreateSeed, type PooledNodeKey } from '@lnkit/keys';
import { createBlindedPath } from './blinding.ts';
import { OnionError } from './errors.ts';
import { buildPaymentOnion, routePayloads } from './payment.ts';
import { peelPaymentOnion } from './peel.ts';
import { ecdhWith, testNodes, toHex } from './test-helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-onion-signer-'));
let pool: ChannelSignerPool;
let nodeKey: PooledNodeKey;
let keysManager: KeysManager;
const [before0, after0] = testNodes(2) as [ReturnType<typeof testNodes>[0], ReturnType<typeof testNodes>[0]];
const paymentHash = sha256(Uint8Array.of(8));

before(async () => {
  keysManager = new KeysManager(loadOrCreateSeed(root).seed);
  pool = new ChannelSignerPool({ dataDir: root, threads: 1 });
  nodeKey = await pool.nodeKey();
});
after(async () => {
  await pool.close();
  rmSync(root, { recursive: true, force: true });
});

test('a node whose key is in the signer pool peels an onion through the pool’s ECDH', async () => {
  assert.equal(toHex(nodeKey.publicKey), toHex(keysManager.nodeId));
  const route = [before0.nodeId, nodeKey.publicKey, after0.nodeId].map((nodeId, i) => ({
    nodeId,
    shortChannelId: BigInt(10 + i),
    amountMsat: 30_000n - BigInt(i) * 1000n,
    cltvExpiry: 900_000 - i * 40,
  }));
  const onion = buildPaymentOnion({
    sessionKey: new Uint8Array(32).fill(0x77),
    paymentHash,
    hops: routePayloads(route),
  });
  const first = await peelPaymentOnion(
    { onionRoutingPacket: onion.packet, paymentHash, amountMsat: 30_000n, cltvExpiry: 900_000 },
    ecdhWith(before0.privateKey),
  );
  assert.equal(first.kind, 'forward');
  if (first.kind !== 'forward') return;
  const ours = await peelPaymentOnion(
    { onionRoutingPacket: first.nextPacket, paymentHash, amountMsat: 29_000n, cltvExpiry: 899_960 },
    nodeKey.ecdh,
  );
  assert.equal(ours.kind, 'forward');
  assert.equal(toHex(ours.sharedSecret), toHex(onion.sharedSecrets[1]!));
  // The same peel with the KeysManager's in-thread ECDH gives the same result.
  const inThread = await peelPaymentOnion(
    { onionRoutingPacket: first.nextPacket, paymentHash, amountMsat: 29_000n, cltvExpiry: 899_960 },
    (k) => keysManager.ecdhWithNodeKey(k),
  );
  assert.deepEqual(inThread, ours);
  // Another node's onion does not peel here: its HMAC fails (the pool ECDH ran, with our key).
  await assert.rejects(
    peelPaymentOnion(
      { onionRoutingPacket: onion.packet, paymentHash, amountMsat: 30_000n, cltvExpiry: 900_000 },
      nodeKey.ecdh,
    ),
    (e: OnionError) => e instanceof OnionError && e.code === 'invalid-onion-hmac',
  );
});

test('inside a blinded route both ECDHs (path key and tweaked onion key) go through the pool', async () => {
  const path = createBlindedPath({
    sessionKey: new Uint8Array(32).fill(0x12),
    hops: [
      {
        nodeId: before0.nodeId,
        encryptedData: {
          nextNodeId: nodeKey.publicKey,
          paymentRelay: { cltvExpiryDelta: 10, feeBaseMsat: 0, feeProportionalMillionths: 0 },
        },
      },
      { nodeId: nodeKey.publicKey, encryptedData: { pathId: Uint8Array.of(1) } },
    ],
  });
  const onion = buildPaymentOnion({
    sessionKey: new Uint8Array(32).fill(0x13),
    paymentHash,
    hops: [
      {
        nodeId: path.firstNodeId,
        payload: {
          encryptedRecipientData: path.hops[0]!.encryptedRecipientData,
          currentPathKey: path.firstPathKey,
        },
      },
      {
        nodeId: path.hops[1]!.blindedNodeId,
        payload: {
          encryptedRecipientData: path.hops[1]!.encryptedRecipientData,
          amtToForwardMsat: 500n,
          outgoingCltvValue: 100,
          totalAmountMsat: 500n,
        },
      },
    ],
  });
  const intro = await peelPaymentOnion(
    { onionRoutingPacket: onion.packet, paymentHash, amountMsat: 500n, cltvExpiry: 110 },
    ecdhWith(before0.privateKey),
  );
  assert.equal(intro.kind, 'forward');
  if (intro.kind !== 'forward') return;
  let calls = 0;
  const received = await peelPaymentOnion(
    {
      onionRoutingPacket: intro.nextPacket,
      paymentHash,
      amountMsat: 500n,
      cltvExpiry: 100,
      pathKey: intro.nextPathKey!,
    },
    async (k) => {
      calls++;
      return nodeKey.ecdh(k);
    },
  );
  assert.equal(calls, 2);
  assert.equal(received.kind === 'receive' && toHex(received.pathId!), '01');
});
