/**
 * The GossipSync as a runtime actor (LDK guide step 12): the graph, its store and the
 * validation live in this actor's thread; peers' messages come in through `receive`, and what
 * goes out to peers leaves on `outbound$` — each send acknowledged with `sent`, which is the
 * GossipSync's flow control. `connectGossip` (wiring.ts) does that plumbing between this actor
 * and the peer-net actor, so the node only calls it.
 *
 * Placement: in a worker by default. The store is opened here from the data dir (a worker
 * cannot be handed the node's Store object); in-process, a `store` object may be given instead.
 * Signatures are checked in a CryptoPool of `verifyThreads` threads (0: in this thread).
 *
 * The router lives here too, beside the graph it searches (a search reads the graph's columns
 * without a copy, so it cannot run in another thread): `findRoutes` answers a RouteQuery with
 * DefaultRouter over the graph and the ProbabilisticScorer kept in the store's `scorer` db (read
 * at create, written by `saveScorer` and at close). In-process, a node may give its own scorer
 * (never loaded or saved here: it is the node's) or its own router, made from the graph.
 */

import { BitcoindRpcClient, type BlockSource, type RpcAuth, RpcBlockSource } from '@lnkit/chain-sync';
import { CryptoPool, inThreadCrypto } from '@lnkit/crypto';
import { defineActor } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { parseShortChannelId } from '@lnkit/wire';
import { type Observable, Subject } from 'rxjs';
import { DefaultRouter } from './default-router.ts';
import { GossipError } from './errors.ts';
import { GossipSync, type GossipSyncOptions, type GossipTransport } from './gossip-sync.ts';
import { NetworkGraph } from './graph.ts';
import { type LmdbGraphStore, loadGraph } from './graph-store.ts';
import type { GraphView } from './graph-view.ts';
import { channelJson, nodeJson } from './json.ts';
import { ProbabilisticScorer, type ProbabilisticScorerOptions } from './probabilistic-scorer.ts';
import { forgetSpent, fundingSpent, unspendFrom } from './prune.ts';
import type { Route, RouteQuery, Router } from './router.ts';
import type { ScoredPath, Scorer } from './scorer.ts';
import { loadScorer, SCORER_DB, saveScorer } from './scorer-record.ts';
import { ChainUtxoLookup, rpcUtxoSource, type UtxoSource } from './utxo.ts';

export interface GossipActorConfig {
  /** BOLT 7 chain_hash of the node's network. */
  chainHash: Uint8Array;
  /** The node's data dir: the graph is kept in its store (db `graph`). Without it (and `store`), in memory only. */
  dataDir?: string;
  /** How to open the data dir's store: the node's schema version and network. */
  storeOptions?: { schemaVersion: number; network?: string };
  /** In-process only: the node's own Store. */
  store?: Store;
  /** CryptoPool threads for signature checks; 0 checks them in this thread. Default 2. */
  verifyThreads?: number;
  /** bitcoind for the funding output check (getblockhash, getblock, gettxout). */
  utxoRpc?: { url: string; auth: RpcAuth };
  /** In-process only: a UtxoSource of the caller's own (a block source with `isOutputUnspent`). */
  utxoSource?: UtxoSource;
  /** How often the actor runs GossipSync.tick(). Default 1 s. */
  tickMs?: number;
  /** The default scorer's parameters (the ProbabilisticScorer kept in the store). */
  scorerOptions?: Omit<ProbabilisticScorerOptions, 'entries'>;
  /** In-process only: the scorer the router uses, in place of the stored ProbabilisticScorer; not saved here. */
  scorer?: Scorer;
  /** In-process only: the router, made from the graph and the scorer, in place of DefaultRouter. */
  router?: (graph: GraphView, scorer: Scorer) => Router;
  options?: Omit<
    GossipSyncOptions,
    'graph' | 'transport' | 'store' | 'crypto' | 'utxo' | 'logger' | 'lastActiveAt'
  >;
}

/** What the actor asks to be done with a peer (wiring.ts performs it). */
export type GossipOutbound =
  | { readonly kind: 'send'; readonly id: number; readonly nodeId: string; readonly messages: Uint8Array[] }
  | { readonly kind: 'disconnect'; readonly nodeId: string; readonly reason: string };

/** A send not acknowledged in this long counts as done (a wiring that never acks must not stall the peer for ever). */
const SEND_ACK_TIMEOUT_MS = 60_000;

export default defineActor({
  name: 'gossip',
  // `sent` only settles a promise a drain is waiting on: it must not wait behind a long call.
  concurrent: ['sent'],
  async create(ctx, config: GossipActorConfig) {
    if (config.store && ctx.placement === 'worker')
      throw new GossipError(
        'invalid-argument',
        'a Store object cannot cross threads: give dataDir in a worker',
      );
    if ((config.scorer || config.router || config.utxoSource) && ctx.placement === 'worker')
      throw new GossipError(
        'invalid-argument',
        'a scorer, router or UTXO source object cannot cross threads: run the gossip actor in-process',
      );
    const ownStore =
      !config.store && config.dataDir
        ? await Store.open(config.dataDir, config.storeOptions ?? { schemaVersion: 1 })
        : undefined;
    const store = config.store ?? ownStore;
    let graph: NetworkGraph;
    let messages: LmdbGraphStore | undefined;
    let lastActiveAt: number | undefined;
    if (store) {
      const loaded = loadGraph(store, config.chainHash);
      graph = loaded.graph;
      messages = loaded.messages;
      lastActiveAt = loaded.meta?.lastActiveAt;
      ctx.logger.info(
        {
          from: loaded.from,
          channels: loaded.channels,
          nodes: loaded.nodes,
          skipped: loaded.skipped,
          ms: Math.round(loaded.ms),
        },
        'gossip: graph loaded',
      );
    } else {
      graph = new NetworkGraph({ chainHash: config.chainHash });
    }
    const threads = config.verifyThreads ?? 2;
    const pool = threads > 0 ? new CryptoPool({ threads }) : undefined;
    let utxoSource = config.utxoSource;
    if (!utxoSource && config.utxoRpc) {
      const rpc = new BitcoindRpcClient(config.utxoRpc);
      utxoSource = rpcUtxoSource(new RpcBlockSource(rpc) as BlockSource, rpc);
    }
    const utxo = utxoSource ? new ChainUtxoLookup(utxoSource) : undefined;

    // What the scorer learned is worth keeping, not worth refusing to start over: a record this
    // lnkit cannot read is logged and the scorer starts knowing nothing.
    let ownScorer: ProbabilisticScorer | undefined;
    if (!config.scorer) {
      try {
        ownScorer = store
          ? loadScorer(store.db(SCORER_DB), config.scorerOptions)
          : new ProbabilisticScorer(config.scorerOptions);
      } catch (e) {
        ctx.logger.warn(
          { err: (e as Error).message },
          'gossip: the stored scorer was not read; starting afresh',
        );
        ownScorer = new ProbabilisticScorer(config.scorerOptions);
      }
    }
    const scorer: Scorer = config.scorer ?? ownScorer!;
    const router: Router = config.router?.(graph, scorer) ?? new DefaultRouter({ graph, scorer });
    const writeScorer = async (): Promise<boolean> => {
      if (!store || !ownScorer) return false;
      await saveScorer(store.db(SCORER_DB), ownScorer, Date.now());
      return true;
    };

    const out = new Subject<GossipOutbound>();
    const waiting = new Map<
      number,
      { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
    >();
    let nextId = 1;
    const transport: GossipTransport = {
      send(nodeId, list) {
        const id = nextId++;
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            waiting.delete(id);
            resolve();
          }, SEND_ACK_TIMEOUT_MS);
          timer.unref();
          waiting.set(id, { resolve, reject, timer });
          out.next({ kind: 'send', id, nodeId, messages: [...list] });
        });
      },
      disconnect(nodeId, reason) {
        out.next({ kind: 'disconnect', nodeId, reason });
      },
    };
    const sync = new GossipSync({
      ...config.options,
      graph,
      transport,
      crypto: pool ?? inThreadCrypto,
      logger: ctx.logger,
      ...(messages ? { store: messages } : {}),
      ...(utxo ? { utxo } : {}),
      ...(lastActiveAt !== undefined ? { lastActiveAt } : {}),
    });
    const timer = setInterval(() => sync.tick(), config.tickMs ?? 1000);
    timer.unref();
    let closed = false;
    const persist = () =>
      messages
        ?.flush()
        .catch((e: unknown) =>
          ctx.logger.error({ err: (e as Error).message }, 'gossip: the graph could not be written'),
        );

    return {
      /** Messages from peers (type + payload as received): gossip and queries. */
      receive(batch: { nodeId: string; raw: Uint8Array }[]): void {
        for (const m of batch) sync.receive(m.nodeId, m.raw);
      },
      /** A peer finished init; its init features as BOLT 9 bytes in hex. */
      peerConnected(nodeId: string, featuresHex: string): void {
        sync.peerConnected(nodeId, Uint8Array.from(Buffer.from(featuresHex, 'hex')));
      },
      peerDisconnected(nodeId: string): void {
        sync.peerDisconnected(nodeId);
      },
      /** What to send to peers, and whom to drop. Acknowledge each send with `sent`. */
      outbound$: (): Observable<GossipOutbound> => out.asObservable(),
      /** A send from outbound$ was done (error: it failed, e.g. the peer is gone). */
      sent(id: number, error?: string): void {
        const w = waiting.get(id);
        if (!w) return;
        waiting.delete(id);
        clearTimeout(w.timer);
        if (error) w.reject(new GossipError('closed', error));
        else w.resolve();
      },
      /** A block: the outpoints its inputs spend (prune.ts spentOutpoints), and its height. */
      blockConnected(height: number, spentOutpoints: Uint8Array): { spent: number; forgotten: number } {
        const spent = fundingSpent(graph, spentOutpoints, height);
        const forgotten = forgetSpent(graph, height);
        if (spent + forgotten > 0) void persist();
        return { spent, forgotten };
      },
      blockDisconnected(height: number): number {
        const back = unspendFrom(graph, height);
        if (back > 0) void persist();
        return back;
      },
      /** Our own gossip (node_announcement, our channels' updates): applied and sent to every peer now. */
      /** A channel_update a payment failure carried (with its type): applied to the graph if valid and newer. */
      applyFailureUpdate(raw: Uint8Array): Promise<boolean> {
        return sync.applyFailureUpdate(raw);
      },
      async broadcastLocal(list: Uint8Array[]): Promise<number> {
        return (await sync.broadcastLocal(list)).accepted;
      },
      /** For `graphinfo`. */
      graphInfo() {
        return { ...graph.stats(), ...sync.stats() };
      },
      stats: () => sync.stats(),
      /** `getnode`: hex node id → the node with its announcement, as JSON-friendly data. */
      node(nodeIdHex: string) {
        const n = graph.node(nodeIdHex);
        return n ? nodeJson(n) : undefined;
      },
      /** `getnode`: the node's channels (unknown node: none). */
      channelsOf(nodeIdHex: string) {
        return [...graph.channelsOf(nodeIdHex)].map(channelJson);
      },
      /** `listnodes`: in index order, from `after` (an index), at most `limit`. */
      listNodes(options: { limit?: number; after?: number } = {}) {
        const out: ReturnType<typeof nodeJson>[] = [];
        for (const n of graph.nodes()) {
          if (options.after !== undefined && n.index <= options.after) continue;
          out.push(nodeJson(n));
          if (out.length >= (options.limit ?? 1000)) break;
        }
        return out;
      },
      /** A channel by short_channel_id (`BLOCKxTXxOUTPUT`). */
      channel(scid: string) {
        const c = graph.channel(parseShortChannelId(scid));
        return c ? channelJson(c) : undefined;
      },
      /** `listgraphchannels`: in index order, from `after` (an index), at most `limit`. */
      listChannels(options: { limit?: number; after?: number } = {}) {
        const out: ReturnType<typeof channelJson>[] = [];
        for (const c of graph.channels()) {
          if (options.after !== undefined && c.index <= options.after) continue;
          out.push(channelJson(c));
          if (out.length >= (options.limit ?? 1000)) break;
        }
        return out;
      },
      /**
       * `queryroutes`: one path for the amount, or a multi-part split when no one path carries it
       * (Router.findRoutes). Throws GossipError: no-route, route-fee-limit, route-cltv-limit,
       * invalid-argument.
       */
      findRoutes(query: RouteQuery): Route[] {
        return router.findRoutes(query);
      },
      /** The best single path (Router.findRoute); the same errors. */
      findRoute(query: RouteQuery): Route {
        return router.findRoute(query);
      },
      /** A payment's HTLC over `path` failed at `failedShortChannelId` for want of liquidity (ScoreUpdate). */
      pathFailed(path: ScoredPath, failedShortChannelId: bigint): void {
        scorer.pathFailed(path, failedShortChannelId, Date.now());
      },
      /** A payment over `path` settled. */
      pathSucceeded(path: ScoredPath): void {
        scorer.pathSucceeded(path, Date.now());
      },
      /** A probe over `path` reached the payee. */
      probeSucceeded(path: ScoredPath): void {
        scorer.probeSucceeded(path, Date.now());
      },
      /** Writes the default scorer's snapshot (db `scorer`); false when there is none to write here. */
      saveScorer: (): Promise<boolean> => writeScorer(),
      /** Writes what is pending (and a snapshot, if asked) now. */
      async flush(snapshot = false): Promise<void> {
        await messages?.flush(snapshot ? { snapshot: () => graph.toSnapshot() } : {});
      },
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        clearInterval(timer);
        await sync.close();
        await writeScorer().catch((e: unknown) =>
          ctx.logger.error({ err: (e as Error).message }, 'gossip: the scorer could not be written'),
        );
        for (const w of waiting.values()) {
          clearTimeout(w.timer);
          w.resolve();
        }
        out.complete();
        await pool?.close();
        await ownStore?.close();
      },
    };
  },
  async stop(api) {
    await api.close();
  },
});
