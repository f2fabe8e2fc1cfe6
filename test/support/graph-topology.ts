/**
 * The graph files of `../shared/data/graph/` (their README): a topology JSON with real node ids and
 * policies but no signatures, short_channel_ids or timestamps, and a file of route queries on it.
 * Short channel ids are made up, deterministically from the channel's position in the file
 * (block 600,000 + i / 200, transaction i % 200, output 0: the same scheme as
 * @lnkit/gossip/testing's signTopology), so every run and every implementation sees the same ids.
 */
import { readFileSync } from 'node:fs';
import { type FixedChannel, FixedGraph, type FixedPolicy } from '@lnkit/gossip';

export interface TopologyPolicy {
  feeBaseMsat: number;
  feePpm: number;
  cltvDelta: number;
  htlcMinMsat: number;
  htlcMaxMsat: number;
}

export interface TopologyFile {
  nodes: { idx: number; id: string; alias: string }[];
  /** `dir[0]` is BOLT 7 direction 0: from the lesser node id (not necessarily `node1`). */
  channels: { node1: number; node2: number; capacitySat: number; dir: (TopologyPolicy | null)[] }[];
}

export interface RouteQueryFile {
  description?: string;
  final_cltv_expiry_delta: number;
  queries: { payer: string; payee: string; amount_msat: number }[];
}

export function topologyScid(i: number): bigint {
  return (BigInt(600_000 + Math.floor(i / 200)) << 40n) | (BigInt(i % 200) << 16n);
}

export function readTopology(file: string): TopologyFile {
  return JSON.parse(readFileSync(file, 'utf8')) as TopologyFile;
}

export function readRouteQueries(file: string): RouteQueryFile {
  return JSON.parse(readFileSync(file, 'utf8')) as RouteQueryFile;
}

/** Node ids as bytes, by topology index (parsed once, shared by both graphs). */
export function nodeIdBytes(t: TopologyFile): Uint8Array[] {
  return t.nodes.map((n) => Uint8Array.from(Buffer.from(n.id, 'hex')));
}

/** Channel i's two ends as [node_id_1 (lesser), node_id_2] topology indexes. */
export function orderedEnds(t: TopologyFile, i: number): [number, number] {
  const ch = t.channels[i]!;
  return t.nodes[ch.node1]!.id < t.nodes[ch.node2]!.id ? [ch.node1, ch.node2] : [ch.node2, ch.node1];
}

const policy = (p: TopologyPolicy | null | undefined): FixedPolicy | undefined =>
  p
    ? {
        feeBaseMsat: p.feeBaseMsat,
        feeProportionalMillionths: p.feePpm,
        cltvExpiryDelta: p.cltvDelta,
        htlcMinimumMsat: BigInt(p.htlcMinMsat),
        htlcMaximumMsat: BigInt(p.htlcMaxMsat),
      }
    : undefined;

/** lnkit's GraphView of the topology. */
export function fixedGraphOf(t: TopologyFile, ids: Uint8Array[] = nodeIdBytes(t)): FixedGraph {
  const channels: FixedChannel[] = t.channels.map((ch, i) => {
    const [n1, n2] = orderedEnds(t, i);
    const a = policy(ch.dir[0]);
    const b = policy(ch.dir[1]);
    return {
      shortChannelId: topologyScid(i),
      nodeA: ids[n1]!,
      nodeB: ids[n2]!,
      capacitySat: BigInt(ch.capacitySat),
      ...(a ? { aToB: a } : {}),
      ...(b ? { bToA: b } : {}),
    };
  });
  return new FixedGraph({ channels });
}
