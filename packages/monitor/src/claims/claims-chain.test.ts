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
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { KeysManager } from '@lnkit/keys';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import {
  buildFundingTransaction,
  ChannelKeysClaimSigner,
  type CommitmentHtlc,
  encodeSignature,
  htlcSuccessFeeSat,
  htlcTimeoutFeeSat,
  p2wpkh,
  SIGHASH_ALL,
  Transaction,
} from '@lnkit/tx';
import { script as bscript, crypto as btcCrypto, opcodes as OPS } from 'bitcoinjs-lib';
import { applyMonitorUpdate, createMonitor } from '../monitor.ts';
import { ChannelFixture } from '../test-fixtures.ts';
import type { ChannelMonitor, ChannelMonitorUpdate, MonitorUpdateStep } from '../types.ts';
import { claimsToBroadcast } from './plan.ts';
import { resolveCommitment } from './resolve.ts';
import { signClaim } from './sign.ts';
import { resolveSpend } from './spends.ts';
import type { ChainResolution, SignedClaim } from './types.ts';

/**
 * BOLT 3 Appendix C "Commitment and HTLC Transaction Test Vectors": its five HTLCs (amounts,
 * preimages, expiries 500-504), directions from the commitment owner's view ("remote->local"
 * is received by the owner). Expiries are moved to `base + (expiry - 500)` on this chain.
 */
const APPENDIX_C_HTLCS = [
  { direction: 'received', amountMsat: 1_000_000n, cltvExpiry: 500, preimageByte: 0x00 },
  { direction: 'received', amountMsat: 2_000_000n, cltvExpiry: 501, preimageByte: 0x01 },
  { direction: 'offered', amountMsat: 2_000_000n, cltvExpiry: 502, preimageByte: 0x02 },
  { direction: 'offered', amountMsat: 3_000_000n, cltvExpiry: 503, preimageByte: 0x03 },
  { direction: 'received', amountMsat: 4_000_000n, cltvExpiry: 504, preimageByte: 0x04 },
] as const;
const HTLC_TOTAL_MSAT = 12_000_000n;

const preimageOf = (byte: number) => new Uint8Array(32).fill(byte);
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** The Appendix C HTLCs of a commitment whose owner is `owner`, with expiries from `base`. */
function appendixCHtlcs(owner: 'holder' | 'counterparty', base: number): CommitmentHtlc[] {
  return APPENDIX_C_HTLCS.map((h, i) => ({
    // The vectors' owner is the holder; for the counterparty's commitment each is the other way.
    direction:
      owner === 'holder'
        ? h.direction
        : h.direction === 'offered'
          ? ('received' as const)
          : ('offered' as const),
    amountMsat: h.amountMsat,
    paymentHash: sha256(preimageOf(h.preimageByte)),
    cltvExpiry: base + (h.cltvExpiry - 500),
    id: BigInt(i),
  }));
}

const FUNDING_SAT = 1_000_000n;
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

const p2wpkhScriptCode = (pubkey: Uint8Array) =>
  bscript.compile([
    OPS.OP_DUP,
    OPS.OP_HASH160,
    btcCrypto.hash160(pubkey),
    OPS.OP_EQUALVERIFY,
    OPS.OP_CHECKSIG,
  ]);

/** A channel funded on chain by the holder: the fixture's signers on the real funding outpoint. */
async function fundedChannel(): Promise<ChannelFixture> {
  const holderSeed = new Uint8Array(randomBytes(32));
  const counterpartySeed = new Uint8Array(randomBytes(32));
  const keys = new ChannelFixture({ holderSeed, counterpartySeed });
  const walletKeys = new KeysManager(holderSeed);
  const walletPub = walletKeys.walletPublicKey(0n);
  const coin = await chain.fundScript(p2wpkh(walletPub), FUNDING_SAT + 100_000n);
  await chain.mine(1);
  const funding = buildFundingTransaction({
    inputs: [{ txid: Uint8Array.from(Buffer.from(coin.txid, 'hex')).reverse(), vout: coin.vout }],
    fundingSat: FUNDING_SAT,
    localFundingPubkey: keys.holder.pubkeys.fundingPubkey,
    remoteFundingPubkey: keys.counterparty.pubkeys.fundingPubkey,
    change: { scriptPubKey: p2wpkh(walletPub), valueSat: 98_000n },
  });
  const sighash = funding.tx.hashForWitnessV0(0, p2wpkhScriptCode(walletPub), coin.valueSat, SIGHASH_ALL);
  funding.tx.setWitness(0, [
    encodeSignature(await walletKeys.signWithWalletKey(0n, sighash), SIGHASH_ALL),
    walletPub,
  ]);
  await chain.sendRawTransaction(funding.tx.toHex());
  await chain.mine(1);
  return new ChannelFixture({
    holderSeed,
    counterpartySeed,
    fundingSat: FUNDING_SAT,
    fundingOutpoint: { txid: new Uint8Array(funding.tx.getHash()), vout: funding.fundingOutputIndex },
  });
}

/** A monitor made of update 1 and then one update per group of steps. */
function monitorOf(
  fx: ChannelFixture,
  first: ChannelMonitorUpdate,
  steps: MonitorUpdateStep[][],
): ChannelMonitor {
  let m = createMonitor(first, fx.bestBlock);
  let id = 2n;
  for (const s of steps)
    m = applyMonitorUpdate(m, { channelId: fx.info.channelId, updateId: id++, steps: s });
  return m;
}

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
  };
}

const opts = (c: Claimer) => ({ feeratePerKw: CLAIM_FEERATE_PER_KW, destinationScript: c.destination });

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
  const signed = await Promise.all(plan.claims.map((claim) => signClaim(claim, c.signer)));
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
      const fee = (CLAIM_FEERATE_PER_KW * BigInt(expectedWeight)) / 1000n;
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
