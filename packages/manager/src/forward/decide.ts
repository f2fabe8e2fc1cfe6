/**
 * What a forwarding node decides about an HTLC whose onion names a next channel (BOLT 4
 * "Failure Messages", the forwarding node's requirements; BOLT 7 the fee and cltv_expiry_delta
 * rules): forward it, with the fee it earns, or the failure BOLT 4 names. Pure: the shell gives
 * the outgoing channel as a view (found by short_channel_id or alias; undefined when none).
 */
import type { FailureMessage } from '@lnkit/onion';
import { formatShortChannelId } from '@lnkit/wire';
import { type ForwardPolicy, forwardFeeMsat } from './policy.ts';

/** The incoming HTLC's update_add_htlc fields the checks read. */
export interface IncomingForward {
  amountMsat: bigint;
  cltvExpiry: number;
  /** The incoming HTLC took our trimmed HTLCs beyond max_dust_htlc_exposure_msat (the channel core says). */
  dustExposureExceeded?: boolean | undefined;
}

/** The peeled payload's instructions (BOLT 4 payload: short_channel_id, amt_to_forward, outgoing_cltv_value). */
export interface ForwardHop {
  shortChannelId: bigint;
  amtToForwardMsat: bigint;
  outgoingCltvValue: number;
}

/** The outgoing channel as the checks see it. */
export interface OutgoingChannelView {
  /** Our policy for it, bounded by the channel (policy.ts `effectivePolicy`). */
  policy: ForwardPolicy;
  /** Shutting down or closing: no new HTLC will ever go on it. */
  closing: boolean;
  /** Ready and its peer connected (reestablished): an HTLC can be offered now. */
  usable: boolean;
  /** What we can send on it now (our balance, in-flight HTLCs taken out). */
  availableMsat: bigint;
}

export type ForwardDecision =
  | { kind: 'forward'; feeMsat: bigint }
  | {
      kind: 'fail';
      failure: FailureMessage;
      why: string;
      /** The failure carries a channel_update (UPDATE flag): the shell puts ours in (`withChannelUpdate`). */
      needsChannelUpdate: boolean;
    };

/**
 * Blocks the outgoing HTLC must have left: LDK's LATENCY_GRACE_PERIOD_BLOCKS (3) — the time for
 * the update to reach the next node and be committed.
 */
export const MIN_OUTGOING_BLOCKS = 3;
/**
 * Blocks the incoming HTLC must have left beyond the tip: LDK's HTLC_FAIL_BACK_BUFFER
 * (CLTV_CLAIM_BUFFER 18 + LATENCY_GRACE_PERIOD_BLOCKS 3) plus one — below it we could not claim
 * the incoming HTLC on chain in time if the downstream one is fulfilled late.
 */
export const MIN_INCOMING_BLOCKS = 22;
/** BOLT 4 `expiry_too_far`'s max_htlc_cltv: two weeks of blocks (LDK's CLTV_FAR_FAR_AWAY). */
export const MAX_INCOMING_BLOCKS = 2016;

const NO_UPDATE = new Uint8Array(0);

/**
 * The checks in BOLT 4's order where it gives one ("if there is more than one error: SHOULD
 * select the first error it encounters from the list above"), the channel's own state first:
 * the sender learns nothing of our fees when the channel cannot take the HTLC anyway.
 */
export function decideForward(
  incoming: IncomingForward,
  hop: ForwardHop,
  outgoing: OutgoingChannelView | undefined,
  bestHeight: number,
): ForwardDecision {
  const fail = (failure: FailureMessage, why: string, needsChannelUpdate = true): ForwardDecision => ({
    kind: 'fail',
    failure,
    why,
    needsChannelUpdate,
  });
  // The incoming channel's own limit (BOLT 2 max_dust_htlc_exposure_msat): it must not be
  // settled, only failed; transient, as LDK returns it.
  if (incoming.dustExposureExceeded)
    return fail(
      { name: 'temporary_channel_failure', channelUpdate: NO_UPDATE },
      'the incoming HTLC takes our dust exposure beyond its limit',
      false,
    );
  // BOLT 4: "if the receiving peer specified by the onion is NOT known: return an unknown_next_peer error".
  if (!outgoing)
    return fail({ name: 'unknown_next_peer' }, `no channel ${scidText(hop.shortChannelId)}`, false);
  // BOLT 4: "if an otherwise unspecified, permanent error occurs during forwarding to its
  // receiving peer (e.g. channel recently closed): return a permanent_channel_failure error".
  if (outgoing.closing)
    return fail({ name: 'permanent_channel_failure' }, 'the outgoing channel is closing', false);
  const { policy } = outgoing;
  // BOLT 4: "if the channel is disabled: report the current channel setting for the outgoing
  // channel; return a channel_disabled error" (disabled_flags: none defined, two zero bytes).
  if (!policy.enabled)
    return fail(
      { name: 'channel_disabled', disabledFlags: 0, channelUpdate: NO_UPDATE },
      'the outgoing channel is disabled',
    );
  // BOLT 4: "if during forwarding to its receiving peer, an otherwise unspecified, transient
  // error occurs in the outgoing channel (e.g. channel capacity reached, too many in-flight
  // HTLCs, etc.): return a temporary_channel_failure error".
  if (!outgoing.usable)
    return fail(
      { name: 'temporary_channel_failure', channelUpdate: NO_UPDATE },
      'the outgoing channel is not usable now (peer away or not ready)',
    );
  // BOLT 4: "if the HTLC amount is less than the currently specified minimum amount: report the
  // amount of the outgoing HTLC and the current channel setting for the outgoing channel".
  if (hop.amtToForwardMsat < policy.htlcMinimumMsat)
    return fail(
      { name: 'amount_below_minimum', htlcMsat: hop.amtToForwardMsat, channelUpdate: NO_UPDATE },
      `amt_to_forward ${hop.amtToForwardMsat} is below htlc_minimum_msat ${policy.htlcMinimumMsat}`,
    );
  // BOLT 7 htlc_maximum_msat: BOLT 4 names no code for it; it is a transient limit of the channel.
  if (hop.amtToForwardMsat > policy.htlcMaximumMsat)
    return fail(
      { name: 'temporary_channel_failure', channelUpdate: NO_UPDATE },
      `amt_to_forward ${hop.amtToForwardMsat} is above htlc_maximum_msat ${policy.htlcMaximumMsat}`,
    );
  // BOLT 4: "if the HTLC does NOT pay a sufficient fee: report the amount of the incoming HTLC
  // and the current channel setting for the outgoing channel; return a fee_insufficient error".
  const feeMsat = forwardFeeMsat(policy, hop.amtToForwardMsat);
  if (incoming.amountMsat < hop.amtToForwardMsat + feeMsat)
    return fail(
      { name: 'fee_insufficient', htlcMsat: incoming.amountMsat, channelUpdate: NO_UPDATE },
      `${incoming.amountMsat} msat in pays less than ${hop.amtToForwardMsat} + ${feeMsat} msat fee`,
    );
  // BOLT 4: "if the incoming cltv_expiry minus the outgoing_cltv_value is below the
  // cltv_expiry_delta for the outgoing channel: report the cltv_expiry of the outgoing HTLC and
  // the current channel setting for the outgoing channel; return an incorrect_cltv_expiry error".
  if (incoming.cltvExpiry - hop.outgoingCltvValue < policy.cltvExpiryDelta)
    return fail(
      { name: 'incorrect_cltv_expiry', cltvExpiry: hop.outgoingCltvValue, channelUpdate: NO_UPDATE },
      `cltv_expiry ${incoming.cltvExpiry} - outgoing_cltv_value ${hop.outgoingCltvValue} is below cltv_expiry_delta ${policy.cltvExpiryDelta}`,
    );
  // BOLT 4: "if the cltv_expiry is unreasonably near the present: report the current channel
  // setting for the outgoing channel; return an expiry_too_soon error".
  if (
    incoming.cltvExpiry < bestHeight + MIN_INCOMING_BLOCKS ||
    hop.outgoingCltvValue <= bestHeight + MIN_OUTGOING_BLOCKS
  )
    return fail(
      { name: 'expiry_too_soon', channelUpdate: NO_UPDATE },
      `cltv_expiry ${incoming.cltvExpiry} / outgoing_cltv_value ${hop.outgoingCltvValue} too near height ${bestHeight}`,
    );
  // BOLT 4: "if the cltv_expiry is more than max_htlc_cltv in the future: return an expiry_too_far error".
  if (incoming.cltvExpiry > bestHeight + MAX_INCOMING_BLOCKS)
    return fail(
      { name: 'expiry_too_far' },
      `cltv_expiry ${incoming.cltvExpiry} is more than ${MAX_INCOMING_BLOCKS} blocks away`,
      false,
    );
  // The balance last: "channel capacity reached" is temporary_channel_failure.
  if (hop.amtToForwardMsat > outgoing.availableMsat)
    return fail(
      { name: 'temporary_channel_failure', channelUpdate: NO_UPDATE },
      `amt_to_forward ${hop.amtToForwardMsat} is more than the ${outgoing.availableMsat} msat we can send`,
    );
  return { kind: 'forward', feeMsat: incoming.amountMsat - hop.amtToForwardMsat };
}

/** The failure with our channel_update in it (BOLT 4: "report the current channel setting"). */
export function withChannelUpdate(failure: FailureMessage, channelUpdate: Uint8Array): FailureMessage {
  return 'channelUpdate' in failure ? { ...failure, channelUpdate } : failure;
}

/** BOLT 7's `block x tx x output` form. */
export function scidText(scid: bigint): string {
  return formatShortChannelId(scid);
}
