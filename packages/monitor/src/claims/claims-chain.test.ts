/**
 * BOLT 5 claims on a real regtest chain (bcoin validates scripts, signatures, nLockTime and
 * BIP 68 sequence locks): a channel funded on chain, a commitment built and signed with
 * @lnkit/tx by two lnkit signers carrying the BOLT 3 Appendix C HTLCs, confirmed; then each
 * claim the monitor's claim core makes is refused by the mempool one block before its
 * CSV/CLTV matures, accepted at maturity, mined, and pays the destination exactly its output
 * value less feerate × expected weight.
 * Run: node scripts/test.mjs packages/monitor/src/claims/claims-chain.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import {
  buildHtlcTransactions,
  ChannelKeysClaimSigner,
  type ChannelType,
  type FeeInput,
  finalizeHtlcTransaction,
  htlcSuccessFeeSat,
  htlcTimeoutFeeSat,
  p2wpkh,
  signCounterpartyCommitment,
  signHolderCommitment,
  Transaction,
} from '@lnkit/tx';
import type { ChannelFixture } from '../test-fixtures.ts';
import type { ChannelMonitor, MonitorUpdateStep } from '../types.ts';
import {
  appendixCHtlcs,
  FUNDING_SAT,
  fundOnChain,
  HTLC_TOTAL_MSAT,
  monitorOf,
  preimageOf,
} from './chain-test-kit.ts';
import { claimsToBroadcast } from './plan.ts';
import { resolveCommitment } from './resolve.ts';
import type { FeeInputSigner } from './sign.ts';
import { signClaim } from './sign.ts';
import { disconnectResolution, resolveSpend } from './spends.ts';
import type { ChainResolution, SignedClaim } from './types.ts';

/** The commitments' feerate: HTLC 0 (1,000 sat) is trimmed on both, the others have outputs. */
const COMMITMENT_FEERATE_PER_KW = 1000n;
/** The claims' feerate (4 sat/vB): above bcoin's 1 sat/vB relay floor, low enough that a 1,297 sat HTLC output pays for its sweep. */
const CLAIM_FEERATE_PER_KW = 1000n;

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
  await chain.activateSegwit();
});
after(async () => {
  await chain?.stop();
});

/** A channel funded on chain by the holder. */
const fundedChannel = async (channelType: ChannelType = 'static_remotekey') =>
  (await fundOnChain(chain, { channelType })).fx;

/** Mines up to `height` (the tip). */
async function mineTo(height: number): Promise<void> {
  const tip = await chain.height();
  assert.ok(tip <= height, `the chain is at ${tip}, past ${height}`);
  if (height > tip) await chain.mine(height - tip);
}

async function confirmations(txid: string): Promise<number> {
  const info = (await chain.rpc('getrawtransaction', [txid, true])) as { confirmations?: number };
  return info.confirmations ?? 0;
}

async function broadcastAndMine(tx: Transaction): Promise<number> {
  await chain.sendRawTransaction(tx.toHex());
  await chain.mine(1);
  assert.equal(await confirmations(tx.getId()), 1);
  return chain.height();
}

interface Claimer {
  fx: ChannelFixture;
  monitor: ChannelMonitor;
  resolution: ChainResolution;
  signer: ChannelKeysClaimSigner;
  destination: Uint8Array;
  /** Every signed claim that confirmed, and the sats it paid the destination. */
  confirmed: SignedClaim[];
  paidSat: bigint;
  /** Claims the mempool refused one block before their timelock matured. */
  refusedEarly: string[];
  /** Wallet outputs for anchors HTLC transactions' fees, and what those used were worth. */
  feeInputs: FeeInput[];
  feeInputSat: bigint;
  wallet: FeeInputSigner;
}

function claimerOf(fx: ChannelFixture, monitor: ChannelMonitor, resolution: ChainResolution): Claimer {
  return {
    fx,
    monitor,
    resolution,
    signer: new ChannelKeysClaimSigner(fx.holderKeys.deriveChannelKeys(fx.info.channelKeyIndex)),
    destination: p2wpkh(fx.holderKeys.walletPublicKey(1n)),
    confirmed: [],
    paidSat: 0n,
    refusedEarly: [],
    feeInputs: [],
    feeInputSat: 0n,
    wallet: {
      signFeeInput: (input, sighash) => {
        const index = FEE_INPUT_KEYS.findIndex((i) =>
          Buffer.from(fx.holderKeys.walletPublicKey(i)).equals(input.pubkey),
        );
        assert.ok(index >= 0, 'a fee input of the wallet');
        return fx.holderKeys.signWithWalletKey(FEE_INPUT_KEYS[index] as bigint, sighash);
      },
    },
  };
}

/** Wallet key indexes of the fee inputs. */
const FEE_INPUT_KEYS = [10n, 11n, 12n, 13n, 14n];

/** One confirmed 20,000 sat wallet output per fee input key, for anchors HTLC transactions. */
async function fundFeeInputs(c: Claimer): Promise<void> {
  for (const index of FEE_INPUT_KEYS) {
    const pubkey = c.fx.holderKeys.walletPublicKey(index);
    const coin = await chain.fundScript(p2wpkh(pubkey), 20_000n);
    c.feeInputs.push({
      txid: Uint8Array.from(Buffer.from(coin.txid, 'hex')).reverse(),
      vout: coin.vout,
      valueSat: coin.valueSat,
      pubkey,
    });
  }
  await chain.mine(1);
}

const opts = (c: Claimer) => ({
  feeratePerKw: CLAIM_FEERATE_PER_KW,
  destinationScript: c.destination,
  feeInputs: c.feeInputs,
});

/**
 * Claims everything due at the earliest pending maturity S: the plan at tip S - 2 holds none
 * of them; built as at S - 1 but sent at S - 2 the mempool refuses each one with a timelock
 * (the test fails if a CSV or CLTV is too short); at S - 1 each is accepted, and mined in S.
 * Each sweep pays the destination its inputs less feerate × expected weight, and weighs no
 * more than expected. Returns the claims.
 */
async function claimNext(c: Claimer): Promise<SignedClaim[]> {
  const s = Math.min(...c.resolution.pending.map((p) => p.spendableAtHeight));
  const tip = await chain.height();
  if (s - 2 > tip) {
    await mineTo(s - 2);
    const early = claimsToBroadcast(c.resolution, c.monitor, s - 2, opts(c));
    const dueAtS = c.resolution.pending.filter((p) => p.spendableAtHeight === s).map((p) => p.id);
    assert.ok(
      early.claims.every((claim) => claim.outputIds.every((id) => !dueAtS.includes(id))),
      'nothing is due before the block that may include it',
    );
  }
  const plan = claimsToBroadcast(c.resolution, c.monitor, Math.max(s - 1, tip), opts(c));
  assert.equal(plan.skipped.length, 0, JSON.stringify(plan.skipped));
  const signed = await Promise.all(plan.claims.map((claim) => signClaim(claim, c.signer, c.wallet)));
  if (s - 2 >= tip) {
    for (const claim of signed.filter((x) => x.spendableAtHeight === s)) {
      const timelocked = c.resolution.pending.some(
        (p) =>
          claim.outputIds.includes(p.id) &&
          (p.locktime !== undefined ||
            (p.input?.csvDelay ?? 0) > 1 ||
            p.htlcTransaction?.kind === 'htlc-timeout'),
      );
      if (!timelocked) continue;
      await assert.rejects(
        chain.sendRawTransaction(Buffer.from(claim.tx).toString('hex')),
        /non-final|non-BIP68-final|locktime/i,
        `claim of ${claim.outputIds.join(', ')} refused one block early`,
      );
      c.refusedEarly.push(...claim.outputIds);
    }
    await mineTo(s - 1);
  }
  for (const claim of signed) {
    await chain.sendRawTransaction(Buffer.from(claim.tx).toString('hex'));
  }
  await chain.mine(1);
  const height = await chain.height();
  for (const claim of signed) {
    assert.equal(await confirmations(claim.txidHex), 1, `${claim.outputIds.join(', ')} confirmed`);
    const tx = Transaction.fromBuffer(Buffer.from(claim.tx));
    if (claim.kind === 'sweep') {
      const inSat = c.resolution.pending
        .filter((p) => claim.outputIds.includes(p.id))
        .reduce((sum, p) => sum + p.valueSat, 0n);
      const expectedWeight = claim.expectedWeight as number;
      // The estimator's rate, or above it for a claim bumped as its deadline nears (fees.test.ts).
      const feerate = claim.feeratePerKw as bigint;
      assert.ok(feerate >= CLAIM_FEERATE_PER_KW, `feerate ${feerate}`);
      const fee = (feerate * BigInt(expectedWeight)) / 1000n;
      assert.equal(claim.feeSat, fee);
      assert.equal(tx.outs.length, 1);
      assert.deepEqual(new Uint8Array(tx.outs[0]?.script as Uint8Array), c.destination);
      assert.equal(
        tx.outs[0]?.value,
        inSat - fee,
        'the claim pays its inputs less feerate × expected weight',
      );
      assert.ok(claim.weight <= expectedWeight, `weight ${claim.weight} within ${expectedWeight}`);
      assert.ok(
        claim.weight >= expectedWeight - 16 * tx.ins.length,
        `weight ${claim.weight} near ${expectedWeight}`,
      );
      c.paidSat += inSat - fee;
    }
    const toSign = plan.claims.find((x) => x.outputIds[0] === claim.outputIds[0]);
    if (toSign?.kind === 'htlc-transaction' && toSign.feeInput) {
      // Anchors: the fee input pays feerate × expected weight, its change returns to the destination.
      const feeInput = toSign.feeInput;
      const expectedWeight = toSign.expectedWeight as number;
      assert.equal(claim.feeSat, (CLAIM_FEERATE_PER_KW * BigInt(expectedWeight)) / 1000n);
      // Those due together in one transaction: each output at its input's index, then the change.
      assert.deepEqual(
        tx.outs.map((o) => o.value),
        [...toSign.htlcs.map((h) => h.htlcTransaction.outputValueSat), feeInput.valueSat - claim.feeSat],
      );
      for (const [i, h] of toSign.htlcs.entries())
        assert.equal(
          tx.outs[i]?.value,
          h.htlcTransaction.htlcValueSat,
          'zero-fee: the HTLC keeps its whole value',
        );
      assert.ok(claim.weight <= expectedWeight, `weight ${claim.weight} within ${expectedWeight}`);
      c.paidSat += feeInput.valueSat - claim.feeSat;
      c.feeInputSat += feeInput.valueSat;
      c.feeInputs = c.feeInputs.filter((f) => f !== feeInput);
    }
    let m = c.resolution;
    const r = resolveSpend(m, c.monitor, tx, height);
    assert.ok(r.relevant);
    m = r.resolution;
    c.resolution = m;
    c.confirmed.push(claim);
  }
  return signed;
}

test('our commitment: to_local after to_self_delay, HTLC-success and HTLC-timeout, then their delayed outputs', async () => {
  const fx = await fundedChannel();
  const first = await fx.initialUpdate();
  const base = (await chain.height()) + 20;
  const htlcs = appendixCHtlcs('holder', base);
  const toLocalMsat = 600_000_000n;
  const toRemoteMsat = FUNDING_SAT * 1000n - toLocalMsat - HTLC_TOTAL_MSAT;
  const ours = await fx.holderCommitment(1n, {
    toLocalMsat,
    toRemoteMsat,
    htlcs,
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'holder-commitment', commitment: ours.commitment }],
    // The holder learnt the preimages of the HTLCs offered to it.
    [
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x01) },
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x04) },
    ],
  ]);
  const commitment = await ours.signed();
  const height = await broadcastAndMine(commitment);

  const resolution = resolveCommitment(monitor, commitment, height);
  assert.equal(resolution.kind, 'holder-commitment');
  // to_local and four HTLCs: Appendix C's HTLC 0 (1,000 sat) is trimmed at this feerate.
  assert.deepEqual(
    resolution.pending.map((p) => [p.output, p.htlc?.id ?? null]).sort(),
    [
      ['htlc', 1n],
      ['htlc', 2n],
      ['htlc', 3n],
      ['htlc', 4n],
      ['to_local', null],
    ].sort(),
  );
  assert.deepEqual(
    resolution.htlcsWithoutOutput.map((h) => h.id),
    [0n],
  );
  const toLocal = resolution.pending.find((p) => p.output === 'to_local');
  assert.equal(toLocal?.spendableAtHeight, height + fx.channel.holderToSelfDelay);
  assert.equal(toLocal?.input?.csvDelay, 144);

  const c = claimerOf(fx, monitor, resolution);
  // HTLC-success of 1 and 4 (preimages held) at once; HTLC-timeout of 2 at base+2+1, of 3 at base+3+1.
  const successes = await claimNext(c);
  assert.deepEqual(
    successes.map((s) => s.kind),
    ['htlc-transaction', 'htlc-transaction'],
  );
  for (const s of successes) {
    const tx = Transaction.fromBuffer(Buffer.from(s.tx));
    assert.equal(s.feeSat, htlcSuccessFeeSat('static_remotekey', COMMITMENT_FEERATE_PER_KW));
    assert.equal(tx.locktime, 0);
  }
  const timeout2 = await claimNext(c);
  assert.equal(timeout2.length, 1);
  assert.equal(Transaction.fromBuffer(Buffer.from(timeout2[0]?.tx as Uint8Array)).locktime, base + 2);
  assert.equal(timeout2[0]?.feeSat, htlcTimeoutFeeSat('static_remotekey', COMMITMENT_FEERATE_PER_KW));
  assert.equal(await chain.height(), base + 3);
  await claimNext(c); // HTLC-timeout of 3
  // Then to_local (144 blocks after the commitment) and the four HTLC transactions' outputs
  // (144 blocks after each).
  while (c.resolution.pending.length > 0) await claimNext(c);
  assert.equal(c.resolution.resolved.length, 9);
  // Refused one block early wherever the chain was not already there: an HTLC-timeout
  // (nLockTime), to_local (CSV 144) and an HTLC transaction's output (CSV 144).
  assert.ok(c.refusedEarly.includes(timeout2[0]?.outputIds[0] as string));
  assert.ok(c.refusedEarly.includes(toLocal?.id as string));
  assert.ok(
    c.refusedEarly.some((id) => id.endsWith(':0') && c.confirmed.some((s) => s.txidHex === id.slice(0, 64))),
  );
  assert.ok(c.resolution.resolved.every((r) => r.byHolder));

  // Every satoshi of the holder's: to_local and the HTLC outputs, less each transaction's fee.
  const outputs = resolution.pending.reduce((sum, p) => sum + p.valueSat, 0n);
  const fees = c.confirmed.reduce((sum, s) => sum + s.feeSat, 0n);
  assert.equal(c.paidSat, outputs - fees);
});

test('their commitment: to_remote at once, their offered HTLCs with the preimage, ours back after cltv_expiry', async () => {
  const fx = await fundedChannel();
  const first = await fx.initialUpdate();
  const base = (await chain.height()) + 20;
  const holderMsat = 600_000_000n;
  const theirMsat = FUNDING_SAT * 1000n - holderMsat - HTLC_TOTAL_MSAT;
  const theirs = await fx.counterpartyCommitment(1n, {
    toLocalMsat: theirMsat,
    toRemoteMsat: holderMsat,
    htlcs: appendixCHtlcs('counterparty', base),
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'counterparty-commitment', commitment: theirs.commitment }],
    [
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x01) },
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x04) },
    ],
  ]);
  const commitment = await theirs.signed();
  const height = await broadcastAndMine(commitment);
  const resolution = resolveCommitment(monitor, commitment, height);
  assert.equal(resolution.kind, 'counterparty-commitment');
  // to_remote; HTLCs 1 and 4 they offered (0 is trimmed at their dust limit); 2 and 3 the holder offered.
  const byHtlc = (id: bigint) => resolution.pending.find((p) => p.htlc?.id === id);
  assert.equal(byHtlc(0n), undefined);
  assert.equal(byHtlc(1n)?.input?.witness, 'offered-htlc-preimage');
  assert.equal(byHtlc(2n)?.input?.witness, 'received-htlc-timeout');
  assert.equal(byHtlc(2n)?.locktime, base + 2);
  assert.equal(byHtlc(2n)?.spendableAtHeight, base + 3);
  const toRemote = resolution.pending.find((p) => p.output === 'to_remote');
  assert.equal(toRemote?.input?.witness, 'to-remote');
  assert.equal(toRemote?.spendableAtHeight, height + 1);

  const c = claimerOf(fx, monitor, resolution);
  const now = await claimNext(c);
  assert.equal(now.length, 3, 'to_remote and the two preimage claims at once');
  await claimNext(c); // HTLC 2 after base + 2
  await claimNext(c); // HTLC 3 after base + 3
  assert.equal(c.resolution.pending.length, 0);
  assert.ok(
    c.refusedEarly.includes(byHtlc(2n)?.id as string),
    'the timeout claim is refused before cltv_expiry',
  );
  assert.ok(c.resolution.resolved.every((r) => r.byHolder));
  const outputs = resolution.pending.reduce((sum, p) => sum + p.valueSat, 0n);
  const fees = c.confirmed.reduce((sum, s) => sum + s.feeSat, 0n);
  assert.equal(c.paidSat, outputs - fees);
});

/** A counterparty commitment 1 with the Appendix C HTLCs, signed by both, then revoked (2 replaces it). */
async function revokedCommitment(fx: ChannelFixture, base: number) {
  const first = await fx.initialUpdate();
  const holderMsat = 600_000_000n;
  const theirMsat = FUNDING_SAT * 1000n - holderMsat - HTLC_TOTAL_MSAT;
  const cheat = await fx.counterpartyCommitment(1n, {
    toLocalMsat: theirMsat,
    toRemoteMsat: holderMsat,
    htlcs: appendixCHtlcs('counterparty', base),
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  // What the counterparty keeps to cheat with: its commitment and its HTLC transactions, fully signed.
  const cheatTx = await cheat.signed();
  const htlcTxs = buildHtlcTransactions(cheat.built);
  const point = cheat.commitment.perCommitmentPoint;
  const ourHtlcSigs = (await signCounterpartyCommitment(fx.holder, cheat.built, htlcTxs, point))
    .htlcSignatures;
  const theirHtlcSigs = (await signHolderCommitment(fx.counterparty, cheat.built, htlcTxs)).htlcSignatures;
  const steps: MonitorUpdateStep[][] = [[{ kind: 'counterparty-commitment', commitment: cheat.commitment }]];
  steps.push([{ kind: 'commitment-secret', commitmentNumber: 0n, secret: await fx.counterpartySecret(0n) }]);
  const next = await fx.counterpartyCommitment(2n, {
    toLocalMsat: theirMsat + HTLC_TOTAL_MSAT,
    toRemoteMsat: holderMsat,
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  steps.push([{ kind: 'counterparty-commitment', commitment: next.commitment }]);
  steps.push([{ kind: 'commitment-secret', commitmentNumber: 1n, secret: await fx.counterpartySecret(1n) }]);
  return {
    monitor: monitorOf(fx, first.update, steps),
    cheatTx,
    /** The counterparty's HTLC-success of HTLC `id` (one the holder offered), with its preimage. */
    htlcSuccess: (id: bigint, preimage: Uint8Array) => {
      const i = htlcTxs.findIndex((h) => h.kind === 'htlc-success' && h.htlc.id === id);
      return finalizeHtlcTransaction(
        htlcTxs[i] as (typeof htlcTxs)[number],
        theirHtlcSigs[i] as Uint8Array,
        ourHtlcSigs[i] as Uint8Array,
        preimage,
      );
    },
  };
}

test('their revoked commitment: one justice transaction takes every output, at BOLT 5’s penalty weights', async () => {
  const fx = await fundedChannel();
  const base = (await chain.height()) + 100;
  const { monitor, cheatTx } = await revokedCommitment(fx, base);
  const height = await broadcastAndMine(cheatTx);
  const resolution = resolveCommitment(monitor, cheatTx, height);
  assert.equal(resolution.kind, 'counterparty-revoked-commitment');
  const c = claimerOf(fx, monitor, resolution);
  const plan = claimsToBroadcast(resolution, monitor, height, opts(c));
  assert.equal(plan.claims.length, 1, 'no deadline is near: one justice transaction');
  const justice = plan.claims[0];
  assert.ok(justice?.kind === 'sweep');
  // It spends every output of the revoked commitment.
  assert.deepEqual(
    justice.inputs.map((i) => i.vout).sort(),
    cheatTx.outs.map((_, vout) => vout),
  );
  // BOLT 5 weights: 53 bytes of non-witness data with a P2WSH output's 34-byte script (22 for this P2WPKH one),
  // the 2-byte witness header, to_local_penalty_input_weight 324, offered 407, accepted 413,
  // and the to_remote P2WPKH input (164 + 109).
  const offered = justice.inputs.filter((i) => i.witness === 'offered-htlc-revocation').length;
  const received = justice.inputs.filter((i) => i.witness === 'received-htlc-revocation').length;
  assert.deepEqual([offered, received], [2, 2]);
  assert.equal(
    justice.expectedWeight,
    4 * (53 - 34 + 22) + 2 + 324 + 407 * offered + 413 * received + 164 + 109,
  );
  await claimNext(c);
  assert.equal(c.resolution.pending.length, 0);
  const outputs = cheatTx.outs.reduce((sum, o) => sum + o.value, 0n);
  assert.equal(c.paidSat, outputs - (justice.feeSat as bigint));
});

test('their revoked commitment with an HTLC-success of theirs confirmed first: its output is taken too, HTLCs near their deadline alone', async () => {
  const fx = await fundedChannel();
  // Expiries within SECURITY_DELAY (18) blocks of the close: each HTLC is claimed on its own.
  const base = (await chain.height()) + 8;
  const { monitor, cheatTx, htlcSuccess } = await revokedCommitment(fx, base);
  const height = await broadcastAndMine(cheatTx);
  // They take HTLC 2 (the holder offered it) with its preimage before the justice transaction.
  const theirSecondStage = htlcSuccess(2n, preimageOf(0x02));
  const secondHeight = await broadcastAndMine(theirSecondStage);

  const resolution = resolveCommitment(monitor, cheatTx, height);
  const spend = resolveSpend(resolution, monitor, theirSecondStage, secondHeight);
  assert.deepEqual(spend.preimages, [preimageOf(0x02)], 'the preimage is learnt from their witness');
  const r = spend.resolution;
  assert.deepEqual(
    r.resolved.map((x) => x.byHolder),
    [false],
  );
  const output = r.pending.find((p) => p.source === 'revoked-htlc-transaction');
  assert.equal(output?.txidHex, theirSecondStage.getId());
  assert.equal(output?.input?.witness, 'to-local-revocation');
  assert.equal(output?.deadlineHeight, secondHeight + fx.channel.counterpartyToSelfDelay);

  const c = claimerOf(fx, monitor, r);
  const plan = claimsToBroadcast(r, monitor, secondHeight, opts(c));
  const alone = plan.claims.filter((x) => x.kind === 'sweep' && x.inputs.length === 1);
  const shared = plan.claims.filter((x) => x.kind === 'sweep' && x.inputs.length > 1);
  assert.equal(alone.length, 3, 'HTLCs 1, 3 and 4, each alone');
  assert.equal(shared.length, 1);
  assert.deepEqual(shared[0]?.kind === 'sweep' ? shared[0].inputs.map((i) => i.witness).sort() : [], [
    'to-local-revocation',
    'to-local-revocation',
    'to-remote',
  ]);
  await claimNext(c);
  assert.equal(c.resolution.pending.length, 0);
  // Every output of theirs but HTLC 2's, and HTLC 2's second-stage output instead.
  const outputs =
    cheatTx.outs.reduce((sum, o) => sum + o.value, 0n) -
    (resolution.pending.find((p) => p.htlc?.id === 2n)?.valueSat as bigint) +
    (theirSecondStage.outs[0]?.value as bigint);
  const fees = c.confirmed.reduce((sum, s) => sum + s.feeSat, 0n);
  assert.equal(c.paidSat, outputs - fees);
});

test('anchors, our commitment: zero-fee HTLC transactions paid by wallet inputs, then every delayed output', async () => {
  const fx = await fundedChannel('anchors_zero_fee_htlc_tx');
  const first = await fx.initialUpdate();
  const base = (await chain.height()) + 20;
  const toLocalMsat = 600_000_000n;
  const toRemoteMsat = FUNDING_SAT * 1000n - toLocalMsat - HTLC_TOTAL_MSAT;
  const ours = await fx.holderCommitment(1n, {
    toLocalMsat,
    toRemoteMsat,
    htlcs: appendixCHtlcs('holder', base),
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'holder-commitment', commitment: ours.commitment }],
    [0x00, 0x01, 0x04].map((b) => ({ kind: 'payment-preimage', paymentPreimage: preimageOf(b) }) as const),
  ]);
  const commitment = await ours.signed();
  const height = await broadcastAndMine(commitment);
  const resolution = resolveCommitment(monitor, commitment, height);
  // Zero-fee HTLC transactions trim nothing: all five HTLCs have outputs.
  assert.equal(resolution.pending.filter((p) => p.output === 'htlc').length, 5);
  const c = claimerOf(fx, monitor, resolution);
  await fundFeeInputs(c);
  const successes = await claimNext(c);
  assert.equal(successes.length, 1, 'the three HTLC-success transactions in one, with one fee input');
  const combined = Transaction.fromBuffer(Buffer.from(successes[0]?.tx as Uint8Array));
  assert.equal(combined.ins.length, 4, 'three HTLC inputs and the fee input');
  assert.equal(successes[0]?.outputIds.length, 3);
  while (c.resolution.pending.length > 0) await claimNext(c);
  // The HTLC-timeouts sign their own expiries as nLockTime (502, 503): one transaction each.
  assert.equal(c.feeInputs.length, FEE_INPUT_KEYS.length - 3, 'one fee input per transaction');
  assert.ok(c.resolution.resolved.every((r) => r.byHolder));
  assert.ok(c.refusedEarly.includes(resolution.pending.find((p) => p.output === 'to_local')?.id as string));
  const outputs = resolution.pending.reduce((sum, p) => sum + p.valueSat, 0n);
  const fees = c.confirmed.reduce((sum, s) => sum + s.feeSat, 0n);
  assert.equal(c.paidSat, outputs + c.feeInputSat - fees);
});

test('anchors, their commitment and a revoked one: 1-block CSV claims, HTLCs by preimage and timeout, justice', async () => {
  const fx = await fundedChannel('anchors_zero_fee_htlc_tx');
  const first = await fx.initialUpdate();
  const base = (await chain.height()) + 20;
  const holderMsat = 600_000_000n;
  const theirMsat = FUNDING_SAT * 1000n - holderMsat - HTLC_TOTAL_MSAT;
  const theirs = await fx.counterpartyCommitment(1n, {
    toLocalMsat: theirMsat,
    toRemoteMsat: holderMsat,
    htlcs: appendixCHtlcs('counterparty', base),
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'counterparty-commitment', commitment: theirs.commitment }],
    [0x00, 0x01, 0x04].map((b) => ({ kind: 'payment-preimage', paymentPreimage: preimageOf(b) }) as const),
  ]);
  const commitment = await theirs.signed();
  const height = await broadcastAndMine(commitment);
  const resolution = resolveCommitment(monitor, commitment, height);
  assert.ok(
    resolution.pending.every((p) => p.input?.csvDelay === 1),
    'every claim waits one block (BOLT 3 anchors)',
  );
  const c = claimerOf(fx, monitor, resolution);
  // nSequence 1 on each: with 0 the script's `1 OP_CSV` fails and bcoin refuses the claims below.
  const plan = claimsToBroadcast(resolution, monitor, height, opts(c));
  assert.equal(plan.claims.length, 4, 'to_remote and the three preimage claims');
  while (c.resolution.pending.length > 0) await claimNext(c);
  const outputs = resolution.pending.reduce((sum, p) => sum + p.valueSat, 0n);
  const fees = c.confirmed.reduce((sum, s) => sum + s.feeSat, 0n);
  assert.equal(c.paidSat, outputs - fees);

  // A revoked anchors commitment: one justice transaction, anchors' 3 longer HTLC scripts.
  const fx2 = await fundedChannel('anchors_zero_fee_htlc_tx');
  const { monitor: m2, cheatTx } = await revokedCommitment(fx2, (await chain.height()) + 100);
  const h2 = await broadcastAndMine(cheatTx);
  const r2 = resolveCommitment(m2, cheatTx, h2);
  const c2 = claimerOf(fx2, m2, r2);
  const justice = claimsToBroadcast(r2, m2, h2, opts(c2)).claims;
  assert.equal(justice.length, 1);
  const j = justice[0];
  assert.ok(j?.kind === 'sweep');
  // Every output but the two 330 sat anchors (not claimed here).
  assert.equal(j.inputs.length, cheatTx.outs.length - 2);
  const offered = j.inputs.filter((i) => i.witness === 'offered-htlc-revocation').length;
  const received = j.inputs.filter((i) => i.witness === 'received-htlc-revocation').length;
  assert.equal(
    j.expectedWeight,
    4 * (4 + 1 + 1 + 31 + 4) + 2 + 324 + (407 + 3) * offered + (413 + 3) * received + 164 + 1 + 74 + 1 + 37,
  );
  await claimNext(c2);
  assert.equal(c2.resolution.pending.length, 0);
});

test('a depth-2 reorg under a claim: the claim is made again, the same transaction, and confirms on the new chain', async () => {
  const fx = await fundedChannel();
  const first = await fx.initialUpdate();
  const theirs = await fx.counterpartyCommitment(1n, {
    toLocalMsat: 400_000_000n,
    toRemoteMsat: 600_000_000n,
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'counterparty-commitment', commitment: theirs.commitment }],
  ]);
  const commitment = await theirs.signed();
  const height = await broadcastAndMine(commitment);
  const c = claimerOf(fx, monitor, resolveCommitment(monitor, commitment, height));
  const [claim] = await claimNext(c);
  assert.equal(c.resolution.resolved[0]?.height, height + 1);
  await chain.mine(1);
  await chain.reorg(2);
  assert.equal(await confirmations(claim?.txidHex as string), 0, 'the claim is unconfirmed again');
  const undone = disconnectResolution(c.resolution, height + 1);
  assert.ok(undone);
  assert.equal(undone.pending.length, 1);
  const again = claimsToBroadcast(undone, monitor, await chain.height(), opts(c)).claims[0];
  assert.ok(again);
  const signed = await signClaim(again, c.signer);
  assert.equal(signed.txidHex, claim?.txidHex, 'the same claim: no second spend to race the first');
  await chain.sendRawTransaction(Buffer.from(signed.tx).toString('hex'));
  await chain.mine(1);
  assert.equal(await confirmations(signed.txidHex), 1);
  const after = resolveSpend(
    undone,
    monitor,
    Transaction.fromBuffer(Buffer.from(signed.tx)),
    await chain.height(),
  );
  assert.equal(after.resolution.pending.length, 0);
  // The commitment's own block disconnected: nothing is left to claim from it.
  assert.equal(disconnectResolution(after.resolution, height), undefined);
});
