/**
 * The ChainMonitor's claims leaving the node (BOLT 5): every claim of a resolution that is due at
 * the monitor's best block, built at the fee estimator's rate to the resolution's destination,
 * signed by the channel's ClaimSigner and handed to the Broadcaster. Called only once the
 * resolution is written. Signing and broadcasting run in a queue of their own, behind the
 * ChainMonitor's, so a slow bitcoind never holds a monitor persist.
 *
 * A claim not yet confirmed is made again at each block: the same feerate and destination give
 * the same transaction (RFC 6979), so a rebroadcast is never a second spend racing the first.
 */
import type { Logger } from '@lnkit/runtime';
import type { ClaimSigner, FeeInput } from '@lnkit/tx';
import { claimsToBroadcast } from './claims/plan.ts';
import { type FeeInputSigner, signClaim } from './claims/sign.ts';
import type { ClaimToSign } from './claims/types.ts';
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
  /** Wallet outputs paying the fees of zero-fee anchors HTLC transactions, and their signer. */
  feeInputs?: () => readonly FeeInput[];
  feeInputSigner?: FeeInputSigner;
}

export class Claimer {
  readonly #options: EnforcementOptions;
  readonly #log: Logger | undefined;
  readonly #emit: (e: MonitorEvent) => void;
  /** Claims accepted by the broadcaster in this process, by txid: the event is said once. */
  readonly #sent = new Set<string>();
  /** Channels with claims due and no means to make them (warned once). */
  readonly #unclaimed = new Set<FundingKey>();
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

  /** Every claim of the monitor's resolution due at its best block, queued to be signed and sent. */
  claim(monitor: ChannelMonitor): void {
    const { broadcaster, feeEstimator, claimSigner } = this.#options;
    const state = monitor.resolution;
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
      destinationScript: state.destinationScript,
      ...(this.#options.feeInputs ? { feeInputs: this.#options.feeInputs() } : {}),
    });
    for (const s of plan.skipped)
      this.#log?.debug({ channel: monitor.fundingKey, outputs: s.outputIds }, `not claimed yet: ${s.reason}`);
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
        height,
      });
    });
  }
}
