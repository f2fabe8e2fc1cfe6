import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes, secp } from '@lnkit/crypto';
import {
  buildClaimTransaction,
  type ClaimInput,
  claimInputWeight,
  claimSighashes,
  claimTransactionWeight,
  claimWitnessWeight,
  dustLimitSatFor,
  finalizeClaimTransaction,
} from './claim.ts';
import { TxError } from './errors.ts';
import { offeredHtlcScript, p2wpkh, p2wsh, receivedHtlcScript, toLocalScript } from './scripts.ts';

const key = () => secp.publicKey(new Uint8Array(randomBytes(32)));
const htlcKeys = () => ({ revocationPubkey: key(), localHtlcPubkey: key(), remoteHtlcPubkey: key() });

test('BOLT 5 Appendix A: penalty witness and input weights', () => {
  // BOLT 5 "Penalty Transactions Weight Calculation".
  assert.equal(claimWitnessWeight('to-local-revocation', false), 160);
  assert.equal(claimWitnessWeight('offered-htlc-revocation', false), 243);
  assert.equal(claimWitnessWeight('received-htlc-revocation', false), 249);
  assert.equal(claimInputWeight('to-local-revocation', false), 324);
  assert.equal(claimInputWeight('offered-htlc-revocation', false), 407);
  assert.equal(claimInputWeight('received-htlc-revocation', false), 413);
  // "The rest of the penalty transaction takes up 4+1+1+8+1+34+4=53 bytes of non-witness data
  // ... in addition to a 2-byte witness header" (a P2WSH output).
  const p2wshOut = p2wsh(Uint8Array.of(1));
  assert.equal(claimTransactionWeight([], p2wshOut), 4 * 53 + 2);
  assert.equal(
    claimTransactionWeight(
      [
        { witness: 'to-local-revocation', anchors: false },
        { witness: 'offered-htlc-revocation', anchors: false },
        { witness: 'received-htlc-revocation', anchors: false },
      ],
      p2wshOut,
    ),
    4 * 53 + 2 + 324 + 407 + 413,
  );
  // BOLT 5's max_num_htlcs: (400000 - 324 - 272 - 4*53 - 2) / 413 = 966 received HTLCs fit one
  // standard transaction.
  assert.equal(
    Math.floor((400_000 - 324 - 272 - 4 * 53 - 2) / claimInputWeight('received-htlc-revocation', false)),
    966,
  );
});

test('the expected script sizes bound the largest real scripts', () => {
  const k = htlcKeys();
  assert.ok(toLocalScript(key(), 0xffff, key()).length <= 83);
  assert.ok(offeredHtlcScript(k, new Uint8Array(32), false).length <= 133);
  assert.equal(
    offeredHtlcScript(k, new Uint8Array(32), true).length,
    offeredHtlcScript(k, new Uint8Array(32), false).length + 3,
  );
  // BOLT 3's 139 bytes count a 3-byte cltv_expiry: any block height below 2^23 (year ~2160).
  assert.equal(receivedHtlcScript(k, new Uint8Array(32), 8_388_607, false).length, 139);
  assert.equal(receivedHtlcScript(k, new Uint8Array(32), 8_388_607, true).length, 142);
});

function revokedInput(valueSat: bigint): ClaimInput {
  return {
    txid: new Uint8Array(randomBytes(32)),
    vout: 0,
    valueSat,
    witness: 'to-local-revocation',
    witnessScript: toLocalScript(key(), 144, key()),
    csvDelay: 0,
    anchors: false,
  };
}

test('a claim pays feerate × expected weight, and its signed weight is no more than expected', () => {
  const destination = p2wpkh(key());
  const claim = buildClaimTransaction({
    inputs: [revokedInput(100_000n)],
    destinationScript: destination,
    feeratePerKw: 2500n,
  });
  assert.equal(claim.expectedWeight, claimTransactionWeight(claim.inputs, destination));
  assert.equal(claim.feeSat, (2500n * BigInt(claim.expectedWeight)) / 1000n);
  assert.equal(claim.valueSat, 100_000n - claim.feeSat);
  // nSequence 0xfffffffd (no delay: RBF signalled, nLockTime enabled), version 2.
  assert.equal(claim.tx.ins[0]?.sequence, 0xfffffffd);
  assert.equal(claim.tx.version, 2);
  const sigs = claimSighashes(claim).map(() => new Uint8Array(64).fill(0x11));
  const signed = finalizeClaimTransaction(claim, sigs);
  assert.ok(signed.weight() <= claim.expectedWeight);
  assert.equal(signed.ins[0]?.witness.length, 3);
});

test('a claim that would leave dust is refused with invalid-amounts', () => {
  const destination = p2wpkh(key());
  assert.equal(dustLimitSatFor(destination), 294n);
  assert.throws(
    () =>
      buildClaimTransaction({
        inputs: [revokedInput(1_000n)],
        destinationScript: destination,
        feeratePerKw: 5000n,
      }),
    (e: unknown) => e instanceof TxError && e.code === 'invalid-amounts',
  );
});
