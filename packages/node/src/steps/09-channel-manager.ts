/**
 * Step 9, ChannelManager: @lnkit/manager's actor, spawned in this thread (spawnLocal: its
 * options are live objects). It is given
 * - the keys: a ChannelSignerPool over the node's seed (the channel secrets live in its
 *   workers, never on this thread), or the user's signer provider (withSignerProvider); either
 *   also signs the ChainMonitor's claims (a provider only if it has claimSigner);
 * - the peers: a link step 13 attaches the peer actor to (peer-link.ts), with
 *   MANAGER_INIT_FEATURES added to the node's init features;
 * - the ChainMonitor (step 6) as its persister: every monitor update goes through it, and it
 *   answers each (completed, in progress, failed) as the durability rule wants;
 * - the wallet (step 7) to fund channels, and a fresh wallet script to close each to;
 * - the broadcaster (step 3, tracked by the wallet), the fee estimator (step 1), the chain hash.
 *
 * It starts after steps 10 and 11 (DESIGN.md: nothing calls the manager before the chain is
 * synced and every monitor is watched), and rebuilds its channels from those monitors and its
 * snapshot (guide step 17: `LmdbChannelSnapshotStore` in the node's store, written by the
 * manager on every change of a channel and every block, each write waiting out a full disk).
 * The snapshot's best block is where it left the chain; it is brought from there to the block
 * step 10 reached (walking back a reorg first) before any peer or block stream can reach it,
 * and the block stream (step 15) starts from that block: no block is missed or seen twice. A
 * first start begins at step 10's block. Its blocks come right after the ChainMonitor's, on
 * the same listener: a channel learns of a block only once its monitor has.
 *
 * Its events go to the event log (step 16) before anything else hears of them.
 */
import { availableParallelism } from 'node:os';
import {
  type BestBlock,
  type BlockSource,
  type ChainListener,
  synchronizeListeners,
} from '@lnkit/chain-sync';
import { randomBytes } from '@lnkit/crypto';
import { ChannelSignerPool } from '@lnkit/keys';
import {
  ChannelHosts,
  type ChannelKeysSource,
  type ChannelSnapshotStore,
  channelManagerActor,
  DEFAULT_FORWARD_POLICY,
  DEFAULT_PEER_FORWARD_LIMITS,
  LmdbChannelSnapshotStore,
  LmdbForwardsStore,
  LmdbPaymentsStore,
  MANAGER_INIT_FEATURES,
  type MonitorPersister,
  peerLimitsProblem,
} from '@lnkit/manager';
import { spawnLocal } from '@lnkit/runtime';
import type { Wallet } from '@lnkit/wallet';
import type { Subscription } from 'rxjs';
import { channelEventData } from '../channel-events.ts';
import type { NodeComponent } from '../component.ts';
import type { ChainMonitorActor, ChannelManagerActor, NodeContext } from '../context.ts';
import { NodeError } from '../errors.ts';
import { interceptedData } from '../forward-api.ts';
import { chainHash } from '../network.ts';
import { paymentEventData } from '../payment-events.ts';
import { DeferredPeerLink } from '../peer-link.ts';

/** Signer workers: a commitment's signatures are split across them; two is plenty without HTLCs. */
const SIGNER_THREADS = Math.min(2, availableParallelism());

export function channelManagerStep(): NodeComponent {
  let manager: ChannelManagerActor | undefined;
  let hosts: ChannelHosts | undefined;
  let pool: (ChannelSignerPool & ChannelKeysSource) | undefined;
  let learnt: Subscription | undefined;
  return {
    step: 9,
    name: 'channel manager',
    async start(ctx) {
      const limitsProblem = peerLimitsProblem(ctx.config.forwardPeerLimits ?? {});
      if (limitsProblem) throw new NodeError('invalid-config', `forwardPeerLimits: ${limitsProblem}`);
      const nodeId = ctx.get('nodeId');
      if (!ctx.supplied.signerProvider) pool = await signerPool(ctx.config.dataDir, nodeId);
      const keys: ChannelKeysSource = ctx.supplied.signerProvider ?? (pool as ChannelKeysSource);
      if (Buffer.from(keys.nodeId).toString('hex') !== nodeId)
        throw new NodeError(
          'invalid-config',
          `the signer provider is of node ${Buffer.from(keys.nodeId).toString('hex')}, not of this node ${nodeId}`,
        );
      ctx.set('signWithNodeKey', keys.signWithNodeKey?.bind(keys));
      const link = new DeferredPeerLink(ctx.log);
      ctx.peerHandlers.push({
        name: 'channel manager',
        initFeatures: MANAGER_INIT_FEATURES,
        attach: (peers) => link.attach(peers.ref),
      });
      const wallet = ctx.get('wallet');
      // Claims (step 6) are signed in the pool's workers, which check every output is the wallet's,
      // or by the user's provider. One without claimSigner gives none: step 6 has said so.
      const walletPathOf = (script: Uint8Array) => wallet.pathOf(script);
      const provider = ctx.supplied.signerProvider;
      const signerOf = pool ? pool.claimSigner.bind(pool) : provider?.claimSigner?.bind(provider);
      if (signerOf) ctx.set('claimSigner', (m) => signerOf(m.info.channelKeyIndex, walletPathOf));
      const shutdownScript = await freshScripts(wallet);
      const storage = ctx.get('storage');
      const snapshot = durableSnapshots(new LmdbChannelSnapshotStore(ctx.get('store')), (w) =>
        storage.untilDurable(w),
      );
      const syncedTo = ctx.get('syncedTo');
      const chainMonitor = ctx.get('chainMonitor');
      // Channels on threads of their own beside this one: a forward's two channels step on two cores.
      const channelThreads = ctx.config.channelThreads ?? 0;
      if (!Number.isInteger(channelThreads) || channelThreads < 0)
        throw new NodeError(
          'invalid-config',
          `channelThreads must be a whole number, 0 or more; got ${channelThreads}`,
        );
      if (channelThreads > 0) {
        const { logFile, logLevel } = ctx.actorOptions();
        hosts = new ChannelHosts({
          threads: channelThreads,
          logger: ctx.root,
          logFile,
          logLevel,
          spawn: ctx.supervisor.spawn.bind(ctx.supervisor),
          onThreadDied: (thread, message) => {
            ctx.log.fatal(
              { thread, reason: message },
              'a channel thread died: stop the node and start it again; its channels resume from the data dir',
            );
            ctx.events.next({ type: 'channel-thread-died', thread, message });
          },
        });
        await hosts.start();
      }
      manager = await spawnLocal(channelManagerActor, {
        name: 'channel-manager',
        logger: ctx.root,
        config: {
          keys,
          peers: link,
          persister: monitorPersisterOf(chainMonitor),
          broadcaster: ctx.get('broadcaster'),
          feeEstimator: ctx.get('feeEstimator'),
          wallet,
          chainHash: chainHash(ctx.config.network),
          bestHeight: syncedTo.height,
          bestBlockHash: syncedTo.hashHex,
          snapshot,
          channelHosts: hosts,
          // Payments and invoices (status, amounts, preimages) in the node's store, each write durable.
          paymentsStore: new LmdbPaymentsStore(ctx.get('store'), (w) => storage.untilDurable(w)),
          // Forwards (the upstream ↔ downstream pairing, durable before the downstream HTLC leaves).
          forwardsStore: new LmdbForwardsStore(ctx.get('store'), (w) => storage.untilDurable(w)),
          forwardPolicy: { ...DEFAULT_FORWARD_POLICY, ...ctx.config.forwardPolicy },
          forwardPeerLimits: { ...DEFAULT_PEER_FORWARD_LIMITS, ...ctx.config.forwardPeerLimits },
          ...(ctx.config.mppTimeoutMs !== undefined ? { mppTimeoutMs: ctx.config.mppTimeoutMs } : {}),
          // The interceptor's held HTLCs, each told in the event log (GET /v1/events) first.
          interceptForwards: ctx.config.interceptForwards && {
            ...ctx.config.interceptForwards,
            sink: async (h) => {
              await ctx.get('eventLog').append('HtlcIntercepted', interceptedData(h));
            },
          },
          // Payments to nodes we have no channel with: the router step 12 makes (read when a
          // payment asks, by then long started), with its scorer told how each attempt went.
          router: {
            findRoute: (q) => ctx.get('router').findRoute(q),
            findRoutes: (q) => ctx.get('router').findRoutes(q),
            pathFailed: (path, scid) => ctx.get('router').pathFailed(path, scid),
            pathSucceeded: (path) => ctx.get('router').pathSucceeded(path),
            applyChannelUpdate: (raw) => ctx.get('router').applyChannelUpdate(raw),
          },
          // Synced to the tip and watched (steps 10 and 11): the channels are rebuilt from these.
          monitors: () => chainMonitor.ref.monitors(),
          // The snapshot, the event log and the default MonitorStore are one lmdb Store, which
          // commits in issue order: a channel step's writes and its monitor update share a commit.
          // A persister of the user's is elsewhere, so the snapshot is made durable first.
          writesInIssueOrder: ctx.supplied.monitorPersister === undefined,
          // Each event is in the log before the snapshot of the step that raised it (step 16).
          eventSink: async (e) => {
            const { kind, data } = channelEventData(e);
            await ctx.get('eventLog').append(kind, data);
          },
          // The payments' events likewise: each in the log before the fulfil, or the caller's
          // outcome, that follows from it; what a crash left untold is told at the manager's start.
          paymentEventSink: async (e) => {
            const { kind, data } = paymentEventData(e);
            await ctx.get('eventLog').append(kind, data);
          },
          shutdownScript,
          logger: ctx.root.child({ actor: 'channel-manager' }),
        },
      });
      const listener = managerListener(manager);
      // Where the manager left the chain: its snapshot's best block, or step 10's on a first start.
      const at = await manager.ref.bestBlock();
      const left = at.hashHex === undefined ? syncedTo : { height: at.height, hashHex: at.hashHex };
      if (left.hashHex !== syncedTo.hashHex) {
        ctx.log.info(
          { from: left.height, to: syncedTo.height },
          `bringing the channel manager from block ${left.height} to ${syncedTo.height}`,
        );
        await synchronizeListeners(
          pinnedTo(ctx.get('blockSource'), syncedTo),
          [{ listener, bestBlockHash: left.hashHex, bestBlockHeight: left.height }],
          ctx.log,
        );
      }
      afterChainMonitor(ctx, listener);
      // A preimage the chain revealed (a downstream peer claimed our HTLC on chain) fulfils upstream.
      const cm = manager;
      // An HTLC of ours the chain settled against its payee fails what it carried (a payment, a forward).
      learnt = chainMonitor.ref.events$().subscribe((e) => {
        if (e.type === 'PaymentPreimageLearnt')
          void cm.ref.preimageLearnt(e.channelId, e.paymentHash, e.paymentPreimage);
        else if (e.type === 'HtlcFailedOnChain')
          void cm.ref.htlcFailedOnChain(e.channelId, e.htlcId, e.paymentHash);
        else if (e.type === 'HtlcClaimedOnChain') void cm.ref.htlcClaimedOnChain(e.channelId, e.htlcId);
      });
      // Said once, at the block it became final: a restart hears again of those still watched.
      for (const f of await chainMonitor.ref.htlcsFailedOnChain())
        await cm.ref.htlcFailedOnChain(f.channelId, f.htlcId, f.paymentHash);
      for (const c of await chainMonitor.ref.htlcsClaimedOnChain())
        await cm.ref.htlcClaimedOnChain(c.channelId, c.htlcId);
      ctx.set('channelManager', manager);
    },
    async stop() {
      learnt?.unsubscribe();
      await manager?.stop(); // and its channel hosts
      await pool?.close();
    },
  };
}

/** The signer pool over `keys_seed`, checked to be this node's (it reads the file in its workers). */
async function signerPool(dataDir: string, nodeId: string): Promise<ChannelSignerPool & ChannelKeysSource> {
  const pool = new ChannelSignerPool({ dataDir, threads: SIGNER_THREADS });
  try {
    const key = await pool.nodeKey();
    if (Buffer.from(key.publicKey).toString('hex') !== nodeId)
      throw new NodeError('seed-mismatch', `keys_seed in ${dataDir} changed while the node started`);
    // Randomness needs no secret: temporary channel ids, key indexes and aliases.
    // The node key in the pool's workers signs our invoices (BOLT 11) and peels onions to us (BOLT 4).
    return Object.assign(pool, {
      nodeId: key.publicKey,
      getSecureRandomBytes: () => randomBytes(32),
      signWithNodeKey: (digest: Uint8Array) => key.sign(digest),
      ecdhWithNodeKey: (publicKey: Uint8Array) => key.ecdh(publicKey),
    });
  } catch (err) {
    await pool.close();
    throw err;
  }
}

/**
 * The source as synchronizeListeners sees it, with its tip pinned at `tip`: the manager is
 * brought exactly to where every other listener is and the block stream starts, not to a block
 * found since.
 */
function pinnedTo(source: BlockSource, tip: BestBlock): BlockSource {
  return {
    description: source.description,
    getBestBlock: async () => tip,
    getHeader: (hashHex) => source.getHeader(hashHex),
    getBlock: (hashHex) => source.getBlock(hashHex),
  };
}

/** The snapshot's writes wait out a full disk (the channel waits with them) rather than fail. */
function durableSnapshots(
  inner: ChannelSnapshotStore,
  durably: <T>(write: () => Promise<T>) => Promise<T>,
): ChannelSnapshotStore {
  return {
    load: () => inner.load(),
    saveChannel: (s, encoded) => durably(() => inner.saveChannel(s, encoded)),
    removeChannel: (id) => durably(() => inner.removeChannel(id)),
    saveBestBlock: (b) => durably(() => inner.saveBestBlock(b)),
  };
}

/** The ChainMonitor actor as the manager's MonitorPersister (its `persist` and `completed$`). */
function monitorPersisterOf(cm: ChainMonitorActor): MonitorPersister {
  return {
    persist: (update) => cm.ref.persist(update),
    completed$: cm.ref.completed$(),
    providePaymentPreimage: (channelId, preimage) => cm.ref.providePaymentPreimage(channelId, preimage),
  };
}

/**
 * Where each channel closes to: a fresh wallet script, given out durably ahead of need (the
 * manager asks synchronously), the next one fetched as soon as one is taken.
 */
async function freshScripts(wallet: Wallet): Promise<() => Uint8Array> {
  let next = await wallet.coinbaseScript();
  return () => {
    const script = next;
    wallet.coinbaseScript().then(
      (s) => {
        next = s;
      },
      () => {}, // the wallet failed or closed: the last script is used again
    );
    return script;
  };
}

function managerListener(manager: ChannelManagerActor): ChainListener {
  return {
    blockConnected: (block, height) => manager.ref.blockConnected(block, height),
    blockDisconnected: (header, height) => manager.ref.blockDisconnected(header, height),
  };
}

/**
 * The manager's blocks on the ChainMonitor's listener, after it: one block at a time, the
 * monitor first. A failure of the manager's part is reported as its own and ends only its feed:
 * the monitors keep watching the chain.
 */
function afterChainMonitor(ctx: NodeContext, listener: ChainListener): void {
  const i = ctx.chainListeners.findIndex((l) => l.name === 'chain-monitor');
  const entry = ctx.chainListeners[i];
  if (!entry) throw new NodeError('not-running', 'the chain monitor is not among the chain listeners');
  const monitor = entry.listener;
  let failed = false;
  const then = async (what: string, height: number, hashHex: string, call: () => Promise<void> | void) => {
    if (failed) return;
    try {
      await call();
    } catch (err) {
      failed = true;
      const message = `channel-manager failed on ${what} at height ${height}: ${(err as Error).message}`;
      ctx.log.error({ height, err: (err as Error).message }, message);
      ctx.events.next({
        type: 'chain-listener-failed',
        listener: 'channel-manager',
        message,
        height,
        hashHex,
      });
    }
  };
  ctx.chainListeners[i] = {
    name: entry.name,
    listener: {
      async blockConnected(block, height) {
        await monitor.blockConnected(block, height);
        await then('blockConnected', height, block.header.hashHex, () =>
          listener.blockConnected(block, height),
        );
      },
      async blockDisconnected(header, height) {
        await monitor.blockDisconnected(header, height);
        await then('blockDisconnected', height, header.hashHex, () =>
          listener.blockDisconnected(header, height),
        );
      },
    },
  };
}
