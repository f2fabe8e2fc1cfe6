/** BOLT 3 "Fees" and "Trimmed Outputs". */
export type ChannelType = 'static_remotekey' | 'anchors_zero_fee_htlc_tx';

/** BOLT 3: the fixed anchor output amount. */
export const ANCHOR_OUTPUT_SAT = 330n;

export const isAnchors = (t: ChannelType) => t === 'anchors_zero_fee_htlc_tx';

/** BOLT 3 "Fee Calculation": expected weights. */
export function commitmentWeight(channelType: ChannelType, untrimmedHtlcs: number): bigint {
  return (isAnchors(channelType) ? 1124n : 724n) + 172n * BigInt(untrimmedHtlcs);
}

export function htlcTimeoutFeeSat(channelType: ChannelType, feeratePerKw: bigint): bigint {
  // BOLT 3: with option_anchors (zero-fee HTLC transactions) the fee MUST be 0.
  return isAnchors(channelType) ? 0n : (feeratePerKw * 663n) / 1000n;
}

export function htlcSuccessFeeSat(channelType: ChannelType, feeratePerKw: bigint): bigint {
  return isAnchors(channelType) ? 0n : (feeratePerKw * 703n) / 1000n;
}

/** BOLT 3: base fee = feerate_per_kw * weight / 1000, rounded down. */
export function commitmentFeeSat(
  channelType: ChannelType,
  feeratePerKw: bigint,
  untrimmedHtlcs: number,
): bigint {
  return (feeratePerKw * commitmentWeight(channelType, untrimmedHtlcs)) / 1000n;
}

/** BOLT 3 "Trimmed Outputs": whether an HTLC output is too small to be produced. */
export function isHtlcTrimmed(
  channelType: ChannelType,
  offered: boolean,
  amountMsat: bigint,
  feeratePerKw: bigint,
  dustLimitSat: bigint,
): boolean {
  const fee = offered
    ? htlcTimeoutFeeSat(channelType, feeratePerKw)
    : htlcSuccessFeeSat(channelType, feeratePerKw);
  return amountMsat / 1000n - fee < dustLimitSat;
}
