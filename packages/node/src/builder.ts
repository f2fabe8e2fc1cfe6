/**
 * NodeBuilder: the user's own pieces in place of the defaults, then build(), which runs the
 * guide's steps in order (steps/index.ts) and returns a running LnkitNode.
 */
import type { BlockSource, Broadcaster, FeeEstimator } from '@lnkit/chain-sync';
import type { Router, Scorer } from '@lnkit/gossip';
import type { MonitorPersister } from '@lnkit/monitor';
import type { Logger } from '@lnkit/runtime';
import type { Store } from '@lnkit/store';
import { startComponents } from './component.ts';
import type { NodeConfig } from './config.ts';
import { NodeContext, type NodeSignerProvider, type RouterFactory, type SuppliedPieces } from './context.ts';
import { LnkitNode } from './node.ts';
import { rootLogger } from './steps/02-logger.ts';
import { nodeSteps } from './steps/index.ts';

export class NodeBuilder {
  private readonly supplied: SuppliedPieces = {};

  constructor(private readonly config: NodeConfig) {}

  /** Step 1: replace the bitcoind fee estimator. The node does not start or stop it. */
  withFeeEstimator(feeEstimator: FeeEstimator): this {
    this.supplied.feeEstimator = feeEstimator;
    return this;
  }

  /** Step 2: the root logger (each actor logs through a child of it). */
  withLogger(logger: Logger): this {
    this.supplied.logger = logger;
    return this;
  }

  /** Step 3: replace the bitcoind broadcaster. The node does not start or stop it. */
  withBroadcaster(broadcaster: Broadcaster): this {
    this.supplied.broadcaster = broadcaster;
    return this;
  }

  /** Step 4: an already open store. It stays the user's: the node does not close it. */
  withStore(store: Store): this {
    this.supplied.store = store;
    return this;
  }

  /**
   * Step 4, for the channel monitors: the user's persister (a remote backup, a second copy) in
   * place of the MonitorStore on the node's store. The node neither opens nor closes it.
   */
  withMonitorPersister(persister: MonitorPersister): this {
    this.supplied.monitorPersister = persister;
    return this;
  }

  /**
   * Step 9, the channels' signer (LDK's SignerProvider): `nodeId`, `getSecureRandomBytes` and
   * `createChannelSigner(channelIndex)`, in place of the signer pool over the node's seed (a
   * remote signer, a hardware device); and `claimSigner(channelKeyIndex, walletPathOf)` for the
   * on-chain claims of closed channels, without which the node claims nothing on chain (it warns
   * at start). Its nodeId must be the node's. The node does not stop it.
   */
  withSignerProvider(provider: NodeSignerProvider): this {
    this.supplied.signerProvider = provider;
    return this;
  }

  /** Steps 10 and 15: where blocks come from, in place of bitcoind's JSON-RPC. */
  withBlockSource(source: BlockSource): this {
    this.supplied.blockSource = source;
    return this;
  }

  /**
   * Step 12: the router, in place of DefaultRouter over the node's graph. Either a Router of
   * your own, called on the node's thread (it reads whatever graph it has), or a factory given
   * the node's graph and scorer, whose router runs in the gossip actor beside the graph (which
   * then runs on the node's thread: a function cannot cross threads).
   */
  withRouter(router: Router | RouterFactory): this {
    this.supplied.router = router;
    return this;
  }

  /**
   * Step 12: the scorer the router weighs channels with (one fed from outside, say), in place of
   * the ProbabilisticScorer the node keeps in its store. The node neither loads nor saves it. The
   * gossip actor then runs on the node's thread, as the scorer is called inside each search.
   */
  withScorer(scorer: Scorer): this {
    this.supplied.scorer = scorer;
    return this;
  }

  /**
   * Runs the steps in order. One that fails stops those already started, last first, and the
   * build rejects with its error (a NodeError whose code says why, for what the node checks).
   */
  async build(): Promise<LnkitNode> {
    const ctx = new NodeContext(this.config, rootLogger(this.supplied.logger), { ...this.supplied });
    let started: Awaited<ReturnType<typeof startComponents>>;
    try {
      started = await startComponents(nodeSteps(), ctx);
    } catch (err) {
      await ctx.supervisor.stopAll();
      throw err;
    }
    return new LnkitNode(ctx, started);
  }
}
