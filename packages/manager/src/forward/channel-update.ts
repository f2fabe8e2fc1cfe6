/**
 * Our channel_update for an outgoing channel, as a forwarding failure carries it (BOLT 4:
 * "report the current channel setting for the outgoing channel"), signed with the node key.
 * A private channel has no gossiped update: this one is made for the failure alone.
 */
import { sha256d } from '@lnkit/crypto';
import {
  CHANNEL_FLAG_DIRECTION,
  CHANNEL_FLAG_DISABLE,
  channelUpdate,
  channelUpdateSignedBytes,
  MESSAGE_FLAG_DONT_FORWARD,
  MESSAGE_FLAG_MUST_BE_ONE,
} from '@lnkit/wire';
import type { ForwardPolicy } from './policy.ts';

export interface ChannelUpdateFor {
  chainHash: Uint8Array;
  /** BOLT 4: "MUST set short_channel_id to the short_channel_id used by the incoming onion". */
  shortChannelId: bigint;
  localNodeId: Uint8Array;
  remoteNodeId: Uint8Array;
  policy: ForwardPolicy;
  /** Seconds since 1970. */
  timestamp: number;
  /** A private channel: BOLT 7 dont_forward, the update is not for the gossip network. */
  isPrivate: boolean;
}

/** Compact 64-byte signature of a 32-byte digest with the node key. */
export type NodeKeySigner = (digest: Uint8Array) => Promise<Uint8Array>;

/** The channel_update with its 2-byte type in front (as LDK and most nodes send it in failures). */
export async function signedChannelUpdate(u: ChannelUpdateFor, sign: NodeKeySigner): Promise<Uint8Array> {
  // BOLT 7: direction 0 is node_id_1's, the lexicographically lesser of the two node ids.
  const direction = Buffer.compare(Buffer.from(u.localNodeId), Buffer.from(u.remoteNodeId)) < 0 ? 0 : 1;
  const unsigned = channelUpdate.encode({
    type: 258,
    kind: 'channel_update',
    signature: new Uint8Array(64),
    chainHash: u.chainHash,
    shortChannelId: u.shortChannelId,
    timestamp: u.timestamp,
    messageFlags: MESSAGE_FLAG_MUST_BE_ONE | (u.isPrivate ? MESSAGE_FLAG_DONT_FORWARD : 0),
    channelFlags: (direction ? CHANNEL_FLAG_DIRECTION : 0) | (u.policy.enabled ? 0 : CHANNEL_FLAG_DISABLE),
    cltvExpiryDelta: u.policy.cltvExpiryDelta,
    htlcMinimumMsat: u.policy.htlcMinimumMsat,
    feeBaseMsat: u.policy.feeBaseMsat,
    feeProportionalMillionths: u.policy.feeProportionalMillionths,
    htlcMaximumMsat: u.policy.htlcMaximumMsat,
  });
  // BOLT 7: "signature: the signature of the double-SHA256 of the entire remaining packet after signature".
  const digest = sha256d(channelUpdateSignedBytes(unsigned));
  const out = new Uint8Array(unsigned);
  out.set(await sign(digest), 2);
  return out;
}
