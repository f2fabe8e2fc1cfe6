/**
 * The lnkit side of the channel interop tests: a PeerManager on loopback, a ChannelManager
 * with an lmdb monitor persister and channel snapshot in a temporary data dir, the test
 * funding source as its wallet, a broadcaster into the bcoin chain's mempool, and blocks fed
 * from the chain's RPC. `restart()` stops it and builds a new one from the same data dir and
 * seed (the channels come back from their snapshot and monitors).
 * Test code only; the node package wires the real thing (its step 9).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager, nodeSecretFromSeed } from '@lnkit/keys';
import {
  type ChannelEvent,
  ChannelManager,
  type ChannelManagerOptions,
  LmdbChannelSnapshotStore,
  LmdbMonitorPersister,
  MANAGER_INIT_FEATURES,
  type PeerLink,
} from '@lnkit/manager';
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
    const persister = new LmdbMonitorPersister(store);
    let node: LnkitNode | undefined;
    const manager = new ChannelManager({
      keys,
      peers: peerLinkOf(pm),
      persister,
      snapshot: new LmdbChannelSnapshotStore(store),
      // The interim persister's monitors, rebuilt from its updates (they have not seen the chain).
      monitors: () => persister.readMonitors({ hashHex: tipHash, height }),
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
      logger: createRootLogger({ level: (process.env.LNKIT_TEST_LOG as 'info' | undefined) ?? 'silent' }),
      ...o.manager,
    });
    node = new LnkitNode(seed, o, keys, pm, manager, funding, store, dir, o.chain, port);
    manager.events$.subscribe((e) => node?.events.push(e));
    await manager.start();
    // After a restart, the manager resumes from its snapshot's best block: syncToTip feeds it from there.
    node.height = manager.bestBlock.height;
    return node;
  }

  get nodeId(): string {
    return this.pm.nodeId;
  }

  /** Feeds the chain's blocks above our height to the manager, in order. */
  async syncToTip(): Promise<void> {
    const tip = await this.chain.height();
    for (let h = this.height + 1; h <= tip; h++) {
      const hash = (await this.chain.rpc('getblockhash', [h])) as string;
      const raw = (await this.chain.rpc('getblock', [hash, false])) as string;
      await this.manager.blockConnected(
        { txdata: Block.fromHex(raw).transactions ?? [], header: { hashHex: hash } },
        h,
      );
      this.height = h;
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
