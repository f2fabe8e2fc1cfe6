/**
 * BIP 84's own test vectors (src/fixtures/bip84-vectors.json, copied from the BIP), so the
 * wallet's addresses are the ones any BIP 84 wallet derives from the same seed; and the paths
 * and prefixes of the other networks.
 */
import assert from 'node:assert/strict';
import { createHash, pbkdf2Sync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { HDKey } from '@scure/bip32';
import { addressFromScript, scriptFromAddress } from './address.ts';
import { WalletError } from './errors.ts';
import { AccountKeys, CHANGE, type Keychain, p2wpkhScript, RECEIVE } from './keys.ts';
import { networkParams } from './network.ts';

interface Vectors {
  mnemonic: string;
  rootnode: string;
  account: { path: string; xpriv: string };
  addresses: {
    what: string;
    keychain: Keychain;
    index: number;
    privkey: string;
    pubkey: string;
    address: string;
  }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('./fixtures/bip84-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

/** SLIP 132 versions of BIP 84 extended keys (zprv / zpub). */
const ZPRV = { private: 0x04b2430c, public: 0x04b24746 };

/** BIP 39: the seed of a mnemonic with an empty passphrase. */
const bip39Seed = (mnemonic: string) =>
  new Uint8Array(pbkdf2Sync(mnemonic.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512'));

const sha256d = (b: Uint8Array) =>
  createHash('sha256').update(createHash('sha256').update(b).digest()).digest();

/** Base58Check decode of a compressed-key WIF: 0x80, 32 bytes of key, 0x01 (mainnet). */
function wifPrivateKey(wif: string): Uint8Array {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let n = 0n;
  for (const c of wif) n = n * 58n + BigInt(alphabet.indexOf(c));
  const bytes = Buffer.from(n.toString(16).padStart(76, '0'), 'hex');
  const payload = bytes.subarray(0, 34);
  assert.deepEqual(bytes.subarray(34), sha256d(payload).subarray(0, 4), 'WIF checksum');
  assert.equal(payload[0], 0x80);
  assert.equal(payload[33], 0x01, 'compressed key');
  return new Uint8Array(payload.subarray(1, 33));
}

const seed = bip39Seed(vectors.mnemonic);
const mainnet = networkParams('bitcoin');

test('the seed derived from the mnemonic gives the BIP root node and account key', () => {
  assert.equal(HDKey.fromMasterSeed(seed, ZPRV).privateExtendedKey, vectors.rootnode);
  assert.equal(
    HDKey.fromMasterSeed(seed, ZPRV).derive(vectors.account.path).privateExtendedKey,
    vectors.account.xpriv,
  );
});

test('BIP 84 vectors: receive and change keys, scripts and addresses at m/84h/0h/0h', () => {
  const keys = AccountKeys.fromSeed(seed, mainnet);
  assert.equal(keys.path, vectors.account.path);
  const account = HDKey.fromExtendedKey(vectors.account.xpriv, ZPRV);
  for (const v of vectors.addresses) {
    assert.equal(Buffer.from(keys.publicKey(v.keychain, v.index)).toString('hex'), v.pubkey, v.what);
    assert.deepEqual(keys.privateKey(v.keychain, v.index), wifPrivateKey(v.privkey), v.what);
    assert.equal(addressFromScript(keys.script(v.keychain, v.index), mainnet), v.address, v.what);
    // The same keys from the BIP's account xprv, independently of the seed path.
    const child = account.deriveChild(v.keychain).deriveChild(v.index);
    assert.deepEqual(keys.publicKey(v.keychain, v.index), child.publicKey, v.what);
    assert.deepEqual(scriptFromAddress(v.address, mainnet), keys.script(v.keychain, v.index), v.what);
  }
});

test('test networks use coin type 1 and their own prefixes; regtest writes bcrt or rb', () => {
  const expected = HDKey.fromMasterSeed(seed).derive("m/84'/1'/0'/0/0").publicKey as Uint8Array;
  for (const name of ['testnet', 'signet', 'regtest'] as const) {
    const keys = AccountKeys.fromSeed(seed, networkParams(name));
    assert.equal(keys.path, "m/84'/1'/0'");
    assert.deepEqual(keys.publicKey(RECEIVE, 0), expected, name);
  }
  const script = p2wpkhScript(expected);
  assert.match(addressFromScript(script, networkParams('testnet')), /^tb1q/);
  assert.match(addressFromScript(script, networkParams('signet')), /^tb1q/);
  const bcrt = addressFromScript(script, networkParams('regtest'));
  const rb = addressFromScript(script, networkParams('regtest', 'rb'));
  assert.match(bcrt, /^bcrt1q/);
  assert.match(rb, /^rb1q/);
  // Either text pays the same script on regtest.
  assert.deepEqual(scriptFromAddress(rb, networkParams('regtest')), script);
  assert.deepEqual(scriptFromAddress(bcrt, networkParams('regtest', 'rb')), script);
  assert.notDeepEqual(AccountKeys.fromSeed(seed, mainnet).publicKey(RECEIVE, 0), expected);
});

test('a 32-byte seed (keys_seed) is a BIP 32 master seed as it is', () => {
  const seed32 = new Uint8Array(32).fill(7);
  const keys = AccountKeys.fromSeed(seed32, networkParams('regtest'));
  assert.deepEqual(
    keys.publicKey(CHANGE, 3),
    HDKey.fromMasterSeed(seed32).derive("m/84'/1'/0'/1/3").publicKey,
  );
});

test('bad seeds, chains and indexes are WalletError invalid-argument', () => {
  const code = (fn: () => unknown) =>
    assert.throws(fn, (e) => e instanceof WalletError && e.code === 'invalid-argument');
  code(() => AccountKeys.fromSeed(new Uint8Array(15), mainnet));
  code(() => AccountKeys.fromSeed(new Uint8Array(65), mainnet));
  const keys = AccountKeys.fromSeed(seed, mainnet);
  code(() => keys.publicKey(2 as Keychain, 0));
  code(() => keys.publicKey(RECEIVE, -1));
  code(() => keys.publicKey(RECEIVE, 2 ** 31));
  code(() => keys.publicKey(RECEIVE, 1.5));
});

test('no extended or private key shows in JSON or inspect output', () => {
  const keys = AccountKeys.fromSeed(seed, mainnet);
  const account = HDKey.fromMasterSeed(seed).derive("m/84'/0'/0'");
  const xprv = account.privateExtendedKey;
  for (const text of [JSON.stringify(keys), inspect(keys, { depth: 10, showHidden: true })]) {
    assert.ok(!text.includes(xprv), 'no xprv');
    assert.ok(!text.includes(account.publicExtendedKey), 'no xpub either');
    assert.ok(
      !text.includes(Buffer.from(account.privateKey as Uint8Array).toString('hex')),
      'no private key',
    );
  }
});

test('addresses of other networks or malformed ones are invalid-address', () => {
  const bad = (text: string, reason: RegExp, network = mainnet) =>
    assert.throws(
      () => scriptFromAddress(text, network),
      (e) => e instanceof WalletError && e.code === 'invalid-address' && reason.test(e.message),
      text,
    );
  const script = AccountKeys.fromSeed(seed, mainnet).script(RECEIVE, 0);
  bad(addressFromScript(script, networkParams('testnet')), /has prefix tb; bitcoin addresses start with bc/);
  bad(
    addressFromScript(script, networkParams('regtest')),
    /has prefix bcrt; testnet addresses start with tb/,
    networkParams('testnet'),
  );
  bad('bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyv', /not a valid base58 or bech32/); // checksum
  bad('mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn', /another network/); // testnet base58 on mainnet
  bad('', /non-empty/);
  // Legacy and script-hash addresses of the network can be paid.
  assert.deepEqual(
    Buffer.from(scriptFromAddress('1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', mainnet)).toString('hex'),
    '76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac',
  );
  assert.deepEqual(
    Buffer.from(scriptFromAddress('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', mainnet)).toString('hex'),
    'a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87',
  );
});
