/** Helpers of graph.ts that read stored messages: the update checksum and a node_announcement's display fields. */
import { aliasText, crc32c, type NodeAddress, nodeAnnouncement } from '@lnkit/wire';
import type { NodeAnnouncementInfo } from './graph-view.ts';
import { CU_SIGNED_FROM, CU_TIMESTAMP } from './layout.ts';

/**
 * BOLT 7 `checksums_tlv`: "the CRC32C checksum ... of this `channel_update` without its
 * `signature` and `timestamp` fields" — as wire's channelUpdateChecksum, without its copies.
 */
export function updateChecksum(raw: Uint8Array): number {
  const out = new Uint8Array(raw.length - CU_SIGNED_FROM - 4);
  out.set(raw.subarray(CU_SIGNED_FROM, CU_TIMESTAMP), 0);
  out.set(raw.subarray(CU_TIMESTAMP + 4), CU_TIMESTAMP - CU_SIGNED_FROM);
  return crc32c(out);
}

/** The node_announcement's display fields, with BOLT 7's receiver rules on addresses applied. */
export function announcementInfo(raw: Uint8Array): NodeAnnouncementInfo | undefined {
  let m: ReturnType<typeof nodeAnnouncement.decode>;
  try {
    m = nodeAnnouncement.decode(raw);
  } catch {
    return undefined;
  }
  const addresses: NodeAddress[] = [];
  let dns = false;
  for (const a of m.addresses) {
    // BOLT 7: "SHOULD ignore the first address descriptor that does NOT match the types defined
    // above" (it and the rest cannot be parsed); "SHOULD ignore Tor v2 onion services".
    if (a.kind === 'unknown') break;
    if (a.kind === 'torv2') continue;
    // "if port is equal to 0: SHOULD ignore ipv6_addr OR ipv4_addr OR hostname".
    if (a.port === 0 && (a.kind === 'ipv4' || a.kind === 'ipv6' || a.kind === 'dns')) continue;
    if (a.kind === 'dns') {
      // "if more than one type 5 address is announced: SHOULD ignore the additional data".
      if (dns) continue;
      dns = true;
    }
    addresses.push(a);
  }
  return {
    timestamp: m.timestamp,
    features: m.features.toBytes(),
    alias: aliasText(m.alias),
    rgbColor: m.rgbColor,
    addresses,
  };
}
