import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp, sha256 } from '@lnkit/crypto';
import { KeysError } from './errors.ts';
import { KeysManager } from './keys-manager.ts';

const seed = Uint8Array.from({ length: 32 }, (_, i) => i);

test('node key and channel keys are deterministic in the seed and the channel index', () => {
  const a = new KeysManager(seed);
  const b = new KeysManager(Uint8Array.from(seed));
  assert.deepEqual(a.nodeId, b.nodeId);
  assert.equal(a.nodeId.length, 33);
  assert.deepEqual(a.deriveChannelKeys(7n), b.deriveChannelKeys(7n));
  assert.notDeepEqual(a.deriveChannelKeys(7n), a.deriveChannelKeys(8n));
  const keys = a.deriveChannelKeys(7n);
  const secrets = Object.values(keys).map((s) => Buffer.from(s).toString('hex'));
  assert.equal(new Set(secrets).size, secrets.length, 'every base secret differs');
  const other = new KeysManager(sha256(seed));
  assert.notDeepEqual(other.nodeId, a.nodeId);
  assert.deepEqual(a.createChannelSigner(7n).pubkeys.fundingPubkey, secp.publicKey(keys.fundingSecret));
});

test('secure random bytes never repeat, within a start and across starts', () => {
  const seen = new Set<string>();
  for (let start = 0; start < 3; start++) {
    // Same seed and even the same clock reading: the OS randomness keeps restarts apart.
    const km = new KeysManager(seed, { startTimeNanos: 1n });
    for (let i = 0; i < 100; i++) seen.add(Buffer.from(km.getSecureRandomBytes()).toString('hex'));
  }
  assert.equal(seen.size, 300);
});

test('node and wallet keys sign through the crypto service', async () => {
  const km = new KeysManager(seed);
  const digest = sha256(new Uint8Array([1]));
  assert.ok(secp.verify(await km.signWithNodeKey(digest), digest, km.nodeId));
  assert.ok(secp.verify(await km.signWithWalletKey(3n, digest), digest, km.walletPublicKey(3n)));
  assert.notDeepEqual(km.walletPublicKey(3n), km.walletPublicKey(4n));
});

test('bad seeds and indexes are typed errors', () => {
  assert.throws(
    () => new KeysManager(new Uint8Array(16)),
    (e: unknown) => e instanceof KeysError && e.code === 'invalid-argument',
  );
  assert.throws(() => new KeysManager(seed).deriveChannelKeys(-1n), KeysError);
});

test('nodeSecretFromSeed gives the key behind the KeysManager node id', async () => {
  const { nodeSecretFromSeed } = await import('./keys-manager.ts');
  const { secp } = await import('@lnkit/crypto');
  const seed = new Uint8Array(32).fill(7);
  assert.deepEqual(secp.publicKey(nodeSecretFromSeed(seed)), new KeysManager(seed).nodeId);
});
