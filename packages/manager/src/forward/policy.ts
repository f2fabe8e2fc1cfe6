/**
 * Our relay policy for a channel (BOLT 7 channel_update's fields): what we charge and how many
 * blocks we want between the HTLCs of a forward, and the amounts we forward at all.
 */

export interface ForwardPolicy {
  /** BOLT 7 fee_base_msat (u32 on the wire). */
  feeBaseMsat: number;
  /** BOLT 7 fee_proportional_millionths (u32 on the wire). */
  feeProportionalMillionths: number;
  /** BOLT 7 cltv_expiry_delta: blocks between the incoming HTLC's expiry and the outgoing one's. */
  cltvExpiryDelta: number;
  htlcMinimumMsat: bigint;
  htlcMaximumMsat: bigint;
  /** False: the channel is disabled for forwarding (channel_update's `disable` bit). */
  enabled: boolean;
}

/**
 * LDK 0.1.0's defaults (ChannelConfig): forwarding_fee_base_msat 1000,
 * forwarding_fee_proportional_millionths 0, cltv_expiry_delta 72 (6 × 12 blocks). The
 * minimum is 1 msat (LDK's our_htlc_minimum_msat) and there is no maximum of our own: the
 * channel's limits bound it (see `effectivePolicy`).
 */
export const DEFAULT_FORWARD_POLICY: Readonly<ForwardPolicy> = Object.freeze({
  feeBaseMsat: 1000,
  feeProportionalMillionths: 0,
  cltvExpiryDelta: 72,
  htlcMinimumMsat: 1n,
  htlcMaximumMsat: 0xffff_ffff_ffff_ffffn,
  enabled: true,
});

/** What a user sets (setfees): any of the fields; the others stay. */
export type PolicyChange = Partial<ForwardPolicy>;

/**
 * No delta under 18: BOLT 2's fulfillment deadline is 18 blocks before an HTLC's expiry, so a
 * forward's outgoing HTLC must expire at least that long before its incoming one.
 */
export const MIN_CLTV_EXPIRY_DELTA = 18;

/** What is wrong with a change, in words naming the field; undefined if nothing. BOLT 7: the fees are u32, the delta a u16. */
export function policyChangeProblem(change: PolicyChange): string | undefined {
  const whole = (name: string, v: number | undefined, min: number, max: number) =>
    v === undefined || (Number.isInteger(v) && v >= min && v <= max)
      ? undefined
      : `${name} must be a whole number from ${min} to ${max}; got ${String(v)}`;
  const { htlcMinimumMsat: min, htlcMaximumMsat: max } = change;
  const msat = (name: string, v: bigint | undefined) =>
    v === undefined || (typeof v === 'bigint' && v >= 0n && v < 2n ** 64n)
      ? undefined
      : `${name} must be a whole number of msat from 0 to 2^64 - 1; got ${String(v)}`;
  return (
    whole('the base fee (msat)', change.feeBaseMsat, 0, 0xffff_ffff) ??
    whole('the proportional fee (ppm)', change.feeProportionalMillionths, 0, 0xffff_ffff) ??
    whole('the cltv expiry delta', change.cltvExpiryDelta, MIN_CLTV_EXPIRY_DELTA, 0xffff) ??
    msat('the HTLC minimum', min) ??
    msat('the HTLC maximum', max) ??
    (min !== undefined && max !== undefined && min > max
      ? `the HTLC minimum ${min} msat is above the maximum ${max} msat`
      : undefined) ??
    (Object.values(change).every((v) => v === undefined)
      ? 'nothing to change: give a fee, a delta or a limit'
      : undefined)
  );
}

/**
 * BOLT 7: "fee_base_msat + ( amount_to_forward * fee_proportional_millionths / 1000000 )",
 * the division rounding down.
 */
export function forwardFeeMsat(policy: ForwardPolicy, amountToForwardMsat: bigint): bigint {
  return (
    BigInt(policy.feeBaseMsat) + (amountToForwardMsat * BigInt(policy.feeProportionalMillionths)) / 1_000_000n
  );
}

/**
 * The policy as the channel can honour it (what our channel_update says): no minimum below
 * the peer's htlc_minimum_msat (it refuses smaller HTLCs), no maximum above its
 * max_htlc_value_in_flight_msat or the channel's capacity.
 */
export function effectivePolicy(
  policy: ForwardPolicy,
  channel: { remoteHtlcMinimumMsat: bigint; remoteMaxInFlightMsat: bigint; capacityMsat: bigint },
): ForwardPolicy {
  const max = [channel.remoteMaxInFlightMsat, channel.capacityMsat].reduce(smaller, policy.htlcMaximumMsat);
  const min =
    smaller(channel.remoteHtlcMinimumMsat, policy.htlcMinimumMsat) === policy.htlcMinimumMsat
      ? channel.remoteHtlcMinimumMsat
      : policy.htlcMinimumMsat;
  return { ...policy, htlcMinimumMsat: min, htlcMaximumMsat: max };
}

/** Math.min for bigints (Math.min takes numbers only). */
function smaller(a: bigint, b: bigint): bigint {
  return b < a ? b : a;
}
