/**
 * Commitment transactions built and signed per second (what sending commitment_signed costs):
 * build the commitment and its HTLC transactions, compute every sighash, and sign the
 * commitment plus one signature per HTLC through the ChannelSigner, with 0, 10 and 100 HTLCs,
 * in-thread, through the crypto pool (keys sent with each request), and through the signer pool
 * that keeps the channel secrets resident in its workers (one commitment at a time, and 8
 * channels at once as a busy routing node would have).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoPool, type CryptoService, inThreadCrypto, randomBytes, sha256 } from '@lnkit/crypto';
import { type ChannelSigner, ChannelSignerPool, KeysManager, loadOrCreateSeed } from '@lnkit/keys';
import {
  buildCommitmentTransaction,
  buildHtlcTransactions,
  type CommitmentHtlc,
  deriveCommitmentKeys,
  obscuringFactor,
  signCounterpartyCommitment,
} from '@lnkit/tx';
import { type Emit, opsPerSecond, round } from './harness.ts';

const FUNDING_SAT = 10_000_000n;

type SignerSource = CryptoService | ChannelSignerPool;

async function setup(source: SignerSource, htlcCount: number, channelIndex: bigint) {
  const local: ChannelSigner =
    source instanceof ChannelSignerPool
      ? await source.createChannelSigner(channelIndex)
      : new KeysManager(randomBytes(32), { crypto: source }).createChannelSigner(channelIndex);
  const remote = new KeysManager(randomBytes(32)).createChannelSigner(channelIndex);
  const remotePoint = await remote.getPerCommitmentPoint(0n);
  const htlcs: CommitmentHtlc[] = Array.from({ length: htlcCount }, (_, i) => ({
    direction: i % 2 === 0 ? 'offered' : 'received',
    amountMsat: 10_000_000n + BigInt(i) * 1000n,
    paymentHash: sha256(Uint8Array.of(i & 0xff, i >> 8)),
    cltvExpiry: 500_000 + i,
  }));
  const htlcTotal = htlcs.reduce((s, h) => s + h.amountMsat, 0n);
  // The remote's commitment, which we sign and send in commitment_signed.
  const keys = deriveCommitmentKeys({
    perCommitmentPoint: remotePoint,
    ownerDelayedPaymentBasepoint: remote.pubkeys.delayedPaymentBasepoint,
    ownerHtlcBasepoint: remote.pubkeys.htlcBasepoint,
    otherRevocationBasepoint: local.pubkeys.revocationBasepoint,
    otherHtlcBasepoint: local.pubkeys.htlcBasepoint,
    otherPaymentBasepoint: local.pubkeys.paymentBasepoint,
  });
  let commitmentNumber = 0n;
  return async () => {
    const commitment = buildCommitmentTransaction({
      channelType: 'anchors_zero_fee_htlc_tx',
      fundingOutpoint: { txid: new Uint8Array(32).fill(1), vout: 0 },
      fundingSat: FUNDING_SAT,
      localFundingPubkey: remote.pubkeys.fundingPubkey,
      remoteFundingPubkey: local.pubkeys.fundingPubkey,
      commitmentNumber: commitmentNumber++,
      obscuringFactor: obscuringFactor(local.pubkeys.paymentBasepoint, remote.pubkeys.paymentBasepoint),
      toLocalMsat: 4_000_000_000n,
      toRemoteMsat: FUNDING_SAT * 1000n - 4_000_000_000n - htlcTotal,
      localIsFunder: false,
      feeratePerKw: 2500n,
      dustLimitSat: 546n,
      toSelfDelay: 144,
      keys,
      htlcs,
    });
    const htlcTxs = buildHtlcTransactions(commitment);
    const sigs = await signCounterpartyCommitment(local, commitment, htlcTxs, remotePoint);
    if (sigs.htlcSignatures.length !== htlcCount) throw new Error('an HTLC was trimmed');
  };
}

export default async function commitmentBench(emit: Emit): Promise<void> {
  const pool = new CryptoPool();
  const dataDir = mkdtempSync(join(tmpdir(), 'lnkit-bench-signer-'));
  loadOrCreateSeed(dataDir);
  const signerPool = new ChannelSignerPool({ dataDir });
  const placements: [string, SignerSource, number][] = [
    ['in-thread', inThreadCrypto, 1],
    ['pool', pool, pool.threads],
    ['pool-keyed', signerPool, signerPool.threads],
  ];
  try {
    for (const htlcs of [0, 10, 100]) {
      const ms = htlcs === 100 ? 3000 : 1500;
      let channelIndex = 0n;
      for (const [placement, source, threads] of placements) {
        const one = await setup(source, htlcs, channelIndex++);
        emit({
          name: 'tx.commitment.build_and_sign',
          value: round(await opsPerSecond(one, ms)),
          unit: 'commitments/s',
          htlcs,
          placement,
          threads,
          concurrency: 1,
        });
        if (placement === 'in-thread') continue;
        // Eight channels signing at once: the pool's threads work in parallel.
        const channels: (() => Promise<void>)[] = [];
        for (let i = 0; i < 8; i++) channels.push(await setup(source, htlcs, channelIndex++));
        const parallel = await opsPerSecond(() => Promise.all(channels.map((f) => f())), ms, channels.length);
        emit({
          name: 'tx.commitment.build_and_sign',
          value: round(parallel),
          unit: 'commitments/s',
          htlcs,
          placement,
          threads,
          concurrency: 8,
        });
      }
    }
  } finally {
    await pool.close();
    await signerPool.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
