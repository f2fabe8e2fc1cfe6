/**
 * BOLT 3 Appendix C (static_remotekey) and Appendix F (anchors): every commitment transaction
 * and every HTLC transaction, byte for byte, with the signatures. The remote side's signatures
 * are produced by a real DefaultChannelSigner holding the remote secrets that the appendix
 * lists (its INTERNAL comment block); the local side's by secp.sign with the listed local keys.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { secp, sha256 } from '@lnkit/crypto';
import { DefaultChannelSigner } from '@lnkit/keys';
import {
  buildCommitmentTransaction,
  buildHtlcTransactions,
  type ChannelType,
  type CommitmentHtlc,
  type CommitmentParams,
  commitmentSighash,
  deriveCommitmentKeys,
  encodeSignature,
  finalizeCommitment,
  finalizeHtlcTransaction,
  fundingScript,
  htlcSighash,
  htlcSighashType,
  obscuringFactor,
  SIGHASH_ALL,
  signCounterpartyCommitment,
} from './index.ts';

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const C = load('bolt03-commitment-static-remotekey.json') as {
  common: Record<string, string>;
  htlcs: {
    index: number;
    direction: string;
    amountMsat: number;
    cltvExpiry: number;
    paymentPreimage: string;
  }[];
  vectors: {
    name: string;
    toLocalMsat: number;
    toRemoteMsat: number;
    feeratePerKw: number;
    baseFeeSat?: number;
    actualFeeSat?: number;
    remoteSignature: string;
    localSignature: string;
    commitTx: string;
    numHtlcs: number;
    htlcTxs: {
      outputIndex: number;
      kind: string;
      htlcIndex: number;
      remoteSignature: string;
      localSignature: string;
      tx: string;
    }[];
  }[];
};
const B = load('bolt03-funding.json') as { fundingWitnessScript: string };
const F = load('bolt03-commitment-anchors.json') as {
  vectors: {
    Name: string;
    LocalBalance: number;
    RemoteBalance: number;
    DustLimitSatoshis: number;
    FeePerKw: number;
    UseTestHtlcs: boolean;
    HtlcDescs: { RemoteSigHex: string; ResolutionTxHex: string }[];
    ExpectedCommitmentTxHex: string;
    RemoteSigHex: string;
  }[];
};

const hex = (s: string | undefined): Uint8Array => {
  assert.ok(s !== undefined, 'fixture value present');
  return new Uint8Array(Buffer.from(s, 'hex'));
};
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const c = C.common;
const derOnly = (compact: Uint8Array) => toHex(encodeSignature(compact, SIGHASH_ALL).subarray(0, -1));

// The HTLCs of Appendix C; the "same amount and preimage" vectors use #1, #5 and #6, every
// other vector with HTLCs uses #0-#4 (Appendix C's preamble).
const allHtlcs: (CommitmentHtlc & { preimage: Uint8Array })[] = C.htlcs.map((h) => {
  const preimage = hex(h.paymentPreimage);
  return {
    id: BigInt(h.index),
    direction: h.direction === 'local->remote' ? 'offered' : 'received',
    amountMsat: BigInt(h.amountMsat),
    paymentHash: sha256(preimage),
    cltvExpiry: h.cltvExpiry,
    preimage,
  };
});
function htlcsFor(name: string, useHtlcs: boolean) {
  if (!useHtlcs) return [];
  if (name.includes('same amount and preimage'))
    return allHtlcs.filter((h) => [1n, 5n, 6n].includes(h.id as bigint));
  return allHtlcs.filter((h) => (h.id as bigint) <= 4n);
}

const keys = deriveCommitmentKeys({
  perCommitmentPoint: hex(c.local_per_commitment_point),
  ownerDelayedPaymentBasepoint: hex(c.local_delayed_payment_basepoint),
  ownerHtlcBasepoint: hex(c.local_htlc_basepoint),
  otherRevocationBasepoint: hex(c.remote_revocation_basepoint),
  otherHtlcBasepoint: hex(c.remote_htlc_basepoint),
  otherPaymentBasepoint: hex(c.remote_payment_basepoint),
});

// The remote node's signer, holding the secrets Appendix C lists. The delayed-payment secret
// and the shachain seed of the remote are not listed and play no part in these signatures.
const remoteSigner = new DefaultChannelSigner({
  fundingSecret: hex(c.remote_funding_privkey),
  revocationBaseSecret: hex(c.remote_revocation_basepoint_secret),
  paymentBaseSecret: hex(c.remote_payment_basepoint_secret),
  // Appendix C: "We use the same values for the HTLC basepoints" as the payment basepoints.
  htlcBaseSecret: hex(c.remote_payment_basepoint_secret),
  delayedPaymentBaseSecret: sha256(new TextEncoder().encode('unused delayed secret')),
  commitmentSeed: sha256(new TextEncoder().encode('unused seed')),
});
const localFundingSecret = hex(c.local_funding_privkey);
// local_privkey derives from local_payment_basepoint_secret, and the local HTLC basepoint is the
// payment basepoint, so it is also the local HTLC private key.
const localHtlcSecret = hex(c.local_privkey);

function params(
  channelType: ChannelType,
  v: {
    toLocalMsat: bigint;
    toRemoteMsat: bigint;
    feeratePerKw: bigint;
    dustLimitSat: bigint;
    htlcs: CommitmentHtlc[];
  },
): CommitmentParams {
  return {
    channelType,
    fundingOutpoint: { txid: hex(c.funding_tx_id).reverse(), vout: Number(c.funding_output_index) },
    fundingSat: BigInt(c.funding_amount_satoshi as string),
    localFundingPubkey: hex(c.local_funding_pubkey),
    remoteFundingPubkey: hex(c.remote_funding_pubkey),
    commitmentNumber: BigInt(c.commitment_number as string),
    // Appendix C: local is the opener.
    obscuringFactor: obscuringFactor(hex(c.local_payment_basepoint), hex(c.remote_payment_basepoint)),
    toLocalMsat: v.toLocalMsat,
    toRemoteMsat: v.toRemoteMsat,
    localIsFunder: true,
    feeratePerKw: v.feeratePerKw,
    dustLimitSat: v.dustLimitSat,
    toSelfDelay: Number(c.local_delay),
    keys,
    htlcs: v.htlcs,
  };
}

test('Appendix C preamble: keys, obscuring factor and funding script', () => {
  assert.equal(toHex(keys.revocationPubkey), c.local_revocation_pubkey);
  assert.equal(toHex(keys.localDelayedPubkey), c.local_delayedpubkey);
  assert.equal(toHex(keys.localHtlcPubkey), c.local_htlcpubkey);
  assert.equal(toHex(keys.remoteHtlcPubkey), c.remote_htlcpubkey);
  assert.equal(toHex(secp.publicKey(localFundingSecret)), c.local_funding_pubkey);
  assert.equal(toHex(secp.publicKey(localHtlcSecret)), c.local_htlcpubkey);
  assert.equal(toHex(remoteSigner.pubkeys.fundingPubkey), c.remote_funding_pubkey);
  assert.equal(toHex(remoteSigner.pubkeys.htlcBasepoint), c.remote_htlc_basepoint);
  assert.equal(toHex(remoteSigner.pubkeys.revocationBasepoint), c.remote_revocation_basepoint);
  // "# obscured commitment number = 0x2bb038521914 ^ 42"
  assert.equal(c['obscured commitment number'], '0x2bb038521914 ^ 42');
  assert.equal(
    obscuringFactor(hex(c.local_payment_basepoint), hex(c.remote_payment_basepoint)),
    0x2bb038521914n,
  );
  // Appendix C reuses Appendix B's funding output ("# funding wscript = 5221023d...").
  assert.equal(
    toHex(fundingScript(hex(c.local_funding_pubkey), hex(c.remote_funding_pubkey))),
    B.fundingWitnessScript,
  );
});

test('Appendix C has 16 vectors, Appendix F 9', () => {
  assert.equal(C.vectors.length, 16);
  assert.equal(F.vectors.length, 9);
});

for (const v of C.vectors) {
  test(`Appendix C (static_remotekey): ${v.name}`, async () => {
    const commitment = buildCommitmentTransaction(
      params('static_remotekey', {
        toLocalMsat: BigInt(v.toLocalMsat),
        toRemoteMsat: BigInt(v.toRemoteMsat),
        feeratePerKw: BigInt(v.feeratePerKw),
        dustLimitSat: BigInt(c.local_dust_limit_satoshi as string),
        htlcs: htlcsFor(v.name, v.name !== 'simple commitment tx with no HTLCs'),
      }),
    );
    if (v.baseFeeSat !== undefined) assert.equal(commitment.baseFeeSat, BigInt(v.baseFeeSat));
    if (v.actualFeeSat !== undefined) assert.equal(commitment.feeSat, BigInt(v.actualFeeSat));
    const htlcTxs = buildHtlcTransactions(commitment);
    assert.equal(htlcTxs.length, v.numHtlcs);

    const remote = await signCounterpartyCommitment(
      remoteSigner,
      commitment,
      htlcTxs,
      hex(c.local_per_commitment_point),
    );
    const localSig = secp.sign(commitmentSighash(commitment), localFundingSecret);
    assert.equal(derOnly(remote.signature), v.remoteSignature);
    assert.equal(derOnly(localSig), v.localSignature);
    assert.equal(finalizeCommitment(commitment, localSig, remote.signature).toHex(), v.commitTx);

    assert.equal(htlcTxs.length, v.htlcTxs.length);
    for (const [i, expected] of v.htlcTxs.entries()) {
      const h = htlcTxs[i];
      assert.ok(h);
      assert.equal(h.commitmentOutputIndex, expected.outputIndex);
      assert.equal(h.kind, `htlc-${expected.kind}`);
      assert.equal(h.htlc.id, BigInt(expected.htlcIndex));
      const remoteHtlcSig = remote.htlcSignatures[i] as Uint8Array;
      const localHtlcSig = secp.sign(htlcSighash(h, 'owner'), localHtlcSecret);
      assert.equal(derOnly(remoteHtlcSig), expected.remoteSignature);
      assert.equal(derOnly(localHtlcSig), expected.localSignature);
      const preimage = allHtlcs.find((x) => x.id === h.htlc.id)?.preimage;
      assert.equal(finalizeHtlcTransaction(h, localHtlcSig, remoteHtlcSig, preimage).toHex(), expected.tx);
    }
  });
}

for (const v of F.vectors) {
  test(`Appendix F (anchors): ${v.Name}`, async () => {
    const commitment = buildCommitmentTransaction(
      params('anchors_zero_fee_htlc_tx', {
        toLocalMsat: BigInt(v.LocalBalance),
        toRemoteMsat: BigInt(v.RemoteBalance),
        feeratePerKw: BigInt(v.FeePerKw),
        dustLimitSat: BigInt(v.DustLimitSatoshis),
        htlcs: htlcsFor(v.Name, v.UseTestHtlcs),
      }),
    );
    const htlcTxs = buildHtlcTransactions(commitment);
    const remote = await signCounterpartyCommitment(
      remoteSigner,
      commitment,
      htlcTxs,
      hex(c.local_per_commitment_point),
    );
    const localSig = secp.sign(commitmentSighash(commitment), localFundingSecret);
    assert.equal(derOnly(remote.signature), v.RemoteSigHex);
    assert.equal(
      finalizeCommitment(commitment, localSig, remote.signature).toHex(),
      v.ExpectedCommitmentTxHex,
    );

    assert.equal(htlcTxs.length, v.HtlcDescs.length);
    for (const [i, expected] of v.HtlcDescs.entries()) {
      const h = htlcTxs[i];
      assert.ok(h);
      // BOLT 3 / BOLT 5: the counterparty signs anchors HTLC transactions SINGLE|ANYONECANPAY.
      assert.equal(htlcSighashType(h, 'counterparty'), 0x83);
      const remoteHtlcSig = remote.htlcSignatures[i] as Uint8Array;
      assert.equal(derOnly(remoteHtlcSig), expected.RemoteSigHex);
      const localHtlcSig = secp.sign(htlcSighash(h, 'owner'), localHtlcSecret);
      const preimage = allHtlcs.find((x) => x.id === h.htlc.id)?.preimage;
      assert.equal(
        finalizeHtlcTransaction(h, localHtlcSig, remoteHtlcSig, preimage).toHex(),
        expected.ResolutionTxHex,
      );
    }
  });
}
