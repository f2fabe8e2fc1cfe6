import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp, sha256 } from '@lnkit/crypto';
import {
  buildClosingTransaction,
  buildCommitmentTransaction,
  buildHtlcTransactions,
  buildLegacyClosingTransaction,
  type CommitmentHtlc,
  type CommitmentParams,
  deriveCommitmentKeys,
  finalizeHtlcTransaction,
  htlcTimeoutFeeSat,
  isHtlcTrimmed,
  p2wpkh,
  TxError,
} from './index.ts';

const pub = (n: number) => secp.publicKey(sha256(Uint8Array.of(n)));
const base: CommitmentParams = {
  channelType: 'static_remotekey',
  fundingOutpoint: { txid: new Uint8Array(32).fill(7), vout: 1 },
  fundingSat: 1_000_000n,
  localFundingPubkey: pub(1),
  remoteFundingPubkey: pub(2),
  commitmentNumber: 0n,
  obscuringFactor: 0xa1b2c3d4e5f6n,
  toLocalMsat: 600_000_000n,
  toRemoteMsat: 400_000_000n,
  localIsFunder: true,
  feeratePerKw: 1000n,
  dustLimitSat: 546n,
  toSelfDelay: 144,
  keys: {
    revocationPubkey: pub(3),
    localDelayedPubkey: pub(4),
    localHtlcPubkey: pub(5),
    remoteHtlcPubkey: pub(6),
    remotePaymentPubkey: pub(7),
  },
  htlcs: [],
};
const htlc = (
  direction: 'offered' | 'received',
  amountMsat: bigint,
  cltvExpiry: number,
  hashSeed = 0,
): CommitmentHtlc => ({
  direction,
  amountMsat,
  paymentHash: sha256(Uint8Array.of(hashSeed)),
  cltvExpiry,
});

test('BOLT 3: the obscured commitment number is split across locktime and sequence', () => {
  for (const n of [0n, 42n, (1n << 48n) - 1n]) {
    const { tx } = buildCommitmentTransaction({ ...base, commitmentNumber: n });
    const seq = tx.ins[0]?.sequence as number;
    assert.equal(tx.locktime >>> 24, 0x20);
    assert.equal(seq >>> 24, 0x80);
    const obscured = (BigInt(seq & 0xffffff) << 24n) | BigInt(tx.locktime & 0xffffff);
    assert.equal(obscured ^ base.obscuringFactor, n);
  }
});

test('BOLT 3: an HTLC is trimmed only when its amount minus the second-stage fee is below the dust limit', () => {
  const fee = htlcTimeoutFeeSat('static_remotekey', base.feeratePerKw);
  const atLimit = (546n + fee) * 1000n;
  assert.equal(isHtlcTrimmed('static_remotekey', true, atLimit, base.feeratePerKw, 546n), false);
  assert.equal(isHtlcTrimmed('static_remotekey', true, atLimit - 1n, base.feeratePerKw, 546n), true);
  // With zero-fee HTLC transactions only the amount itself counts.
  assert.equal(isHtlcTrimmed('anchors_zero_fee_htlc_tx', true, 546_000n, base.feeratePerKw, 546n), false);
  const c = buildCommitmentTransaction({
    ...base,
    toLocalMsat: base.toLocalMsat - atLimit - (atLimit - 1000n),
    htlcs: [htlc('offered', atLimit, 100), htlc('offered', atLimit - 1000n, 101, 1)],
  });
  assert.equal(c.outputs.filter((o) => o.kind === 'htlc').length, 1);
  // The trimmed HTLC's amount goes to fees.
  assert.equal(c.feeSat, c.baseFeeSat + (atLimit - 1000n) / 1000n);
});

test('BIP 69 + cltv order does not depend on the order HTLCs are given in', () => {
  const htlcs = [
    htlc('offered', 5_000_000n, 506, 5),
    htlc('offered', 5_000_000n, 505, 5),
    htlc('received', 2_000_000n, 501, 1),
    htlc('received', 7_000_000n, 499, 2),
  ];
  const total = htlcs.reduce((s, h) => s + h.amountMsat, 0n);
  const a = buildCommitmentTransaction({ ...base, toLocalMsat: base.toLocalMsat - total, htlcs });
  const b = buildCommitmentTransaction({
    ...base,
    toLocalMsat: base.toLocalMsat - total,
    htlcs: [...htlcs].reverse(),
  });
  assert.equal(a.tx.toHex(), b.tx.toHex());
  const cltvs = a.outputs.filter((o) => o.kind === 'htlc').map((o) => o.htlc?.cltvExpiry);
  assert.deepEqual(cltvs, [501, 505, 506, 499]);
  // The HTLC-timeout transactions of the two identical outputs differ by locktime, in that order.
  const timeouts = buildHtlcTransactions(a).filter((h) => h.kind === 'htlc-timeout');
  assert.deepEqual(
    timeouts.map((t) => t.tx.locktime),
    [505, 506],
  );
});

test('anchors: both anchors with HTLCs pending even when one side has no output; 330 sat each from the funder', () => {
  const h = htlc('received', 10_000_000n, 700);
  const c = buildCommitmentTransaction({
    ...base,
    channelType: 'anchors_zero_fee_htlc_tx',
    toLocalMsat: 990_000_000n,
    toRemoteMsat: 0n,
    htlcs: [h],
  });
  const kinds = c.outputs.map((o) => o.kind).sort();
  assert.deepEqual(kinds, ['htlc', 'to_local', 'to_local_anchor', 'to_remote_anchor']);
  const toLocal = c.outputs.find((o) => o.kind === 'to_local');
  assert.equal(toLocal?.valueSat, 990_000n - c.baseFeeSat - 660n);
  // HTLC transactions spend with sequence 1 (the `1 OP_CSV` of anchor HTLC outputs) and pay no fee.
  const [success] = buildHtlcTransactions(c);
  assert.equal(success?.tx.ins[0]?.sequence, 1);
  assert.equal(success?.tx.outs[0]?.value, 10_000n);
});

test('anchors: the local anchor too when only the other side has an output, and none for an absent side without HTLCs', () => {
  const anchors = { ...base, channelType: 'anchors_zero_fee_htlc_tx' as const, localIsFunder: false };
  // BOLT 3: if untrimmed HTLCs exist, add a to_local_anchor even with no to_local output.
  const withHtlc = buildCommitmentTransaction({
    ...anchors,
    toLocalMsat: 0n,
    toRemoteMsat: 990_000_000n,
    htlcs: [htlc('offered', 10_000_000n, 700)],
  });
  assert.deepEqual(withHtlc.outputs.map((o) => o.kind).sort(), [
    'htlc',
    'to_local_anchor',
    'to_remote',
    'to_remote_anchor',
  ]);
  // The non-funder pays nothing: the funder (remote here) pays the fee and both anchors.
  const toRemote = withHtlc.outputs.find((o) => o.kind === 'to_remote');
  assert.equal(toRemote?.valueSat, 990_000n - withHtlc.baseFeeSat - 660n);
  const without = buildCommitmentTransaction({ ...anchors, toLocalMsat: 0n, toRemoteMsat: 1_000_000_000n });
  assert.deepEqual(without.outputs.map((o) => o.kind).sort(), ['to_remote', 'to_remote_anchor']);
});

test('bad input is a TxError, never a crash', () => {
  const bad: Partial<CommitmentParams>[] = [
    { toLocalMsat: -1n },
    { toLocalMsat: 2_000_000_000n },
    { commitmentNumber: 1n << 48n },
    { fundingOutpoint: { txid: new Uint8Array(31), vout: 0 } },
    { htlcs: [{ ...htlc('offered', 1_000_000n, 10), paymentHash: new Uint8Array(5) }] },
    { htlcs: [htlc('offered', 1_000_000n, 600_000_000)] },
    { keys: { ...base.keys, revocationPubkey: new Uint8Array(32) } },
    { toSelfDelay: 70_000 },
  ];
  for (const b of bad)
    assert.throws(
      () => buildCommitmentTransaction({ ...base, ...b }),
      TxError,
      JSON.stringify(Object.keys(b)),
    );
  const c = buildCommitmentTransaction({
    ...base,
    toLocalMsat: 590_000_000n,
    htlcs: [htlc('received', 10_000_000n, 9)],
  });
  const [success] = buildHtlcTransactions(c);
  assert.ok(success);
  // A per_commitment_point or basepoint from the peer that is not a curve point.
  const notAPoint = Uint8Array.of(0x02, ...new Uint8Array(32).fill(0xff));
  const derive = {
    perCommitmentPoint: pub(10),
    ownerDelayedPaymentBasepoint: pub(11),
    ownerHtlcBasepoint: pub(12),
    otherRevocationBasepoint: pub(13),
    otherHtlcBasepoint: pub(14),
    otherPaymentBasepoint: pub(15),
  };
  assert.equal(deriveCommitmentKeys(derive).remotePaymentPubkey, derive.otherPaymentBasepoint);
  for (const field of Object.keys(derive).filter((k) => k !== 'otherPaymentBasepoint'))
    assert.throws(() => deriveCommitmentKeys({ ...derive, [field]: notAPoint }), TxError, field);
  // An HTLC-success without its preimage, or with a malformed signature.
  assert.throws(
    () => finalizeHtlcTransaction(success, new Uint8Array(64).fill(1), new Uint8Array(64).fill(1)),
    TxError,
  );
  assert.throws(
    () => finalizeHtlcTransaction(success, new Uint8Array(63), new Uint8Array(64), new Uint8Array(32)),
    TxError,
  );
});

test('legacy closing: the funder pays the fee, outputs below our dust limit are removed, BIP 69 order', () => {
  const a = p2wpkh(pub(8));
  const b = p2wpkh(pub(9));
  const outpoint = base.fundingOutpoint;
  const tx = buildLegacyClosingTransaction({
    fundingOutpoint: outpoint,
    localMsat: 700_000_123n,
    remoteMsat: 299_999_877n,
    localScriptPubKey: a,
    remoteScriptPubKey: b,
    localIsFunder: true,
    feeSat: 1_000n,
    dustLimitSat: 546n,
  });
  assert.equal(tx.locktime, 0);
  assert.equal(tx.ins[0]?.sequence, 0xffffffff);
  assert.deepEqual(
    tx.outs.map((o) => o.value),
    [299_999n, 699_000n],
  );
  const dusty = buildLegacyClosingTransaction({
    fundingOutpoint: outpoint,
    localMsat: 999_500_000n,
    remoteMsat: 500_000n,
    localScriptPubKey: a,
    remoteScriptPubKey: b,
    localIsFunder: false,
    feeSat: 0n,
    dustLimitSat: 546n,
  });
  assert.equal(dusty.outs.length, 1);
  assert.throws(
    () =>
      buildLegacyClosingTransaction({
        fundingOutpoint: outpoint,
        localMsat: 0n,
        remoteMsat: 0n,
        localScriptPubKey: a,
        remoteScriptPubKey: b,
        localIsFunder: true,
        feeSat: 1n,
        dustLimitSat: 546n,
      }),
    TxError,
  );
  // Malformed outpoints and scripts are TxErrors, not the transaction library's own errors.
  const closing = {
    fundingOutpoint: outpoint,
    localMsat: 700_000_000n,
    remoteMsat: 300_000_000n,
    localScriptPubKey: a,
    remoteScriptPubKey: b,
    localIsFunder: true,
    feeSat: 1_000n,
    dustLimitSat: 546n,
  };
  for (const vout of [-1, 2 ** 32, 0.5])
    assert.throws(
      () => buildLegacyClosingTransaction({ ...closing, fundingOutpoint: { txid: outpoint.txid, vout } }),
      TxError,
    );
  assert.throws(
    () => buildLegacyClosingTransaction({ ...closing, localScriptPubKey: 'x' as unknown as Uint8Array }),
    TxError,
  );
  assert.throws(
    () => buildCommitmentTransaction({ ...base, fundingOutpoint: { txid: outpoint.txid, vout: -1 } }),
    TxError,
  );
});

test('closing (option_simple_close): closer pays the fee, OP_RETURN outputs carry 0, sequence 0xFFFFFFFD', () => {
  const opReturn = Uint8Array.of(0x6a, 0x04, 1, 2, 3, 4);
  const tx = buildClosingTransaction({
    fundingOutpoint: base.fundingOutpoint,
    locktime: 800_000,
    closerMsat: 600_000_000n,
    closeeMsat: 400_000_000n,
    closerScriptPubKey: p2wpkh(pub(8)),
    closeeScriptPubKey: opReturn,
    feeSat: 500n,
  });
  assert.equal(tx.locktime, 800_000);
  assert.equal(tx.ins[0]?.sequence, 0xfffffffd);
  assert.deepEqual(
    tx.outs.map((o) => o.value),
    [0n, 599_500n],
  );
  assert.throws(
    () =>
      buildClosingTransaction({
        fundingOutpoint: base.fundingOutpoint,
        locktime: 0,
        closerMsat: 100n,
        closeeMsat: 0n,
        closerScriptPubKey: p2wpkh(pub(8)),
        closeeScriptPubKey: undefined,
        feeSat: 500n,
      }),
    TxError,
  );
});
