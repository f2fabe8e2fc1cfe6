/**
 * BOLT 2 "Defined Channel Types" and their negotiation. A channel type is an explicit
 * enumeration written with even feature bits (BOLT 9 context T): lnkit opens and accepts
 *   - option_static_remotekey (bit 12), and
 *   - option_anchors (bit 22, anchors_zero_fee_htlc_tx) with option_static_remotekey (bit 12),
 * each optionally with option_scid_alias (bit 46) on an unannounced channel. option_zeroconf
 * (bit 50) is refused: lnkit does not trust a peer's unconfirmed funding.
 */
import type { ChannelType } from '@lnkit/tx';
import { Features } from '@lnkit/wire';

export type { ChannelType };

const STATIC_REMOTEKEY = 12;
const ANCHORS = 22;
const SCID_ALIAS = 46;
const ZEROCONF = 50;

/** What a channel_type TLV means, once it is one lnkit accepts. */
export interface NegotiatedChannelType {
  type: ChannelType;
  /** option_scid_alias in the type: the real short_channel_id is never used for this channel's HTLCs. */
  scidAlias: boolean;
}

/** The channel_type feature vector for `type` (BOLT 2: "the smallest bitmap possible"). */
export function channelTypeFeatures(t: NegotiatedChannelType): Features {
  const bits = [STATIC_REMOTEKEY];
  if (t.type === 'anchors_zero_fee_htlc_tx') bits.push(ANCHORS);
  if (t.scidAlias) bits.push(SCID_ALIAS);
  return Features.fromBits(bits);
}

/**
 * Reads a channel_type: the type, or why it is not one lnkit accepts. Odd bits have no
 * meaning in a channel type (BOLT 9: they "reuse even feature bits"), so any odd bit, unknown
 * bit, or combination outside the defined ones is refused.
 */
export function parseChannelType(
  f: Features,
  announce: boolean,
): { ok: true; value: NegotiatedChannelType } | { ok: false; reason: string } {
  const bits = f.bits();
  if (bits.includes(ZEROCONF))
    return {
      ok: false,
      reason:
        'channel_type has option_zeroconf, which lnkit does not accept: it waits for the funding to confirm',
    };
  const known = new Set([STATIC_REMOTEKEY, ANCHORS, SCID_ALIAS]);
  const other = bits.filter((b) => !known.has(b));
  if (other.length > 0)
    return { ok: false, reason: `channel_type has bits lnkit does not support: ${other.join(',')}` };
  if (!bits.includes(STATIC_REMOTEKEY))
    return { ok: false, reason: 'channel_type without option_static_remotekey is not a type lnkit supports' };
  const scidAlias = bits.includes(SCID_ALIAS);
  // BOLT 2: "if announce_channel is true (not 0): MUST NOT send channel_type with the option_scid_alias bit set."
  if (scidAlias && announce)
    return { ok: false, reason: 'channel_type has option_scid_alias on an announced channel' };
  return {
    ok: true,
    value: { type: bits.includes(ANCHORS) ? 'anchors_zero_fee_htlc_tx' : 'static_remotekey', scidAlias },
  };
}

/** Short names for APIs and logs. */
export function channelTypeName(t: ChannelType): 'anchors' | 'static-remotekey' {
  return t === 'anchors_zero_fee_htlc_tx' ? 'anchors' : 'static-remotekey';
}
