import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { secp } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { script as bscript, crypto as btcCrypto, opcodes as OPS, Transaction } from 'bitcoinjs-lib';
import {
  buildFundingTransaction,
  encodeSignature,
  fundingScript,
  fundingScriptPubKey,
  SIGHASH_ALL,
  TxError,
} from './index.ts';

// BOLT 3 Appendix B, copied to fixtures/ (see its `source`).
const B = JSON.parse(readFileSync(new URL('./fixtures/bolt03-funding.json', import.meta.url), 'utf8')) as {
  block1CoinbaseTx: string;
  block1CoinbasePrivkey: string;
  localFundingPubkey: string;
  remoteFundingPubkey: string;
  fundingWitnessScript: string;
  inputTxid: string;
  inputIndex: number;
  inputSatoshis: number;
  fundingSatoshis: number;
  changeSatoshis: number;
  fundingOutput: number;
  fundingTx: string;
  fundingTxid: string;
};
const hex = (s: unknown) => new Uint8Array(Buffer.from(String(s), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('Appendix B: funding witness script, either key order', () => {
  const a = hex(B.localFundingPubkey);
  const b = hex(B.remoteFundingPubkey);
  assert.equal(toHex(fundingScript(a, b)), B.fundingWitnessScript);
  assert.equal(toHex(fundingScript(b, a)), B.fundingWitnessScript);
});

test('Appendix B: the funding transaction, signed, byte for byte', () => {
  const coinbase = Transaction.fromHex(String(B.block1CoinbaseTx));
  assert.equal(coinbase.getId(), B.inputTxid);
  const prevOut = coinbase.outs[Number(B.inputIndex)];
  assert.ok(prevOut);
  assert.equal(prevOut.value, BigInt(B.inputSatoshis));
  const priv = hex(B.block1CoinbasePrivkey);
  const pub = secp.publicKey(priv);
  // The change goes to the P2WPKH of the coinbase key.
  const changeScript = bscript.compile([OPS.OP_0, btcCrypto.hash160(pub)]);
  const { tx, fundingOutputIndex } = buildFundingTransaction({
    inputs: [{ txid: coinbase.getHash(), vout: Number(B.inputIndex) }],
    fundingSat: BigInt(B.fundingSatoshis),
    localFundingPubkey: hex(B.localFundingPubkey),
    remoteFundingPubkey: hex(B.remoteFundingPubkey),
    change: { scriptPubKey: changeScript, valueSat: BigInt(B.changeSatoshis) },
  });
  assert.equal(fundingOutputIndex, Number(B.fundingOutput));
  assert.deepEqual(
    tx.outs[fundingOutputIndex]?.script,
    fundingScriptPubKey(hex(B.localFundingPubkey), hex(B.remoteFundingPubkey)),
  );
  // A P2PKH input: legacy sighash, scriptSig <sig> <pubkey>.
  const sig = secp.sign(tx.hashForSignature(0, prevOut.script, SIGHASH_ALL), priv);
  tx.setInputScript(0, bscript.compile([encodeSignature(sig, SIGHASH_ALL), pub]));
  assert.equal(tx.toHex(), B.fundingTx);
  assert.equal(tx.getId(), B.fundingTxid);
  // "# feerate_per_kw: 15000": the fee is the feerate times the signed weight.
  assert.equal(
    BigInt(B.inputSatoshis) - BigInt(B.fundingSatoshis) - BigInt(B.changeSatoshis),
    (15000n * BigInt(tx.weight())) / 1000n,
  );
});

test('wallet keys of the KeysManager sign a funding input', async () => {
  const km = new KeysManager(new Uint8Array(32).fill(1));
  const pub = km.walletPublicKey(0n);
  const { tx } = buildFundingTransaction({
    inputs: [{ txid: new Uint8Array(32).fill(2), vout: 1 }],
    fundingSat: 100_000n,
    localFundingPubkey: hex(B.localFundingPubkey),
    remoteFundingPubkey: hex(B.remoteFundingPubkey),
  });
  const p2wpkhCode = bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(pub),
    OPS.OP_EQUALVERIFY,
    OPS.OP_CHECKSIG,
  ]);
  const sighash = tx.hashForWitnessV0(0, p2wpkhCode, 200_000n, SIGHASH_ALL);
  assert.ok(secp.verify(await km.signWithWalletKey(0n, sighash), sighash, pub));
});

test('bad funding parameters are typed errors', () => {
  assert.throws(() => fundingScript(new Uint8Array(32), hex(B.remoteFundingPubkey)), TxError);
  const ok = {
    inputs: [{ txid: new Uint8Array(32), vout: 0 }],
    fundingSat: 100_000n,
    localFundingPubkey: hex(B.localFundingPubkey),
    remoteFundingPubkey: hex(B.remoteFundingPubkey),
  };
  assert.ok(buildFundingTransaction(ok).tx);
  const bad = [
    { inputs: [{ txid: new Uint8Array(32), vout: -1 }] },
    { inputs: [{ txid: new Uint8Array(32), vout: 2 ** 32 }] },
    { inputs: [{ txid: new Uint8Array(32), vout: 1.5 }] },
    { inputs: [{ txid: new Uint8Array(31), vout: 0 }] },
    { inputs: [{ txid: new Uint8Array(32), vout: 0, sequence: -5 }] },
    { locktime: -1 },
    { change: { scriptPubKey: new Uint8Array(22), valueSat: -5n } },
    { change: { scriptPubKey: 'not bytes' as unknown as Uint8Array, valueSat: 5n } },
  ];
  for (const b of bad)
    assert.throws(() => buildFundingTransaction({ ...ok, ...b }), TxError, JSON.stringify(Object.keys(b)));
  assert.throws(
    () =>
      buildFundingTransaction({
        inputs: [],
        fundingSat: 1n,
        localFundingPubkey: hex(B.localFundingPubkey),
        remoteFundingPubkey: hex(B.remoteFundingPubkey),
      }),
    TxError,
  );
});
