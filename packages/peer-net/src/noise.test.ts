import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { encryptBatch } from '@lnkit/crypto';
import { PeerNetError } from './errors.ts';
import {
  CipherState,
  HandshakeInitiator,
  HandshakeResponder,
  hkdf,
  MessageDecryptor,
  MessageEncryptor,
  nodeKeyEcdh,
} from './noise.ts';

// BOLT 8 Appendix A vectors, copied into fixtures/ (see its "source" field).
const V = JSON.parse(readFileSync(new URL('./fixtures/bolt8-vectors.json', import.meta.url), 'utf8'));
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const ERROR_CODES: Record<string, string> = {
  ACT1_READ_FAILED: 'handshake-short-read',
  ACT2_READ_FAILED: 'handshake-short-read',
  ACT3_READ_FAILED: 'handshake-short-read',
  ACT1_BAD_VERSION: 'handshake-bad-version',
  ACT2_BAD_VERSION: 'handshake-bad-version',
  ACT3_BAD_VERSION: 'handshake-bad-version',
  ACT1_BAD_PUBKEY: 'handshake-bad-pubkey',
  ACT2_BAD_PUBKEY: 'handshake-bad-pubkey',
  ACT3_BAD_PUBKEY: 'handshake-bad-pubkey',
  ACT1_BAD_TAG: 'handshake-bad-tag',
  ACT2_BAD_TAG: 'handshake-bad-tag',
  ACT3_BAD_TAG: 'handshake-bad-tag',
  ACT3_BAD_CIPHERTEXT: 'handshake-bad-ciphertext',
};

function isCode(code: string) {
  return (e: unknown) => e instanceof PeerNetError && e.code === code;
}

test('BOLT 8 initiator: successful handshake matches acts one and three and the keys', async () => {
  const I = V.initiator;
  const local = nodeKeyEcdh(hex(I['ls.priv']));
  assert.equal(toHex(local.publicKey), I['ls.pub']);
  const hs = new HandshakeInitiator(local, hex(I['rs.pub']), hex(I['e.priv']));
  assert.equal(toHex(hs.actOne()), I['act1.output']);
  const { actThree, keys } = await hs.actTwo(hex(I['act2.input']));
  assert.equal(toHex(actThree), I['act3.output']);
  assert.equal(toHex(keys.sendingKey), I.sk);
  assert.equal(toHex(keys.receivingKey), I.rk);
  assert.equal(toHex(keys.chainingKey), I.ck);
  assert.equal(toHex(keys.remoteStatic), I['rs.pub']);
});

test('BOLT 8 initiator: act two failures', async () => {
  const I = V.initiator;
  for (const f of I.failures) {
    const hs = new HandshakeInitiator(nodeKeyEcdh(hex(I['ls.priv'])), hex(I['rs.pub']), hex(I['e.priv']));
    assert.equal(toHex(hs.actOne()), I['act1.output']);
    await assert.rejects(hs.actTwo(hex(f['act2.input'])), isCode(ERROR_CODES[f.error]!), f.name);
  }
});

test('BOLT 8 responder: successful handshake matches act two, the initiator key and the keys', async () => {
  const R = V.responder;
  const local = nodeKeyEcdh(hex(R['ls.priv']));
  assert.equal(toHex(local.publicKey), R['ls.pub']);
  const hs = new HandshakeResponder(local, hex(R['e.priv']));
  assert.equal(toHex(await hs.actOne(hex(R['act1.input']))), R['act2.output']);
  const keys = hs.actThree(hex(R['act3.input']));
  assert.equal(toHex(keys.remoteStatic), R.rs);
  assert.equal(toHex(keys.sendingKey), R.sk);
  assert.equal(toHex(keys.receivingKey), R.rk);
});

test('BOLT 8 responder: act one and act three failures', async () => {
  const R = V.responder;
  for (const f of R.act1Failures) {
    const hs = new HandshakeResponder(nodeKeyEcdh(hex(R['ls.priv'])), hex(R['e.priv']));
    await assert.rejects(hs.actOne(hex(f['act1.input'])), isCode(ERROR_CODES[f.error]!), f.name);
  }
  for (const f of R.act3Failures) {
    const hs = new HandshakeResponder(nodeKeyEcdh(hex(R['ls.priv'])), hex(R['e.priv']));
    assert.equal(toHex(await hs.actOne(hex(R['act1.input']))), R['act2.output']);
    assert.throws(() => hs.actThree(hex(f['act3.input'])), isCode(ERROR_CODES[f.error]!), f.name);
  }
});

test('BOLT 8 message encryption: outputs 0, 1, 500, 501, 1000, 1001 and rotation keys', () => {
  const M = V.messages;
  const enc = new MessageEncryptor({ sendingKey: hex(M.sk), chainingKey: hex(M.ck) });
  // The receiving side uses the same key and chaining key: decrypt everything the encryptor produced.
  const dec = new MessageDecryptor({ receivingKey: hex(M.sk), chainingKey: hex(M.ck) });
  const hello = hex(M.plaintext);
  const seen: Record<string, string> = {};
  // Outputs are numbered from 0 up to 1001, so 1002 messages are sent.
  const last = Math.max(...Object.keys(M.outputs).map(Number));
  for (let i = 0; i <= last; i++) {
    const frame = enc.encrypt(hello);
    if (M.outputs[String(i)] !== undefined) seen[String(i)] = toHex(frame);
    const got = dec.push(frame);
    assert.equal(got.length, 1);
    assert.equal(toHex(got[0]!), M.plaintext);
  }
  assert.deepEqual(seen, M.outputs);
  // The rotation keys listed in the appendix: HKDF(ck, k) twice.
  const [ck1, k1] = hkdf(hex(M.ck), hex(M.sk));
  assert.equal(toHex(ck1), M.rotations[0].ck);
  assert.equal(toHex(k1), M.rotations[0].k);
  const [ck2, k2] = hkdf(ck1, k1);
  assert.equal(toHex(ck2), M.rotations[1].ck);
  assert.equal(toHex(k2), M.rotations[1].k);
});

test('decryptor reassembles frames split at every byte and several frames in one chunk', () => {
  const M = V.messages;
  const enc = new MessageEncryptor({ sendingKey: hex(M.sk), chainingKey: hex(M.ck) });
  const dec = new MessageDecryptor({ receivingKey: hex(M.sk), chainingKey: hex(M.ck) });
  const messages = [
    new Uint8Array(0),
    hex('0011'),
    new Uint8Array(1024).fill(7),
    new Uint8Array(65535).fill(1),
  ];
  const stream = Buffer.concat(messages.map((m) => enc.encrypt(m)));
  // One byte at a time for the first frames, then the rest at once.
  const got: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) got.push(...dec.push(stream.subarray(i, i + 1)));
  got.push(...dec.push(stream.subarray(200)));
  assert.equal(got.length, messages.length);
  for (let i = 0; i < messages.length; i++) assert.deepEqual(got[i], messages[i]);
  assert.equal(dec.pending, 0);
});

test('decryptor: flipped bit in the length prefix or the body MAC is a final bad-mac', () => {
  const M = V.messages;
  for (const flipAt of [0, 17, 18 + 5 + 15]) {
    const enc = new MessageEncryptor({ sendingKey: hex(M.sk), chainingKey: hex(M.ck) });
    const dec = new MessageDecryptor({ receivingKey: hex(M.sk), chainingKey: hex(M.ck) });
    const frame = enc.encrypt(hex(M.plaintext));
    frame[flipAt]! ^= 0x01;
    assert.throws(() => dec.push(frame), isCode('bad-mac'), `flip at ${flipAt}`);
    // Once failed, it stays failed even for a good frame.
    assert.throws(() => dec.push(enc.encrypt(hex(M.plaintext))), isCode('bad-mac'));
  }
});

test('decryptor: frames before a bad one in the same chunk are returned, then it stays failed', () => {
  const M = V.messages;
  const enc = new MessageEncryptor({ sendingKey: hex(M.sk), chainingKey: hex(M.ck) });
  const dec = new MessageDecryptor({ receivingKey: hex(M.sk), chainingKey: hex(M.ck) });
  const first = enc.encrypt(Uint8Array.of(0x00, 0x11, 1));
  const second = enc.encrypt(Uint8Array.of(0x00, 0x11, 2));
  second[second.length - 1]! ^= 0x01;
  const chunk = new Uint8Array(first.length + second.length);
  chunk.set(first, 0);
  chunk.set(second, first.length);
  const failureCode = () => dec.failure?.code ?? 'none';
  assert.equal(failureCode(), 'none');
  assert.deepEqual(dec.push(chunk), [Uint8Array.of(0x00, 0x11, 1)]);
  assert.equal(failureCode(), 'bad-mac');
  assert.equal(dec.pending, 0);
  assert.throws(() => dec.push(enc.encrypt(Uint8Array.of(0x00, 0x11, 3))), isCode('bad-mac'));
});

test('encryptor refuses a message longer than 65535 bytes', () => {
  const M = V.messages;
  const enc = new MessageEncryptor({ sendingKey: hex(M.sk), chainingKey: hex(M.ck) });
  assert.throws(() => enc.encrypt(new Uint8Array(65536)), isCode('message-too-long'));
});

test('random keys: both roles agree and talk both ways', async () => {
  const a = nodeKeyEcdh(hex('01'.repeat(32)));
  const b = nodeKeyEcdh(hex('02'.repeat(32)));
  const ini = new HandshakeInitiator(a, b.publicKey);
  const res = new HandshakeResponder(b);
  const act2 = await res.actOne(ini.actOne());
  const { actThree, keys: ki } = await ini.actTwo(act2);
  const kr = res.actThree(actThree);
  assert.deepEqual(kr.remoteStatic, a.publicKey);
  assert.deepEqual(ki.sendingKey, kr.receivingKey);
  assert.deepEqual(ki.receivingKey, kr.sendingKey);
  const c = new CipherState(ki.sendingKey, ki.chainingKey);
  const d = new CipherState(kr.receivingKey, kr.chainingKey);
  for (let i = 0; i < 2100; i++)
    assert.deepEqual(d.decrypt(c.encrypt(Uint8Array.of(i & 0xff))), Uint8Array.of(i & 0xff));
});

test('random bytes as act one are rejected with a typed error, never a crash', async () => {
  const b = nodeKeyEcdh(hex('02'.repeat(32)));
  for (let i = 0; i < 50; i++) {
    const junk = new Uint8Array(50);
    for (let j = 0; j < 50; j++) junk[j] = Math.floor(Math.random() * 256);
    if (i % 2 === 0) junk[0] = 0;
    const res = new HandshakeResponder(b);
    await assert.rejects(
      res.actOne(junk),
      (e: unknown) => e instanceof PeerNetError && e.code.startsWith('handshake-'),
    );
  }
});

test('plan() + batch encryption elsewhere gives the same frames: BOLT 8 outputs 0, 1, 500, 501, 1000, 1001', () => {
  const M = V.messages;
  const enc = new MessageEncryptor({ sendingKey: hex(M.sk), chainingKey: hex(M.ck) });
  const hello = hex(M.plaintext);
  const last = Math.max(...Object.keys(M.outputs).map(Number));
  const requests = [];
  for (let i = 0; i <= last; i++) requests.push(...enc.plan(hello));
  // What a CryptoPool task runs, here in-thread: the keys and nonces were fixed by plan().
  const c = encryptBatch(requests);
  const seen: Record<string, string> = {};
  for (const i of Object.keys(M.outputs)) {
    const n = Number(i);
    seen[i] = toHex(c[2 * n]!) + toHex(c[2 * n + 1]!);
  }
  assert.deepEqual(seen, M.outputs);
});

test('random ciphertext never throws anything but a PeerNetError', () => {
  for (let i = 0; i < 500; i++) {
    const dec = new MessageDecryptor({
      receivingKey: hex('11'.repeat(32)),
      chainingKey: hex('22'.repeat(32)),
    });
    const junk = new Uint8Array(Math.floor(Math.random() * 200));
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(Math.random() * 256);
    try {
      assert.deepEqual(dec.push(junk), []);
    } catch (e) {
      assert.ok(e instanceof PeerNetError && e.code === 'bad-mac', String(e));
    }
  }
});

test('a key that is not a curve point (valid prefix, x beyond the field) is handshake-bad-pubkey in every act', async () => {
  const offCurve = Uint8Array.of(0x02, ...new Uint8Array(32).fill(0xff));
  const alice = nodeKeyEcdh(hex('1111111111111111111111111111111111111111111111111111111111111111'));
  const bob = nodeKeyEcdh(hex('2121212121212121212121212121212121212121212121212121212121212121'));
  // Act one (and its node key ECDH, asked for before the check) from a bad initiator.
  const badActOne = new Uint8Array(50);
  badActOne.set(offCurve, 1);
  await assert.rejects(new HandshakeResponder(bob).actOne(badActOne), isCode('handshake-bad-pubkey'));
  // Act two from a bad responder.
  const initiator = new HandshakeInitiator(alice, bob.publicKey);
  initiator.actOne();
  await assert.rejects(initiator.actTwo(badActOne), isCode('handshake-bad-pubkey'));
  // Act three: an initiator whose static key is not a point.
  const impostor = {
    publicKey: offCurve,
    ecdh: async (p: Uint8Array) => hkdf(p.subarray(1), p.subarray(1))[0],
  };
  const responder = new HandshakeResponder(bob);
  const liar = new HandshakeInitiator(impostor, bob.publicKey);
  const { actThree } = await liar.actTwo(await responder.actOne(liar.actOne()));
  assert.throws(() => responder.actThree(actThree), isCode('handshake-bad-pubkey'));
});
