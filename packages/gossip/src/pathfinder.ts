/**
 * The route search: Dijkstra from the payee back to the payer, over a compact numeric form of the
 * graph (a CSR of incoming edges per node, read beside the GraphView's typed columns).
 *
 * Backwards, because a hop's fee is a function of the amount it forwards (BOLT 7 "HTLC Fees":
 * `fee_base_msat + amount_to_forward * fee_proportional_millionths / 1000000`), which is known
 * only once the rest of the path to the payee is. Walking back from the payee, each node's label
 * holds the amount and the CLTV delta it must receive, exact to the msat, so every limit
 * (htlc_minimum_msat, htlc_maximum_msat, capacity, the fee and CLTV limits, the hop count) is
 * checked on the real amount as the search goes, and a path found needs no second pass.
 *
 * The hot loop allocates nothing: labels, the heap and the extra edges (route hints, first hops)
 * live in typed arrays owned by the search and reused from query to query; generation stamps
 * stand in for clearing them. Amounts are doubles (exact below 2^53 msat: graph-view.ts).
 *
 * The cost a search minimises is one of three objectives: the scored one (fee + the scorer's
 * penalty, the default), the fee alone, or the CLTV delta alone; the router uses the last two
 * to look further when the scored search ran into a limit (default-router.ts).
 */
import { CHANNEL_LIVE, EDGE_ROUTABLE, type GraphColumns, type GraphView } from './graph-view.ts';
import type { ScoreLookUp } from './scorer.ts';

export const OBJECTIVE_SCORED = 0;
export const OBJECTIVE_FEE = 1;
export const OBJECTIVE_CLTV = 2;
export type Objective = typeof OBJECTIVE_SCORED | typeof OBJECTIVE_FEE | typeof OBJECTIVE_CLTV;

export interface SearchLimits {
  /** What the payee receives. */
  amountMsat: number;
  finalCltvExpiryDelta: number;
  /** Fees over the whole path; Infinity for none. */
  maxFeeMsat: number;
  /** Total CLTV delta (final delta included); Infinity for none. */
  maxCltvExpiryDelta: number;
  /** Channels in the path. */
  maxHops: number;
  objective: Objective;
}

/** `via` of a node whose path goes through extra edge k is `EXTRA_BASE - k`. */
const EXTRA_BASE = -2;
const NONE = -1;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** BOLT 7's fee for forwarding `amountMsat`, rounded down, exact for every amount below 2^53. */
export function forwardingFeeMsat(
  feeBaseMsat: number,
  feeProportionalMillionths: number,
  amountMsat: number,
): number {
  const p = amountMsat * feeProportionalMillionths;
  if (p <= MAX_SAFE) {
    let q = Math.floor(p / 1_000_000);
    // p / 1e6 may round up to the next integer when the quotient is large: take it back.
    if (q * 1_000_000 > p) q--;
    return feeBaseMsat + q;
  }
  return feeBaseMsat + Number((BigInt(amountMsat) * BigInt(feeProportionalMillionths)) / 1_000_000n);
}

/** A path as a search found it: nodes from the payer to the payee, and the edges between them. */
export interface FoundPath {
  readonly nodes: number[];
  /** Graph edge indexes, or the negative codes of extra edges (`via`). */
  readonly edges: number[];
}

/** A channel outside the graph: a route hint's, or one of the payer's first hops. */
export interface ExtraEdge {
  from: number;
  to: number;
  shortChannelId: bigint;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
  htlcMinimumMsat: number;
  /** The most one HTLC may carry (and, summed over parts, the most the channel may carry). */
  htlcMaximumMsat: number;
}

export class PathSearch {
  // ---- the CSR: for node v, the directed edges into it are inEdge[inStart[v] .. inStart[v+1]),
  // from inFrom[...]. Built from the live channels when the graph's channel slots grew; a stale
  // CSR is safe (indexes are never reused, and flags are read live), it only misses new channels.
  private graph: GraphView | undefined;
  private csrChannels = -1;
  private csrNodes = -1;
  private inStart = new Int32Array(1);
  private inEdge = new Int32Array(0);
  private inFrom = new Int32Array(0);

  // ---- per search
  private cols!: GraphColumns;
  private scorer: ScoreLookUp | undefined;
  /** Graph nodes are 0 .. nodeLimit - 1; nodes outside the graph follow. */
  nodeLimit = 0;
  private nodeCount = 0;
  private readonly extraNodes = new Map<string, number>();
  private readonly extraNodeIds: Uint8Array[] = [];

  // ---- labels, by node; valid where seen[n] === gen
  private size = 0;
  private cost = new Float64Array(0);
  /** What the node must receive (msat). */
  amount = new Float64Array(0);
  /** Its CLTV delta above the block height: the final delta plus the deltas of the hops after it. */
  cltv = new Float64Array(0);
  private hops = new Uint8Array(0);
  /** The next node towards the payee. */
  next = new Int32Array(0);
  /** The edge to it: a graph edge index, or EXTRA_BASE - k for extra edge k. */
  via = new Int32Array(0);
  private seen = new Uint32Array(0);
  private done = new Uint32Array(0);
  private gen = 0;

  // ---- the heap (lazy deletion: a node may sit in it more than once)
  private heapKey = new Float64Array(1024);
  private heapNode = new Int32Array(1024);
  private heapSize = 0;

  // ---- extra edges, and the lists of them by target node (valid where extraStamp[n] === query)
  private query = 0;
  private extraCount = 0;
  private extraStamp = new Uint32Array(0);
  private extraHead = new Int32Array(0);
  extra: ExtraEdge[] = [];
  private extraNext: number[] = [];
  private firstHopsOnly = false;

  // ---- channels to avoid (avoid[c] === query), and what parts already send (multi-path)
  private avoid = new Uint32Array(0);
  /** msat already sent over each directed edge by earlier parts of this payment. */
  usedMsat = new Float64Array(0);
  usedExtraMsat: number[] = [];
  private usedEdges: number[] = [];

  // ---- why the last run failed (candidates it dropped)
  prunedByFee = false;
  prunedByCltv = false;
  prunedByHops = false;
  /** Nodes the last run settled, and runs since `begin` (how much work a query took). */
  settled = 0;
  runs = 0;

  /** Binds the search to `graph` for one query: refreshes the CSR if needed and resets extras. */
  begin(graph: GraphView, scorer: ScoreLookUp | undefined): void {
    this.cols = graph.columns();
    this.scorer = scorer;
    if (
      graph !== this.graph ||
      this.cols.channelLimit !== this.csrChannels ||
      this.cols.nodeLimit !== this.csrNodes
    )
      this.buildCsr(graph);
    this.nodeLimit = this.cols.nodeLimit;
    this.nodeCount = this.nodeLimit;
    this.extraNodes.clear();
    this.extraNodeIds.length = 0;
    this.extra.length = 0;
    this.extraNext.length = 0;
    this.usedExtraMsat.length = 0;
    this.extraCount = 0;
    this.firstHopsOnly = false;
    this.runs = 0;
    for (const e of this.usedEdges) this.usedMsat[e] = 0;
    this.usedEdges.length = 0;
    this.query++;
    if (this.query === 0xffff_ffff) {
      this.query = 1;
      this.extraStamp.fill(0);
      this.avoid.fill(0);
    }
    this.ensureNodes(this.nodeLimit + 8);
    if (this.avoid.length < this.cols.channelLimit) this.avoid = new Uint32Array(this.cols.channelLimit);
    if (this.usedMsat.length < 2 * this.cols.channelLimit)
      this.usedMsat = new Float64Array(2 * this.cols.channelLimit);
  }

  private buildCsr(graph: GraphView): void {
    const { channelLimit, nodeLimit, channelFlags, channelNode1, channelNode2 } = this.cols;
    const inStart = new Int32Array(nodeLimit + 1);
    for (let c = 0; c < channelLimit; c++) {
      if ((channelFlags[c]! & CHANNEL_LIVE) === 0) continue;
      inStart[channelNode2[c]! + 1]!++;
      inStart[channelNode1[c]! + 1]!++;
    }
    for (let n = 0; n < nodeLimit; n++) inStart[n + 1]! += inStart[n]!;
    const total = inStart[nodeLimit]!;
    const inEdge = new Int32Array(total);
    const inFrom = new Int32Array(total);
    const fill = inStart.slice(0, nodeLimit);
    for (let c = 0; c < channelLimit; c++) {
      if ((channelFlags[c]! & CHANNEL_LIVE) === 0) continue;
      const n1 = channelNode1[c]!;
      const n2 = channelNode2[c]!;
      // Direction 0 is node 1 → node 2: an edge into node 2 (graph-view.ts).
      let k = fill[n2]!++;
      inEdge[k] = 2 * c;
      inFrom[k] = n1;
      k = fill[n1]!++;
      inEdge[k] = 2 * c + 1;
      inFrom[k] = n2;
    }
    this.graph = graph;
    this.csrChannels = channelLimit;
    this.csrNodes = nodeLimit;
    this.inStart = inStart;
    this.inEdge = inEdge;
    this.inFrom = inFrom;
    if (this.heapKey.length < total + 64) this.growHeap(total + 64);
  }

  private ensureNodes(n: number): void {
    if (n <= this.size) return;
    const size = Math.max(n, Math.ceil(this.size * 1.5));
    const grow = <T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(
      a: T,
      make: (k: number) => T,
    ): T => {
      const b = make(size);
      b.set(a as never);
      return b;
    };
    this.cost = grow(this.cost, (k) => new Float64Array(k));
    this.amount = grow(this.amount, (k) => new Float64Array(k));
    this.cltv = grow(this.cltv, (k) => new Float64Array(k));
    this.hops = grow(this.hops, (k) => new Uint8Array(k));
    this.next = grow(this.next, (k) => new Int32Array(k));
    this.via = grow(this.via, (k) => new Int32Array(k));
    this.seen = grow(this.seen, (k) => new Uint32Array(k));
    this.done = grow(this.done, (k) => new Uint32Array(k));
    this.extraStamp = grow(this.extraStamp, (k) => new Uint32Array(k));
    this.extraHead = grow(this.extraHead, (k) => new Int32Array(k));
    this.size = size;
  }

  private growHeap(n: number): void {
    const key = new Float64Array(n);
    const node = new Int32Array(n);
    key.set(this.heapKey.subarray(0, this.heapSize));
    node.set(this.heapNode.subarray(0, this.heapSize));
    this.heapKey = key;
    this.heapNode = node;
  }

  /** The index of a node of the graph, or a new one for a node outside it (a private hop). */
  nodeFor(nodeId: Uint8Array): number {
    const g = this.graph!.nodeIndex(nodeId);
    if (g >= 0 && g < this.nodeLimit) return g;
    const key = Buffer.from(nodeId.buffer, nodeId.byteOffset, nodeId.length).toString('hex');
    let n = this.extraNodes.get(key);
    if (n === undefined) {
      n = this.nodeCount++;
      this.ensureNodes(this.nodeCount);
      this.extraNodes.set(key, n);
      this.extraNodeIds.push(new Uint8Array(nodeId));
    }
    return n;
  }

  nodeIdAt(n: number): Uint8Array {
    return n < this.nodeLimit ? this.graph!.nodeIdAt(n) : this.extraNodeIds[n - this.nodeLimit]!;
  }

  addExtraEdge(edge: ExtraEdge): void {
    const k = this.extraCount++;
    this.extra.push(edge);
    this.usedExtraMsat.push(0);
    const to = edge.to;
    this.extraNext.push(this.extraStamp[to] === this.query ? this.extraHead[to]! : NONE);
    this.extraStamp[to] = this.query;
    this.extraHead[to] = k;
    if (this.heapKey.length < this.inEdge.length + this.extraCount + 64)
      this.growHeap(this.inEdge.length + this.extraCount + 64);
  }

  /** From now on, only extra edges leave `payer` (its first hops replace its graph channels). */
  onlyExtraEdgesFrom(): void {
    this.firstHopsOnly = true;
  }

  avoidChannel(channelIndex: number): void {
    if (channelIndex >= 0 && channelIndex < this.avoid.length) this.avoid[channelIndex] = this.query;
  }

  /** Adds what a part sends over `edge` (graph edge or EXTRA_BASE - k) to what later parts see as in flight. */
  addInFlight(edge: number, amountMsat: number): void {
    if (edge >= 0) {
      if (this.usedMsat[edge] === 0) this.usedEdges.push(edge);
      this.usedMsat[edge]! += amountMsat;
    } else this.usedExtraMsat[EXTRA_BASE - edge]! += amountMsat;
  }

  inFlight(edge: number): number {
    return edge >= 0 ? this.usedMsat[edge]! : this.usedExtraMsat[EXTRA_BASE - edge]!;
  }

  /**
   * The capacity the scorer is told for `edge` (the channel's, or its htlc_maximum_msat when the
   * capacity is unknown; Infinity for an extra edge), and the most all parts together may send
   * over it.
   */
  capacityMsat(edge: number): number {
    if (edge < 0) return Number.POSITIVE_INFINITY;
    const cap = this.cols.channelCapacitySat[edge >>> 1]! * 1000;
    return Number.isNaN(cap) ? this.cols.htlcMaximumMsat[edge]! : cap;
  }

  /** The path the last successful run found. */
  pathFrom(payer: number, payee: number): FoundPath {
    const nodes = [payer];
    const edges: number[] = [];
    for (let n = payer; n !== payee; n = this.next[n]!) {
      edges.push(this.via[n]!);
      nodes.push(this.next[n]!);
    }
    return { nodes, edges };
  }

  /** The short_channel_id of an edge as `via` names it. */
  shortChannelIdOf(edge: number): bigint {
    return edge >= 0
      ? this.graph!.shortChannelIdAt(edge >>> 1)
      : this.extra[EXTRA_BASE - edge]!.shortChannelId;
  }

  /** Edge policy, for recomputing a path's amounts (multi-path). */
  policyOf(edge: number): {
    feeBaseMsat: number;
    feeProportionalMillionths: number;
    cltvExpiryDelta: number;
    htlcMinimumMsat: number;
    htlcMaximumMsat: number;
    limitMsat: number;
  } {
    if (edge < 0) {
      const x = this.extra[EXTRA_BASE - edge]!;
      return { ...x, limitMsat: x.htlcMaximumMsat };
    }
    const c = this.cols;
    const cap = c.channelCapacitySat[edge >>> 1]! * 1000;
    return {
      feeBaseMsat: c.feeBaseMsat[edge]!,
      feeProportionalMillionths: c.feeProportionalMillionths[edge]!,
      cltvExpiryDelta: c.cltvExpiryDelta[edge]!,
      htlcMinimumMsat: c.htlcMinimumMsat[edge]!,
      htlcMaximumMsat: c.htlcMaximumMsat[edge]!,
      limitMsat: Number.isNaN(cap) ? c.htlcMaximumMsat[edge]! : cap,
    };
  }

  /**
   * One search from `payee` back to `payer`. True when a path was found: read it from the payer
   * along `next` / `via`, with `amount` and `cltv` at each node.
   */
  run(payer: number, payee: number, limits: SearchLimits): boolean {
    let gen = ++this.gen;
    if (gen === 0xffff_ffff) {
      this.seen.fill(0);
      this.done.fill(0);
      gen = this.gen = 1;
    }
    const { amountMsat, maxHops, objective } = limits;
    const maxAmount = Math.min(amountMsat + limits.maxFeeMsat, MAX_SAFE);
    const maxCltv = limits.maxCltvExpiryDelta;
    const cols = this.cols;
    const {
      edgeFlags,
      feeBaseMsat,
      feeProportionalMillionths,
      cltvExpiryDelta,
      htlcMinimumMsat,
      htlcMaximumMsat,
    } = cols;
    const capacitySat = cols.channelCapacitySat;
    const { inStart, inEdge, inFrom, cost, amount, cltv, hops, next, via, seen, done, avoid, usedMsat } =
      this;
    const scorer = this.scorer;
    const scored = objective === OBJECTIVE_SCORED && scorer !== undefined;
    const byCltv = objective === OBJECTIVE_CLTV;
    const query = this.query;
    const nodeLimit = this.nodeLimit;
    const firstHopsOnly = this.firstHopsOnly;
    const hasExtra = this.extraCount > 0;
    let prunedByFee = false;
    let prunedByCltv = false;
    let prunedByHops = false;

    seen[payee] = gen;
    cost[payee] = 0;
    amount[payee] = amountMsat;
    cltv[payee] = limits.finalCltvExpiryDelta;
    hops[payee] = 0;
    next[payee] = NONE;
    via[payee] = NONE;
    this.heapSize = 0;
    this.push(payee, 0);
    let found = false;
    let settled = 0;

    while (this.heapSize > 0) {
      const v = this.pop();
      if (done[v] === gen) continue;
      done[v] = gen;
      settled++;
      if (v === payer) {
        found = true;
        break;
      }
      const hopsV = hops[v]!;
      if (hopsV >= maxHops) {
        prunedByHops = true;
        continue;
      }
      const amtV = amount[v]!;
      const cltvV = cltv[v]!;
      const costV = cost[v]!;

      if (v < nodeLimit) {
        for (let k = inStart[v]!, end = inStart[v + 1]!; k < end; k++) {
          const u = inFrom[k]!;
          if (done[u] === gen) continue;
          const e = inEdge[k]!;
          if ((edgeFlags[e]! & EDGE_ROUTABLE) === 0) continue;
          // The HTLC u sends to v carries amtV: it must fit the policy u set on this edge.
          if (amtV < htlcMinimumMsat[e]! || amtV > htlcMaximumMsat[e]!) continue;
          const c = e >>> 1;
          if (avoid[c] === query) continue;
          let cap = capacitySat[c]! * 1000;
          // NaN: the capacity is unknown, and htlc_maximum_msat is all we know of it.
          if (Number.isNaN(cap)) cap = htlcMaximumMsat[e]!;
          const inFlight = usedMsat[e]!;
          if (amtV + inFlight > cap) continue;
          let fee = 0;
          let delta = 0;
          if (u !== payer) {
            fee = forwardingFeeMsat(feeBaseMsat[e]!, feeProportionalMillionths[e]!, amtV);
            delta = cltvExpiryDelta[e]!;
          } else if (firstHopsOnly) continue;
          const amtU = amtV + fee;
          if (amtU > maxAmount) {
            prunedByFee = true;
            continue;
          }
          const cltvU = cltvV + delta;
          if (cltvU > maxCltv) {
            prunedByCltv = true;
            continue;
          }
          // Penalties are ≥ 0: a label no better before the penalty is not worth computing it.
          const known = seen[u] === gen;
          if (known && !byCltv && costV + fee >= cost[u]!) continue;
          const w = scored
            ? costV + fee + scorer.penaltyMsat(e, amtV, inFlight, cap)
            : byCltv
              ? costV + delta + fee * 1e-9
              : costV + fee + 1e-3;
          if (known && w >= cost[u]!) continue;
          seen[u] = gen;
          cost[u] = w;
          amount[u] = amtU;
          cltv[u] = cltvU;
          hops[u] = hopsV + 1;
          next[u] = v;
          via[u] = e;
          this.push(u, w);
        }
      }

      if (hasExtra && this.extraStamp[v] === query) {
        for (let k = this.extraHead[v]!; k !== NONE; k = this.extraNext[k]!) {
          const x = this.extra[k]!;
          const u = x.from;
          if (done[u] === gen) continue;
          const inFlight = this.usedExtraMsat[k]!;
          if (amtV < x.htlcMinimumMsat || amtV > x.htlcMaximumMsat || amtV + inFlight > x.htlcMaximumMsat)
            continue;
          let fee = 0;
          let delta = 0;
          if (u !== payer) {
            fee = forwardingFeeMsat(x.feeBaseMsat, x.feeProportionalMillionths, amtV);
            delta = x.cltvExpiryDelta;
          }
          const amtU = amtV + fee;
          if (amtU > maxAmount) {
            prunedByFee = true;
            continue;
          }
          const cltvU = cltvV + delta;
          if (cltvU > maxCltv) {
            prunedByCltv = true;
            continue;
          }
          const w = scored
            ? costV + fee + scorer.penaltyMsat(NONE, amtV, inFlight, Number.POSITIVE_INFINITY)
            : byCltv
              ? costV + delta + fee * 1e-9
              : costV + fee + 1e-3;
          if (seen[u] === gen && w >= cost[u]!) continue;
          seen[u] = gen;
          cost[u] = w;
          amount[u] = amtU;
          cltv[u] = cltvU;
          hops[u] = hopsV + 1;
          next[u] = v;
          via[u] = EXTRA_BASE - k;
          this.push(u, w);
        }
      }
    }
    this.prunedByFee = prunedByFee;
    this.prunedByCltv = prunedByCltv;
    this.prunedByHops = prunedByHops;
    this.settled = settled;
    this.runs++;
    return found;
  }

  private push(node: number, key: number): void {
    let i = this.heapSize++;
    if (i >= this.heapKey.length) this.growHeap(2 * this.heapKey.length);
    const keys = this.heapKey;
    const nodes = this.heapNode;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (pk <= key) break;
      keys[i] = pk;
      nodes[i] = nodes[parent]!;
      i = parent;
    }
    keys[i] = key;
    nodes[i] = node;
  }

  private pop(): number {
    const keys = this.heapKey;
    const nodes = this.heapNode;
    const top = nodes[0]!;
    const n = --this.heapSize;
    if (n === 0) return top;
    const key = keys[n]!;
    const node = nodes[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1]! < keys[child]!) child++;
      if (keys[child]! >= key) break;
      keys[i] = keys[child]!;
      nodes[i] = nodes[child]!;
      i = child;
    }
    keys[i] = key;
    nodes[i] = node;
    return top;
  }
}
