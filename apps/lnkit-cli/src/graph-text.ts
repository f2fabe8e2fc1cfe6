/**
 * The human output of the network graph's commands (graphinfo, listnodes, listgraphchannels,
 * getnode, queryroutes), from the API's JSON. Amounts come as strings of digits (bigints).
 */

type Json = Record<string, unknown>;

interface Policy {
  disabled: boolean;
  routable: boolean;
  cltvExpiryDelta: number;
  htlcMinimumMsat: string;
  htlcMaximumMsat: string;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
}

interface Channel {
  shortChannelId: string;
  nodeId1: string;
  nodeId2: string;
  capacitySat: string | null;
  spentAtHeight: number | null;
  directions: [Policy | null, Policy | null];
}

interface GraphNodeOut {
  nodeId: string;
  channels: number;
  alias?: string;
  color?: string;
  addresses?: string[];
  timestamp?: number;
}

interface RouteOut {
  hops: { nodeId: string; shortChannelId: string; amountMsat: string; cltvExpiry: number }[];
  feeMsat: string;
  probability: number;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** "1000 msat + 100 ppm, cltv 40" for a direction, or why it is not usable. */
function policyText(p: Policy | null): string {
  if (!p) return 'no update';
  const state = p.disabled ? ' (disabled)' : p.routable ? '' : ' (not routable)';
  return `${p.feeBaseMsat} msat + ${p.feeProportionalMillionths} ppm, cltv ${p.cltvExpiryDelta}, htlc ${p.htlcMinimumMsat}-${p.htlcMaximumMsat} msat${state}`;
}

function channelText(c: Channel): string[] {
  const capacity = c.capacitySat === null ? 'capacity unknown' : `${c.capacitySat} sat`;
  const spent = c.spentAtHeight === null ? '' : `, funding spent at ${c.spentAtHeight}`;
  return [
    `${c.shortChannelId}  ${capacity}${spent}`,
    `  ${c.nodeId1} -> ${c.nodeId2}: ${policyText(c.directions[0])}`,
    `  ${c.nodeId2} -> ${c.nodeId1}: ${policyText(c.directions[1])}`,
  ];
}

function nodeLine(n: GraphNodeOut): string {
  return `${n.nodeId}  ${n.channels} channel${n.channels === 1 ? '' : 's'}  ${n.alias !== undefined ? JSON.stringify(n.alias) : '(no announcement)'}`;
}

const more = (next: unknown, what: string) =>
  next === null || next === undefined ? [] : [`(more ${what}: --after ${next})`];

export function graphInfoText(out: Json): string {
  const c = out.counters as Record<string, Record<string, number>> | undefined;
  const kinds = ['channel_announcement', 'channel_update', 'node_announcement'];
  return [
    `nodes:       ${out.nodes} (${out.announcedNodes} announced)`,
    `channels:    ${out.channels}`,
    `directions:  ${out.directions} (${out.routableDirections} routable)`,
    `memory:      ${bytes(Number(out.memoryBytes))} (the graph's estimate)`,
    `last sync:   ${out.lastSyncAt ?? 'none since the node started'}${out.initialSyncNeeded ? ' (a whole graph still wanted)' : ''}`,
    `peers:       ${out.peers}${(out.syncingWith as string[]).length ? `, syncing with ${(out.syncingWith as string[]).join(', ')}` : ''}`,
    `pending:     ${out.inbox} received, ${out.batchesInFlight} batches checking, ${out.pendingWrites} writes`,
    ...(c
      ? kinds.map((k) => {
          const row = Object.entries(c[k] ?? {});
          return `${`${k}:`.padEnd(22)} ${row.length ? row.map(([o, n]) => `${o} ${n}`).join(', ') : 'none'}`;
        })
      : []),
  ].join('\n');
}

export function listNodesText(out: Json): string {
  const nodes = out.nodes as GraphNodeOut[];
  if (nodes.length === 0) return 'no nodes';
  return [...nodes.map(nodeLine), ...more(out.next, 'nodes')].join('\n');
}

export function listChannelsText(out: Json): string {
  const channels = out.channels as Channel[];
  if (channels.length === 0) return 'no channels';
  return [...channels.flatMap(channelText), ...more(out.next, 'channels')].join('\n');
}

export function getNodeText(out: Json): string {
  const n = out.node as GraphNodeOut;
  const channels = out.channels as Channel[];
  return [
    `node id:   ${n.nodeId}`,
    `alias:     ${n.alias !== undefined ? JSON.stringify(n.alias) : '(no node_announcement)'}`,
    ...(n.color ? [`color:     #${n.color}`] : []),
    ...(n.addresses ? [`addresses: ${n.addresses.length ? n.addresses.join(', ') : 'none'}`] : []),
    ...(n.timestamp !== undefined ? [`announced: ${new Date(n.timestamp * 1000).toISOString()}`] : []),
    `channels:  ${channels.length}`,
    ...channels.flatMap(channelText).map((l) => `  ${l}`),
  ].join('\n');
}

export function queryRoutesText(out: Json): string {
  const routes = out.routes as RouteOut[];
  return routes
    .flatMap((r, i) => [
      `route ${routes.length > 1 ? `${i + 1} of ${routes.length}` : ''}`.trimEnd() +
        `: ${r.hops.length} hop${r.hops.length === 1 ? '' : 's'}, fee ${r.feeMsat} msat, probability ${r.probability.toFixed(3)}`,
      ...r.hops.map(
        (h, k) =>
          `  ${k + 1}. ${h.nodeId} over ${h.shortChannelId}: ${h.amountMsat} msat, cltv_expiry ${h.cltvExpiry}`,
      ),
    ])
    .join('\n');
}
