/**
 * Every check BOLT 2 puts on the other side's channel parameters, for `open_channel` (we are
 * the fundee) and `accept_channel` (we are the funder). Each refusal names the field, so the
 * `error` sent to the peer says which of its values we did not take. The MUST rules are
 * applied as written; the MAY rules ("it considers ... too large") use the limits of
 * `ChannelConfig` (config.ts, each with its reason).
 */
import { isValidPublicKey } from '@lnkit/crypto';
import { ANCHOR_OUTPUT_SAT, commitmentFeeSat } from '@lnkit/tx';
import { type AcceptChannel, bytesEqual, CHANNEL_FLAG_ANNOUNCE, type OpenChannel } from '@lnkit/wire';
import { type NegotiatedChannelType, parseChannelType } from './channel-type.ts';
import {
  type ChannelConfig,
  LARGE_CHANNEL_SAT,
  MAX_ACCEPTED_HTLCS,
  MIN_DUST_LIMIT_SAT,
  percentOf,
} from './config.ts';
import { isValidShutdownScript, type ShutdownScriptFeatures } from './shutdown-script.ts';

/** Why a parameter was refused: the BOLT field name and a sentence for the peer and the log. */
export interface Refusal {
  readonly field: string;
  readonly reason: string;
}

export type CheckResult<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

/** What the init exchange with this peer settled (BOLT 9 features both sides offered, or we require). */
export interface PeerFeatures extends ShutdownScriptFeatures {
  /** Both advertised option_support_large_channel. */
  largeChannel: boolean;
  /** Both advertised option_anchors. */
  anchors: boolean;
  /** option_dual_fund negotiated: BOLT 2 v1 open_channel must then be refused. */
  dualFund: boolean;
  /** Both advertised option_upfront_shutdown_script. */
  upfrontShutdownScript: boolean;
  /** Both advertised option_scid_alias. */
  scidAlias: boolean;
}

/** The feerates we find sane for a commitment right now (from the fee estimator). */
export interface FeerateBounds {
  minPerKw: number;
  maxPerKw: number;
}

export interface OpenChannelContext {
  chainHash: Uint8Array;
  config: ChannelConfig;
  features: PeerFeatures;
  feerate: FeerateBounds;
}

const refuse = (field: string, reason: string): { ok: false; refusal: Refusal } => ({
  ok: false,
  refusal: { field, reason },
});

/** The text of the `error` for a refusal: it always names the field. */
export function refusalText(what: string, r: Refusal): string {
  return `${what} refused: ${r.reason.includes(r.field) ? r.reason : `${r.field}: ${r.reason}`}`;
}

const BASEPOINTS = [
  ['fundingPubkey', 'funding_pubkey'],
  ['revocationBasepoint', 'revocation_basepoint'],
  ['paymentBasepoint', 'payment_basepoint'],
  ['delayedPaymentBasepoint', 'delayed_payment_basepoint'],
  ['htlcBasepoint', 'htlc_basepoint'],
  ['firstPerCommitmentPoint', 'first_per_commitment_point'],
] as const;

/** The fields open_channel and accept_channel share, checked the same way on both. */
type CommonFields = Pick<
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
  | 'firstPerCommitmentPoint'
  | 'upfrontShutdownScript'
>;

function checkCommon(
  m: CommonFields,
  fundingSat: bigint,
  config: ChannelConfig,
  f: PeerFeatures,
): Refusal | undefined {
  const limits = config.limits;
  // BOLT 2: "funding_pubkey, revocation_basepoint, htlc_basepoint, payment_basepoint, or
  // delayed_payment_basepoint are not valid secp256k1 pubkeys in compressed format" (the
  // wire codec checks the prefix; this checks the point is on the curve).
  for (const [key, field] of BASEPOINTS)
    if (!isValidPublicKey(m[key])) return { field, reason: `${field} is not a valid secp256k1 point` };
  // BOLT 2: "to_self_delay is unreasonably large."
  if (m.toSelfDelay > limits.maxToSelfDelay)
    return {
      field: 'to_self_delay',
      reason: `to_self_delay ${m.toSelfDelay} is above our limit of ${limits.maxToSelfDelay} blocks`,
    };
  // BOLT 2: "max_accepted_htlcs is greater than 483."
  if (m.maxAcceptedHtlcs > MAX_ACCEPTED_HTLCS)
    return {
      field: 'max_accepted_htlcs',
      reason: `max_accepted_htlcs ${m.maxAcceptedHtlcs} is above ${MAX_ACCEPTED_HTLCS}`,
    };
  // BOLT 2: MAY fail if "it considers max_accepted_htlcs too small."
  if (m.maxAcceptedHtlcs < limits.minMaxAcceptedHtlcs)
    return {
      field: 'max_accepted_htlcs',
      reason: `max_accepted_htlcs ${m.maxAcceptedHtlcs} is below our minimum of ${limits.minMaxAcceptedHtlcs}`,
    };
  // BOLT 2: "dust_limit_satoshis is smaller than 354 satoshis (see BOLT 3)."
  if (m.dustLimitSatoshis < MIN_DUST_LIMIT_SAT)
    return {
      field: 'dust_limit_satoshis',
      reason: `dust_limit_satoshis ${m.dustLimitSatoshis} is below ${MIN_DUST_LIMIT_SAT}`,
    };
  // BOLT 2: MAY fail if "it considers dust_limit_satoshis too large (see BOLT 3)."
  if (m.dustLimitSatoshis > limits.maxDustLimitSat)
    return {
      field: 'dust_limit_satoshis',
      reason: `dust_limit_satoshis ${m.dustLimitSatoshis} is above our limit of ${limits.maxDustLimitSat}`,
    };
  // BOLT 2: "dust_limit_satoshis is greater than channel_reserve_satoshis."
  if (m.dustLimitSatoshis > m.channelReserveSatoshis)
    return {
      field: 'dust_limit_satoshis',
      reason: `dust_limit_satoshis ${m.dustLimitSatoshis} is above channel_reserve_satoshis ${m.channelReserveSatoshis}`,
    };
  // BOLT 2: MAY fail if "it considers channel_reserve_satoshis too large."
  const maxReserve = percentOf(fundingSat, limits.maxChannelReservePercent);
  if (m.channelReserveSatoshis > maxReserve)
    return {
      field: 'channel_reserve_satoshis',
      reason: `channel_reserve_satoshis ${m.channelReserveSatoshis} is above ${limits.maxChannelReservePercent}% of the channel`,
    };
  // BOLT 2: MAY fail if "it considers htlc_minimum_msat too large."
  if (m.htlcMinimumMsat > percentOf(fundingSat, limits.maxHtlcMinimumPercent) * 1000n)
    return {
      field: 'htlc_minimum_msat',
      reason: `htlc_minimum_msat ${m.htlcMinimumMsat} is above ${limits.maxHtlcMinimumPercent}% of the channel`,
    };
  // BOLT 2: MAY fail if "it considers max_htlc_value_in_flight_msat too small."
  if (m.maxHtlcValueInFlightMsat < percentOf(fundingSat, limits.minMaxHtlcValueInFlightPercent) * 1000n)
    return {
      field: 'max_htlc_value_in_flight_msat',
      reason: `max_htlc_value_in_flight_msat ${m.maxHtlcValueInFlightMsat} is below ${limits.minMaxHtlcValueInFlightPercent}% of the channel`,
    };
  // BOLT 2 (open_channel): upfront_shutdown_script is "either a valid shutdown_scriptpubkey as
  // required by shutdown scriptpubkey, or a zero-length shutdown_scriptpubkey".
  const script = m.upfrontShutdownScript;
  if (script && script.length > 0 && !isValidShutdownScript(script, f))
    return {
      field: 'upfront_shutdown_script',
      reason: 'upfront_shutdown_script is not a script a channel may close to',
    };
  return undefined;
}

/** The funder's fee for the initial commitment (no HTLCs), anchors included (BOLT 3 "Fee Payment"). */
export function initialCommitmentFeeSat(t: NegotiatedChannelType, feeratePerKw: number): bigint {
  const anchors = t.type === 'anchors_zero_fee_htlc_tx' ? 2n * ANCHOR_OUTPUT_SAT : 0n;
  return commitmentFeeSat(t.type, BigInt(feeratePerKw), 0) + anchors;
}

/** The checks on an `open_channel` we received (BOLT 2 "The receiving node MUST / MAY fail the channel if"). */
export function checkOpenChannel(
  m: OpenChannel,
  ctx: OpenChannelContext,
): CheckResult<NegotiatedChannelType> {
  const { config, features } = ctx;
  // BOLT 2: "the chain_hash value is set to a hash of a chain that is unknown to the receiver."
  if (!bytesEqual(m.chainHash, ctx.chainHash)) return refuse('chain_hash', 'chain_hash is not our chain');
  // BOLT 2: "if option_dual_fund has been negotiated: fail the channel."
  if (features.dualFund) return refuse('open_channel', 'option_dual_fund was negotiated: use open_channel2');
  // BOLT 2: "if the message doesn't include a channel_type: fail the channel."
  if (!m.channelType) return refuse('channel_type', 'channel_type is missing');
  // BOLT 2: "the channel_type is not suitable" / "includes option_zeroconf and it does not trust the sender".
  const announce = (m.channelFlags & CHANNEL_FLAG_ANNOUNCE) !== 0;
  const parsed = parseChannelType(m.channelType, announce);
  if (!parsed.ok) return refuse('channel_type', parsed.reason);
  const type = parsed.value;
  if (type.type === 'anchors_zero_fee_htlc_tx' && !config.anchors)
    return refuse('channel_type', 'channel_type is anchors, which this node does not accept');
  const fundingSat = m.fundingSatoshis;
  // BOLT 2: "funding_satoshis is greater than or equal to 2^24 and the receiver does not
  // support option_support_large_channel."
  if (fundingSat >= LARGE_CHANNEL_SAT && !(config.largeChannels && features.largeChannel))
    return refuse('funding_satoshis', `funding_satoshis ${fundingSat} needs option_support_large_channel`);
  // BOLT 2: MAY fail if "funding_satoshis is too small."
  if (fundingSat < config.limits.minFundingSat)
    return refuse(
      'funding_satoshis',
      `funding_satoshis ${fundingSat} is below our minimum of ${config.limits.minFundingSat}`,
    );
  if (fundingSat > config.limits.maxFundingSat)
    return refuse(
      'funding_satoshis',
      `funding_satoshis ${fundingSat} is above our maximum of ${config.limits.maxFundingSat}`,
    );
  // BOLT 2: "push_msat is greater than funding_satoshis * 1000."
  if (m.pushMsat > fundingSat * 1000n)
    return refuse('push_msat', `push_msat ${m.pushMsat} is more than the channel`);
  // BOLT 2: "it considers feerate_per_kw too small for timely processing or unreasonably large."
  if (m.feeratePerKw < ctx.feerate.minPerKw)
    return refuse(
      'feerate_per_kw',
      `feerate_per_kw ${m.feeratePerKw} is below our minimum of ${ctx.feerate.minPerKw}`,
    );
  if (m.feeratePerKw > ctx.feerate.maxPerKw)
    return refuse(
      'feerate_per_kw',
      `feerate_per_kw ${m.feeratePerKw} is above our maximum of ${ctx.feerate.maxPerKw}`,
    );
  const common = checkCommon(m, fundingSat, config, features);
  if (common) return { ok: false, refusal: common };
  // BOLT 2: "the funder's amount for the initial commitment transaction is not sufficient for
  // full fee payment."
  const funderSat = (fundingSat * 1000n - m.pushMsat) / 1000n;
  const feeSat = initialCommitmentFeeSat(type, m.feeratePerKw);
  if (funderSat < feeSat)
    return refuse(
      'push_msat',
      `after push_msat the funder keeps ${funderSat} sat and cannot pay the commitment fee of ${feeSat} sat`,
    );
  // BOLT 2: "both to_local and to_remote amounts for the initial commitment transaction are
  // less than or equal to channel_reserve_satoshis."
  const reserve = m.channelReserveSatoshis;
  if (m.pushMsat / 1000n <= reserve && funderSat - feeSat <= reserve)
    return refuse(
      'channel_reserve_satoshis',
      `neither side's initial balance is above channel_reserve_satoshis ${reserve}`,
    );
  return { ok: true, value: type };
}

/** What we sent in open_channel that the accept_channel checks compare with. */
export interface SentOpenChannel {
  fundingSat: bigint;
  dustLimitSat: bigint;
  channelReserveSat: bigint;
  channelType: NegotiatedChannelType;
}

/** The checks on the `accept_channel` answering our `open_channel` (BOLT 2 "The receiver"). */
export function checkAcceptChannel(
  m: AcceptChannel,
  sent: SentOpenChannel,
  config: ChannelConfig,
  features: PeerFeatures,
): CheckResult<{ minimumDepth: number }> {
  // BOLT 2: "if the message doesn't include a channel_type: MUST fail the channel."
  if (!m.channelType) return refuse('channel_type', 'channel_type is missing');
  // BOLT 2: "if channel_type does not match the channel_type from open_channel: MUST fail the channel."
  const parsed = parseChannelType(m.channelType, false);
  if (
    !parsed.ok ||
    parsed.value.type !== sent.channelType.type ||
    parsed.value.scidAlias !== sent.channelType.scidAlias
  )
    return refuse('channel_type', 'channel_type does not match the one in open_channel');
  // BOLT 2: "if minimum_depth is unreasonably large: MAY fail the channel."
  if (m.minimumDepth > config.limits.maxMinimumDepth)
    return refuse(
      'minimum_depth',
      `minimum_depth ${m.minimumDepth} is above our limit of ${config.limits.maxMinimumDepth}`,
    );
  // BOLT 2: "if channel_reserve_satoshis is less than dust_limit_satoshis within the open_channel message: MUST fail the channel."
  if (m.channelReserveSatoshis < sent.dustLimitSat)
    return refuse(
      'channel_reserve_satoshis',
      `channel_reserve_satoshis ${m.channelReserveSatoshis} is below our dust_limit_satoshis ${sent.dustLimitSat}`,
    );
  // BOLT 2: "if channel_reserve_satoshis from the open_channel message is less than dust_limit_satoshis: MUST fail the channel."
  if (sent.channelReserveSat < m.dustLimitSatoshis)
    return refuse(
      'dust_limit_satoshis',
      `dust_limit_satoshis ${m.dustLimitSatoshis} is above the channel_reserve_satoshis ${sent.channelReserveSat} we asked`,
    );
  // BOLT 2: "Other fields have the same requirements as their counterparts in open_channel."
  const common = checkCommon(m, sent.fundingSat, config, features);
  if (common) return { ok: false, refusal: common };
  return { ok: true, value: { minimumDepth: m.minimumDepth } };
}
