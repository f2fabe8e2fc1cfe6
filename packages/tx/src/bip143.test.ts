// The fast paths against bitcoinjs-lib's own serialisation and BIP 143 (which the BOLT 3 vectors
// already pin byte for byte): random commitments of both channel types, every HTLC sighash
// for both signers, the scripts from the per-commitment template, txids.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp, sha256 } from '@lnkit/crypto';
import {
  buildCommitmentTransaction,
  buildHtlcTransactions,
  type ChannelType,
  type CommitmentHtlc,
  type CommitmentParams,
  commitmentSighash,
  htlcSighash,
  htlcSighashType,
  offeredHtlcScript,
  receivedHtlcScript,
} from './index.ts';
import { HtlcScripts } from './scripts.ts';

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Deterministic bytes, so a failure reproduces. */
function prng(seed: number): (n: number) => Uint8Array {
  let state = seed;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      out[i] = state >>> 24;
    }
    return out;
  };
}

function randomCommitment(rand: (n: number) => Uint8Array, channelType: ChannelType, htlcCount: number) {
  const pub = () => secp.publicKey(sha256(rand(32)));
  const word = () => new DataView(rand(4).buffer).getUint32(0);
  const htlcs: CommitmentHtlc[] = Array.from({ length: htlcCount }, (_, i) => ({
    direction: word() % 2 === 0 ? 'offered' : 'received',
    amountMsat: 600_000n + BigInt(word() % 50_000_000),
    paymentHash: rand(32),
    // Every push length of a script number: 1..16 (OP_N), 1, 2, 3 and 4 bytes.
    cltvExpiry:
      [word() % 17, 127, 128, 255, 256, 32_767, 32_768, 8_388_607, 8_388_608][i % 9]! +
      (i > 9 ? word() % 400_000_000 : 0),
  }));
  const params: CommitmentParams = {
    channelType,
    fundingOutpoint: { txid: rand(32), vout: word() % 4 },
    fundingSat: 10_000_000n,
    localFundingPubkey: pub(),
    remoteFundingPubkey: pub(),
    commitmentNumber: BigInt(word()) * 1000n,
    obscuringFactor: BigInt(word()) << 16n,
    toLocalMsat: 3_000_000_000n,
    toRemoteMsat: 3_000_000_000n,
    localIsFunder: word() % 2 === 0,
    feeratePerKw: BigInt(253 + (word() % 5000)),
    dustLimitSat: 546n,
    toSelfDelay: 1 + (word() % 2016),
    keys: {
      revocationPubkey: pub(),
      localDelayedPubkey: pub(),
      localHtlcPubkey: pub(),
      remoteHtlcPubkey: pub(),
      remotePaymentPubkey: pub(),
    },
    htlcs,
  };
  return buildCommitmentTransaction(params);
}

test('sighashes from parts equal bitcoinjs-lib hashForWitnessV0: 60 random commitments, every HTLC, both signers', () => {
  const rand = prng(3);
  let htlcTxs = 0;
  for (let i = 0; i < 60; i++) {
    const channelType: ChannelType = i % 2 === 0 ? 'anchors_zero_fee_htlc_tx' : 'static_remotekey';
    const c = randomCommitment(rand, channelType, i % 20);
    assert.equal(
      toHex(commitmentSighash(c)),
      toHex(c.tx.hashForWitnessV0(0, c.fundingScript, c.params.fundingSat, 1)),
      `commitment #${i}`,
    );
    for (const h of buildHtlcTransactions(c)) {
      htlcTxs++;
      // The input names the commitment by the txid of its serialisation.
      assert.equal(toHex(h.tx.ins[0]!.hash), toHex(c.tx.getHash()));
      for (const signer of ['owner', 'counterparty'] as const) {
        const expected = h.tx.hashForWitnessV0(
          0,
          h.htlcWitnessScript,
          h.htlcValueSat,
          htlcSighashType(h, signer),
        );
        assert.equal(toHex(htlcSighash(h, signer)), toHex(expected), `commitment #${i} ${h.kind} ${signer}`);
      }
    }
  }
  assert.ok(htlcTxs > 300, `${htlcTxs} HTLC transactions checked`);
});

test('the per-commitment HTLC script template gives the bytes of offeredHtlcScript and receivedHtlcScript', () => {
  const rand = prng(11);
  for (let i = 0; i < 200; i++) {
    const keys = {
      revocationPubkey: secp.publicKey(sha256(rand(32))),
      localHtlcPubkey: secp.publicKey(sha256(rand(32))),
      remoteHtlcPubkey: secp.publicKey(sha256(rand(32))),
    };
    const anchors = i % 2 === 0;
    const template = new HtlcScripts(keys, anchors);
    const paymentHash = rand(32);
    const cltv = i < 40 ? i : new DataView(rand(4).buffer).getUint32(0) % 500_000_000;
    assert.equal(toHex(template.offered(paymentHash)), toHex(offeredHtlcScript(keys, paymentHash, anchors)));
    assert.equal(
      toHex(template.received(paymentHash, cltv)),
      toHex(receivedHtlcScript(keys, paymentHash, cltv, anchors)),
      `cltv ${cltv}`,
    );
  }
});

test('a commitment object read many times gives the same transaction, built once', () => {
  const c = randomCommitment(prng(5), 'anchors_zero_fee_htlc_tx', 3);
  assert.equal(c.tx, c.tx);
  const [h] = buildHtlcTransactions(c);
  assert.equal(h!.tx, h!.tx);
  // What a caller reads of it is all there, as own enumerable properties (e.g. to clone it).
  assert.ok(Object.keys(c).includes('tx'));
  assert.equal(structuredClone({ hex: c.tx.toHex() }).hex, c.tx.toHex());
});
