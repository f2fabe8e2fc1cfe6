/**
 * Commitments per second, both sides of commitment_signed, with 0, 30 and 100 HTLCs, each beside
 * its signatures-only ceiling measured in the same run:
 * - build_and_sign (sending commitment_signed): derive the counterparty commitment's keys from
 *   its per_commitment_point, build it and its HTLC transactions, compute every sighash, and sign
 *   the commitment plus one signature per HTLC through the ChannelSigner (its policy checks and
 *   the HTLC key's derivation included) — in-thread, and through the signer pool that keeps the
 *   channel secrets resident in its workers (one channel, and 8 channels at once as a busy
 *   routing node has them). Ceiling: the 1 + HTLCs signatures alone, in-thread, on the same
 *   backend (`secp.sign`), digests and keys ready;
 * - build_and_verify (receiving it): derive our commitment's keys, build it and its HTLC
 *   transactions, compute every sighash, and verify the counterparty's signatures — in-thread,
 *   and batched into a CryptoPool. Ceiling: the 1 + HTLCs verifications alone, in-thread.
 * Arms are measured in turn, round after round (`interleaved`); `ratio` is the median of the
 * round-by-round ratios of the full figure to its ceiling.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoPool, inThreadCrypto, randomBytes, secp, sha256 } from '@lnkit/crypto';
import { type ChannelSigner, ChannelSignerPool, KeysManager, loadOrCreateSeed } from '@lnkit/keys';
import {
  buildCommitmentTransaction,
  buildHtlcTransactions,
  type CommitmentHtlc,
  type CommitmentParams,
  deriveCommitmentKeys,
  obscuringFactor,
  signCounterpartyCommitment,
  verifyCounterpartySignatures,
} from '@lnkit/tx';
import { type Emit, interleaved, median, medianRatio, round } from './harness.ts';

const FUNDING_SAT = 10_000_000n;
const HTLC_COUNTS = [0, 30, 100];
const ROUNDS = 5;
/** Each arm's time per round, by HTLC count (the 100-HTLC arms run at a few dozen per second). */
const ROUND_MS: Record<number, number> = { 0: 600, 30: 1000, 100: 1500 };
/** Per-commitment points cycled through, as each new commitment brings a new one. */
const POINTS = 8;

function htlcsOf(count: number): CommitmentHtlc[] {
  return Array.from({ length: count }, (_, i) => ({
    direction: i % 2 === 0 ? 'offered' : 'received',
    amountMsat: 10_000_000n + BigInt(i) * 1000n,
    paymentHash: sha256(Uint8Array.of(i & 0xff, i >> 8)),
    cltvExpiry: 500_000 + i,
  }));
}

/** One side's view of a channel between `owner` (whose commitment it is) and `other`. */
function commitmentParams(
  owner: ChannelSigner,
  other: ChannelSigner,
  ownerPoint: Uint8Array,
  commitmentNumber: bigint,
  htlcs: CommitmentHtlc[],
): CommitmentParams {
  const htlcTotal = htlcs.reduce((s, h) => s + h.amountMsat, 0n);
  return {
    channelType: 'anchors_zero_fee_htlc_tx',
    fundingOutpoint: { txid: new Uint8Array(32).fill(1), vout: 0 },
    fundingSat: FUNDING_SAT,
    localFundingPubkey: owner.pubkeys.fundingPubkey,
    remoteFundingPubkey: other.pubkeys.fundingPubkey,
    commitmentNumber,
    obscuringFactor: obscuringFactor(other.pubkeys.paymentBasepoint, owner.pubkeys.paymentBasepoint),
    toLocalMsat: 4_000_000_000n,
    toRemoteMsat: FUNDING_SAT * 1000n - 4_000_000_000n - htlcTotal,
    localIsFunder: false,
    feeratePerKw: 2500n,
    dustLimitSat: 546n,
    toSelfDelay: 144,
    // The keys of this commitment, from the owner's per_commitment_point (BOLT 3).
    keys: deriveCommitmentKeys({
      perCommitmentPoint: ownerPoint,
      ownerDelayedPaymentBasepoint: owner.pubkeys.delayedPaymentBasepoint,
      ownerHtlcBasepoint: owner.pubkeys.htlcBasepoint,
      otherRevocationBasepoint: other.pubkeys.revocationBasepoint,
      otherHtlcBasepoint: other.pubkeys.htlcBasepoint,
      otherPaymentBasepoint: other.pubkeys.paymentBasepoint,
    }),
    htlcs,
  };
}

async function points(signer: ChannelSigner): Promise<Uint8Array[]> {
  return Promise.all(Array.from({ length: POINTS }, (_, i) => signer.getPerCommitmentPoint(BigInt(i))));
}

/** Sending commitment_signed: `ours` signs the counterparty's next commitment, built from scratch. */
async function signer(ours: ChannelSigner, htlcCount: number) {
  const theirs = new KeysManager(randomBytes(32)).createChannelSigner(0n);
  const theirPoints = await points(theirs);
  const htlcs = htlcsOf(htlcCount);
  let commitmentNumber = 0n;
  return async () => {
    const point = theirPoints[Number(commitmentNumber % BigInt(POINTS))]!;
    const commitment = buildCommitmentTransaction(
      commitmentParams(theirs, ours, point, commitmentNumber++, htlcs),
    );
    const htlcTxs = buildHtlcTransactions(commitment);
    const sigs = await signCounterpartyCommitment(ours, commitment, htlcTxs, point);
    if (sigs.htlcSignatures.length !== htlcCount) throw new Error('an HTLC was trimmed');
  };
}

/** Receiving commitment_signed: we rebuild our commitment and check the counterparty's signatures. */
async function verifier(htlcCount: number, crypto?: CryptoPool) {
  const ours = new KeysManager(randomBytes(32)).createChannelSigner(0n);
  const theirs = new KeysManager(randomBytes(32)).createChannelSigner(0n);
  const ourPoints = await points(ours);
  const htlcs = htlcsOf(htlcCount);
  // What the counterparty sent for each of our commitments.
  const received: Awaited<ReturnType<typeof signCounterpartyCommitment>>[] = [];
  for (let n = 0; n < POINTS; n++) {
    const commitment = buildCommitmentTransaction(
      commitmentParams(ours, theirs, ourPoints[n]!, BigInt(n), htlcs),
    );
    received.push(
      await signCounterpartyCommitment(theirs, commitment, buildHtlcTransactions(commitment), ourPoints[n]!),
    );
  }
  let i = 0;
  return async () => {
    const n = i++ % POINTS;
    const commitment = buildCommitmentTransaction(
      commitmentParams(ours, theirs, ourPoints[n]!, BigInt(n), htlcs),
    );
    const htlcTxs = buildHtlcTransactions(commitment);
    const check = await verifyCounterpartySignatures(commitment, htlcTxs, received[n]!, {
      ...(crypto ? { crypto, minBatchForCrypto: 1 } : {}),
    });
    if (!check.valid || check.htlcs.length !== htlcCount) throw new Error('a signature did not verify');
  };
}

/** The signatures alone: 1 + HTLCs signs, or verifies, with digests and keys ready. */
function ceilings(htlcCount: number) {
  const key = randomBytes(32);
  const pub = secp.publicKey(key);
  const digests = Array.from({ length: 1 + htlcCount }, () => randomBytes(32));
  const sigs = digests.map((d) => secp.sign(d, key));
  return {
    sign: () => {
      for (const d of digests) secp.sign(d, key);
    },
    verify: () => {
      for (const [i, d] of digests.entries()) if (!secp.verify(sigs[i]!, d, pub)) throw new Error('bad');
    },
  };
}

export default async function commitmentBench(emit: Emit): Promise<void> {
  const pool = new CryptoPool();
  const dataDir = mkdtempSync(join(tmpdir(), 'lnkit-bench-signer-'));
  loadOrCreateSeed(dataDir);
  const signerPool = new ChannelSignerPool({ dataDir });
  let channelIndex = 0n;
  const pooled = () => signerPool.createChannelSigner(channelIndex++);
  const inThread = () => new KeysManager(randomBytes(32), { crypto: inThreadCrypto }).createChannelSigner(0n);
  try {
    for (const htlcs of HTLC_COUNTS) {
      const ceiling = ceilings(htlcs);
      const eight = await Promise.all(Array.from({ length: 8 }, async () => signer(await pooled(), htlcs)));
      const arms = {
        'sign-ceiling': ceiling.sign,
        'sign-in-thread': await signer(inThread(), htlcs),
        'sign-signer-pool': await signer(await pooled(), htlcs),
        // Eight channels at once, counted as one op of eight commitments.
        'sign-signer-pool-x8': () => Promise.all(eight.map((f) => f())),
        'verify-ceiling': ceiling.verify,
        'verify-in-thread': await verifier(htlcs),
        'verify-crypto-pool': await verifier(htlcs, pool),
      };
      const r = await interleaved(arms, ROUNDS, ROUND_MS[htlcs]!);
      const common = {
        unit: 'commitments/s',
        htlcs,
        signatures: 1 + htlcs,
        rounds: ROUNDS,
        loadAverage: round(loadavg()[0]!, 1),
      };
      const full = (
        name: string,
        arm: keyof typeof arms,
        ceilingArm: keyof typeof arms,
        labels: Record<string, string | number>,
        scale = 1,
      ) => {
        const values = r[arm]!.map((v) => v * scale);
        emit({
          name,
          value: round(median(values)),
          ...common,
          ...labels,
          ceiling: round(median(r[ceilingArm]!)),
          ratio: round(medianRatio(values, r[ceilingArm]!), 2),
          perRound: values.map((v) => round(v)).join(' '),
        });
      };
      emit({
        name: 'tx.commitment.sign_only',
        value: round(median(r['sign-ceiling']!)),
        ...common,
        placement: 'in-thread',
        backend: secp.backend,
        includes: 'signatures',
      });
      const signIncludes = 'keys+commitment+htlc txs+sighashes+signer';
      full('tx.commitment.build_and_sign', 'sign-in-thread', 'sign-ceiling', {
        placement: 'in-thread',
        concurrency: 1,
        includes: signIncludes,
      });
      full('tx.commitment.build_and_sign', 'sign-signer-pool', 'sign-ceiling', {
        placement: 'signer-pool',
        threads: signerPool.threads,
        concurrency: 1,
        includes: signIncludes,
      });
      full(
        'tx.commitment.build_and_sign',
        'sign-signer-pool-x8',
        'sign-ceiling',
        { placement: 'signer-pool', threads: signerPool.threads, concurrency: 8, includes: signIncludes },
        8,
      );
      emit({
        name: 'tx.commitment.verify_only',
        value: round(median(r['verify-ceiling']!)),
        ...common,
        placement: 'in-thread',
        backend: secp.backend,
        includes: 'verifications',
      });
      const verifyIncludes = 'keys+commitment+htlc txs+sighashes+verify';
      full('tx.commitment.build_and_verify', 'verify-in-thread', 'verify-ceiling', {
        placement: 'in-thread',
        includes: verifyIncludes,
      });
      full('tx.commitment.build_and_verify', 'verify-crypto-pool', 'verify-ceiling', {
        placement: 'crypto-pool',
        threads: pool.threads,
        includes: verifyIncludes,
      });
    }
  } finally {
    await pool.close();
    await signerPool.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
