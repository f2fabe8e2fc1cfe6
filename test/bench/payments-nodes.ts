/**
 * The nodes of `pnpm bench payments`, each with durable persistence, on one bcoin regtest chain:
 * - lnkit: a whole node from @lnkit/node's NodeBuilder (lmdb store in its data dir, the
 *   MonitorStore as the ChainMonitor's persister, the signer pool, the payments store), with its
 *   actors in worker threads (the node's default) or all in this thread (`in-process`);
 * - LDK 0.1.0 (WASM, test/support/ldk) with a persister that writes each monitor to a file and
 *   fsyncs it before answering Completed, as LDK's FilesystemStore does for a KVStore persister,
 *   and its events handled until none is left after each socket read (its BackgroundProcessor
 *   wakes on each new event; the test harness alone waits for its 50 ms timer).
 * A Payer/Payee pair is what the bench drives: invoices from the payee, payments from the payer,
 * and `quiet()`: no HTLC left on either side.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type LnkitNode, NodeBuilder, type NodeConfig, nodeStoreOptions } from '@lnkit/node';
import { createRootLogger } from '@lnkit/runtime';
import { type Encoding, type NamedDb, Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import type { TestChain } from '@lnkit/testchain';
import * as ldk from 'lightningdevkit';
import { LdkNode } from '../support/ldk/ldk-node.ts';
import { TestFunding } from '../support/ldk/test-funding.ts';

/** Long enough for a busy machine; a payment that takes this long is a failure of the bench. */
export const WAIT_MS = 120_000;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** What the bench needs of one side of a channel. */
export interface Side {
  readonly label: string;
  readonly nodeId: string;
  /** A fresh invoice for `amountMsat`. */
  invoice(amountMsat: bigint, description: string): Promise<string>;
  /** Pays an invoice; resolves once the payment succeeded (the preimage back), rejects if it failed. */
  pay(bolt11: string): Promise<void>;
  /** No HTLC pending in its channel with `peer`. */
  settledWith(peer: string): Promise<boolean>;
}

/** A file per monitor, written whole and fsynced (and its folder) before LDK hears Completed. */
export function durableLdkPersister(dir: string): { persister: ldk.Persist; writes: () => number } {
  mkdirSync(dir, { recursive: true });
  let writes = 0;
  const write = (outpoint: ldk.OutPoint, monitor: ldk.ChannelMonitor) => {
    const path = join(dir, `${hex(outpoint.get_txid())}_${outpoint.get_index()}`);
    const data = monitor.write();
    const fd = openSync(`${path}.tmp`, 'w');
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(`${path}.tmp`, path);
    const dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
    writes++;
    return ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed;
  };
  const persister = ldk.Persist.new_impl({
    persist_new_channel: (outpoint: ldk.OutPoint, monitor: ldk.ChannelMonitor) => write(outpoint, monitor),
    update_persisted_channel: (
      outpoint: ldk.OutPoint,
      _u: ldk.ChannelMonitorUpdate,
      monitor: ldk.ChannelMonitor,
    ) => write(outpoint, monitor),
    archive_persisted_channel: () => {},
  });
  return { persister, writes: () => writes };
}

/** LDK's events handled until a pass finds none (a claim follows the forward in the same read). */
function eventsUntilNone(node: LdkNode): void {
  const once = node.pump.bind(node);
  node.pump = () => {
    for (let pass = 0; pass < 8; pass++) {
      const before = node.events.length;
      once();
      if (node.events.length === before) return;
    }
  };
}

export class LdkSide implements Side {
  #seen = 0;
  readonly #outcomes = new Map<string, 'sent' | 'failed'>();

  private constructor(
    readonly label: string,
    readonly node: LdkNode,
    readonly funding: TestFunding,
    readonly dir: string,
    /** Monitor writes so far (each fsynced). */
    readonly writes: () => number,
  ) {}

  static async create(
    label: string,
    chain: TestChain,
    dir: string,
    o: { forwardToPrivateChannels?: boolean } = {},
  ): Promise<LdkSide> {
    const funding = new TestFunding(chain);
    const { persister, writes } = durableLdkPersister(dir);
    const node = await LdkNode.create({ chain, funding, minimumDepth: 3, persister, ...o });
    eventsUntilNone(node);
    await node.start();
    return new LdkSide(label, node, funding, dir, writes);
  }

  get nodeId(): string {
    return this.node.nodeId;
  }

  async invoice(amountMsat: bigint, description: string): Promise<string> {
    return this.node.createInvoice(amountMsat, description);
  }

  /** Reads the events LDK added since the last look: each payment's outcome by hash. */
  #scan(): void {
    const events = this.node.events;
    for (; this.#seen < events.length; this.#seen++) {
      const e = events[this.#seen]!;
      if (e.paymentHash === undefined) continue;
      if (e.type === 'PaymentSent') this.#outcomes.set(e.paymentHash, 'sent');
      else if (e.type === 'PaymentFailed') this.#outcomes.set(e.paymentHash, 'failed');
    }
  }

  async pay(bolt11: string): Promise<void> {
    const hash = this.node.payInvoice(bolt11);
    await this.node.waitFor(
      () => {
        this.#scan();
        return this.#outcomes.has(hash);
      },
      WAIT_MS,
      `LDK's payment ${hash}`,
    );
    const outcome = this.#outcomes.get(hash);
    this.#outcomes.delete(hash);
    if (outcome !== 'sent') {
      const failed = [...this.node.events]
        .reverse()
        .find((e) => e.type === 'PaymentFailed' && e.paymentHash === hash);
      throw new Error(`${this.label}: payment ${hash} failed: ${failed?.reason}`);
    }
  }

  async settledWith(peer: string): Promise<boolean> {
    const c = this.node.chanMan.list_channels().find((d) => hex(d.get_counterparty().get_node_id()) === peer);
    return (
      c !== undefined &&
      c.get_pending_inbound_htlcs().length === 0 &&
      c.get_pending_outbound_htlcs().length === 0
    );
  }
}

export type Placement = 'worker' | 'in-process';

/** One durable write of a node's store: its database (or `transaction`), started and durable at. */
export interface WriteSpan {
  db: string;
  start: number;
  end: number;
}

export class LnkitSide implements Side {
  /** How long build() took with an empty data dir. */
  firstBuildMs = 0;

  private constructor(
    readonly label: string,
    public node: LnkitNode,
    readonly config: NodeConfig,
  ) {}

  /** With `countWrites`: the store's writes by database (and `transaction`), and the ms they took. */
  writes: Map<string, { count: number; ms: number }> | undefined;
  /** With `countWrites`: the last writes, each with when it started and was durable (performance.now()). */
  writeLog: WriteSpan[] = [];
  #store: Store | undefined;

  static async create(
    label: string,
    chain: TestChain,
    dataDir: string,
    placement: Placement,
    o: { countWrites?: boolean; channelThreads?: number } = {},
  ): Promise<LnkitSide> {
    const config: NodeConfig = {
      dataDir,
      network: 'regtest',
      chain: { url: chain.rpcUrl, auth: { user: chain.rpcUser, password: chain.rpcPassword } },
      listen: { host: '127.0.0.1', port: 0 },
      placement,
      // No gossip to check here: no signature-check threads competing for the two cores.
      gossipVerifyThreads: 0,
      ...(o.channelThreads ? { channelThreads: o.channelThreads } : {}),
    };
    const start = performance.now();
    let store: Store | undefined;
    let writes: LnkitSide['writes'];
    const writeLog: WriteSpan[] = [];
    if (o.countWrites) {
      mkdirSync(dataDir, { recursive: true });
      store = await Store.open(dataDir, nodeStoreOptions('regtest'));
      writes = countWrites(store, writeLog);
    }
    const node = await LnkitSide.build(config, store);
    const side = new LnkitSide(label, node, config);
    side.firstBuildMs = performance.now() - start;
    side.writes = writes;
    side.writeLog = writeLog;
    side.#store = store;
    return side;
  }

  /** Stops the node (and the store it was given, if any). */
  async stop(): Promise<void> {
    await this.node.stop();
    await this.#store?.close();
  }

  static build(config: NodeConfig, store?: Store): Promise<LnkitNode> {
    const logger = createRootLogger({
      level: (process.env.LNKIT_BENCH_LOG as 'info' | undefined) ?? 'silent',
    });
    // LDK's harness estimates 253 sat/kW for every target: so does lnkit here. At the chain's
    // own estimate (2,000), LDK as fundee counts the commitment fee above its own estimate as
    // dust exposure and fails the fifth 5,000-sat HTLC in flight.
    const builder = new NodeBuilder(config).withLogger(logger).withFeeEstimator({ feeratePerKw: () => 253n });
    return (store ? builder.withStore(store) : builder).build();
  }

  get nodeId(): string {
    return this.node.nodeId;
  }

  async port(): Promise<number> {
    const l = (await this.node.info()).listening;
    if (!l) throw new Error(`${this.label} is not listening`);
    return l.port;
  }

  async invoice(amountMsat: bigint, description: string): Promise<string> {
    return (await this.node.createInvoice(amountMsat, { description })).bolt11;
  }

  async pay(bolt11: string): Promise<void> {
    const out = await this.node.pay(bolt11);
    if (out.status !== 'succeeded')
      throw new Error(`${this.label}: payment ${out.paymentHash} failed: ${out.reason}`);
  }

  async channelWith(peer: string) {
    return (await this.node.listChannels()).find((c) => c.peer === peer && c.state !== 'closed');
  }

  /**
   * The summary shows no pending HTLC, so: the channel usable and both balances where the
   * payments so far put them (the caller's `expected`, msat on our side).
   */
  async settledWith(peer: string, expectedLocalMsat?: bigint): Promise<boolean> {
    const c = await this.channelWith(peer);
    return (
      c?.usable === true && (expectedLocalMsat === undefined || c.localBalanceMsat === expectedLocalMsat)
    );
  }
}

/**
 * Counts the store's writes by database, and the time each took to be durable: where the node's
 * durable writes go per payment (the node's own code unchanged; its store is just given to it).
 */
function countWrites(store: Store, log: WriteSpan[]): NonNullable<LnkitSide['writes']> {
  const writes: NonNullable<LnkitSide['writes']> = new Map();
  const timed = <T>(name: string, write: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    return write().finally(() => {
      const end = performance.now();
      const w = writes.get(name) ?? { count: 0, ms: 0 };
      w.count++;
      w.ms += end - start;
      writes.set(name, w);
      // The last few hundred, for the timeline of one payment.
      log.push({ db: name, start, end });
      if (log.length > 2000) log.splice(0, 1000);
    });
  };
  const db = store.db.bind(store);
  store.db = (<V>(name: string, encoding?: Encoding): NamedDb<V> => {
    const inner = db<V>(name, encoding);
    return {
      ...inner,
      put: (key, value) => timed(name, () => inner.put(key, value)),
      remove: (key) => timed(name, () => inner.remove(key)),
    };
  }) as Store['db'];
  const transaction = store.transaction.bind(store);
  store.transaction = ((fn) => timed('transaction', () => transaction(fn))) as Store['transaction'];
  return writes;
}

type AnySide = LnkitSide | LdkSide;

async function syncLdk(sides: readonly AnySide[]): Promise<void> {
  for (const s of sides) if (s instanceof LdkSide) await s.node.syncToTip();
}

/**
 * Opens each pair's channel, `from` to `to`: static-remotekey (LDK's default type) of
 * `capacitySat` pushing `pushMsat`. All at once, so that the nodes' chain polling (the node's
 * default, once a second) is waited for once per step, not once per channel: each funder's
 * coins confirmed, then every funding broadcast, mined to 6 blocks; resolves once both ends of
 * every channel can pay over it.
 */
export async function openChannels(
  chain: TestChain,
  pairs: readonly { from: AnySide; to: AnySide }[],
  capacitySat: bigint,
  pushMsat: bigint,
): Promise<void> {
  const valueSat = capacitySat + 100_000n;
  for (const { from } of pairs) {
    if (from instanceof LdkSide) await from.funding.addCoins(1, valueSat);
    else await chain.fundScript(await from.node.coinbaseScript(), valueSat);
  }
  await chain.mine(1);
  const all = pairs.flatMap((p) => [p.from, p.to]);
  await syncLdk(all);
  for (const { from } of pairs)
    if (from instanceof LnkitSide)
      await waitFor(() => from.node.wallet.balance().spendableSat >= valueSat, {
        what: `${from.label}'s wallet to hold the coins`,
        timeoutMs: WAIT_MS,
      });
  for (const { from, to } of pairs) {
    const port = to instanceof LdkSide ? to.node.port : await to.port();
    await from.node.connect(to.nodeId, '127.0.0.1', port);
    if (from instanceof LdkSide) {
      from.node.openChannel(to.nodeId, capacitySat, pushMsat);
      await from.node.waitFor(
        () => from.node.events.some((e) => e.type === 'ChannelPending'),
        WAIT_MS,
        `${from.label}: ChannelPending`,
      );
      await from.node.settled();
    } else await from.node.openChannel(to.nodeId, capacitySat, { pushMsat, type: 'static-remotekey' });
  }
  await waitFor(async () => ((await chain.rpc('getrawmempool')) as string[]).length >= pairs.length, {
    what: 'every funding in the mempool',
    timeoutMs: WAIT_MS,
    intervalMs: 50,
  });
  await chain.mine(6);
  await syncLdk(all);
  for (const { from, to } of pairs)
    for (const [side, peer] of [
      [from, to],
      [to, from],
    ] as const) {
      if (side instanceof LdkSide)
        await side.node.waitFor(
          () => side.node.channels().some((c) => c.counterparty === peer.nodeId && c.isUsable),
          WAIT_MS,
          `${side.label}: usable with ${peer.label}`,
        );
      else
        await waitFor(async () => (await side.channelWith(peer.nodeId))?.usable, {
          what: `${side.label}: usable with ${peer.label}`,
          timeoutMs: WAIT_MS,
          intervalMs: 50,
        });
    }
}
