/**
 * The graph's objects as the API shows them (hex for bytes, `BLOCKxTXxOUTPUT` for a
 * short_channel_id; amounts stay bigint, which the daemon's JSON writes as strings).
 */
import { formatAddress, formatShortChannelId } from '@lnkit/wire';
import type { ChannelInfo, ChannelPolicy, NodeInfo } from './graph-view.ts';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

export function nodeJson(n: NodeInfo) {
  const a = n.announcement;
  return {
    nodeId: hex(n.nodeId),
    index: n.index,
    channels: n.channelCount,
    ...(a
      ? {
          alias: a.alias,
          color: hex(a.rgbColor),
          timestamp: a.timestamp,
          features: hex(a.features),
          addresses: a.addresses.map(formatAddress),
        }
      : {}),
  };
}

function policyJson(p: ChannelPolicy | undefined) {
  if (!p) return null;
  return {
    timestamp: p.timestamp,
    disabled: p.disabled,
    routable: p.routable,
    cltvExpiryDelta: p.cltvExpiryDelta,
    htlcMinimumMsat: p.htlcMinimumMsat,
    htlcMaximumMsat: p.htlcMaximumMsat,
    feeBaseMsat: p.feeBaseMsat,
    feeProportionalMillionths: p.feeProportionalMillionths,
  };
}

export function channelJson(c: ChannelInfo) {
  return {
    shortChannelId: formatShortChannelId(c.shortChannelId),
    index: c.index,
    nodeId1: hex(c.nodeId1),
    nodeId2: hex(c.nodeId2),
    capacitySat: c.capacitySat ?? null,
    features: hex(c.features),
    spentAtHeight: c.spentAtHeight ?? null,
    /** [node 1 → node 2, node 2 → node 1]. */
    directions: [policyJson(c.directions[0]), policyJson(c.directions[1])],
  };
}
