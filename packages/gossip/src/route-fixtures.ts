/**
 * Small hand-built graphs for the router's and the scorer's tests (not exported by the package).
 * Nodes are named by numbers: `nodeId(n)` is 02 00..00 n, so a lower number is the lesser id
 * (BOLT 7 node_id_1).
 */
import type { FixedChannel, FixedPolicy } from './fixed-graph.ts';
import { FixedGraph } from './fixed-graph.ts';

export function nodeId(n: number): Uint8Array {
  const id = new Uint8Array(33);
  id[0] = 2;
  id[31] = n >> 8;
  id[32] = n & 0xff;
  return id;
}

export const hexId = (n: number): string => Buffer.from(nodeId(n)).toString('hex');

export function policy(p: Partial<FixedPolicy> = {}): FixedPolicy {
  return {
    feeBaseMsat: 1000,
    feeProportionalMillionths: 100,
    cltvExpiryDelta: 40,
    htlcMinimumMsat: 1n,
    htlcMaximumMsat: 1_000_000_000n,
    ...p,
  };
}

export interface Link {
  scid: number;
  from: number;
  to: number;
  capacitySat?: bigint;
  /** The policy `from` sets for forwarding to `to`. */
  out?: Partial<FixedPolicy> | null;
  /** The policy `to` sets for forwarding to `from`. */
  back?: Partial<FixedPolicy> | null;
}

/** A graph of links; each direction gets `policy()` unless given (null: no update). */
export function graphOf(links: Link[]): FixedGraph {
  const channels: FixedChannel[] = links.map((l) => {
    const out = l.out === null ? undefined : policy(l.out);
    const back = l.back === null ? undefined : policy(l.back);
    return {
      shortChannelId: BigInt(l.scid),
      nodeA: nodeId(l.from),
      nodeB: nodeId(l.to),
      capacitySat: l.capacitySat ?? 10_000_000n,
      ...(out ? { aToB: out } : {}),
      ...(back ? { bToA: back } : {}),
    };
  });
  return new FixedGraph({ channels });
}
