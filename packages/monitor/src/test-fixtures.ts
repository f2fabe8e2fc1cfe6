/**
 * Test fixtures: a channel between two real lnkit signers, its commitments built and signed
 * with @lnkit/tx as the channel core would, and the monitor updates made from them. Used by
 * this package's tests and by test/chain-tx (which gives it a funding outpoint on a real chain).
 */
import { createHash, randomBytes } from 'node:crypto';
import { type DefaultChannelSigner, KeysManager } from '@lnkit/keys';
import {
  buildCommitmentTransaction,
  buildHtlcTransactions,
  type ChannelType,
  type CommitmentHtlc,
  type CommitmentTransaction,
  deriveCommitmentKeys,
  finalizeCommitment,
  fundingScript,
  type OutPoint,
  obscuringFactor,
  p2wsh,
  signCounterpartyCommitment,
  signHolderCommitment,
  type Transaction,
} from '@lnkit/tx';
import { channelParameters, commitmentData, holderCommitmentData } from './commitment.ts';
import type {
  BestBlock,
  ChannelInfo,
  ChannelMonitorUpdate,
  ChannelParameters,
  ChannelSideParams,
  CommitmentData,
  HolderCommitmentData,
} from './types.ts';

export interface FixtureOptions {
  channelType?: ChannelType;
  holderIsFunder?: boolean;
  fundingSat?: bigint;
  fundingOutpoint?: OutPoint;
  bestBlock?: BestBlock;
  /** Seeds, so a test can rebuild the same signers (a restart). */
  holderSeed?: Uint8Array;
  counterpartySeed?: Uint8Array;
}

export interface CommitmentState {
  /** The commitment owner's balance and the other side's, HTLCs taken out. */
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  htlcs?: CommitmentHtlc[];
  feeratePerKw?: bigint;
}

export interface BuiltHolder {
  commitment: HolderCommitmentData;
  built: CommitmentTransaction;
  /** Signed by both sides, ready for the chain. */
  signed(): Promise<Transaction>;
}

export interface BuiltCounterparty {
  commitment: CommitmentData;
  built: CommitmentTransaction;
  signed(): Promise<Transaction>;
}

/** A channel between a holder and a counterparty, each with its own KeysManager and signer. */
export class ChannelFixture {
  readonly holder: DefaultChannelSigner;
  readonly counterparty: DefaultChannelSigner;
  readonly holderKeys: KeysManager;
  readonly info: ChannelInfo;
  readonly channel: ChannelParameters;
  readonly bestBlock: BestBlock;

  constructor(options: FixtureOptions = {}) {
    this.holderKeys = new KeysManager(options.holderSeed ?? randomBytes(32));
    const counterpartyKeys = new KeysManager(options.counterpartySeed ?? randomBytes(32));
    this.holder = this.holderKeys.createChannelSigner(7n);
    this.counterparty = counterpartyKeys.createChannelSigner(3n);
    const fundingOutpoint = options.fundingOutpoint ?? { txid: new Uint8Array(randomBytes(32)), vout: 1 };
    const channelId = Uint8Array.from(fundingOutpoint.txid).reverse();
    const side = (
      keys: DefaultChannelSigner['pubkeys'],
      dustLimitSat: bigint,
      toSelfDelay: number,
    ): ChannelSideParams => ({
      dustLimitSat,
      maxHtlcValueInFlightMsat: 1_000_000_000n,
      channelReserveSat: 10_000n,
      htlcMinimumMsat: 1n,
      toSelfDelay,
      maxAcceptedHtlcs: 483,
      ...keys,
    });
    const isFunder = options.holderIsFunder ?? true;
    // The holder asks for 120 blocks on the counterparty's to_local; the counterparty for 144 on ours.
    const local = side(this.holder.pubkeys, 546n, 120);
    const remote = side(this.counterparty.pubkeys, 354n, 144);
    const [opener, accepter] = isFunder ? [local, remote] : [remote, local];
    const script = fundingScript(local.fundingPubkey, remote.fundingPubkey);
    this.info = {
      channelId,
      counterpartyNodeId: Buffer.from(counterpartyKeys.nodeId).toString('hex'),
      isFunder,
      channelType: options.channelType ?? 'static_remotekey',
      announce: false,
      fundingOutpoint,
      fundingSat: options.fundingSat ?? 1_000_000n,
      fundingScript: script,
      fundingScriptPubKey: p2wsh(script),
      channelKeyIndex: 7n,
      local,
      remote,
      commitmentNumberObscure: obscuringFactor(opener.paymentBasepoint, accepter.paymentBasepoint),
      minimumDepth: 3,
      createdAtHeight: 100,
    };
    this.channel = channelParameters(this.info);
    this.bestBlock = options.bestBlock ?? { hashHex: '00'.repeat(32), height: 100 };
  }

  private params(owner: 'holder' | 'counterparty', n: bigint, s: CommitmentState, point: Uint8Array) {
    const c = this.channel;
    const mine = owner === 'holder' ? c.holderPubkeys : c.counterpartyPubkeys;
    const other = owner === 'holder' ? c.counterpartyPubkeys : c.holderPubkeys;
    return {
      channelType: c.channelType,
      fundingOutpoint: c.fundingOutpoint,
      fundingSat: c.fundingSat,
      localFundingPubkey: mine.fundingPubkey,
      remoteFundingPubkey: other.fundingPubkey,
      commitmentNumber: n,
      obscuringFactor: c.obscuringFactor,
      toLocalMsat: s.toLocalMsat,
      toRemoteMsat: s.toRemoteMsat,
      localIsFunder: owner === 'holder' ? c.holderIsFunder : !c.holderIsFunder,
      feeratePerKw: s.feeratePerKw ?? 2500n,
      dustLimitSat: owner === 'holder' ? this.info.local.dustLimitSat : this.info.remote.dustLimitSat,
      toSelfDelay: owner === 'holder' ? c.holderToSelfDelay : c.counterpartyToSelfDelay,
      keys: deriveCommitmentKeys({
        perCommitmentPoint: point,
        ownerDelayedPaymentBasepoint: mine.delayedPaymentBasepoint,
        ownerHtlcBasepoint: mine.htlcBasepoint,
        otherRevocationBasepoint: other.revocationBasepoint,
        otherHtlcBasepoint: other.htlcBasepoint,
        otherPaymentBasepoint: other.paymentBasepoint,
      }),
      htlcs: s.htlcs ?? [],
    };
  }

  /** The holder's commitment `n`, with the counterparty's signatures (its commitment_signed). */
  async holderCommitment(n: bigint, s: CommitmentState): Promise<BuiltHolder> {
    const point = await this.holder.getPerCommitmentPoint(n);
    const built = buildCommitmentTransaction(this.params('holder', n, s, point));
    const htlcTxs = buildHtlcTransactions(built);
    const theirs = await signCounterpartyCommitment(this.counterparty, built, htlcTxs, point);
    await this.holder.validateHolderCommitment(n);
    return {
      commitment: holderCommitmentData(built, point, theirs.signature, theirs.htlcSignatures),
      built,
      signed: async () => {
        const ours = await signHolderCommitment(this.holder, built, htlcTxs);
        return finalizeCommitment(built, ours.signature, theirs.signature);
      },
    };
  }

  /** The counterparty's commitment `n`, as the holder builds it to sign it (commitment_signed). */
  async counterpartyCommitment(n: bigint, s: CommitmentState): Promise<BuiltCounterparty> {
    const point = await this.counterparty.getPerCommitmentPoint(n);
    const built = buildCommitmentTransaction(this.params('counterparty', n, s, point));
    const htlcTxs = buildHtlcTransactions(built);
    const ours = await signCounterpartyCommitment(this.holder, built, htlcTxs, point);
    return {
      commitment: commitmentData(built, point),
      built,
      signed: async () => {
        await this.counterparty.validateHolderCommitment(n);
        const theirs = await signHolderCommitment(this.counterparty, built, htlcTxs);
        return finalizeCommitment(built, theirs.signature, ours.signature);
      },
    };
  }

  /** The counterparty revokes its commitment `n` (it holds `n + 1`): its revoke_and_ack secret. */
  async counterpartySecret(n: bigint): Promise<Uint8Array> {
    await this.counterparty.validateHolderCommitment(n + 1n);
    return this.counterparty.releaseCommitmentSecret(n);
  }

  /** Update 1 with both first commitments, the holder holding `holderMsat`. */
  async initialUpdate(holderMsat = 700_000_000n): Promise<{
    update: ChannelMonitorUpdate;
    holder: BuiltHolder;
    counterparty: BuiltCounterparty;
  }> {
    const remoteMsat = this.channel.fundingSat * 1000n - holderMsat;
    const holder = await this.holderCommitment(0n, { toLocalMsat: holderMsat, toRemoteMsat: remoteMsat });
    const counterparty = await this.counterpartyCommitment(0n, {
      toLocalMsat: remoteMsat,
      toRemoteMsat: holderMsat,
    });
    return {
      update: {
        channelId: this.info.channelId,
        updateId: 1n,
        steps: [
          {
            kind: 'channel-opened',
            ...this.info,
            holderCommitment: holder.commitment,
            counterpartyCommitment: counterparty.commitment,
          },
        ],
      },
      holder,
      counterparty,
    };
  }
}

/**
 * A channel with some history, as updates 2.. after `initialUpdate`: a counterparty commitment
 * with an HTLC, its predecessor revoked, a holder commitment with the HTLC, a preimage. Each
 * call gives the next `count` updates.
 */
export async function historyUpdates(fx: ChannelFixture, count: number): Promise<ChannelMonitorUpdate[]> {
  const updates: ChannelMonitorUpdate[] = [];
  let id = 2n;
  const push = (step: ChannelMonitorUpdate['steps'][number]) =>
    updates.push({ channelId: fx.info.channelId, updateId: id++, steps: [step] });
  for (let n = 1n; updates.length < count; n++) {
    const paymentPreimage = new Uint8Array(randomBytes(32));
    const htlc: CommitmentHtlc = {
      direction: 'received',
      amountMsat: 10_000_000n,
      paymentHash: new Uint8Array(createHash('sha256').update(paymentPreimage).digest()),
      cltvExpiry: 600 + Number(n),
      id: n,
    };
    const theirs = await fx.counterpartyCommitment(n, {
      toLocalMsat: 300_000_000n - 10_000_000n * n,
      toRemoteMsat: 700_000_000n,
      htlcs: [{ ...htlc, direction: 'offered' }],
    });
    push({ kind: 'counterparty-commitment', commitment: theirs.commitment });
    push({
      kind: 'commitment-secret',
      commitmentNumber: n - 1n,
      secret: await fx.counterpartySecret(n - 1n),
    });
    const ours = await fx.holderCommitment(n, {
      toLocalMsat: 700_000_000n,
      toRemoteMsat: 300_000_000n - 10_000_000n * n,
      htlcs: [htlc],
    });
    push({ kind: 'holder-commitment', commitment: ours.commitment });
    push({ kind: 'payment-preimage', paymentPreimage });
  }
  return updates.slice(0, count);
}
