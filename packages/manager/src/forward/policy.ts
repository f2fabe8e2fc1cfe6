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
