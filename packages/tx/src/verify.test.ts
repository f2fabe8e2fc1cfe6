// The receive side of commitment_signed: the counterparty's signatures of our commitment.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CryptoPool, sha256 } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import {
  buildCommitmentTransaction,
  buildHtlcTransactions,
  type ChannelType,
  type CommitmentHtlc,
  deriveCommitmentKeys,
  obscuringFactor,
  signCounterpartyCommitment,
  TxError,
  verifyCounterpartySignatures,
} from './index.ts';

const pool = new CryptoPool({ threads: 2 });
after(() => pool.close());

/** Our commitment with `htlcCount` HTLCs, and the counterparty's commitment_signed for it. */
async function signedByCounterparty(channelType: ChannelType, htlcCount: number) {
  const ours = new KeysManager(sha256(Uint8Array.of(1))).createChannelSigner(0n);
  const theirs = new KeysManager(sha256(Uint8Array.of(2))).createChannelSigner(0n);
  const ourPoint = await ours.getPerCommitmentPoint(5n);
  const htlcs: CommitmentHtlc[] = Array.from({ length: htlcCount }, (_, i) => ({
    direction: i % 3 === 0 ? 'received' : 'offered',
    amountMsat: 5_000_000n + BigInt(i) * 1000n,
    paymentHash: sha256(Uint8Array.of(i)),
    cltvExpiry: 600_000 + i,
  }));
  const commitment = buildCommitmentTransaction({
    channelType,
    fundingOutpoint: { txid: sha256(Uint8Array.of(9)), vout: 0 },
    fundingSat: 10_000_000n,
    localFundingPubkey: ours.pubkeys.fundingPubkey,
    remoteFundingPubkey: theirs.pubkeys.fundingPubkey,
    commitmentNumber: 5n,
    obscuringFactor: obscuringFactor(ours.pubkeys.paymentBasepoint, theirs.pubkeys.paymentBasepoint),
    toLocalMsat: 5_000_000_000n - htlcs.reduce((s, h) => s + h.amountMsat, 0n),
    toRemoteMsat: 5_000_000_000n,
    localIsFunder: true,
    feeratePerKw: 1000n,
    dustLimitSat: 546n,
    toSelfDelay: 144,
    keys: deriveCommitmentKeys({
      perCommitmentPoint: ourPoint,
      ownerDelayedPaymentBasepoint: ours.pubkeys.delayedPaymentBasepoint,
      ownerHtlcBasepoint: ours.pubkeys.htlcBasepoint,
      otherRevocationBasepoint: theirs.pubkeys.revocationBasepoint,
      otherHtlcBasepoint: theirs.pubkeys.htlcBasepoint,
      otherPaymentBasepoint: theirs.pubkeys.paymentBasepoint,
    }),
    htlcs,
  });
  const htlcTxs = buildHtlcTransactions(commitment);
  // From their side this is the counterparty's commitment, signed with our point.
  const signatures = await signCounterpartyCommitment(theirs, commitment, htlcTxs, ourPoint);
  return { commitment, htlcTxs, signatures };
}

for (const channelType of ['anchors_zero_fee_htlc_tx', 'static_remotekey'] as const) {
  test(`${channelType}: valid signatures pass, in-thread and through the pool; a bad one is named`, async () => {
    const { commitment, htlcTxs, signatures } = await signedByCounterparty(channelType, 40);
    assert.equal(htlcTxs.length, 40);
    for (const options of [{}, { crypto: pool }, { crypto: pool, minBatchForCrypto: 1 }]) {
      const check = await verifyCounterpartySignatures(commitment, htlcTxs, signatures, options);
      assert.equal(check.valid, true);
      assert.equal(check.commitment, true);
      assert.deepEqual(check.htlcs, new Array(40).fill(true));
    }
    const htlcSignatures = [...signatures.htlcSignatures];
    const bad = htlcSignatures[17]!.slice();
    bad[10]! ^= 1;
    htlcSignatures[17] = bad;
    for (const options of [{}, { crypto: pool, minBatchForCrypto: 1 }]) {
      const check = await verifyCounterpartySignatures(
        commitment,
        htlcTxs,
        { signature: signatures.signature, htlcSignatures },
        options,
      );
      assert.equal(check.valid, false);
      assert.equal(check.commitment, true);
      assert.deepEqual(
        check.htlcs.flatMap((ok, i) => (ok ? [] : [i])),
        [17],
      );
    }
    // Our own HTLC signature in their place (the wrong key) does not pass either.
    const swapped = await verifyCounterpartySignatures(commitment, htlcTxs, {
      signature: signatures.htlcSignatures[0]!,
      htlcSignatures: signatures.htlcSignatures,
    });
    assert.equal(swapped.commitment, false);
  });
}

test('BOLT 2: a count of HTLC signatures that does not match the HTLC outputs is an error', async () => {
  const { commitment, htlcTxs, signatures } = await signedByCounterparty('anchors_zero_fee_htlc_tx', 3);
  await assert.rejects(
    verifyCounterpartySignatures(commitment, htlcTxs, {
      signature: signatures.signature,
      htlcSignatures: signatures.htlcSignatures.slice(1),
    }),
    (e: unknown) => e instanceof TxError && e.code === 'invalid-signature',
  );
});

test('a high-S form of a valid signature is refused (BOLT 2: LOW-S-standard rule)', async () => {
  const { commitment, htlcTxs, signatures } = await signedByCounterparty('anchors_zero_fee_htlc_tx', 0);
  const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const s = BigInt(`0x${Buffer.from(signatures.signature.subarray(32)).toString('hex')}`);
  const highS = signatures.signature.slice();
  highS.set(Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex'), 32);
  const check = await verifyCounterpartySignatures(commitment, htlcTxs, {
    signature: highS,
    htlcSignatures: [],
  });
  assert.equal(check.valid, false);
});
