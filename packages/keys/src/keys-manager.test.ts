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

test('the derivation scheme is the one the README documents', async () => {
  // An independent implementation of README.md "Derivation scheme" with node:crypto: if the
  // code drifts from the document (which would change every key of every node), this fails.
  const { createHmac } = await import('node:crypto');
  const hmac = (key: Uint8Array, ...data: (string | Uint8Array)[]) => {
    const h = createHmac('sha256', key);
    for (const d of data) h.update(d);
    return new Uint8Array(h.digest());
  };
  const u64be = (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    return b;
  };
  const km = new KeysManager(seed);
  assert.deepEqual(km.nodeId, secp.publicKey(hmac(seed, 'lnkit/node')));
  assert.deepEqual(km.walletPublicKey(5n), secp.publicKey(hmac(seed, 'lnkit/wallet', u64be(5n))));
  const channelSeed = hmac(seed, 'lnkit/channel', u64be(9n));
  assert.deepEqual(km.deriveChannelKeys(9n), {
    fundingSecret: hmac(channelSeed, 'funding'),
    revocationBaseSecret: hmac(channelSeed, 'revocation'),
    paymentBaseSecret: hmac(channelSeed, 'payment'),
    delayedPaymentBaseSecret: hmac(channelSeed, 'delayed_payment'),
    htlcBaseSecret: hmac(channelSeed, 'htlc'),
    commitmentSeed: hmac(channelSeed, 'commitment_seed'),
  });
});
