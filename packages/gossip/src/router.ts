/**
 * Router: what the payment code asks for a route (the LDK guide's step 12: "a Router finds
 * routes over the NetworkGraph"). One small interface, so a node can bring its own pathfinding
 * through the builder; `DefaultRouter` (default-router.ts) is lnkit's, over a GraphView and a
 * Scorer. The shapes here are those of onion's RouteHop (what `buildPaymentOnion` takes) and of
 * the `queryroutes` API.
 */

/** One hop of a route: the channel into `nodeId` and the HTLC `nodeId` receives over it. */
export interface RouteHop {
  readonly nodeId: Uint8Array;
  /** The channel from the previous node (the payer for the first hop) to this one. */
  readonly shortChannelId: bigint;
  /** The amount of the HTLC this node receives: what it forwards plus its fee (BOLT 7 "HTLC Fees"). */
  readonly amountMsat: bigint;
  /** The absolute `cltv_expiry` of the HTLC this node receives. */
  readonly cltvExpiry: number;
}

/** A path from the payer to the payee; the last hop's amount is what the payee receives. */
export interface Route {
  readonly hops: readonly RouteHop[];
  /** What the forwarding nodes are paid: the first hop's amount minus the last hop's. */
  readonly feeMsat: bigint;
  /** The scorer's estimate that every hop has the liquidity for its amount (product over hops). */
  readonly probability: number;
}

/**
 * One hop of a BOLT 11 `r` field: the channel from `nodeId` towards the payee, with the policy
 * `nodeId` charges on it. The shape of `@lnkit/invoice`'s RouteHintHop, so a decoded invoice's
 * `routeHints` go in as they are.
 */
export interface RouteHintHop {
  readonly nodeId: Uint8Array;
  readonly shortChannelId: bigint;
  readonly feeBaseMsat: number;
  readonly feeProportionalMillionths: number;
  readonly cltvExpiryDelta: number;
  /** Not in BOLT 11; 0 when absent. */
  readonly htlcMinimumMsat?: bigint;
  /** Not in BOLT 11; unbounded when absent (the payee vouches for its private channels). */
  readonly htlcMaximumMsat?: bigint;
}

/** One `r` field: hops in order, from a public node to the payee. */
export type RouteHint = readonly RouteHintHop[];

/** One of the payer's own channels, with what it can send now (the manager knows, the graph does not). */
export interface FirstHop {
  readonly shortChannelId: bigint;
  /** The peer at the other end. */
  readonly nodeId: Uint8Array;
  /** What the channel can send in one HTLC now. */
  readonly outboundMsat: bigint;
  readonly htlcMinimumMsat?: bigint;
}

export interface RouteQuery {
  /** 33 bytes or hex. */
  readonly payer: Uint8Array | string;
  readonly payee: Uint8Array | string;
  /** What the payee must receive. */
  readonly amountMsat: bigint;
  /** The payee's `min_final_cltv_expiry_delta` (BOLT 11 `c`, 18 when absent). */
  readonly finalCltvExpiryDelta: number;
  /** The chain tip: each hop's `cltvExpiry` is this plus the deltas from it to the payee. */
  readonly currentBlockHeight: number;
  /** Total fee limit. Default: 1 % of the amount + 50 sat (LDK's default). */
  readonly maxFeeMsat?: bigint;
  /**
   * Limit on the payer's HTLC `cltv_expiry` minus the block height: the final delta plus every
   * forwarding node's delta. Default 1008 blocks (a week; LDK's DEFAULT_MAX_TOTAL_CLTV_EXPIRY_DELTA).
   */
  readonly maxTotalCltvExpiryDelta?: number;
  /** Channels in a path. Default 19 (LDK's MAX_PATH_LENGTH_ESTIMATE for the 1,300-byte onion). */
  readonly maxHops?: number;
  /** The invoice's `r` fields: private channels into the payee. */
  readonly routeHints?: readonly RouteHint[];
  /**
   * The payer's usable channels. When given, they are the only ways out of the payer (its
   * channels in the graph are ignored), with `outboundMsat` as their exact liquidity.
   */
  readonly firstHops?: readonly FirstHop[];
  /** Channels not to use (a payment's earlier failures, say). */
  readonly avoidChannels?: Iterable<bigint>;
  /** For `findRoutes`: at most this many paths (default 10, LDK's DEFAULT_MAX_PATH_COUNT). */
  readonly maxParts?: number;
}

export interface Router {
  /**
   * The best single path for the query. Throws GossipError: `no-route` (no path admits the
   * amount), `route-fee-limit` / `route-cltv-limit` (paths exist, none within that limit),
   * `invalid-argument`.
   */
  findRoute(query: RouteQuery): Route;
  /**
   * Paths whose last-hop amounts sum to the query's amount, fees within `maxFeeMsat` together:
   * one path when one can carry it all, else a multi-part split (BOLT 4 `basic_mpp`; the payee
   * must support it). Same errors as `findRoute`.
   */
  findRoutes(query: RouteQuery): Route[];
}
