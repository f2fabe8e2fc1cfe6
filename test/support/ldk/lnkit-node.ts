/**
 * The lnkit side of the channel interop tests: a PeerManager on loopback, a ChannelManager
 * whose persister is a ChainMonitor over the lmdb MonitorStore (the node's persistence path)
 * and whose snapshot is in the same temporary data dir, the test funding source as its
 * wallet, a broadcaster into the bcoin chain's mempool, and blocks fed from the chain's RPC to
 * the ChainMonitor, then the manager. `restart()` stops it and builds a new one from the same
 * data dir and seed, in the guide's order: monitors read (step 8), each brought to the tip
 * (10) and watched (11), then the manager rebuilt from its snapshot checked against them.
 * Test code only; the node package wires the real thing (its step 9).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager, nodeSecretFromSeed } from '@lnkit/keys';
import {
  type ChannelEvent,
  ChannelHosts,
  ChannelManager,
  type ChannelManagerOptions,
  LmdbChannelSnapshotStore,
  MANAGER_INIT_FEATURES,
  type PeerLink,
} from '@lnkit/manager';
import {
  ChainMonitor,
  type ChannelMonitor,
  type EnforcementOptions,
  MonitorStore,
  MonitorSyncListener,
} from '@lnkit/monitor';
import { LNKIT_INIT_FEATURES, nodeKeyEcdh, PeerManager } from '@lnkit/peer-net';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import type { TestChain } from '@lnkit/testchain';
import { Block } from 'bitcoinjs-lib';
import { map } from 'rxjs';
import { TestFunding } from './test-funding.ts';

export interface LnkitNodeOptions {
  chain: TestChain;
  manager?: Partial<ChannelManagerOptions>;
  /** On-chain enforcement for the ChainMonitor (its claims' broadcaster, feerate, destination, signer). */
  enforcement?: EnforcementOptions;
  /** Reopen this node (restart): its seed, data dir and funding source. */
  from?: { seed: Uint8Array; dir: string; funding: TestFunding } | undefined;
}

/** A PeerManager in this thread as the manager's PeerLink (the actor's ref is one as it is). */
export function peerLinkOf(pm: PeerManager): PeerLink {
  return {
    send: (nodeId, raw) => pm.send(nodeId, raw),
    messages$: (types) => pm.messagesOfType(...types).pipe(map((m) => ({ nodeId: m.nodeId, raw: m.raw }))),
    events$: () =>
      pm.events$.pipe(
        map((e) =>
          e.type === 'connected'
            ? { type: 'connected' as const, nodeId: e.nodeId, features: { hex: e.features.hex } }
            : { type: 'disconnected' as const, nodeId: e.nodeId },
        ),
      ),
    listPeers: () => pm.listPeers().map((p) => ({ nodeId: p.nodeId, features: { hex: p.features.hex } })),
  };
}

export class LnkitNode {
  readonly events: ChannelEvent[] = [];
  readonly broadcasts: { txid: string; accepted: boolean; reason?: string }[] = [];
  height = 0;

  private constructor(
    private readonly seed: Uint8Array,
    private readonly options: LnkitNodeOptions,
    readonly keys: KeysManager,
    readonly pm: PeerManager,
    readonly manager: ChannelManager,
    readonly chainMonitor: ChainMonitor,
    readonly funding: TestFunding,
    readonly store: Store,
    private readonly dir: string,
    private readonly chain: TestChain,
    readonly port: number,
  ) {}

  static async create(o: LnkitNodeOptions): Promise<LnkitNode> {
    const seed = o.from?.seed ?? randomBytes(32);
    const keys = new KeysManager(seed);
    const pm = new PeerManager({
      nodeKey: nodeKeyEcdh(nodeSecretFromSeed(seed)),
      features: LNKIT_INIT_FEATURES.or(MANAGER_INIT_FEATURES),
      timerMs: 50,
    });
    const { port } = await pm.listen('127.0.0.1', 0);
    const dir = o.from?.dir ?? mkdtempSync(join(tmpdir(), 'lnkit-interop-'));
    const store = await Store.open(dir, { schemaVersion: 1 });
    const funding = o.from?.funding ?? new TestFunding(o.chain);
    const genesis = (await o.chain.rpc('getblockhash', [0])) as string;
    const height = await o.chain.height();
    const tipHash = (await o.chain.rpc('getblockhash', [height])) as string;
    const logger = createRootLogger({
      level: (process.env.LNKIT_TEST_LOG as 'info' | undefined) ?? 'silent',
    });
    // Steps 8, 10, 11: every monitor read, brought from its own best block to the tip, watched.
    const monitorStore = new MonitorStore(store);
    const chainMonitor = new ChainMonitor({
      persister: monitorStore,
      bestBlock: { hashHex: tipHash, height },
      logger,
      ...o.enforcement,
    });
    for (const read of await monitorStore.readAll()) {
      const monitor = await catchUp(o.chain, read, height);
      await chainMonitor.watchChannel(monitor);
    }
    let node: LnkitNode | undefined;
    const manager = new ChannelManager({
      keys,
      peers: peerLinkOf(pm),
      persister: chainMonitor,
      snapshot: new LmdbChannelSnapshotStore(store),
      monitors: () => chainMonitor.monitors(),
      broadcaster: {
        broadcastTransactions: async (txs) => {
          const out = [];
          for (const tx of txs) {
            try {
              const txid = await o.chain.sendRawTransaction(Buffer.from(tx).toString('hex'));
              node?.broadcasts.push({ txid, accepted: true });
              out.push({ txid, accepted: true as const });
            } catch (err) {
              const reason = (err as Error).message;
              node?.broadcasts.push({ txid: '', accepted: false, reason });
              out.push({ txid: '', accepted: false as const, reason });
            }
          }
          return out;
        },
      },
      feeEstimator: { feeratePerKw: () => 253n },
      wallet: funding,
      chainHash: Uint8Array.from(Buffer.from(genesis, 'hex')).reverse(),
      bestHeight: height,
      bestBlockHash: tipHash,
      shutdownScript: () => funding.script,
      logger,
      // LNKIT_TEST_CHANNEL_THREADS=N: the channels in N host threads (the test script's second pass).
      ...(process.env.LNKIT_TEST_CHANNEL_THREADS
        ? {
            channelHosts: new ChannelHosts({
              threads: Number(process.env.LNKIT_TEST_CHANNEL_THREADS),
              logger,
            }),
          }
        : {}),
      ...o.manager,
    });
    node = new LnkitNode(seed, o, keys, pm, manager, chainMonitor, funding, store, dir, o.chain, port);
    node.monitorHeight = height;
    manager.events$.subscribe((e) => node?.events.push(e));
    await manager.start();
    // After a restart, the manager resumes from its snapshot's best block: syncToTip feeds it from there.
    node.height = manager.bestBlock.height;
    return node;
  }

  get nodeId(): string {
    return this.pm.nodeId;
  }

  /** The last block the ChainMonitor was given (the manager's is `height`: after a restart it may be lower). */
  monitorHeight = 0;

  /** Feeds the chain's blocks to the ChainMonitor, then the manager, each from where it is, in order. */
  async syncToTip(): Promise<void> {
    const tip = await this.chain.height();
    for (let h = Math.min(this.height, this.monitorHeight) + 1; h <= tip; h++) {
      const { header, txdata } = await blockAt(this.chain, h);
      if (h > this.monitorHeight) {
        await this.chainMonitor.blockConnected(header, h, txdata);
        this.monitorHeight = h;
      }
      if (h > this.height) {
        await this.manager.blockConnected({ txdata, header }, h);
        this.height = h;
      }
    }
    await this.manager.idle();
  }

  #closed = false;
  /** Restarted: the data dir is the new node's now. */
  #handedOver = false;

  /** Stops the manager, the peers and the store, and leaves the data dir. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.manager.stop();
    await this.chainMonitor.stop();
    await this.pm.close();
    await this.store.close();
  }

  /** A new node from the same seed and data dir, as after a process restart (on a new port). */
  async restart(): Promise<LnkitNode> {
    await this.shutdown();
    this.#handedOver = true;
    return LnkitNode.create({
      ...this.options,
      from: { seed: this.seed, dir: this.dir, funding: this.funding },
    });
  }

  async stop(): Promise<void> {
    await this.shutdown();
    if (!this.#handedOver) rmSync(this.dir, { recursive: true, force: true });
  }
}

async function blockAt(chain: TestChain, height: number) {
  const hashHex = (await chain.rpc('getblockhash', [height])) as string;
  const block = Block.fromHex((await chain.rpc('getblock', [hashHex, false])) as string);
  const prevHashHex = Buffer.from(block.prevHash ?? new Uint8Array(32))
    .reverse()
    .toString('hex');
  return { header: { hashHex, prevHashHex }, txdata: block.transactions ?? [] };
}

/** Step 10 for one monitor read at start: the blocks after its own best block, up to `tip` (the test chain does not reorg). */
async function catchUp(chain: TestChain, monitor: ChannelMonitor, tip: number): Promise<ChannelMonitor> {
  const listener = new MonitorSyncListener(monitor);
  for (let h = monitor.bestBlock.height + 1; h <= tip; h++) {
    const { header, txdata } = await blockAt(chain, h);
    listener.blockConnected(
      { header: { ...header, height: h, header: new Uint8Array(80), time: 0 }, txdata },
      h,
    );
  }
  return listener.monitor;
}
