/**
 * A closed channel's on-chain resolution as the ChainMonitor keeps it (BOLT 5): made when the
 * funding spend confirms, moved on by every block's transactions, stepped back by a
 * disconnected block, and done once nothing is pending and every spend it saw (the commitment
 * included) is ANTI_REORG_DELAY deep. Pure: state + block → new state + what to say; the
 * ChainMonitor persists the state with the monitor before it broadcasts the claims.
 */
import type { Transaction } from '@lnkit/tx';
import { crypto as btcCrypto } from 'bitcoinjs-lib';
import { resolveCommitment } from './claims/resolve.ts';
import { disconnectResolution, resolveSpend } from './claims/spends.ts';
import type { ChainResolution, ClaimSource, PendingOutput, ResolvedOutput } from './claims/types.ts';
import {
  ANTI_REORG_DELAY,
  type ChannelMonitor,
  type FundingKey,
  type FundingSpendKind,
  type HtlcData,
} from './types.ts';

export interface ResolutionState {
  resolution: ChainResolution;
  /**
   * Where every claim pays (a wallet script), fixed when the resolution is made: a claim is
   * then the same transaction after a restart, never a second one racing the first.
   * Empty: no destination was given yet, nothing is claimed.
   */
  destinationScript: Uint8Array;
  /** The height at which it was done: every output resolved and ANTI_REORG_DELAY deep. */
  doneAtHeight?: number | undefined;
}

interface ChannelIds {
  fundingKey: FundingKey;
  channelId: Uint8Array;
}

/** What the ChainMonitor says about claims (part of MonitorEvent). */
export type ClaimEvent =
  /** A claim was handed to the Broadcaster (the first time this process did; it is rebroadcast each block until it confirms). */
  | (ChannelIds & {
      type: 'ClaimBroadcast';
      txidHex: string;
      outputIds: string[];
      source: ClaimSource;
      feeSat: bigint;
      /** The feerate it was made at (absent for a static_remotekey HTLC transaction, pre-signed). */
      feeratePerKw?: bigint;
      height: number;
    })
  /** Our anchors commitment, unconfirmed and paying less than the estimate, bumped by a child (CPFP) through our anchor. */
  | (ChannelIds & {
      type: 'CommitmentBumped';
      txidHex: string;
      commitmentTxidHex: string;
      feeSat: bigint;
      packageFeeratePerKw: bigint;
      height: number;
    })
  /** An output of the resolution was spent in a block: by the holder's claim, or by the counterparty. */
  | (ChannelIds & {
      type: 'ClaimConfirmed';
      outputId: string;
      spentByTxidHex: string;
      height: number;
      byHolder: boolean;
      valueSat: bigint;
    })
  /** A preimage an on-chain spend revealed (BOLT 5 "MUST extract the payment preimage"): fulfil upstream. */
  | (ChannelIds & {
      type: 'PaymentPreimageLearnt';
      paymentHash: Uint8Array;
      paymentPreimage: Uint8Array;
      txidHex: string;
      height: number;
    })
  /**
   * An HTLC we offered that the chain settled against its payee, ANTI_REORG_DELAY deep: timed
   * out (our timeout claim or HTLC-timeout), taken by our justice, trimmed from the confirmed
   * commitment, or not in it at all. BOLT 5: the manager fails the payment, or the forward's
   * incoming HTLC, now ("MUST fail the corresponding incoming HTLC").
   */
  | (ChannelIds & { type: 'HtlcFailedOnChain'; htlcId: bigint; paymentHash: Uint8Array; height: number })
  /**
   * An HTLC offered to us that our claim took on chain with its preimage (HTLC-success, or our
   * preimage claim on their commitment), ANTI_REORG_DELAY deep: the payment to us is received.
   */
  | (ChannelIds & { type: 'HtlcClaimedOnChain'; htlcId: bigint; paymentHash: Uint8Array; height: number })
  /**
   * A claim of ours that can never confirm: what it spends was spent by another transaction (a
   * replacement of ours, the counterparty's spend, another commitment). A wallet that tracked it
   * (its fee coin, its change) should abandon it.
   */
  | (ChannelIds & { type: 'ClaimConflicted'; txidHex: string; height: number })
  /** Every output resolved and ANTI_REORG_DELAY deep: the monitor may be archived. */
  | (ChannelIds & { type: 'ChannelResolved'; commitmentTxidHex: string; height: number });

export interface TrackStep {
  state: ResolutionState;
  /** Preimages learnt in this block, with the spend that revealed each. */
  preimages: { paymentHash: Uint8Array; paymentPreimage: Uint8Array; txidHex: string }[];
  /** Outputs this block resolved. */
  resolved: ResolvedOutput[];
  /** The state changed: persist it before broadcasting. */
  changed: boolean;
  /** It became done at this block. */
  done: boolean;
}

const internalHex = (txidHex: string) => Buffer.from(txidHex, 'hex').reverse().toString('hex');

/** The resolution of the funding spend `tx` confirmed at `height`. */
export function startResolution(
  monitor: ChannelMonitor,
  tx: Transaction,
  height: number,
  destinationScript: Uint8Array,
): ResolutionState {
  return { resolution: resolveCommitment(monitor, tx, height), destinationScript };
}

/**
 * Block `height`'s transactions (in block order: a second stage after the commitment it spends,
 * in the same block too) moved through the resolution, then whether it is done at this height.
 */
export function trackBlock(
  state: ResolutionState,
  monitor: ChannelMonitor,
  txs: readonly Transaction[],
  height: number,
): TrackStep {
  const preimages: TrackStep['preimages'] = [];
  const resolved: ResolvedOutput[] = [];
  if (state.doneAtHeight !== undefined) return { state, preimages, resolved, changed: false, done: false };
  let resolution = state.resolution;
  let changed = false;
  // Outputs by internal-order outpoint: most transactions of a block spend none of them.
  let watched = outpointsOf(resolution.pending);
  for (const tx of txs) {
    if (!tx.ins.some((i) => watched.has(`${Buffer.from(i.hash).toString('hex')}:${i.index}`))) continue;
    const before = resolution.resolved.length;
    const r = resolveSpend(resolution, monitor, tx, height);
    if (!r.relevant) continue;
    resolution = r.resolution;
    changed = true;
    resolved.push(...resolution.resolved.slice(before));
    for (const p of r.preimages)
      preimages.push({
        paymentHash: new Uint8Array(btcCrypto.sha256(p)),
        paymentPreimage: p,
        txidHex: tx.getId(),
      });
    watched = outpointsOf(resolution.pending);
  }
  let next: ResolutionState = changed ? { ...state, resolution } : state;
  const done = isFinal(resolution, height);
  if (done) {
    next = { ...next, doneAtHeight: height };
    changed = true;
  }
  return { state: next, preimages, resolved, changed, done };
}

/**
 * Block `height` disconnected: the spends in it and above are undone (their outputs claimed
 * again on the new chain). Undefined: the commitment itself is gone, the funding output is
 * unspent again. A done resolution is kept: deeper reorgs than ANTI_REORG_DELAY are not
 * handled (BOLT 5, as LDK).
 */
export function trackDisconnect(state: ResolutionState, height: number): ResolutionState | undefined {
  if (state.doneAtHeight !== undefined) return state;
  const resolution = disconnectResolution(state.resolution, height);
  if (!resolution) return undefined;
  return resolution === state.resolution ? state : { ...state, resolution };
}

/** Nothing pending, and the commitment and every spend ANTI_REORG_DELAY deep at `height`. */
function isFinal(r: ChainResolution, height: number): boolean {
  if (r.pending.length > 0) return false;
  const last = Math.max(r.height, ...r.resolved.map((x) => x.height));
  return height - last + 1 >= ANTI_REORG_DELAY;
}

function outpointsOf(pending: readonly PendingOutput[]): Set<string> {
  return new Set(pending.map((p) => `${internalHex(p.txidHex)}:${p.vout}`));
}

const ourOffer = (source: ClaimSource, htlc: HtlcData) =>
  source === 'holder-commitment' ? htlc.direction === 'offered' : htlc.direction === 'received';

/**
 * The HTLCs we offered that the chain has settled against their payee (see HtlcFailedOnChain):
 * those whose settling transaction is exactly ANTI_REORG_DELAY deep at `height` (`at`, once per
 * block), or at least that deep (`since`, what a restarted node says again).
 */
export function htlcsFailedOnChain(
  monitor: ChannelMonitor,
  r: ChainResolution,
  height: number,
  mode: 'at' | 'since',
): HtlcData[] {
  const deep = (h: number) =>
    mode === 'at' ? height - h + 1 === ANTI_REORG_DELAY : height - h + 1 >= ANTI_REORG_DELAY;
  const known = (hash: Uint8Array) =>
    monitor.preimages.some((p) => Buffer.from(btcCrypto.sha256(p)).equals(Buffer.from(hash)));
  const failed: HtlcData[] = [];
  for (const x of r.resolved) {
    const htlc = x.output.htlc;
    if (!htlc || x.output.output !== 'htlc' || !x.byHolder || x.paymentPreimage) continue;
    if (ourOffer(x.output.source, htlc) && deep(x.height)) failed.push(htlc);
  }
  if (r.kind === 'mutual-close' || r.kind === 'unknown-commitment' || !deep(r.height))
    return failed.filter((h) => !known(h.paymentHash));
  const source: ClaimSource =
    r.kind === 'holder-commitment' ? 'holder-commitment' : 'counterparty-commitment';
  // In the confirmed commitment: by output, or trimmed (no output: nothing can claim it on chain).
  const inCommitment = new Set<bigint>();
  for (const p of [...r.pending, ...r.resolved.map((x) => x.output)])
    if (p.htlc && p.output === 'htlc' && ourOffer(p.source, p.htlc)) inCommitment.add(p.htlc.id);
  for (const h of r.htlcsWithoutOutput)
    if (ourOffer(source, h)) {
      inCommitment.add(h.id);
      failed.push(h);
    }
  // Offered in a commitment that did not confirm: it can never be claimed now.
  const offers = new Map<bigint, HtlcData>();
  for (const h of [
    ...(monitor.holderCommitment.htlcs ?? []),
    ...(monitor.previousHolderCommitment?.htlcs ?? []),
  ])
    if (h.direction === 'offered') offers.set(h.id, h);
  for (const c of monitor.counterpartyCommitments)
    for (const h of c.htlcs ?? [])
      if (h.direction === 'received') offers.set(h.id, { ...h, direction: 'offered' });
  for (const [id, h] of offers) if (!inCommitment.has(id)) failed.push(h);
  return failed.filter((h) => !known(h.paymentHash));
}

/**
 * The HTLCs offered to us that our claims took on chain with their preimages, final at `height`
 * (`at`: exactly ANTI_REORG_DELAY deep; `since`: at least). Not a revoked commitment's: justice
 * takes those whatever the preimage.
 */
export function htlcsClaimedOnChain(r: ChainResolution, height: number, mode: 'at' | 'since'): HtlcData[] {
  const depth = (h: number) => height - h + 1;
  const claimed: HtlcData[] = [];
  for (const x of r.resolved) {
    const htlc = x.output.htlc;
    if (!htlc || x.output.output !== 'htlc' || !x.byHolder) continue;
    const source = x.output.source;
    if (source !== 'holder-commitment' && source !== 'counterparty-commitment') continue;
    if (ourOffer(source, htlc)) continue;
    const d = depth(x.height);
    if (mode === 'at' ? d === ANTI_REORG_DELAY : d >= ANTI_REORG_DELAY) claimed.push(htlc);
  }
  return claimed;
}

/** One output still to take (or waiting on the counterparty), for `listchannels` and `balance`. */
export interface PendingBalance {
  outputId: string;
  source: ClaimSource;
  output: PendingOutput['output'];
  valueSat: bigint;
  /** The first block that may include its claim. */
  claimableAtHeight: number;
  /** The counterparty can take it from this height (a revoked output, an HTLC's expiry). */
  deadlineHeight?: number;
  /** An HTLC the holder can take only with its preimage (not yet known). */
  needsPreimage?: boolean;
}

export interface ClaimableBalance {
  fundingKey: FundingKey;
  channelIdHex: string;
  kind: FundingSpendKind;
  commitmentTxidHex: string;
  commitmentHeight: number;
  pending: PendingBalance[];
  /** Outputs resolved on chain: by the holder's claims (`byHolder`) or by the counterparty. */
  claimed: {
    outputId: string;
    output: PendingOutput['output'];
    spentByTxidHex: string;
    height: number;
    valueSat: bigint;
    byHolder: boolean;
  }[];
  /** The sum of the pending outputs' values (before the claims' fees). */
  pendingSat: bigint;
  doneAtHeight?: number;
}

export function claimableBalance(monitor: ChannelMonitor, state: ResolutionState): ClaimableBalance {
  const r = state.resolution;
  return {
    fundingKey: monitor.fundingKey,
    channelIdHex: Buffer.from(monitor.channel.channelId).toString('hex'),
    kind: r.kind,
    commitmentTxidHex: r.commitmentTxidHex,
    commitmentHeight: r.height,
    pending: r.pending.map((p) => ({
      outputId: p.id,
      source: p.source,
      output: p.output,
      valueSat: p.valueSat,
      claimableAtHeight: p.spendableAtHeight,
      ...(p.deadlineHeight !== undefined ? { deadlineHeight: p.deadlineHeight } : {}),
      ...(p.needsPreimage ? { needsPreimage: true } : {}),
    })),
    claimed: r.resolved.map((x) => ({
      outputId: x.id,
      output: x.output.output,
      spentByTxidHex: x.spentByTxidHex,
      height: x.height,
      valueSat: x.output.valueSat,
      byHolder: x.byHolder,
    })),
    pendingSat: r.pending.reduce((sum, p) => sum + p.valueSat, 0n),
    ...(state.doneAtHeight !== undefined ? { doneAtHeight: state.doneAtHeight } : {}),
  };
}

/** What a block did to a monitor's resolution (made at the funding spend, moved on, done). */
export interface BlockResolution {
  monitor: ChannelMonitor;
  /** To say once the monitor is written. */
  events: ClaimEvent[];
  /** The monitor changed: write it before any claim is broadcast. */
  changed: boolean;
  /** What the new resolution says the user must know (BOLT 5 "MUST warn the user"). */
  notes: string[];
}

/**
 * Block `height` for one monitor: the resolution made if `spender` (the funding spend) is in it,
 * every transaction through it, preimages learnt added to the monitor. `destination`: the
 * wallet script for a new resolution, or for one made without.
 */
export function resolveBlock(
  monitor: ChannelMonitor,
  spender: Transaction | undefined,
  txs: readonly Transaction[],
  height: number,
  destination: Uint8Array | undefined,
): BlockResolution {
  const ids = { fundingKey: monitor.fundingKey, channelId: monitor.channel.channelId };
  const fresh = spender
    ? startResolution(monitor, spender, height, destination ?? new Uint8Array(0))
    : undefined;
  let state = fresh ?? monitor.resolution;
  if (!state) return { monitor, events: [], changed: false, notes: [] };
  let changed = fresh !== undefined;
  if (state.destinationScript.length === 0 && destination && destination.length > 0) {
    state = { ...state, destinationScript: destination };
    changed = true;
  }
  const step = trackBlock(state, monitor, txs, height);
  const learnt = step.preimages.map((p) => p.paymentPreimage);
  const withPreimages = {
    ...monitor,
    ...(learnt.length > 0 ? { preimages: [...monitor.preimages, ...learnt] } : {}),
  };
  // Said at the block their settling reaches ANTI_REORG_DELAY, whether or not it changed the state.
  const settled: ClaimEvent[] = htlcsFailedOnChain(withPreimages, step.state.resolution, height, 'at').map(
    (h) => ({
      type: 'HtlcFailedOnChain',
      ...ids,
      htlcId: h.id,
      paymentHash: h.paymentHash,
      height,
    }),
  );
  for (const h of htlcsClaimedOnChain(step.state.resolution, height, 'at'))
    settled.push({ type: 'HtlcClaimedOnChain', ...ids, htlcId: h.id, paymentHash: h.paymentHash, height });
  if (!step.changed && !changed) return { monitor, events: settled, changed: false, notes: [] };
  const events: ClaimEvent[] = step.resolved.map((x) => ({
    type: 'ClaimConfirmed',
    ...ids,
    outputId: x.id,
    spentByTxidHex: x.spentByTxidHex,
    height: x.height,
    byHolder: x.byHolder,
    valueSat: x.output.valueSat,
  }));
  for (const p of step.preimages) events.push({ type: 'PaymentPreimageLearnt', ...ids, ...p, height });
  events.push(...settled);
  if (step.done)
    events.push({
      type: 'ChannelResolved',
      ...ids,
      commitmentTxidHex: step.state.resolution.commitmentTxidHex,
      height,
    });
  return {
    monitor: { ...withPreimages, resolution: step.state },
    events,
    changed: true,
    notes: fresh ? fresh.resolution.notes : [],
  };
}
