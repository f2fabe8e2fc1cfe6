/**
 * What this node offers in open_channel / accept_channel, and the limits it puts on what the
 * other side asks (the BOLT 2 "MAY fail the channel if it considers ... too large / too
 * small" rules). Every default says why.
 */

export interface ChannelConfig {
  /** Confirmations we ask for in accept_channel (minimum_depth). Default 3. */
  minimumDepth: number;
  /**
   * to_self_delay we ask of the other side's to_local outputs. Default 144 blocks (one day):
   * long enough to notice and punish a revoked commitment while the node was down for a while.
   */
  toSelfDelay: number;
  /** Our dust_limit_satoshis. Default 546: the P2PKH relay dust limit, so no output we sign is non-standard. */
  dustLimitSat: bigint;
  /** htlc_minimum_msat we accept. Default 1. */
  htlcMinimumMsat: bigint;
  /** max_accepted_htlcs we allow the other side. Default 30 (far below the 483 cap, to bound a commitment's size). */
  maxAcceptedHtlcs: number;
  /** max_htlc_value_in_flight_msat we allow, as a percent of the channel. Default 100 (no extra cap). */
  maxHtlcValueInFlightPercent: number;
  /** channel_reserve_satoshis we ask the other side to keep, as a percent of the channel. Default 1 (BOLT 2's suggestion). */
  channelReservePercent: number;
  /** The floor of that reserve. Default 1,000 sat (it must be at least both dust limits). */
  minChannelReserveSat: bigint;
  /** Whether we accept (and, when the peer offers it, open) anchors channels. Default true. */
  anchors: boolean;
  /** Whether this node supports funding_satoshis >= 2^24 (option_support_large_channel). Default true. */
  largeChannels: boolean;
  limits: ChannelLimits;
}

export interface ChannelLimits {
  /** Smallest funding_satoshis we accept. Default 1,000 sat (LDK's own minimum). */
  minFundingSat: bigint;
  /** Largest funding_satoshis we accept (besides the 2^24 rule). Default 21 million BTC. */
  maxFundingSat: bigint;
  /**
   * Largest to_self_delay we accept on our own outputs. Default 2016 (two weeks; LDK's limit):
   * more locks our money for longer than any peer needs to punish a breach.
   */
  maxToSelfDelay: number;
  /** Largest dust_limit_satoshis we accept. Default 1,000: a larger one lets a peer burn our HTLCs as fees. */
  maxDustLimitSat: bigint;
  /** Largest htlc_minimum_msat, as a percent of the channel. Default 1: above, the channel carries almost nothing. */
  maxHtlcMinimumPercent: number;
  /** Smallest max_htlc_value_in_flight_msat, as a percent of the channel. Default 1. */
  minMaxHtlcValueInFlightPercent: number;
  /** Largest channel_reserve_satoshis we keep, as a percent of the channel. Default 20. */
  maxChannelReservePercent: number;
  /** Smallest max_accepted_htlcs. Default 5: fewer makes the channel nearly useless. */
  minMaxAcceptedHtlcs: number;
  /** Largest minimum_depth a fundee may ask of us. Default 144 (a day; LDK's limit). */
  maxMinimumDepth: number;
}

export const DEFAULT_CHANNEL_LIMITS: ChannelLimits = Object.freeze({
  minFundingSat: 1_000n,
  maxFundingSat: 21_000_000n * 100_000_000n,
  maxToSelfDelay: 2016,
  maxDustLimitSat: 1_000n,
  maxHtlcMinimumPercent: 1,
  minMaxHtlcValueInFlightPercent: 1,
  maxChannelReservePercent: 20,
  minMaxAcceptedHtlcs: 5,
  maxMinimumDepth: 144,
});

export const DEFAULT_CHANNEL_CONFIG: ChannelConfig = Object.freeze({
  minimumDepth: 3,
  toSelfDelay: 144,
  dustLimitSat: 546n,
  htlcMinimumMsat: 1n,
  maxAcceptedHtlcs: 30,
  maxHtlcValueInFlightPercent: 100,
  channelReservePercent: 1,
  minChannelReserveSat: 1_000n,
  anchors: true,
  largeChannels: true,
  limits: DEFAULT_CHANNEL_LIMITS,
});

/** The defaults with `overrides` on top (limits merged field by field). */
export function channelConfig(
  overrides: Partial<Omit<ChannelConfig, 'limits'>> & { limits?: Partial<ChannelLimits> } = {},
): ChannelConfig {
  return {
    ...DEFAULT_CHANNEL_CONFIG,
    ...overrides,
    limits: { ...DEFAULT_CHANNEL_LIMITS, ...overrides.limits },
  };
}

/** BOLT 2: the most HTLCs a channel may carry in one direction. */
export const MAX_ACCEPTED_HTLCS = 483;
/** BOLT 2: "dust_limit_satoshis is smaller than 354 satoshis" fails the channel (BOLT 3 "Dust Limits"). */
export const MIN_DUST_LIMIT_SAT = 354n;
/** BOLT 2: 2^24 satoshi, the funding cap without option_support_large_channel. */
export const LARGE_CHANNEL_SAT = 1n << 24n;
/** BOLT 2: a fundee "SHOULD forget the channel if it does not see the correct funding transaction after a timeout of 2016 blocks". */
export const FUNDING_TIMEOUT_BLOCKS = 2016;

/** `percent` of `fundingSat` in sat, rounded down. */
export function percentOf(fundingSat: bigint, percent: number): bigint {
  return (fundingSat * BigInt(Math.round(percent * 100))) / 10_000n;
}

/** The reserve we ask of the other side: a percent of the channel, at least the floor and both dust limits. */
export function reserveFor(config: ChannelConfig, fundingSat: bigint, theirDustLimitSat: bigint): bigint {
  let r = percentOf(fundingSat, config.channelReservePercent);
  for (const floor of [config.minChannelReserveSat, config.dustLimitSat, theirDustLimitSat])
    if (r < floor) r = floor;
  return r;
}

/** The larger and the smaller of two amounts (Math.max and Math.min take no bigints). */
export function maxOf(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}
export function minOf(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}
