/**
 * DefaultRouter: lnkit's Router over a GraphView and a Scorer.
 *
 * A query is answered by up to three searches of the same kernel (pathfinder.ts):
 *   1. the scored search — fee + the scorer's penalty — with every limit: this is the answer
 *      when it finds a path;
 *   2. only if (1) dropped candidates for the fee or CLTV limit: the cheapest path within the CLTV
 *      limit. A label-setting search cannot see every path that keeps to two budgets at once, so (1)
 *      may miss a path within them; the cheapest path is the one most likely to be within the fee
 *      limit, and when even it is over, the limit is what refused (`route-fee-limit`);
 *   3. only if (2) dropped candidates for the CLTV limit: the path of least CLTV within the fee
 *      limit, found or named as what refused (`route-cltv-limit`).
 * A query that fails for want of any path costs one search (or two), never more than three.
 *
 * Amounts: the query's bigints become doubles for the search (exact below 2^53 msat) and come
 * back as bigints, recomputed hop by hop from the payee along the path found (BOLT 7 "HTLC Fees",
 * rounded down as forwarding nodes compute it).
 */
import { GossipError } from './errors.ts';
import type { GraphView } from './graph-view.ts';
import { splitPayment } from './mpp.ts';
import {
  type FoundPath,
  forwardingFeeMsat,
  OBJECTIVE_CLTV,
  OBJECTIVE_FEE,
  OBJECTIVE_SCORED,
  PathSearch,
  type SearchLimits,
} from './pathfinder.ts';
import { ProbabilisticScorer } from './probabilistic-scorer.ts';
import type { Route, RouteHop, RouteQuery, Router } from './router.ts';
import type { Scorer } from './scorer.ts';

export const DEFAULT_MAX_TOTAL_CLTV_EXPIRY_DELTA = 1008;
export const DEFAULT_MAX_HOPS = 19;
export const DEFAULT_MAX_PARTS = 10;

/** LDK's default fee limit: 1 % of the amount + 50 sat. */
export function defaultMaxFeeMsat(amountMsat: bigint): bigint {
  return amountMsat / 100n + 50_000n;
}

export interface DefaultRouterOptions {
  readonly graph: GraphView;
  /** Default: a new ProbabilisticScorer with its defaults. */
  readonly scorer?: Scorer;
  /** Milliseconds, for the scorer's decay. Default Date.now. */
  readonly now?: () => number;
}

/** A query checked and placed on the search's node indexes. */
export interface PreparedQuery {
  readonly payer: number;
  readonly payee: number;
  readonly payerId: Uint8Array;
  readonly amountMsat: number;
  readonly maxFeeMsat: number;
  readonly limits: SearchLimits;
  readonly currentBlockHeight: number;
  readonly maxParts: number;
}

const MAX_AMOUNT_MSAT = BigInt(Number.MAX_SAFE_INTEGER);

function bytesOf(id: Uint8Array | string, what: string): Uint8Array {
  if (typeof id === 'string') {
    if (!/^0[23][0-9a-fA-F]{64}$/.test(id))
      throw new GossipError('invalid-argument', `${what} is not a node id`);
    return Uint8Array.from(Buffer.from(id, 'hex'));
  }
  if (!(id instanceof Uint8Array) || id.length !== 33)
    throw new GossipError('invalid-argument', `${what} is not a 33-byte node id`);
  return id;
}

function checkCount(n: number, what: string, max: number): number {
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new GossipError('invalid-argument', `${what} must be an integer from 0 to ${max}`);
  return n;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class DefaultRouter implements Router {
  readonly graph: GraphView;
  readonly scorer: Scorer;
  private readonly now: () => number;
  /** Reused from query to query (its arrays are the search's memory). */
  private readonly search = new PathSearch();

  constructor(options: DefaultRouterOptions) {
    this.graph = options.graph;
    this.scorer = options.scorer ?? new ProbabilisticScorer();
    this.now = options.now ?? Date.now;
  }

  findRoute(query: RouteQuery): Route {
    const q = this.prepare(query);
    return this.single(q);
  }

  findRoutes(query: RouteQuery): Route[] {
    const q = this.prepare(query);
    try {
      return [this.single(q)];
    } catch (e) {
      // Splitting helps when no one path has the room; it does not make fees or CLTV smaller.
      if (!(e instanceof GossipError) || e.code !== 'no-route' || q.maxParts < 2) throw e;
    }
    return splitPayment(this.search, q, (path, amountMsat) => this.routeFor(q, path, amountMsat));
  }

  // ================================================================ one path

  private single(q: PreparedQuery): Route {
    const s = this.search;
    const { payer, payee, limits } = q;
    if (s.run(payer, payee, limits)) return this.routeFor(q, this.pathFound(q), q.amountMsat);
    if (!s.prunedByFee && !s.prunedByCltv) throw this.noRoute(q);
    const cltvLimited = s.prunedByCltv;
    if (s.run(payer, payee, { ...limits, objective: OBJECTIVE_FEE, maxFeeMsat: Number.POSITIVE_INFINITY })) {
      const route = this.routeFor(q, this.pathFound(q), q.amountMsat);
      if (Number(route.feeMsat) <= q.maxFeeMsat) return route;
      throw new GossipError(
        'route-fee-limit',
        `no route to ${hex(this.search.nodeIdAt(payee))} within the fee limit of ${q.maxFeeMsat} msat: the cheapest costs ${route.feeMsat} msat`,
      );
    }
    if (cltvLimited || s.prunedByCltv) {
      if (
        s.run(payer, payee, {
          ...limits,
          objective: OBJECTIVE_CLTV,
          maxCltvExpiryDelta: Number.POSITIVE_INFINITY,
        })
      ) {
        const route = this.routeFor(q, this.pathFound(q), q.amountMsat);
        const delta = route.hops[0]!.cltvExpiry - q.currentBlockHeight;
        if (delta <= limits.maxCltvExpiryDelta && Number(route.feeMsat) <= q.maxFeeMsat) return route;
        throw new GossipError(
          'route-cltv-limit',
          `no route to ${hex(this.search.nodeIdAt(payee))} within the CLTV limit of ${limits.maxCltvExpiryDelta} blocks: the shortest needs ${delta}`,
        );
      }
    }
    throw this.noRoute(q);
  }

  private noRoute(q: PreparedQuery): GossipError {
    const why = this.search.prunedByHops ? ` (some paths were longer than ${q.limits.maxHops} hops)` : '';
    return new GossipError(
      'no-route',
      `no route from ${hex(q.payerId)} to ${hex(this.search.nodeIdAt(q.payee))} for ${q.amountMsat} msat${why}`,
    );
  }

  private pathFound(q: PreparedQuery): FoundPath {
    return this.search.pathFrom(q.payer, q.payee);
  }

  /**
   * The route for delivering `amountMsat` over `path`: each hop's amount and CLTV computed from
   * the payee back, as the forwarding nodes will check them (BOLT 7 "HTLC Fees"; BOLT 4: a hop's
   * `outgoing_cltv_value` plus its `cltv_expiry_delta`), with the scorer's probability given
   * what earlier parts already send over each channel.
   */
  routeFor(q: PreparedQuery, path: FoundPath, amountMsat: number): Route {
    const s = this.search;
    const n = path.edges.length;
    const amounts = new Array<number>(n);
    const cltvs = new Array<number>(n);
    let amount = amountMsat;
    let cltv = q.limits.finalCltvExpiryDelta;
    let probability = 1;
    for (let k = n - 1; k >= 0; k--) {
      const e = path.edges[k]!;
      amounts[k] = amount;
      cltvs[k] = cltv;
      const inFlight = s.inFlight(e);
      probability *= this.scorer.successProbability(e < 0 ? -1 : e, amount, inFlight, s.capacityMsat(e));
      // The node at the start of edge k forwards over it; the payer charges itself nothing.
      if (k > 0) {
        const p = s.policyOf(e);
        amount += forwardingFeeMsat(p.feeBaseMsat, p.feeProportionalMillionths, amount);
        cltv += p.cltvExpiryDelta;
      }
    }
    const hops: RouteHop[] = path.edges.map((e, k) => ({
      nodeId: new Uint8Array(s.nodeIdAt(path.nodes[k + 1]!)),
      shortChannelId: s.shortChannelIdOf(e),
      amountMsat: BigInt(amounts[k]!),
      cltvExpiry: q.currentBlockHeight + cltvs[k]!,
    }));
    return { hops, feeMsat: BigInt(amounts[0]! - amountMsat), probability };
  }

  // ================================================================ the query

  private prepare(query: RouteQuery): PreparedQuery {
    const payerId = bytesOf(query.payer, 'payer');
    const payeeId = bytesOf(query.payee, 'payee');
    if (hex(payerId) === hex(payeeId))
      throw new GossipError('invalid-argument', 'payer and payee are the same node');
    const amount = query.amountMsat;
    if (typeof amount !== 'bigint' || amount <= 0n || amount > MAX_AMOUNT_MSAT)
      throw new GossipError('invalid-argument', `amountMsat must be from 1 to ${MAX_AMOUNT_MSAT}`);
    const maxFee = query.maxFeeMsat ?? defaultMaxFeeMsat(amount);
    if (typeof maxFee !== 'bigint' || maxFee < 0n)
      throw new GossipError('invalid-argument', 'maxFeeMsat must be ≥ 0');
    const final = checkCount(query.finalCltvExpiryDelta, 'finalCltvExpiryDelta', 0xffff);
    const height = checkCount(query.currentBlockHeight, 'currentBlockHeight', 0xffff_ffff);
    const maxCltv = checkCount(
      query.maxTotalCltvExpiryDelta ?? DEFAULT_MAX_TOTAL_CLTV_EXPIRY_DELTA,
      'maxTotalCltvExpiryDelta',
      0xffff_ffff,
    );
    const maxHops = checkCount(query.maxHops ?? DEFAULT_MAX_HOPS, 'maxHops', 255);
    const maxParts = checkCount(query.maxParts ?? DEFAULT_MAX_PARTS, 'maxParts', 1000);
    if (final > maxCltv)
      throw new GossipError(
        'route-cltv-limit',
        `the final CLTV delta ${final} is over the CLTV limit of ${maxCltv} blocks on its own`,
      );

    const s = this.search;
    this.scorer.beginSearch(this.graph, this.now());
    s.begin(this.graph, this.scorer);
    const payer = s.nodeFor(payerId);
    const payee = s.nodeFor(payeeId);
    // Avoided channels are left out wherever they come from: the graph, a hint, our own.
    const avoid = new Set(query.avoidChannels ?? []);
    for (const hint of query.routeHints ?? []) {
      for (const [k, hop] of hint.entries()) {
        if (avoid.has(hop.shortChannelId)) continue;
        const to = k + 1 < hint.length ? hint[k + 1]!.nodeId : payeeId;
        s.addExtraEdge({
          from: s.nodeFor(bytesOf(hop.nodeId, 'route hint node')),
          to: s.nodeFor(bytesOf(to, 'route hint node')),
          shortChannelId: hop.shortChannelId,
          feeBaseMsat: hop.feeBaseMsat,
          feeProportionalMillionths: hop.feeProportionalMillionths,
          cltvExpiryDelta: hop.cltvExpiryDelta,
          htlcMinimumMsat: Number(hop.htlcMinimumMsat ?? 0n),
          htlcMaximumMsat:
            hop.htlcMaximumMsat === undefined ? Number.POSITIVE_INFINITY : Number(hop.htlcMaximumMsat),
        });
      }
    }
    if (query.firstHops) {
      for (const h of query.firstHops) {
        if (avoid.has(h.shortChannelId)) continue;
        s.addExtraEdge({
          from: payer,
          to: s.nodeFor(bytesOf(h.nodeId, 'first hop node')),
          shortChannelId: h.shortChannelId,
          feeBaseMsat: 0,
          feeProportionalMillionths: 0,
          cltvExpiryDelta: 0,
          htlcMinimumMsat: Number(h.htlcMinimumMsat ?? 0n),
          htlcMaximumMsat: Number(h.outboundMsat),
        });
      }
      s.onlyExtraEdgesFrom();
    }
    for (const scid of avoid) s.avoidChannel(this.graph.channelIndex(scid));
    return {
      payer,
      payee,
      payerId,
      amountMsat: Number(amount),
      maxFeeMsat: Number(maxFee),
      currentBlockHeight: height,
      maxParts,
      limits: {
        amountMsat: Number(amount),
        finalCltvExpiryDelta: final,
        maxFeeMsat: Number(maxFee),
        maxCltvExpiryDelta: maxCltv,
        maxHops,
        objective: OBJECTIVE_SCORED,
      },
    };
  }
}
