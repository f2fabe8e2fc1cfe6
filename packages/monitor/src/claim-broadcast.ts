/**
 * The ChainMonitor's claims leaving the node (BOLT 5): every claim of a resolution that is due at
 * the monitor's best block, built at the fee estimator's rate to the resolution's destination,
 * signed by the channel's ClaimSigner and handed to the Broadcaster. Called only once the
 * resolution is written. Signing and broadcasting run in a queue of their own, behind the
 * ChainMonitor's, so a slow bitcoind never holds a monitor persist.
 *
 * A claim not yet confirmed is made again at each block: the same feerate and destination give
 * the same transaction (RFC 6979), so a rebroadcast is never a second spend racing the first.
 * One that races the counterparty is made at a higher feerate as it waits (claims/fees.ts): a
 * replacement (BIP 125) of the one before, said again as a ClaimBroadcast.
 */
import type { Logger } from '@lnkit/runtime';
import { type ClaimSigner, type FeeInput, TxError } from '@lnkit/tx';
import { type AnchorCpfp, anchorCpfp } from './claims/cpfp.ts';
import { URGENT_WITHIN } from './claims/fees.ts';
import { claimsToBroadcast } from './claims/plan.ts';
import { type FeeInputSigner, signAnchorCpfp, signClaim } from './claims/sign.ts';
import type { ClaimToSign } from './claims/types.ts';
import { type SweepBatch, type SweepMember, signSweepBatch, sweepBatches } from './sweeper.ts';
import type { ChannelMonitor, FundingKey, MonitorEvent } from './types.ts';

/** The shape of @lnkit/chain-sync's Broadcaster (and @lnkit/manager's). */
export interface ClaimBroadcaster {
  broadcastTransactions(
    txs: Uint8Array[],
  ): Promise<({ txid: string; accepted: true } | { txid: string; accepted: false; reason: string })[]>;
}

/**
 * On-chain enforcement: with the first four, the claims of a closed channel are signed and
 * broadcast each block until they confirm. Without them the resolutions are still made,
 * persisted and followed (claimableBalances), and nothing is broadcast (warned once a channel).
 */
export interface EnforcementOptions {
  broadcaster?: ClaimBroadcaster;
  /** The claims' feerate: its `normal` target (`highPriority` for justice). */
  feeEstimator?: { feeratePerKw(target: 'background' | 'normal' | 'highPriority'): bigint };
  /** A wallet script every claim pays (the wallet watches it); asked once per resolution and kept with it. */
  destinationScript?: () => Uint8Array | Promise<Uint8Array>;
  /** The signer of a channel's claims (a ChannelKeysClaimSigner over its channel keys). */
  claimSigner?: (monitor: ChannelMonitor) => ClaimSigner;
  /**
   * Wallet outputs paying the fees of zero-fee anchors HTLC transactions and of the child that
   * bumps our anchors commitment (CPFP), and their signer. Each is given to one channel's claims at a time.
   */
  feeInputs?: () => readonly FeeInput[];
  feeInputSigner?: FeeInputSigner;
}

export class Claimer {
  readonly #options: EnforcementOptions;
  readonly #log: Logger | undefined;
  readonly #emit: (e: MonitorEvent) => void;
  /** Claims accepted by the broadcaster in this process, by txid: the event is said once. */
  readonly #sent = new Set<string>();
  /**
   * The claims accepted for each output (by output id), and each channel's CPFP children: what
   * another spend makes void (a replacement of ours, the counterparty's spend), to be abandoned.
   */
  readonly #claimsOf = new Map<string, { fundingKey: FundingKey; txids: Set<string> }>();
  /** Channels with claims due and no means to make them (warned once). */
  readonly #unclaimed = new Set<FundingKey>();
  /** Channels whose anchors commitment cannot be bumped (warned once). */
  readonly #unbumped = new Set<FundingKey>();
  /**
   * The wallet coins a channel's claims were made with, until those claims confirm: an HTLC
   * transaction's by its output id, the CPFP child's under CPFP. The same coin again makes a
   * bumped claim a replacement of the last (the wallet no longer lists a coin an unconfirmed
   * claim spends), and no other claim is given it.
   */
  readonly #feeInputsHeld = new Map<FundingKey, Map<string, FeeInput>>();
  /** Outputs only we can spend, due at this block, from every channel's claim(): swept together by sweepDue. */
  readonly #dueOwn = new Map<string, SweepMember>();
  /** Sweep batches broadcast and not yet confirmed, by txid, signed: sent again as they are. */
  readonly #sweeps = new Map<string, { batch: SweepBatch; tx: Uint8Array }>();
  /** The wallet script a channel's CPFP child pays its change to, asked once. */
  readonly #cpfpChange = new Map<FundingKey, Uint8Array>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: EnforcementOptions, log: Logger | undefined, emit: (e: MonitorEvent) => void) {
    this.#options = options;
    this.#log = log;
    this.#emit = emit;
  }

  /** The wallet's script for a new resolution; none (nothing claimed until one is given) if it fails. */
  async destination(): Promise<Uint8Array> {
    try {
      return (await this.#options.destinationScript?.()) ?? new Uint8Array(0);
    } catch (e) {
      this.#log?.error(
        { err: (e as Error).message },
        `no destination script for claims: ${(e as Error).message}`,
      );
      return new Uint8Array(0);
    }
  }

  /**
   * Every claim of the monitor's resolution due at its best block, queued to be signed and sent;
   * before the funding spend confirms, the child that bumps our anchors commitment if it needs one.
   */
  claim(monitor: ChannelMonitor): void {
    const { broadcaster, feeEstimator, claimSigner } = this.#options;
    if (!monitor.fundingSpend && monitor.closed?.broadcastHolderCommitment) {
      this.#bumpCommitment(monitor);
      return;
    }
    this.#cpfpChange.delete(monitor.fundingKey);
    const state = monitor.resolution;
    // What is held for outputs no longer pending (and the CPFP child's, once the commitment is in) is free again.
    const pendingIds = new Set(state?.resolution.pending.map((p) => p.id) ?? []);
    const held = this.#feeInputsHeld.get(monitor.fundingKey);
    for (const id of held?.keys() ?? []) if (!pendingIds.has(id)) held?.delete(id);
    if (!state || state.doneAtHeight !== undefined || state.resolution.pending.length === 0) return;
    if (!broadcaster || !feeEstimator || !claimSigner || state.destinationScript.length === 0) {
      if (this.#unclaimed.has(monitor.fundingKey)) return;
      this.#unclaimed.add(monitor.fundingKey);
      this.#log?.warn(
        { channel: monitor.fundingKey },
        `channel ${monitor.fundingKey} has outputs to claim on chain, but no broadcaster, fee estimator, claim signer or destination`,
      );
      return;
    }
    const height = monitor.bestBlock.height;
    const plan = claimsToBroadcast(state.resolution, monitor, height, {
      // Justice races the counterparty's own spends after their to_self_delay: the high target.
      feeratePerKw: feeEstimator.feeratePerKw(
        state.resolution.kind === 'counterparty-revoked-commitment' ? 'highPriority' : 'normal',
      ),
      urgentFeeratePerKw: feeEstimator.feeratePerKw('highPriority'),
      destinationScript: state.destinationScript,
      ownOutputsApart: true,
      ...(this.#options.feeInputs
        ? { feeInputs: this.#freeFeeInputs(), ...(held ? { assignedFeeInputs: held } : {}) }
        : {}),
    });
    for (const c of plan.claims)
      if (c.kind === 'htlc-transaction' && c.feeInput)
        for (const id of c.outputIds) this.#hold(monitor.fundingKey, id, c.feeInput);
    for (const s of plan.skipped)
      this.#log?.debug({ channel: monitor.fundingKey, outputs: s.outputIds }, `not claimed yet: ${s.reason}`);
    for (const o of plan.own)
      this.#dueOwn.set(o.output.id, { ...o, fundingKey: monitor.fundingKey, monitor });
    if (plan.claims.length === 0) return;
    const run = this.#queue.then(() =>
      this.#send(monitor, plan.claims, claimSigner(monitor), broadcaster, height),
    );
    this.#queue = run.catch((e: Error) => {
      this.#log?.error(
        { channel: monitor.fundingKey, err: e.message },
        `the claims of channel ${monitor.fundingKey} could not be broadcast: ${e.message}; again at the next block`,
      );
    });
  }

  /**
   * The sweeper's turn, once every channel's claim() at a block is made: the outputs only we can
   * spend, of every channel, in batches to the wallet at the estimator's rate (sweeper.ts). A
   * batch still unconfirmed, every output of it still due, is sent again unchanged.
   */
  sweepDue(height: number): void {
    const due = [...this.#dueOwn.values()];
    this.#dueOwn.clear();
    const { broadcaster, feeEstimator, claimSigner } = this.#options;
    if (!broadcaster || !feeEstimator || !claimSigner) return;
    const dueIds = new Set(due.map((m) => m.output.id));
    const again: { batch: SweepBatch; tx: Uint8Array }[] = [];
    for (const [txid, sent] of this.#sweeps) {
      if (sent.batch.members.every((m) => dueIds.has(m.output.id))) again.push(sent);
      else this.#sweeps.delete(txid); // confirmed (or reorged away: its outputs are swept anew)
    }
    const batched = new Set(again.flatMap((s) => s.batch.members.map((m) => m.output.id)));
    const fresh = due.filter((m) => !batched.has(m.output.id));
    const destinationScript = fresh.find((m) => (m.monitor.resolution?.destinationScript.length ?? 0) > 0)
      ?.monitor.resolution?.destinationScript;
    if (again.length === 0 && (fresh.length === 0 || !destinationScript)) return;
    const { batches, skipped } = destinationScript
      ? sweepBatches(fresh, { feeratePerKw: feeEstimator.feeratePerKw('normal'), destinationScript })
      : { batches: [], skipped: [] };
    for (const s of skipped) this.#log?.debug({ outputs: s.outputIds }, `not swept yet: ${s.reason}`);
    const run = this.#queue.then(async () => {
      const signed = [...again];
      for (const batch of batches) signed.push({ batch, tx: await signSweepBatch(batch, claimSigner) });
      if (signed.length === 0) return;
      const results = await broadcaster.broadcastTransactions(signed.map((s) => s.tx));
      signed.forEach((s, i) => {
        const r = results[i];
        if (r && !r.accepted) {
          this.#log?.debug({ txid: s.batch.txidHex, reason: r.reason }, 'sweep not accepted');
          return;
        }
        this.#sweeps.set(s.batch.txidHex, s);
        for (const m of s.batch.members) this.#track(m.output.id, m.fundingKey, s.batch.txidHex);
        if (this.#sent.has(s.batch.txidHex)) return;
        this.#sent.add(s.batch.txidHex);
        this.#sweptEvents(s.batch, height);
      });
    });
    this.#queue = run.catch((e: Error) => {
      this.#log?.error(
        { err: e.message },
        `outputs could not be swept: ${e.message}; again at the next block`,
      );
    });
  }

  /** A sweep said to each channel it takes outputs of. */
  #sweptEvents(batch: SweepBatch, height: number): void {
    const byChannel = new Map<FundingKey, SweepMember[]>();
    for (const m of batch.members) byChannel.set(m.fundingKey, [...(byChannel.get(m.fundingKey) ?? []), m]);
    this.#log?.info(
      {
        txid: batch.txidHex,
        outputs: batch.members.length,
        channels: byChannel.size,
        feeSat: batch.built.feeSat.toString(),
      },
      `sweep ${batch.txidHex} broadcast: ${batch.members.length} outputs of ${byChannel.size} channels to the wallet`,
    );
    for (const [fundingKey, members] of byChannel)
      this.#emit({
        type: 'ClaimBroadcast',
        fundingKey,
        channelId: (members[0] as SweepMember).monitor.channel.channelId,
        txidHex: batch.txidHex,
        outputIds: members.map((m) => m.output.id),
        source: (members[0] as SweepMember).output.source,
        feeSat: batch.built.feeSat,
        feeratePerKw: batch.feeratePerKw,
        height,
      });
  }

  /**
   * Our anchors commitment broadcast and not yet confirmed: if its own fee pays less than the
   * estimate, a child through our anchor and a wallet fee input pays for both (CPFP).
   */
  #bumpCommitment(monitor: ChannelMonitor): void {
    const { broadcaster, feeEstimator, claimSigner, feeInputSigner } = this.#options;
    if (monitor.channel.channelType !== 'anchors_zero_fee_htlc_tx') return;
    if (!broadcaster || !feeEstimator || !claimSigner || !feeInputSigner || !this.#options.feeInputs) {
      if (this.#unbumped.has(monitor.fundingKey)) return;
      this.#unbumped.add(monitor.fundingKey);
      this.#log?.warn(
        { channel: monitor.fundingKey },
        `channel ${monitor.fundingKey}: our anchors commitment cannot be fee-bumped: no broadcaster, fee estimator, claim signer or wallet fee inputs`,
      );
      return;
    }
    const height = monitor.bestBlock.height;
    // An HTLC near its expiry is why a commitment is broadcast in a hurry: the urgent rate then.
    const urgent = (monitor.holderCommitment.htlcs ?? []).some((h) => h.cltvExpiry - height <= URGENT_WITHIN);
    const feeratePerKw = feeEstimator.feeratePerKw(urgent ? 'highPriority' : 'normal');
    const run = this.#queue.then(async () => {
      let change = this.#cpfpChange.get(monitor.fundingKey);
      if (!change) {
        change = await this.destination();
        if (change.length === 0) return;
        this.#cpfpChange.set(monitor.fundingKey, change);
      }
      const changeScript = change;
      let cpfp: AnchorCpfp | undefined;
      // The coin of the child before, so this one replaces it; else the wallet's largest free coin.
      const feeInput =
        this.#feeInputsHeld.get(monitor.fundingKey)?.get(CPFP) ??
        [...this.#freeFeeInputs()].sort((a, b) =>
          a.valueSat === b.valueSat ? 0 : a.valueSat > b.valueSat ? -1 : 1,
        )[0];
      if (!feeInput) {
        this.#log?.warn(
          { channel: monitor.fundingKey },
          `channel ${monitor.fundingKey}: no wallet coin to bump our anchors commitment with`,
        );
        return;
      }
      try {
        cpfp = anchorCpfp(monitor, { feeratePerKw, feeInput, changeScript });
      } catch (e) {
        if (!(e instanceof TxError) || e.code !== 'invalid-amounts') throw e;
        this.#log?.warn({ channel: monitor.fundingKey }, e.message);
        return;
      }
      if (!cpfp) return;
      this.#hold(monitor.fundingKey, CPFP, feeInput);
      const signed = await signAnchorCpfp(cpfp, claimSigner(monitor), feeInputSigner);
      const [r] = await broadcaster.broadcastTransactions([signed.tx]);
      if (r && !r.accepted) {
        this.#log?.debug(
          { channel: monitor.fundingKey, txid: signed.txidHex, reason: r.reason },
          'commitment bump not accepted',
        );
        return;
      }
      this.#track(`${CPFP}:${cpfp.commitmentTxidHex}`, monitor.fundingKey, signed.txidHex);
      if (this.#sent.has(signed.txidHex)) return;
      this.#sent.add(signed.txidHex);
      this.#log?.info(
        {
          channel: monitor.fundingKey,
          txid: signed.txidHex,
          commitment: cpfp.commitmentTxidHex,
          feeSat: cpfp.feeSat.toString(),
          packageFeeratePerKw: cpfp.packageFeeratePerKw.toString(),
        },
        `commitment ${cpfp.commitmentTxidHex} bumped by child ${signed.txidHex} to ${cpfp.packageFeeratePerKw} sat/kw`,
      );
      this.#emit({
        type: 'CommitmentBumped',
        fundingKey: monitor.fundingKey,
        channelId: monitor.channel.channelId,
        txidHex: signed.txidHex,
        commitmentTxidHex: cpfp.commitmentTxidHex,
        feeSat: cpfp.feeSat,
        packageFeeratePerKw: cpfp.packageFeeratePerKw,
        height,
      });
    });
    this.#queue = run.catch((e: Error) => {
      this.#log?.error(
        { channel: monitor.fundingKey, err: e.message },
        `our commitment of channel ${monitor.fundingKey} could not be bumped: ${e.message}; again at the next block`,
      );
    });
  }

  #track(claim: string, fundingKey: FundingKey, txid: string): void {
    const entry = this.#claimsOf.get(claim) ?? { fundingKey, txids: new Set<string>() };
    entry.txids.add(txid);
    this.#claimsOf.set(claim, entry);
  }

  /**
   * An output of a resolution was spent by `spentByTxidHex` (or, for `commitment`, the funding by
   * that commitment): every other claim of ours for it can never confirm. Returns their txids,
   * forgotten here; the wallet should forget them too (their fee coins, their change).
   */
  conflicted(outputId: string, spentByTxidHex: string): string[] {
    const entry = this.#claimsOf.get(outputId);
    if (!entry) return [];
    this.#claimsOf.delete(outputId);
    return [...entry.txids].filter((t) => t !== spentByTxidHex);
  }

  /** The funding spent by `commitmentTxidHex`: CPFP children of any other commitment of ours are void. */
  fundingSpent(fundingKey: FundingKey, commitmentTxidHex: string): string[] {
    const void_: string[] = [];
    for (const [claim, entry] of this.#claimsOf) {
      if (entry.fundingKey !== fundingKey || !claim.startsWith(`${CPFP}:`)) continue;
      this.#claimsOf.delete(claim);
      // The confirmed commitment's own children are the wallet's to settle (one confirms, it replaced the others).
      if (claim !== `${CPFP}:${commitmentTxidHex}`) void_.push(...entry.txids);
    }
    return void_;
  }

  /** The wallet's fee inputs no claim holds. */
  #freeFeeInputs(): readonly FeeInput[] {
    const held = new Set<string>();
    for (const m of this.#feeInputsHeld.values()) for (const f of m.values()) held.add(outpointOf(f));
    return (this.#options.feeInputs?.() ?? []).filter((f) => !held.has(outpointOf(f)));
  }

  #hold(fundingKey: FundingKey, claim: string, feeInput: FeeInput): void {
    const held = this.#feeInputsHeld.get(fundingKey) ?? new Map<string, FeeInput>();
    held.set(claim, feeInput);
    this.#feeInputsHeld.set(fundingKey, held);
  }

  /** Resolves once every queued claim was signed and handed over. */
  async settled(): Promise<void> {
    await this.#queue;
  }

  async #send(
    monitor: ChannelMonitor,
    claims: ClaimToSign[],
    signer: ClaimSigner,
    broadcaster: ClaimBroadcaster,
    height: number,
  ): Promise<void> {
    const signed = [];
    for (const c of claims) signed.push(await signClaim(c, signer, this.#options.feeInputSigner));
    const results = await broadcaster.broadcastTransactions(signed.map((s) => s.tx));
    const ids = { fundingKey: monitor.fundingKey, channelId: monitor.channel.channelId };
    signed.forEach((s, i) => {
      const r = results[i];
      if (r && !r.accepted) {
        // Already in the mempool, or its input spent by a confirmed spend: normal for a rebroadcast.
        this.#log?.debug(
          { channel: ids.fundingKey, txid: s.txidHex, reason: r.reason },
          'claim not accepted',
        );
        return;
      }
      for (const id of s.outputIds) this.#track(id, ids.fundingKey, s.txidHex);
      if (this.#sent.has(s.txidHex)) return;
      this.#sent.add(s.txidHex);
      this.#log?.info(
        { channel: ids.fundingKey, txid: s.txidHex, outputs: s.outputIds, feeSat: s.feeSat.toString() },
        `claim ${s.txidHex} broadcast (${s.source}: ${s.outputIds.length} outputs)`,
      );
      this.#emit({
        type: 'ClaimBroadcast',
        ...ids,
        txidHex: s.txidHex,
        outputIds: s.outputIds,
        source: s.source,
        feeSat: s.feeSat,
        ...(s.feeratePerKw !== undefined ? { feeratePerKw: s.feeratePerKw } : {}),
        height,
      });
    });
  }
}

/** The key of the CPFP child's coin among a channel's held fee inputs (output ids have a colon). */
const CPFP = 'cpfp';
const outpointOf = (f: FeeInput) => `${Buffer.from(f.txid).toString('hex')}:${f.vout}`;
