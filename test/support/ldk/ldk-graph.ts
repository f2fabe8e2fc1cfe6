/**
 * LDK 0.1's NetworkGraph and router over a topology file (graph-topology.ts), for the route
 * benchmark. The file has no signatures, so the graph is fed the unsigned forms, which LDK's
 * NetworkGraph takes as they are: `update_channel_from_unsigned_announcement` with a UtxoLookup
 * that answers each short_channel_id with a funding output of the file's capacity (a P2WSH 2-of-2
 * of two fixed keys, the script LDK checks against the announcement's bitcoin keys), then
 * `update_channel_unsigned` for each direction. So LDK knows the same capacities as lnkit
 * (`add_channel_from_partial_announcement` would leave them unknown). Test code only.
 */
import { createHash } from 'node:crypto';
import * as ldk from 'lightningdevkit';
import { orderedEnds, type TopologyFile, topologyScid } from '../graph-topology.ts';
import { initLdk } from './ldk-peer.ts';

// The generator G and 2G: two valid public keys for every channel's funding script.
const BITCOIN_KEY_1 = Buffer.from(
  '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
  'hex',
);
const BITCOIN_KEY_2 = Buffer.from(
  '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5',
  'hex',
);

function fundingScript(): Uint8Array {
  const [a, b] =
    Buffer.compare(BITCOIN_KEY_1, BITCOIN_KEY_2) < 0
      ? [BITCOIN_KEY_1, BITCOIN_KEY_2]
      : [BITCOIN_KEY_2, BITCOIN_KEY_1];
  const witness = Buffer.concat([
    Buffer.from([0x52, 0x21]),
    a,
    Buffer.from([0x21]),
    b,
    Buffer.from([0x52, 0xae]),
  ]);
  return Buffer.concat([Buffer.from([0x00, 0x20]), createHash('sha256').update(witness).digest()]);
}

export interface LdkGraph {
  graph: ldk.NetworkGraph;
  logger: ldk.Logger;
  /** Channels and directions LDK refused (should be none). */
  refusedChannels: number;
  refusedUpdates: number;
  /** The first refusal's message, to see why. */
  firstRefusal: string | undefined;
}

export async function ldkGraphOf(t: TopologyFile, nowSec: number): Promise<LdkGraph> {
  await initLdk();
  const logger = ldk.Logger.new_impl({ log: () => {} });
  const graph = ldk.NetworkGraph.constructor_new(ldk.Network.LDKNetwork_Bitcoin, logger);
  const chainHash = graph.get_chain_hash();
  const script = fundingScript();
  const capacityOf = new Map<bigint, number>();
  const lookup = ldk.UtxoLookup.new_impl({
    get_utxo: (_chain: Uint8Array, scid: bigint) =>
      ldk.UtxoResult.constructor_sync(
        ldk.Result_TxOutUtxoLookupErrorZ.constructor_ok(
          ldk.TxOut.constructor_new(BigInt(capacityOf.get(scid) ?? 0), script),
        ),
      ),
  });
  const someLookup = ldk.Option_UtxoLookupZ.constructor_some(lookup);
  const ids = t.nodes.map((n) => ldk.NodeId.constructor_from_pubkey(Buffer.from(n.id, 'hex')));
  const btc1 = ldk.NodeId.constructor_from_pubkey(BITCOIN_KEY_1);
  const btc2 = ldk.NodeId.constructor_from_pubkey(BITCOIN_KEY_2);
  const none = new Uint8Array(0);
  let refusedChannels = 0;
  let refusedUpdates = 0;
  let firstRefusal: string | undefined;
  const refused = (r: ldk.Result_NoneLightningErrorZ): boolean => {
    if (r.is_ok()) return false;
    firstRefusal ??= (r as ldk.Result_NoneLightningErrorZ_Err).err.get_err();
    return true;
  };
  t.channels.forEach((ch, i) => {
    const scid = topologyScid(i);
    capacityOf.set(scid, ch.capacitySat);
    const [n1, n2] = orderedEnds(t, i);
    const ann = ldk.UnsignedChannelAnnouncement.constructor_new(
      ldk.ChannelFeatures.constructor_empty(),
      chainHash,
      scid,
      ids[n1]!,
      ids[n2]!,
      btc1,
      btc2,
      none,
    );
    if (refused(graph.update_channel_from_unsigned_announcement(ann, someLookup))) {
      refusedChannels++;
      return;
    }
    ch.dir.forEach((p, dir) => {
      if (!p) return;
      const update = ldk.UnsignedChannelUpdate.constructor_new(
        chainHash,
        scid,
        nowSec,
        1,
        dir,
        p.cltvDelta,
        BigInt(p.htlcMinMsat),
        BigInt(p.htlcMaxMsat),
        p.feeBaseMsat,
        p.feePpm,
        none,
      );
      if (refused(graph.update_channel_unsigned(update))) refusedUpdates++;
    });
  });
  return { graph, logger, refusedChannels, refusedUpdates, firstRefusal };
}

export interface LdkRoute {
  feeMsat: bigint;
  /** As lnkit's RouteHop: the amount each node receives (rebuilt from LDK's per-hop fees). */
  hops: { nodeId: Uint8Array; shortChannelId: bigint; amountMsat: bigint }[];
}

export interface LdkRouter {
  /** LDK's route, or undefined when it found none. */
  findRoute(
    payer: Uint8Array,
    payee: Uint8Array,
    amountMsat: bigint,
    finalCltvExpiryDelta: number,
  ): LdkRoute | undefined;
}

/**
 * LDK's `find_route` with a default ProbabilisticScorer and default fee parameters, LDK's default
 * limits (CLTV 1008, path length) and the benchmark's fee limit (1 % + 50 sat). A payee with no
 * invoice features, so single path, as the query file says.
 */
export function ldkRouter(g: LdkGraph): LdkRouter {
  const scorer = ldk.ProbabilisticScorer.constructor_new(
    ldk.ProbabilisticScoringDecayParameters.constructor_default(),
    g.graph,
    g.logger,
  );
  const lookUp = scorer.as_ScoreLookUp();
  const feeParams = ldk.ProbabilisticScoringFeeParameters.constructor_default();
  const seed = new Uint8Array(32).fill(7);
  return {
    findRoute(payer, payee, amountMsat, finalCltvExpiryDelta) {
      const params = ldk.RouteParameters.constructor_new(
        ldk.PaymentParameters.constructor_from_node_id(payee, finalCltvExpiryDelta),
        amountMsat,
        ldk.Option_u64Z.constructor_some(amountMsat / 100n + 50_000n),
      );
      const r = ldk.UtilMethods.constructor_find_route(
        payer,
        params,
        g.graph,
        null,
        g.logger,
        lookUp,
        feeParams,
        seed,
      );
      if (!r.is_ok()) return undefined;
      const route = (r as ldk.Result_RouteLightningErrorZ_OK).res;
      const path = route.get_paths()[0]!.get_hops();
      // LDK's fee_msat is what the hop's node charges to forward (the amount itself for the last hop).
      const hops: LdkRoute['hops'] = new Array(path.length);
      let amount = amountMsat;
      for (let k = path.length - 1; k >= 0; k--) {
        const h = path[k]!;
        hops[k] = { nodeId: h.get_pubkey(), shortChannelId: h.get_short_channel_id(), amountMsat: amount };
        if (k > 0) amount += path[k - 1]!.get_fee_msat();
      }
      return { feeMsat: route.get_total_fees(), hops };
    },
  };
}
