import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inspect } from 'node:util';
import { secp, sha256 } from '@lnkit/crypto';
import { HDKey } from '@scure/bip32';
import { script as bscript, crypto as btcCrypto, opcodes as OPS, Transaction } from 'bitcoinjs-lib';
import type { ClaimKeyName, ClaimSpend } from './claim-policy.ts';
import {
  derivePrivateKey,
  derivePublicKey,
  deriveRevocationPublicKey,
  perCommitmentPointFromSecret,
} from './derivation.ts';
import { KeysError } from './errors.ts';
import { KeysManager } from './keys-manager.ts';
import { loadOrCreateSeed } from './seed.ts';
import type { ChannelKeys } from './signer.ts';
import { ChannelSignerPool } from './signer-pool.ts';
import type { PooledClaimSigner } from './signer-pool-claims.ts';

const CHANNEL = 7n;
const WALLET_PATH = "m/84'/1'/0'/0/3";
const CHANGE_PATH = "m/84'/1'/0'/1/0";
const root = mkdtempSync(join(tmpdir(), 'lnkit-claim-signer-'));
let pool: ChannelSignerPool;
let keys: ChannelKeys;
let walletScripts: Map<string, string>;
let signer: PooledClaimSigner;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const pub = (secret: Uint8Array) => secp.publicKey(secret);
const otherKey = pub(sha256(Uint8Array.of(1)));
const point = pub(sha256(Uint8Array.of(2)));
const p2wsh = (s: Uint8Array) => Uint8Array.from([0x00, 0x20, ...sha256(s)]);
const p2wpkh = (k: Uint8Array) => Uint8Array.from([0x00, 0x14, ...btcCrypto.hash160(Buffer.from(k))]);

before(() => {
  const { seed } = loadOrCreateSeed(root);
  keys = new KeysManager(seed).deriveChannelKeys(CHANNEL);
  const master = HDKey.fromMasterSeed(seed);
  walletScripts = new Map(
    [WALLET_PATH, CHANGE_PATH].map((p) => [hex(p2wpkh(master.derive(p).publicKey as Uint8Array)), p]),
  );
  pool = new ChannelSignerPool({ dataDir: root, threads: 2 });
  // What the node's wallet answers: the path of each of its scripts.
  signer = pool.claimSigner(CHANNEL, (script) => walletScripts.get(hex(script)));
});
after(async () => {
  await pool.close();
  rmSync(root, { recursive: true, force: true });
});

function toLocalScript(revocation: Uint8Array, delayed: Uint8Array): Uint8Array {
  return bscript.compile([
    OPS.OP_IF,
    revocation,
    OPS.OP_ELSE,
    bscript.number.encode(144),
    OPS.OP_CHECKSEQUENCEVERIFY,
    OPS.OP_DROP,
    delayed,
    OPS.OP_ENDIF,
    OPS.OP_CHECKSIG,
  ]);
}

/** BOLT 3 offered HTLC script. */
function offeredHtlcScript(revocation: Uint8Array, remote: Uint8Array, local: Uint8Array): Uint8Array {
  return bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(Buffer.from(revocation)),
    OPS.OP_EQUAL,
    OPS.OP_IF,
    OPS.OP_CHECKSIG,
    OPS.OP_ELSE,
    remote,
    OPS.OP_SWAP,
    OPS.OP_SIZE,
    bscript.number.encode(32),
    OPS.OP_EQUAL,
    OPS.OP_NOTIF,
    OPS.OP_DROP,
    OPS.OP_2,
    OPS.OP_SWAP,
    local,
    OPS.OP_2,
    OPS.OP_CHECKMULTISIG,
    OPS.OP_ELSE,
    OPS.OP_HASH160,
    new Uint8Array(20).fill(9),
    OPS.OP_EQUALVERIFY,
    OPS.OP_CHECKSIG,
    OPS.OP_ENDIF,
    OPS.OP_ENDIF,
  ]);
}

function p2pkhCode(k: Uint8Array): Uint8Array {
  return bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(Buffer.from(k)),
    OPS.OP_EQUALVERIFY,
    OPS.OP_CHECKSIG,
  ]);
}

/** A one-input claim of `valueSat` paying `outputs`, and the request that signs it. */
function claim(
  key: ClaimKeyName,
  scriptCode: Uint8Array,
  outputs: Uint8Array[],
  extra: Partial<ClaimSpend> = {},
): { key: ClaimKeyName; sighash: Uint8Array; spend: ClaimSpend } {
  const tx = new Transaction();
  tx.version = 2;
  tx.addInput(Buffer.alloc(32, 5), 1, 144);
  for (const o of outputs) tx.addOutput(o, 10_000n);
  const valueSat = 20_000n;
  const sighash = new Uint8Array(tx.hashForWitnessV0(0, scriptCode, valueSat, Transaction.SIGHASH_ALL));
  return {
    key,
    sighash,
    spend: { tx: new Uint8Array(tx.toBuffer()), inputIndex: 0, scriptCode, valueSat, ...extra },
  };
}

const walletScript = () => Uint8Array.from(Buffer.from([...walletScripts.keys()][0] as string, 'hex'));
const changeScript = () => Uint8Array.from(Buffer.from([...walletScripts.keys()][1] as string, 'hex'));
const foreign = p2wpkh(otherKey);

async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(
    p,
    (e: unknown) => e instanceof KeysError && e.code === 'claim-refused' && message.test(e.message),
  );
}

test('the pool signs a to_remote, a to_local after its delay, a justice and an HTLC transaction of ours, each paying the wallet', async () => {
  const revSecret = sha256(Uint8Array.of(3));
  const revocationPub = deriveRevocationPublicKey(
    pub(keys.revocationBaseSecret),
    perCommitmentPointFromSecret(revSecret),
  );
  const delayedPub = derivePublicKey(pub(keys.delayedPaymentBaseSecret), point);
  const htlcPub = derivePublicKey(pub(keys.htlcBaseSecret), point);
  const cases = [
    // static_remotekey to_remote: P2WPKH of the payment basepoint.
    {
      r: claim({ kind: 'payment' }, p2pkhCode(pub(keys.paymentBaseSecret)), [walletScript()]),
      by: pub(keys.paymentBaseSecret),
    },
    // anchors to_remote.
    {
      r: claim(
        { kind: 'payment' },
        bscript.compile([
          pub(keys.paymentBaseSecret),
          OPS.OP_CHECKSIGVERIFY,
          OPS.OP_1,
          OPS.OP_CHECKSEQUENCEVERIFY,
        ]),
        [walletScript()],
      ),
      by: pub(keys.paymentBaseSecret),
    },
    {
      r: claim({ kind: 'delayed-payment', perCommitmentPoint: point }, toLocalScript(otherKey, delayedPub), [
        walletScript(),
      ]),
      by: delayedPub,
    },
    {
      r: claim(
        { kind: 'revocation', perCommitmentSecret: revSecret },
        toLocalScript(revocationPub, otherKey),
        [walletScript()],
      ),
      by: revocationPub,
    },
    {
      r: claim(
        { kind: 'revocation', perCommitmentSecret: revSecret },
        offeredHtlcScript(revocationPub, otherKey, otherKey),
        [walletScript()],
      ),
      by: revocationPub,
    },
    // Their commitment's HTLC with our htlc key in the remote slot: to the wallet.
    {
      r: claim({ kind: 'htlc', perCommitmentPoint: point }, offeredHtlcScript(otherKey, htlcPub, otherKey), [
        walletScript(),
      ]),
      by: htlcPub,
    },
  ];
  // Our HTLC transaction: output 0 the second-stage to_local with our delayed key, change to the wallet.
  const secondStage = toLocalScript(otherKey, delayedPub);
  cases.push({
    r: claim(
      { kind: 'htlc', perCommitmentPoint: point },
      offeredHtlcScript(otherKey, otherKey, htlcPub),
      [p2wsh(secondStage), changeScript()],
      { outputWitnessScript: secondStage },
    ),
    by: htlcPub,
  });
  // One batch, as a justice transaction of several inputs would be.
  const signatures = await signer.signClaims(cases.map((c) => c.r));
  assert.equal(signatures.length, cases.length);
  for (const [i, c] of cases.entries())
    assert.ok(secp.verify(signatures[i] as Uint8Array, c.r.sighash, c.by), `case ${i} verifies`);
  // The same key the in-thread derivation gives (@lnkit/tx's claimPrivateKey does the same).
  const local = secp.sign(
    cases[2]?.r.sighash as Uint8Array,
    derivePrivateKey(keys.delayedPaymentBaseSecret, point),
  );
  assert.deepEqual(signatures[2], local);
  assert.equal(inspect(signer).includes(hex(keys.paymentBaseSecret)), false);
  assert.equal(JSON.stringify(signer).includes(hex(keys.paymentBaseSecret)), false);
});

test('the pool refuses a claim paying anyone but the wallet, a digest not of the spend, a key outside its script', async () => {
  const delayedPub = derivePublicKey(pub(keys.delayedPaymentBaseSecret), point);
  const htlcPub = derivePublicKey(pub(keys.htlcBaseSecret), point);
  const toRemote = p2pkhCode(pub(keys.paymentBaseSecret));
  const good = claim({ kind: 'payment' }, toRemote, [walletScript()]);
  // To a script that is not the wallet's.
  await refused(
    signer.signClaims([claim({ kind: 'payment' }, toRemote, [foreign])]),
    /output 0 does not pay/,
  );
  // One output ours, one not.
  await refused(
    signer.signClaims([claim({ kind: 'payment' }, toRemote, [walletScript(), foreign])]),
    /output 1/,
  );
  // The main thread naming a wallet path the output does not pay.
  const lying = pool.claimSigner(CHANNEL, () => WALLET_PATH);
  await refused(lying.signClaims([claim({ kind: 'payment' }, toRemote, [foreign])]), /output 0 does not pay/);
  // A path that is not a BIP 84 wallet path (a hardened chain, another purpose).
  await refused(
    pool.claimSigner(CHANNEL, () => "m/44'/1'/0'/0/3").signClaims([good]),
    /not a BIP 84 wallet path/,
  );
  // An arbitrary digest: the sighash is not the spend's.
  await refused(
    signer.signClaims([{ ...good, sighash: sha256(Uint8Array.of(9)) }]),
    /sighash is not the one/,
  );
  // No spend at all: the bare ClaimSigner request.
  await refused(
    signer.signClaims([{ key: { kind: 'payment' }, sighash: good.sighash }]),
    /only with the spend/,
  );
  // Keys outside their own scripts.
  await refused(
    signer.signClaims([claim({ kind: 'payment' }, p2pkhCode(otherKey), [walletScript()])]),
    /payment key/,
  );
  await refused(
    signer.signClaims([
      claim({ kind: 'delayed-payment', perCommitmentPoint: point }, toLocalScript(delayedPub, otherKey), [
        walletScript(),
      ]),
    ]),
    /delayed payment key/,
  );
  await refused(
    signer.signClaims([
      claim(
        { kind: 'revocation', perCommitmentSecret: sha256(Uint8Array.of(3)) },
        toLocalScript(otherKey, otherKey),
        [walletScript()],
      ),
    ]),
    /revocation key/,
  );
  await refused(
    signer.signClaims([
      claim({ kind: 'htlc', perCommitmentPoint: point }, offeredHtlcScript(otherKey, otherKey, otherKey), [
        walletScript(),
      ]),
    ]),
    /htlc key/,
  );
  // Our HTLC transaction whose output 0 is a to_local of someone else's delayed key, or no script given.
  const notOurs = toLocalScript(otherKey, otherKey);
  const ours = offeredHtlcScript(otherKey, otherKey, htlcPub);
  await refused(
    signer.signClaims([
      claim({ kind: 'htlc', perCommitmentPoint: point }, ours, [p2wsh(notOurs)], {
        outputWitnessScript: notOurs,
      }),
    ]),
    /output 0 does not pay/,
  );
  const second = toLocalScript(otherKey, delayedPub);
  await refused(
    signer.signClaims([claim({ kind: 'htlc', perCommitmentPoint: point }, ours, [p2wsh(second)])]),
    /output 0/,
  );
  // The second-stage exception is only for our own commitment (our key in the local slot).
  await refused(
    signer.signClaims([
      claim(
        { kind: 'htlc', perCommitmentPoint: point },
        offeredHtlcScript(otherKey, htlcPub, otherKey),
        [p2wsh(second)],
        {
          outputWitnessScript: second,
        },
      ),
    ]),
    /output 0 does not pay/,
  );
  // One bad request in a batch: nothing of it is signed.
  await refused(
    signer.signClaims([good, claim({ kind: 'payment' }, toRemote, [foreign])]),
    /output 0 does not pay/,
  );
  // And the pool still signs what the rule allows after all that.
  assert.equal((await signer.signClaims([good])).length, 1);
});

test('the funding key signs only our anchor output (a CPFP paying the wallet), never the 2-of-2 funding script', async () => {
  const fundingPub = pub(keys.fundingSecret);
  const anchorOf = (key: Uint8Array) =>
    bscript.compile([
      key,
      OPS.OP_CHECKSIG,
      OPS.OP_IFDUP,
      OPS.OP_NOTIF,
      OPS.OP_16,
      OPS.OP_CHECKSEQUENCEVERIFY,
      OPS.OP_ENDIF,
    ]);
  const anchor = anchorOf(fundingPub);
  const good = claim({ kind: 'funding' }, anchor, [walletScript()]);
  const [signature] = await signer.signClaims([good]);
  assert.ok(secp.verify(signature as Uint8Array, good.sighash, fundingPub), 'signed with the funding key');
  const funding = bscript.compile([OPS.OP_2, fundingPub, otherKey, OPS.OP_2, OPS.OP_CHECKMULTISIG]);
  await refused(
    signer.signClaims([claim({ kind: 'funding' }, funding, [walletScript()])]),
    /only our anchor output/,
  );
  // Someone else's anchor.
  const theirs = anchorOf(otherKey);
  await refused(signer.signClaims([claim({ kind: 'funding' }, theirs, [walletScript()])]), /only our anchor/);
  await refused(signer.signClaims([claim({ kind: 'funding' }, anchor, [foreign])]), /output 0 does not pay/);
});
