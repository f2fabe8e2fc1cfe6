import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { CryptoPool, type CryptoService, inThreadCrypto, secp, sha256 } from '@lnkit/crypto';
import { derivePrivateKey } from './derivation.ts';
import { KeysError } from './errors.ts';
import { KeysManager } from './keys-manager.ts';
import { generateFromSeed, secretIndex } from './shachain.ts';
import { DefaultChannelSigner } from './signer.ts';

const seed = new Uint8Array(32).fill(0x5a);
const digest = (n: number) => sha256(new Uint8Array([n]));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A CryptoService that counts batches, to show the signer batches its work into it. */
function countingCrypto(): CryptoService & { batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    sign: inThreadCrypto.sign,
    verifyBatch: inThreadCrypto.verifyBatch,
    ecdh: inThreadCrypto.ecdh,
    async signBatch(requests) {
      batches.push(requests.length);
      return inThreadCrypto.signBatch(requests);
    },
  };
}

test('per-commitment points follow the shachain of the channel seed', async () => {
  const km = new KeysManager(seed);
  const keys = km.deriveChannelKeys(3n);
  const signer = km.createChannelSigner(3n);
  for (const n of [0n, 1n, 42n]) {
    const secret = generateFromSeed(keys.commitmentSeed, secretIndex(n));
    assert.deepEqual(await signer.getPerCommitmentPoint(n), secp.publicKey(secret));
  }
});

test('signs counterparty commitments in one batch, with HTLC keys tweaked by their point', async () => {
  const crypto = countingCrypto();
  const km = new KeysManager(seed, { crypto });
  const signer = km.createChannelSigner(0n);
  const keys = km.deriveChannelKeys(0n);
  const theirPoint = secp.publicKey(sha256(new Uint8Array([9])));
  const sigs = await signer.signCounterpartyCommitment({
    commitmentNumber: 0n,
    perCommitmentPoint: theirPoint,
    commitmentSighash: digest(1),
    htlcSighashes: [digest(2), digest(3)],
  });
  assert.deepEqual(crypto.batches, [3]);
  assert.ok(secp.verify(sigs.signature, digest(1), signer.pubkeys.fundingPubkey));
  const htlcPub = secp.publicKey(derivePrivateKey(keys.htlcBaseSecret, theirPoint));
  assert.ok(secp.verify(sigs.htlcSignatures[0] as Uint8Array, digest(2), htlcPub));
  assert.ok(secp.verify(sigs.htlcSignatures[1] as Uint8Array, digest(3), htlcPub));
  // RFC 6979: the same request signs to the same bytes.
  assert.deepEqual(sigs.signature, secp.sign(digest(1), keys.fundingSecret));
});

test('refuses to sign a revoked holder commitment, and to release a secret not yet moved past', async () => {
  const signer = new KeysManager(seed).createChannelSigner(1n);
  // Nothing held yet: commitment 0 cannot be revoked.
  await assert.rejects(
    signer.releaseCommitmentSecret(0n),
    (e: unknown) => e instanceof KeysError && e.code === 'state-not-revocable',
  );
  await signer.validateHolderCommitment(0n);
  await assert.rejects(
    signer.releaseCommitmentSecret(0n),
    (e: unknown) => e instanceof KeysError && e.code === 'state-not-revocable',
  );
  const sig0 = await signer.signHolderCommitment({
    commitmentNumber: 0n,
    commitmentSighash: digest(0),
    htlcSighashes: [],
  });
  assert.equal(sig0.signature.length, 64);
  await signer.validateHolderCommitment(1n);
  const secret0 = await signer.releaseCommitmentSecret(0n);
  assert.deepEqual(secp.publicKey(secret0), await signer.getPerCommitmentPoint(0n));
  // Commitment 1 is current; commitment 0 is revoked.
  await assert.rejects(
    signer.signHolderCommitment({ commitmentNumber: 0n, commitmentSighash: digest(0), htlcSighashes: [] }),
    (e: unknown) =>
      e instanceof KeysError && e.code === 'revoked-state' && !e.message.includes(toHex(secret0)),
  );
  await assert.rejects(
    signer.validateHolderCommitment(0n),
    (e: unknown) => e instanceof KeysError && e.code === 'revoked-state',
  );
  await assert.rejects(
    signer.releaseCommitmentSecret(1n),
    (e: unknown) => e instanceof KeysError && e.code === 'state-not-revocable',
  );
  await signer.signHolderCommitment({
    commitmentNumber: 1n,
    commitmentSighash: digest(1),
    htlcSighashes: [digest(5)],
  });
  // A signer restored from the persisted state keeps refusing.
  const restored = new KeysManager(seed).createChannelSigner(1n, signer.state());
  await assert.rejects(
    restored.signHolderCommitment({ commitmentNumber: 0n, commitmentSighash: digest(0), htlcSighashes: [] }),
    (e: unknown) => e instanceof KeysError && e.code === 'revoked-state',
  );
});

test('a holder commitment revoked while its signing awaits the key holder is not signed', async () => {
  const signer = new KeysManager(seed).createChannelSigner(20n);
  await signer.validateHolderCommitment(1n);
  // Signing commitment 0 with an HTLC first asks the holder for the per-commitment point; the
  // revoke_and_ack for commitment 0 runs in that gap.
  const signing = signer.signHolderCommitment({
    commitmentNumber: 0n,
    commitmentSighash: digest(0),
    htlcSighashes: [digest(1)],
  });
  await signer.releaseCommitmentSecret(0n);
  await assert.rejects(signing, (e: unknown) => e instanceof KeysError && e.code === 'revoked-state');
});

test('concurrent counterparty signatures never move the signed state backwards', async () => {
  const signer = new KeysManager(seed).createChannelSigner(21n);
  const point = await signer.getPerCommitmentPoint(0n);
  const req = (n: bigint) => ({
    commitmentNumber: n,
    perCommitmentPoint: point,
    commitmentSighash: digest(1),
    htlcSighashes: [digest(2)],
  });
  await Promise.all([signer.signCounterpartyCommitment(req(5n)), signer.signCounterpartyCommitment(req(4n))]);
  assert.equal(signer.state().counterpartyCommitmentNumber, 5n);
});

test('refuses a counterparty commitment older than one already signed', async () => {
  const signer = new KeysManager(seed).createChannelSigner(2n);
  const point = await signer.getPerCommitmentPoint(0n);
  const req = (n: bigint) => ({
    commitmentNumber: n,
    perCommitmentPoint: point,
    commitmentSighash: digest(1),
    htlcSighashes: [],
  });
  await signer.signCounterpartyCommitment(req(5n));
  await signer.signCounterpartyCommitment(req(5n)); // retransmission is fine
  await assert.rejects(
    signer.signCounterpartyCommitment(req(4n)),
    (e: unknown) => e instanceof KeysError && e.code === 'stale-state',
  );
});

test('holder HTLC signatures use our htlc key tweaked by our own point', async () => {
  const km = new KeysManager(seed);
  const keys = km.deriveChannelKeys(4n);
  const signer = km.createChannelSigner(4n);
  await signer.validateHolderCommitment(7n);
  const sigs = await signer.signHolderCommitment({
    commitmentNumber: 7n,
    commitmentSighash: digest(1),
    htlcSighashes: [digest(2)],
  });
  const htlcPub = secp.publicKey(
    derivePrivateKey(keys.htlcBaseSecret, await signer.getPerCommitmentPoint(7n)),
  );
  assert.ok(secp.verify(sigs.htlcSignatures[0] as Uint8Array, digest(2), htlcPub));
});

test('a signer never prints its secrets', () => {
  const km = new KeysManager(seed);
  const keys = km.deriveChannelKeys(0n);
  const signer = new DefaultChannelSigner(keys);
  const printed =
    JSON.stringify({ signer, km }) +
    String(signer) +
    inspect(signer, { depth: 5 }) +
    inspect(km, { depth: 5 });
  for (const secret of Object.values(keys)) assert.ok(!printed.includes(toHex(secret)));
  assert.ok(printed.includes(toHex(signer.pubkeys.fundingPubkey)));
});

test('malformed requests are typed errors', async () => {
  const signer = new KeysManager(seed).createChannelSigner(0n);
  await assert.rejects(
    signer.signCounterpartyCommitment({
      commitmentNumber: 0n,
      perCommitmentPoint: new Uint8Array(33),
      commitmentSighash: new Uint8Array(31),
      htlcSighashes: [],
    }),
    KeysError,
  );
  // The counterparty's per_commitment_point is peer input: one off the curve signs nothing.
  await assert.rejects(
    signer.signCounterpartyCommitment({
      commitmentNumber: 0n,
      perCommitmentPoint: Uint8Array.of(0x02, ...new Uint8Array(32).fill(0xff)),
      commitmentSighash: digest(1),
      htlcSighashes: [digest(2)],
    }),
    (e: unknown) => e instanceof KeysError && e.code === 'invalid-point',
  );
  assert.equal(signer.state().counterpartyCommitmentNumber, -1n);
  await assert.rejects(signer.getPerCommitmentPoint(-1n), KeysError);
  await assert.rejects(signer.signClosingTransaction(new Uint8Array(5)), KeysError);
});

test('signing through the crypto pool gives the same signatures as in-thread', async () => {
  const pool = new CryptoPool({ threads: 2, chunkSize: 16 });
  try {
    const pooled = new KeysManager(seed, { crypto: pool }).createChannelSigner(9n);
    const local = new KeysManager(seed).createChannelSigner(9n);
    const request = {
      commitmentNumber: 3n,
      perCommitmentPoint: await local.getPerCommitmentPoint(1n),
      commitmentSighash: digest(1),
      htlcSighashes: Array.from({ length: 40 }, (_, i) => digest(10 + i)),
    };
    assert.deepEqual(
      await pooled.signCounterpartyCommitment(request),
      await local.signCounterpartyCommitment(request),
    );
  } finally {
    await pool.close();
  }
});
