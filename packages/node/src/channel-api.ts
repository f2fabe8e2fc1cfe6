/**
 * The node's channel calls (node.ts): each request checked here before anything is sent to a
 * peer, each refusal a NodeError naming what is wrong — the argument and its limits, the peer
 * that is not connected, what the wallet has against what the channel needs — and the
 * manager's own refusals given the node's codes.
 */
import {
  type ChannelSummary,
  DEFAULT_CHANNEL_CONFIG,
  MANAGER_INIT_FEATURES,
  ManagerError,
  peerFeatures,
} from '@lnkit/manager';
import type { ClaimableBalance } from '@lnkit/monitor';
import { LNKIT_INIT_FEATURES } from '@lnkit/peer-net';
import { feeForWeight, transactionWeight, WalletError } from '@lnkit/wallet';
import { Features } from '@lnkit/wire';
import type { NodeContext } from './context.ts';
import { NodeError, type NodeErrorCode } from './errors.ts';

export interface OpenChannelOptions {
  /** Given to the peer at the open (BOLT 2 push_msat), at most the channel's amount. */
  pushMsat?: bigint;
  /** Default: anchors when the peer offers them, else static-remotekey. */
  type?: 'anchors' | 'static-remotekey';
  /** Announced to the network (BOLT 7); default false. */
  public?: boolean;
}

export interface OpenedChannel {
  /** BOLT 2 channel_id, hex. */
  channelId: string;
  /** Display order. */
  fundingTxid: string;
}

export interface ClosedChannel {
  channelId: string;
  /** Display order; null until the closing transaction is known. */
  closingTxid: string | null;
}

/** BOLT 2: without option_support_large_channel, funding_satoshis is below 2^24. */
const LARGE_CHANNEL_SAT = 1n << 24n;
/** The funding output: P2WSH, a 34-byte script. */
const FUNDING_SCRIPT_BYTES = 34;
const NODE_ID = /^0[23][0-9a-f]{64}$/;
const TYPES = ['anchors', 'static-remotekey'];
const LOCAL_FEATURES = LNKIT_INIT_FEATURES.or(MANAGER_INIT_FEATURES);

export async function openChannel(
  ctx: NodeContext,
  nodeId: string,
  amountSat: bigint,
  opts: OpenChannelOptions = {},
): Promise<OpenedChannel> {
  const peer = checkNodeId(nodeId);
  const limits = DEFAULT_CHANNEL_CONFIG.limits;
  if (typeof amountSat !== 'bigint')
    throw new NodeError(
      'invalid-argument',
      `amountSat must be a bigint amount in sat; got ${typeof amountSat}`,
    );
  const pushMsat = opts.pushMsat ?? 0n;
  if (typeof pushMsat !== 'bigint' || pushMsat < 0n)
    throw new NodeError(
      'invalid-argument',
      `pushMsat must be a bigint of 0 msat or more; got ${String(pushMsat)}`,
    );
  if (opts.type !== undefined && !TYPES.includes(opts.type))
    throw new NodeError(
      'invalid-argument',
      `type must be anchors or static-remotekey; got ${String(opts.type)}`,
    );
  if (opts.public !== undefined && typeof opts.public !== 'boolean')
    throw new NodeError('invalid-argument', `public must be true or false; got ${String(opts.public)}`);

  const info = (await ctx.get('peers').ref.listPeers()).find((p) => p.nodeId === peer);
  if (!info)
    throw new NodeError(
      'peer-not-connected',
      `peer ${peer} is not connected: connect to it first, then open the channel`,
    );
  const features = peerFeatures(LOCAL_FEATURES, Features.fromBytes(Buffer.from(info.features.hex, 'hex')));
  const maxSat = features.largeChannel ? limits.maxFundingSat : LARGE_CHANNEL_SAT - 1n;
  if (amountSat < limits.minFundingSat || amountSat > maxSat)
    throw new NodeError(
      'invalid-argument',
      `amountSat must be from ${limits.minFundingSat} to ${maxSat} sat${features.largeChannel ? '' : ` (peer ${peer} does not offer option_support_large_channel)`}; got ${amountSat}`,
    );
  if (pushMsat > amountSat * 1000n)
    throw new NodeError(
      'invalid-argument',
      `pushMsat must be at most the channel's amount, ${amountSat * 1000n} msat; got ${pushMsat}`,
    );
  if (opts.type === 'anchors' && !features.anchors)
    throw new NodeError(
      'invalid-argument',
      `type anchors: peer ${peer} does not offer option_anchors_zero_fee_htlc_tx; open a static-remotekey channel`,
    );
  checkFunds(ctx, amountSat);

  ctx.get('storage').assertAvailable('opening a channel');
  const log = ctx.get('eventLog');
  const from = log.lastSeq;
  let opened: { channelId: string; fundingTxid: string };
  try {
    opened = await ctx.get('channelManager').ref.openChannel(peer, amountSat, {
      pushMsat,
      ...(opts.type ? { type: opts.type } : {}),
      public: opts.public ?? false,
    });
  } catch (err) {
    throw nodeErrorOf(err);
  }
  // The user hears of the channel no sooner than the event log has its ChannelPending.
  await log.written((e) => e.kind === 'ChannelPending' && e.data.channelId === opened.channelId, from);
  return { channelId: opened.channelId, fundingTxid: opened.fundingTxid };
}

/**
 * A closing or closed channel's state on chain (issue 16's listchannels): the transaction that
 * spent the funding and its height, and each output this node takes — from which height it
 * can be claimed, and whether our claim took it, the peer did, or it waits (for its height, or
 * for an HTLC's preimage). From the ChainMonitor's claimable balances.
 */
export interface ChannelOnchain {
  kind: string;
  /** Display order. */
  spendTxid: string;
  confirmedAtHeight: number;
  outputs: {
    id: string;
    output: string;
    valueSat: bigint;
    status: 'pending' | 'needs-preimage' | 'claimed' | 'taken-by-peer';
    /** Pending ones: the first block that may include the claim. */
    claimableAtHeight?: number;
    /** Spent ones (display order) and where. */
    spentByTxid?: string;
    spentAtHeight?: number;
  }[];
  /** The pending outputs this node will sweep to its wallet (not those waiting for a preimage), in sat. */
  pendingSweepSat: bigint;
  /** Every output resolved and 6 blocks deep: nothing more happens on chain. */
  done: boolean;
}

export type ChannelView = ChannelSummary & { onchain?: ChannelOnchain };

function onchainOf(b: ClaimableBalance): ChannelOnchain {
  return {
    kind: b.kind,
    spendTxid: b.commitmentTxidHex,
    confirmedAtHeight: b.commitmentHeight,
    outputs: [
      ...b.claimed.map((c) => ({
        id: c.outputId,
        output: c.output,
        valueSat: c.valueSat,
        status: c.byHolder ? ('claimed' as const) : ('taken-by-peer' as const),
        spentByTxid: c.spentByTxidHex,
        spentAtHeight: c.height,
      })),
      ...b.pending.map((p) => ({
        id: p.outputId,
        output: p.output,
        valueSat: p.valueSat,
        status: p.needsPreimage ? ('needs-preimage' as const) : ('pending' as const),
        claimableAtHeight: p.claimableAtHeight,
      })),
    ],
    pendingSweepSat: sweepableSat(b),
    done: b.doneAtHeight !== undefined,
  };
}

const sweepableSat = (b: ClaimableBalance) =>
  b.pending.filter((p) => !p.needsPreimage).reduce((sum, p) => sum + p.valueSat, 0n);

/** The node's channels; a closing or closed one with its on-chain state once its funding is spent. */
export async function listChannels(ctx: NodeContext): Promise<ChannelView[]> {
  const channels = await ctx.get('channelManager').ref.listChannels();
  const onchain = new Map(
    (await ctx.get('chainMonitor').ref.claimableBalances()).map((b) => [b.channelIdHex, b]),
  );
  return channels.map((c) => {
    const b = c.state === 'closing' || c.state === 'closed' ? onchain.get(c.channelId) : undefined;
    return b ? { ...c, onchain: onchainOf(b) } : c;
  });
}

/** What the closed channels' outputs still hold for this node's wallet, in sat (balance's pendingSweepSat). */
export async function pendingSweepSat(ctx: NodeContext): Promise<bigint> {
  return (await ctx.get('chainMonitor').ref.claimableBalances()).reduce(
    (sum, b) => sum + sweepableSat(b),
    0n,
  );
}

export async function closeChannel(
  ctx: NodeContext,
  channelId: string,
  opts: { force?: boolean } = {},
): Promise<ClosedChannel> {
  if (typeof channelId !== 'string' || !/^[0-9a-fA-F]{64}$/.test(channelId))
    throw new NodeError(
      'invalid-argument',
      `channelId must be 32 bytes in hex (64 characters); got ${String(channelId)}`,
    );
  const id = channelId.toLowerCase();
  const manager = ctx.get('channelManager').ref;
  const open = (await manager.listChannels()).find((c) => c.channelId === id && c.state !== 'closed');
  if (!open) throw new NodeError('unknown-channel', `the node has no open channel ${id} (see listChannels)`);
  if (opts.force !== undefined && typeof opts.force !== 'boolean')
    throw new NodeError('invalid-argument', `force must be true or false; got ${String(opts.force)}`);
  ctx.get('storage').assertAvailable('closing a channel');
  try {
    const closing = await manager.closeChannel(id, { force: opts.force ?? false });
    return { channelId: id, closingTxid: closing.closingTxid };
  } catch (err) {
    throw nodeErrorOf(err);
  }
}

/** Our side of every channel not closed, in msat. */
export async function lightningBalanceMsat(ctx: NodeContext): Promise<bigint> {
  const channels = await listChannels(ctx);
  return channels.filter((c) => c.state !== 'closed').reduce((sum, c) => sum + c.localBalanceMsat, 0n);
}

function checkNodeId(nodeId: string): string {
  const id = typeof nodeId === 'string' ? nodeId.toLowerCase() : '';
  if (!NODE_ID.test(id))
    throw new NodeError(
      'invalid-argument',
      `nodeId must be a 33-byte compressed public key in hex (66 characters, starting 02 or 03); got ${String(nodeId).slice(0, 80)}`,
    );
  return id;
}

/**
 * What the wallet can spend now against the amount and the least fee of its funding (one input,
 * no change, at the feerate the manager funds at). A funding that needs more inputs can still
 * fall short; the manager's refusal then says so.
 */
function checkFunds(ctx: NodeContext, amountSat: bigint): void {
  const b = ctx.get('wallet').balance();
  const feerate = ctx.get('feeEstimator').feeratePerKw('normal');
  const feeSat = feeForWeight(transactionWeight(1, [FUNDING_SCRIPT_BYTES]), feerate);
  if (b.spendableSat >= amountSat + feeSat) return;
  const held: string[] = [];
  if (b.reservedSat > 0n) held.push(`${b.reservedSat} sat reserved for pending fundings`);
  if (b.unconfirmedSat > 0n) held.push(`${b.unconfirmedSat} sat unconfirmed`);
  if (b.immatureSat > 0n) held.push(`${b.immatureSat} sat in immature coinbase outputs`);
  throw new NodeError(
    'insufficient-funds',
    `the wallet can spend ${b.spendableSat} sat; the channel needs ${amountSat} sat plus at least ${feeSat} sat of funding fee (${feerate} sat/kw)` +
      (held.length ? `; not spendable yet: ${held.join(', ')}` : ''),
  );
}

const MANAGER_CODES: Record<string, NodeErrorCode> = {
  'invalid-argument': 'invalid-argument',
  'feature-not-negotiated': 'invalid-argument',
  'peer-not-connected': 'peer-not-connected',
  'unknown-channel': 'unknown-channel',
  'funding-failed': 'insufficient-funds',
  'channel-failed': 'channel-failed',
  'unknown-htlc': 'unknown-htlc',
  'no-route': 'no-route',
  closed: 'not-running',
};

/** The manager's (or the wallet's) refusal under the node's code, with its own message. */
export function nodeErrorOf(err: unknown): Error {
  if (err instanceof NodeError) return err;
  if (err instanceof WalletError && err.code === 'insufficient-funds')
    return new NodeError('insufficient-funds', err.message);
  // By name as well: an error that crossed an actor boundary may be a copy, not an instance.
  if (err instanceof ManagerError || (err instanceof Error && err.name === 'ManagerError')) {
    const code0 = (err as { code?: string }).code ?? '';
    // The wallet's shortfall reaches the user as the channel's failure: say what it was.
    const code = /insufficient|not enough|shortfall/i.test(err.message)
      ? 'insufficient-funds'
      : (MANAGER_CODES[code0] ?? 'channel-failed');
    return new NodeError(code, err.message);
  }
  return err instanceof Error ? err : new Error(String(err));
}
