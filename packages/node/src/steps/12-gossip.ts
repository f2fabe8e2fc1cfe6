/**
 * Step 12, the gossip handler: the GossipSync actor (@lnkit/gossip), which holds the network
 * graph in the node's store (db `graph`), checks BOLT 7 gossip, answers and sends gossip
 * queries, relays and prunes; and the router over that graph.
 *
 * - Placement: a worker by default (signature checks are the node's heaviest CPU work, in the
 *   actor's CryptoPool), opening the data dir's store a second time; in-process when the
 *   config says so or when it must be handed objects, which cannot cross threads: the user's
 *   scorer or router factory, or the user's block source as the UTXO source. In-process it
 *   uses the node's own store object.
 * - The funding output check (BOLT 7: "MUST ignore" an announcement whose output is not the
 *   P2WSH of its bitcoin keys, or is spent) asks the node's chain: bitcoind's JSON-RPC when the
 *   node follows bitcoind; the user's block source when it can say whether an output is
 *   unspent (gossip's UtxoSource); none otherwise, never a bitcoind behind the user's back.
 * - Peers: a message handler step 13 wires to the PeerManager before step 14 lets any peer in
 *   (`connectGossip`, again whenever the supervisor restarts the actor), with `gossip_queries`
 *   in the init features: LDK queries, and answers the queries of, only peers that offer it.
 *   `gossip_queries_ex` too, as the sync answers and asks with timestamps and checksums.
 * - Blocks: `gossipChainListener` on the chain listeners step 15 feeds (spent funding outputs
 *   mark channels spent, and remove them 72 blocks later).
 * - The router: `DefaultRouter` over the graph inside the actor, with the ProbabilisticScorer
 *   it keeps in the store (db `scorer`): read at start, written at stop and by step 18 every
 *   `SCORER_PERSIST_INTERVAL_MS`. `withScorer` replaces the scorer (the node never saves a
 *   user's scorer), `withRouter` the router: a Router of the user's own, called on the node's
 *   thread, or a factory given the node's graph and scorer, run in the actor.
 */
import type { BlockSource } from '@lnkit/chain-sync';
import { connectGossip, gossipActor, gossipChainListener, type Router, type UtxoSource } from '@lnkit/gossip';
import type { Logger } from '@lnkit/runtime';
import { Features } from '@lnkit/wire';
import { Subscription } from 'rxjs';
import type { NodeComponent } from '../component.ts';
import type { GossipActor, NodeContext, NodeRouter, PeerActor } from '../context.ts';
import { chainHash } from '../network.ts';
import { SCHEMA_VERSION } from '../store-schema.ts';

/** What step 13 adds to the PeerManager's init features for gossip. */
export const GOSSIP_INIT_FEATURES = Features.of({ optional: ['gossip_queries', 'gossip_queries_ex'] });

/** How often step 18 writes the scorer: little is lost in a crash, as it learns slowly and decays over hours. */
export const SCORER_PERSIST_INTERVAL_MS = 10 * 60_000;
/** How often step 18 writes a graph snapshot, so a start replays a short journal (LDK persists its graph hourly). */
export const GRAPH_SNAPSHOT_INTERVAL_MS = 60 * 60_000;

export function gossipStep(): NodeComponent {
  let gossip: GossipActor | undefined;
  return {
    step: 12,
    name: 'gossip',
    async start(ctx) {
      const cfg = ctx.config;
      const store = ctx.get('store');
      const { scorer, router } = ctx.supplied;
      const routerFactory = typeof router === 'function' ? router : undefined;
      const utxoSource = ctx.supplied.blockSource ? utxoSourceOf(ctx.supplied.blockSource) : undefined;
      if (ctx.supplied.blockSource && !utxoSource)
        ctx.log.info(
          { source: ctx.supplied.blockSource.description },
          'gossip: channel announcements are taken without a funding output check (the block source cannot say whether an output is unspent)',
        );
      const actor = ctx.actorOptions();
      const inProcess = actor.placement === 'in-process' || !!scorer || !!routerFactory || !!utxoSource;
      gossip = await ctx.supervisor.spawn(gossipActor, {
        ...actor,
        placement: inProcess ? 'in-process' : 'worker',
        config: {
          chainHash: chainHash(cfg.network),
          ...(inProcess
            ? { store }
            : {
                dataDir: store.dataDir,
                storeOptions: { schemaVersion: SCHEMA_VERSION, network: cfg.network },
              }),
          ...(cfg.gossipVerifyThreads !== undefined ? { verifyThreads: cfg.gossipVerifyThreads } : {}),
          ...(utxoSource
            ? { utxoSource }
            : ctx.supplied.blockSource
              ? {}
              : { utxoRpc: { url: cfg.chain.url, auth: cfg.chain.auth } }),
          ...(scorer ? { scorer } : {}),
          ...(routerFactory ? { router: routerFactory } : {}),
        },
      });
      const g = gossip;
      ctx.set('gossip', g);
      ctx.set('router', router && typeof router !== 'function' ? userRouter(router, g) : actorRouter(g));
      ctx.peerHandlers.push({
        name: 'gossip',
        initFeatures: GOSSIP_INIT_FEATURES,
        attach: (peers) => wireGossip(g, peers, ctx.log),
      });
      ctx.chainListeners.push({ name: 'gossip', listener: gossipChainListener(g.ref) });
      addBackgroundTasks(ctx, g, !scorer);
    },
    async stop() {
      // Writes the graph (with a snapshot) and the scorer; before the store closes (step 4).
      await gossip?.stop();
    },
  };
}

/**
 * connectGossip, and again each time the supervisor restarts the gossip actor: a restarted
 * worker has new streams, and knows no peer until it is told (connectGossip lists them).
 */
function wireGossip(g: GossipActor, peers: PeerActor, log: Logger): Subscription {
  let wiring = connectGossip(g.ref, peers.ref, log);
  const all = new Subscription(() => wiring.unsubscribe());
  all.add(
    g.events$.subscribe((e) => {
      if (e.type !== 'started' || e.restarts === 0) return;
      wiring.unsubscribe();
      wiring = connectGossip(g.ref, peers.ref, log);
      log.info({ restarts: e.restarts }, 'gossip: wired to the peers again after the gossip actor restarted');
    }),
  );
  return all;
}

/** The user's block source as the funding output check's UtxoSource, when it is one. */
function utxoSourceOf(source: BlockSource): UtxoSource | undefined {
  const s = source as BlockSource & Partial<UtxoSource>;
  if (typeof s.isOutputUnspent !== 'function' || typeof s.getBlockHash !== 'function') return undefined;
  return s as BlockSource & UtxoSource;
}

/** The gossip actor's router (the default, or one a factory made) and its scorer. */
function actorRouter(g: GossipActor): NodeRouter {
  return {
    findRoutes: (query) => g.ref.findRoutes(query),
    findRoute: (query) => g.ref.findRoute(query),
    pathFailed: (path, scid) => g.ref.pathFailed(path, scid),
    pathSucceeded: (path) => g.ref.pathSucceeded(path),
    probeSucceeded: (path) => g.ref.probeSucceeded(path),
    applyChannelUpdate: (raw) => g.ref.applyFailureUpdate(raw),
  };
}

/**
 * A Router of the user's own, on the node's thread (its answers, or its throws, as promises);
 * payment outcomes still go to the scorer in the gossip actor.
 */
function userRouter(r: Router, g: GossipActor): NodeRouter {
  return {
    ...actorRouter(g),
    findRoutes: async (query) => r.findRoutes(query),
    findRoute: async (query) => r.findRoute(query),
  };
}

function addBackgroundTasks(ctx: NodeContext, g: GossipActor, ownScorer: boolean): void {
  if (ownScorer)
    ctx.background.push({
      name: 'scorer-persist',
      everyMs: SCORER_PERSIST_INTERVAL_MS,
      run: () => g.ref.saveScorer(),
    });
  ctx.background.push({
    name: 'graph-snapshot',
    everyMs: GRAPH_SNAPSHOT_INTERVAL_MS,
    run: () => g.ref.flush(true),
  });
}
