/**
 * BOLT 2 "Channel Establishment v1", both roles, up to the funding being out:
 *
 *   funder                                   fundee
 *   openChannel()      -- open_channel -->   acceptChannel()
 *   onAcceptChannel()  <-- accept_channel --
 *     request-funding → funding-built
 *     sign-counterparty-commitment → signed
 *                      -- funding_created -> onFundingCreated()
 *                                              sign-counterparty-commitment → signed
 *                                              persist-monitor → persisted(completed)
 *   onFundingSigned()  <-- funding_signed --
 *     persist-monitor → persisted(completed)
 *     broadcast(funding)
 *
 * The durability rule is in the order of those effects: the fundee's funding_signed and the
 * funder's broadcast are emitted only on a `persisted` input saying the monitor update that
 * they depend on is completed (DESIGN.md). An in-progress persist leaves the channel paused
 * in `awaiting-persist`; a failed one fails it.
 */
import { isValidPublicKey } from '@lnkit/crypto';
import type { ChannelPublicKeys } from '@lnkit/keys';
import type { ChannelSideParams } from '@lnkit/monitor';
import { commitmentSighash, Transaction } from '@lnkit/tx';
import {
  type AcceptChannel,
  bytesEqual,
  channelIdFromFunding,
  type FundingCreated,
  type FundingSigned,
  type OpenChannel,
} from '@lnkit/wire';
import { channelOpenedUpdate, errorMessage, failChannel, refuseChannel } from './channel-effects.ts';
import type { ChannelEffect, ChannelState, Commitments, LocalChannelKeys, Step } from './channel-state.ts';
import { channelTypeFeatures, type NegotiatedChannelType } from './channel-type.ts';
import {
  checkAcceptChannel,
  checkOpenChannel,
  type OpenChannelContext,
  type PeerFeatures,
  type Refusal,
  refusalText,
} from './checks.ts';
import {
  commitmentData,
  fundingScripts,
  initialBalancesMsat,
  initialCommitments,
  verifyCommitmentSignature,
} from './commitments.ts';
import { type ChannelConfig, percentOf, reserveFor } from './config.ts';

/** What both roles need to start a channel. */
interface NewChannelCommon {
  counterpartyNodeId: string;
  chainHash: Uint8Array;
  keys: LocalChannelKeys;
  config: ChannelConfig;
  features: PeerFeatures;
  /** The chain tip's height now. */
  currentHeight: number;
  /** The alias we will send in channel_ready (unique on this node; the manager picks it). */
  localAlias: bigint;
  /** Where our mutual-close output goes. */
  shutdownScript?: Uint8Array | undefined;
  /** Commit to `shutdownScript` in open_channel / accept_channel (upfront_shutdown_script). */
  upfrontShutdown?: boolean;
}

export interface OpenChannelParams extends NewChannelCommon {
  temporaryChannelId: Uint8Array;
  fundingSat: bigint;
  pushMsat: bigint;
  channelType: NegotiatedChannelType;
  announce: boolean;
  /** The first commitment's feerate (open_channel feerate_per_kw). */
  commitmentFeeratePerKw: number;
  /** The funding transaction's feerate. */
  fundingFeeratePerKw: number;
}

function sideParams(
  m: Pick<
    OpenChannel,
    | 'dustLimitSatoshis'
    | 'maxHtlcValueInFlightMsat'
    | 'channelReserveSatoshis'
    | 'htlcMinimumMsat'
    | 'toSelfDelay'
    | 'maxAcceptedHtlcs'
    | 'fundingPubkey'
    | 'revocationBasepoint'
    | 'paymentBasepoint'
    | 'delayedPaymentBasepoint'
    | 'htlcBasepoint'
    | 'upfrontShutdownScript'
  >,
): ChannelSideParams {
  return {
    dustLimitSat: m.dustLimitSatoshis,
    maxHtlcValueInFlightMsat: m.maxHtlcValueInFlightMsat,
    channelReserveSat: m.channelReserveSatoshis,
    htlcMinimumMsat: m.htlcMinimumMsat,
    toSelfDelay: m.toSelfDelay,
    maxAcceptedHtlcs: m.maxAcceptedHtlcs,
    fundingPubkey: m.fundingPubkey,
    revocationBasepoint: m.revocationBasepoint,
    paymentBasepoint: m.paymentBasepoint,
    delayedPaymentBasepoint: m.delayedPaymentBasepoint,
    htlcBasepoint: m.htlcBasepoint,
    upfrontShutdownScript: m.upfrontShutdownScript?.length ? m.upfrontShutdownScript : undefined,
  };
}

function ourSide(
  config: ChannelConfig,
  pubkeys: ChannelPublicKeys,
  fundingSat: bigint,
  dustLimitSat: bigint,
  channelReserveSat: bigint,
  upfront: Uint8Array | undefined,
): ChannelSideParams {
  return {
    dustLimitSat,
    maxHtlcValueInFlightMsat: percentOf(fundingSat, config.maxHtlcValueInFlightPercent) * 1000n,
    channelReserveSat,
    htlcMinimumMsat: config.htlcMinimumMsat,
    toSelfDelay: config.toSelfDelay,
    maxAcceptedHtlcs: config.maxAcceptedHtlcs,
    ...pubkeys,
    upfrontShutdownScript: upfront,
  };
}

const upfrontOf = (p: NewChannelCommon) => (p.upfrontShutdown ? p.shutdownScript : undefined);

/** Funder: a new channel and its open_channel. */
export function openChannel(p: OpenChannelParams): Step {
  const local = ourSide(
    p.config,
    p.keys.pubkeys,
    p.fundingSat,
    p.config.dustLimitSat,
    reserveFor(p.config, p.fundingSat, p.config.dustLimitSat),
    upfrontOf(p),
  );
  const state: ChannelState = {
    phase: 'awaiting-accept',
    role: 'funder',
    counterpartyNodeId: p.counterpartyNodeId,
    temporaryChannelId: p.temporaryChannelId,
    chainHash: p.chainHash,
    channelType: p.channelType,
    announce: p.announce,
    fundingSat: p.fundingSat,
    pushMsat: p.pushMsat,
    feeratePerKw: p.commitmentFeeratePerKw,
    fundingFeeratePerKw: p.fundingFeeratePerKw,
    keys: p.keys,
    local,
    localShutdownScript: p.shutdownScript,
    minimumDepth: 1,
    bestHeight: p.currentHeight,
    createdAtHeight: p.currentHeight,
    channelReadySent: false,
    channelReadyReceived: false,
    localAlias: p.localAlias,
    nextMonitorUpdateId: 1n,
    link: 'connected',
  };
  const open: OpenChannel = {
    type: 32,
    kind: 'open_channel',
    chainHash: p.chainHash,
    temporaryChannelId: p.temporaryChannelId,
    fundingSatoshis: p.fundingSat,
    pushMsat: p.pushMsat,
    dustLimitSatoshis: local.dustLimitSat,
    maxHtlcValueInFlightMsat: local.maxHtlcValueInFlightMsat,
    channelReserveSatoshis: local.channelReserveSat,
    htlcMinimumMsat: local.htlcMinimumMsat,
    feeratePerKw: p.commitmentFeeratePerKw,
    toSelfDelay: local.toSelfDelay,
    maxAcceptedHtlcs: local.maxAcceptedHtlcs,
    fundingPubkey: local.fundingPubkey,
    revocationBasepoint: local.revocationBasepoint,
    paymentBasepoint: local.paymentBasepoint,
    delayedPaymentBasepoint: local.delayedPaymentBasepoint,
    htlcBasepoint: local.htlcBasepoint,
    firstPerCommitmentPoint: p.keys.perCommitmentPoints[0],
    channelFlags: p.announce ? 1 : 0,
    // BOLT 2: "if it includes open_channel_tlvs: MUST include upfront_shutdown_script" (empty: none).
    upfrontShutdownScript: local.upfrontShutdownScript ?? new Uint8Array(0),
    channelType: channelTypeFeatures(p.channelType),
  };
  return { state, effects: [{ kind: 'send', message: open }] };
}

export interface AcceptChannelParams extends NewChannelCommon {
  feerate: OpenChannelContext['feerate'];
}

/**
 * Fundee: the peer's open_channel, checked (checks.ts). Accepted: the new channel and its
 * accept_channel. Refused: no channel, an `error` naming the field, and the refusal.
 */
export function acceptChannel(
  m: OpenChannel,
  p: AcceptChannelParams,
): { ok: true; step: Step } | { ok: false; effects: ChannelEffect[]; refusal: Refusal } {
  const checked = checkOpenChannel(m, {
    chainHash: p.chainHash,
    config: p.config,
    features: p.features,
    feerate: p.feerate,
  });
  if (!checked.ok) {
    const r = checked.refusal;
    return {
      ok: false,
      refusal: r,
      effects: [
        { kind: 'log', level: 'warn', message: refusalText('open_channel', r), refusal: r },
        { kind: 'send', message: errorMessage(m.temporaryChannelId, refusalText('open_channel', r)) },
      ],
    };
  }
  // BOLT 2 (accept_channel sender): "MUST set dust_limit_satoshis less than or equal to
  // channel_reserve_satoshis from the open_channel message" and "MUST set
  // channel_reserve_satoshis greater than or equal to dust_limit_satoshis from the open_channel message".
  let dustLimitSat = p.config.dustLimitSat;
  if (m.channelReserveSatoshis < dustLimitSat) dustLimitSat = m.channelReserveSatoshis;
  const local = ourSide(
    p.config,
    p.keys.pubkeys,
    m.fundingSatoshis,
    dustLimitSat,
    reserveFor(p.config, m.fundingSatoshis, m.dustLimitSatoshis),
    upfrontOf(p),
  );
  const state: ChannelState = {
    phase: 'awaiting-funding-created',
    role: 'fundee',
    counterpartyNodeId: p.counterpartyNodeId,
    temporaryChannelId: m.temporaryChannelId,
    chainHash: p.chainHash,
    channelType: checked.value,
    announce: (m.channelFlags & 1) !== 0,
    fundingSat: m.fundingSatoshis,
    pushMsat: m.pushMsat,
    feeratePerKw: m.feeratePerKw,
    keys: p.keys,
    local,
    remote: sideParams(m),
    remoteFirstPerCommitmentPoint: m.firstPerCommitmentPoint,
    localShutdownScript: p.shutdownScript,
    minimumDepth: Math.max(1, p.config.minimumDepth),
    bestHeight: p.currentHeight,
    createdAtHeight: p.currentHeight,
    channelReadySent: false,
    channelReadyReceived: false,
    localAlias: p.localAlias,
    nextMonitorUpdateId: 1n,
    link: 'connected',
  };
  const accept: AcceptChannel = {
    type: 33,
    kind: 'accept_channel',
    temporaryChannelId: m.temporaryChannelId,
    dustLimitSatoshis: local.dustLimitSat,
    maxHtlcValueInFlightMsat: local.maxHtlcValueInFlightMsat,
    channelReserveSatoshis: local.channelReserveSat,
    htlcMinimumMsat: local.htlcMinimumMsat,
    minimumDepth: state.minimumDepth,
    toSelfDelay: local.toSelfDelay,
    maxAcceptedHtlcs: local.maxAcceptedHtlcs,
    fundingPubkey: local.fundingPubkey,
    revocationBasepoint: local.revocationBasepoint,
    paymentBasepoint: local.paymentBasepoint,
    delayedPaymentBasepoint: local.delayedPaymentBasepoint,
    htlcBasepoint: local.htlcBasepoint,
    firstPerCommitmentPoint: p.keys.perCommitmentPoints[0],
    upfrontShutdownScript: local.upfrontShutdownScript ?? new Uint8Array(0),
    // BOLT 2: "MUST set channel_type to the channel_type from open_channel" — the bytes as
    // they came, so a peer comparing them finds its own.
    channelType: m.channelType,
  };
  return { ok: true, step: { state, effects: [{ kind: 'send', message: accept }] } };
}

/** Funder: the peer's accept_channel; asks the wallet for the funding transaction. */
export function onAcceptChannel(
  s: ChannelState,
  m: AcceptChannel,
  config: ChannelConfig,
  features: PeerFeatures,
): Step {
  const checked = checkAcceptChannel(
    m,
    {
      fundingSat: s.fundingSat,
      dustLimitSat: s.local.dustLimitSat,
      channelReserveSat: s.local.channelReserveSat,
      channelType: s.channelType,
    },
    config,
    features,
  );
  if (!checked.ok) return refuseChannel(s, 'accept_channel', checked.refusal);
  const remote = sideParams(m);
  const scripts = fundingScripts(s.local, remote);
  const state: ChannelState = {
    ...s,
    phase: 'awaiting-funding-tx',
    remote,
    remoteFirstPerCommitmentPoint: m.firstPerCommitmentPoint,
    // minimum_depth 0 is a zero-conf channel, which lnkit does not open: it waits for one block.
    minimumDepth: Math.max(1, checked.value.minimumDepth),
  };
  return {
    state,
    effects: [
      {
        kind: 'request-funding',
        outputScript: scripts.scriptPubKey,
        amountSat: s.fundingSat,
        feerateSatPerKw: s.fundingFeeratePerKw ?? s.feeratePerKw,
      },
    ],
  };
}

/** Funder: the wallet's funding transaction; signs the fundee's first commitment. */
export function onFundingBuilt(s: ChannelState, raw: Uint8Array): Step {
  const remote = s.remote;
  const remotePoint = s.remoteFirstPerCommitmentPoint;
  if (!remote || !remotePoint) throw new Error('funding-built before accept_channel');
  const fail = (message: string) =>
    failChannel(s, { kind: 'funding-failed', message }, { errorText: `funding failed: ${message}` });
  let tx: Transaction;
  try {
    tx = Transaction.fromBuffer(Buffer.from(raw));
  } catch {
    return fail('the wallet returned a transaction that does not parse');
  }
  const scripts = fundingScripts(s.local, remote);
  const vout = tx.outs.findIndex(
    (o) => bytesEqual(o.script, scripts.scriptPubKey) && o.value === s.fundingSat,
  );
  if (vout < 0) return fail('the transaction does not pay funding_satoshis to the 2-of-2');
  if (vout > 0xffff) return fail('the funding output index does not fit funding_output_index');
  // BOLT 2 funding_created: "SHOULD use only BIP141 (Segregated Witness) inputs": anything
  // else lets the txid change before it confirms, and the commitments signed for it with it.
  if (!tx.ins.every((i) => i.witness.length > 0 && i.script.length === 0))
    return fail('the transaction has an input without a witness (its txid could change)');
  const outpoint = { txid: new Uint8Array(tx.getHash()), vout };
  const state: ChannelState = {
    ...s,
    phase: 'signing',
    channelId: channelIdFromFunding(outpoint.txid, vout),
    funding: { outpoint, ...scripts, tx: new Uint8Array(raw) },
  };
  const { counterparty } = initialCommitments(state, remote, outpoint, remotePoint);
  return { state, effects: [signCounterparty(counterparty, remotePoint)] };
}

function signCounterparty(
  counterparty: ReturnType<typeof initialCommitments>['counterparty'],
  point: Uint8Array,
): ChannelEffect {
  return {
    kind: 'sign-counterparty-commitment',
    commitmentNumber: 0n,
    sighash: commitmentSighash(counterparty),
    perCommitmentPoint: point,
  };
}

/** Fundee: funding_created; checks the funder's signature of our commitment, signs theirs. */
export function onFundingCreated(s: ChannelState, m: FundingCreated): Step {
  const remote = s.remote;
  const remotePoint = s.remoteFirstPerCommitmentPoint;
  if (!remote || !remotePoint) throw new Error('fundee without the open_channel parameters');
  const outpoint = { txid: m.fundingTxid, vout: m.fundingOutputIndex };
  const scripts = fundingScripts(s.local, remote);
  const withFunding: ChannelState = {
    ...s,
    channelId: channelIdFromFunding(m.fundingTxid, m.fundingOutputIndex),
    funding: { outpoint, ...scripts },
  };
  const { holder, counterparty } = initialCommitments(withFunding, remote, outpoint, remotePoint);
  // BOLT 2 funding_created: "if signature is incorrect OR non-compliant with LOW-S-standard
  // rule: MUST send a warning and close the connection, or send an error and fail the channel."
  // The error goes out under the temporary id: the peer has not seen funding_signed.
  if (!verifyCommitmentSignature(holder, m.signature, remote.fundingPubkey))
    return refuseChannel(s, 'funding_created', {
      field: 'signature',
      reason: 'signature is not a valid signature of our first commitment',
    });
  const commitments = initialCommitmentsData(withFunding, holder, counterparty, m.signature, remotePoint);
  return {
    state: { ...withFunding, phase: 'signing', commitments },
    effects: [signCounterparty(counterparty, remotePoint)],
  };
}

function initialCommitmentsData(
  s: ChannelState,
  holder: ReturnType<typeof initialCommitments>['holder'],
  counterparty: ReturnType<typeof initialCommitments>['counterparty'],
  counterpartySignature: Uint8Array,
  remotePoint: Uint8Array,
): Commitments {
  const { toLocalMsat, toRemoteMsat } = initialBalancesMsat(s);
  return {
    localCommitmentNumber: 0n,
    remoteCommitmentNumber: 0n,
    toLocalMsat,
    toRemoteMsat,
    feeratePerKw: s.feeratePerKw,
    holder: { ...commitmentData(holder, s.keys.perCommitmentPoints[0]), counterpartySignature },
    counterparty: commitmentData(counterparty, remotePoint),
  };
}

/** Both: our signature of their first commitment. Funder: funding_created. Fundee: persist first. */
export function onCounterpartySigned(s: ChannelState, signature: Uint8Array): Step {
  const funding = s.funding;
  if (!funding) throw new Error('signed without a funding outpoint');
  if (s.role === 'funder') {
    const created: FundingCreated = {
      type: 34,
      kind: 'funding_created',
      temporaryChannelId: s.temporaryChannelId,
      fundingTxid: funding.outpoint.txid,
      fundingOutputIndex: funding.outpoint.vout,
      signature,
    };
    return {
      state: { ...s, phase: 'awaiting-funding-signed' },
      effects: [{ kind: 'send', message: created }],
    };
  }
  const commitments = s.commitments;
  if (!commitments) throw new Error('fundee signed before funding_created');
  return persistFirstUpdate({ ...s, fundingSignedSignature: signature }, commitments);
}

/** Funder: funding_signed; checks the fundee's signature of our commitment, then persists. */
export function onFundingSigned(s: ChannelState, m: FundingSigned): Step {
  const remote = s.remote;
  const remotePoint = s.remoteFirstPerCommitmentPoint;
  const funding = s.funding;
  if (!remote || !remotePoint || !funding) throw new Error('funding_signed before funding_created');
  const { holder, counterparty } = initialCommitments(s, remote, funding.outpoint, remotePoint);
  // BOLT 2 funding_signed: "if signature is incorrect OR non-compliant with LOW-S-standard
  // rule: MUST send a warning and close the connection, or send an error and fail the
  // channel" and "MUST NOT broadcast the funding transaction before receipt of a valid funding_signed."
  if (!verifyCommitmentSignature(holder, m.signature, remote.fundingPubkey))
    return refuseChannel(s, 'funding_signed', {
      field: 'signature',
      reason: 'signature is not a valid signature of our first commitment',
    });
  return persistFirstUpdate(s, initialCommitmentsData(s, holder, counterparty, m.signature, remotePoint));
}

function persistFirstUpdate(s: ChannelState, commitments: Commitments): Step {
  const withCommitments: ChannelState = { ...s, commitments };
  const update = channelOpenedUpdate(withCommitments, commitments);
  return {
    state: {
      ...withCommitments,
      phase: 'awaiting-persist',
      nextMonitorUpdateId: update.updateId + 1n,
      pendingPersist: { updateId: update.updateId, inProgress: false },
    },
    effects: [
      { kind: 'holder-commitment-validated', commitmentNumber: 0n },
      { kind: 'persist-monitor', update },
    ],
  };
}

/**
 * The first monitor update is durable: the fundee sends funding_signed, the funder broadcasts
 * the funding transaction; both then watch for it.
 */
export function onFirstUpdatePersisted(s: ChannelState): Step {
  const funding = s.funding;
  const channelId = s.channelId;
  if (!funding || !channelId) throw new Error('persisted without a funding outpoint');
  // Watched first: the funding can be in the next block the manager sees, however soon that
  // comes after the broadcast (a channel in a host thread hears of blocks by message).
  const effects: ChannelEffect[] = [
    {
      kind: 'watch-funding',
      outpoint: funding.outpoint,
      scriptPubKey: funding.scriptPubKey,
      minimumDepth: s.minimumDepth,
    },
  ];
  if (s.role === 'fundee') {
    const signature = s.fundingSignedSignature;
    if (!signature) throw new Error('fundee persisted without its signature');
    effects.push({ kind: 'send', message: { type: 35, kind: 'funding_signed', channelId, signature } });
  } else {
    if (!funding.tx) throw new Error('funder without its funding transaction');
    // BOLT 2 funding_signed: "on receipt of a valid funding_signed: SHOULD broadcast the funding transaction."
    effects.push({ kind: 'broadcast', tx: funding.tx, what: 'funding' });
  }
  effects.push({
    kind: 'event',
    event: {
      type: 'ChannelPending',
      channelId,
      temporaryChannelId: s.temporaryChannelId,
      counterpartyNodeId: s.counterpartyNodeId,
      fundingTxid: Buffer.from(funding.outpoint.txid).reverse().toString('hex'),
      fundingOutputIndex: funding.outpoint.vout,
      isFunder: s.role === 'funder',
    },
  });
  return {
    state: {
      ...s,
      phase: 'awaiting-confirmation',
      pendingPersist: undefined,
      fundingSignedSignature: undefined,
    },
    effects,
  };
}

/** A point the peer sent that must be on the curve (channel_ready's second_per_commitment_point). */
export function validPoint(p: Uint8Array): boolean {
  return isValidPublicKey(p) && p.length === 33;
}
