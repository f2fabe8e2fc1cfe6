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
import { type LnkitNode, NodeBuilder, type NodeConfig } from '@lnkit/node';
import { createRootLogger } from '@lnkit/runtime';
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
  ) {}

  static async create(label: string, chain: TestChain, dir: string): Promise<LdkSide> {
    const funding = new TestFunding(chain);
    const { persister } = durableLdkPersister(dir);
    const node = await LdkNode.create({ chain, funding, minimumDepth: 3, persister });
    eventsUntilNone(node);
    await node.start();
    return new LdkSide(label, node, funding, dir);
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

export class LnkitSide implements Side {
  private constructor(
    readonly label: string,
    public node: LnkitNode,
    readonly config: NodeConfig,
  ) {}

  static async create(
    label: string,
    chain: TestChain,
    dataDir: string,
    placement: Placement,
  ): Promise<LnkitSide> {
    const config: NodeConfig = {
      dataDir,
      network: 'regtest',
      chain: { url: chain.rpcUrl, auth: { user: chain.rpcUser, password: chain.rpcPassword } },
      listen: { host: '127.0.0.1', port: 0 },
      placement,
      pollIntervalMs: 250,
      // No gossip to check here: no signature-check threads competing for the two cores.
      gossipVerifyThreads: 0,
    };
    return new LnkitSide(label, await LnkitSide.build(config), config);
  }

  static build(config: NodeConfig): Promise<LnkitNode> {
    const logger = createRootLogger({
      level: (process.env.LNKIT_BENCH_LOG as 'info' | undefined) ?? 'silent',
    });
    // LDK's harness estimates 253 sat/kW for every target: so does lnkit here. At the chain's
    // own estimate (2,000), LDK as fundee counts the commitment fee above its own estimate as
    // dust exposure and fails the fifth 5,000-sat HTLC in flight.
    return new NodeBuilder(config)
      .withLogger(logger)
      .withFeeEstimator({ feeratePerKw: () => 253n })
      .build();
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

  /** Stops the node and builds it again from its data dir; the time build() took, ms. */
  async restart(): Promise<number> {
    await this.node.stop();
    const start = performance.now();
    this.node = await LnkitSide.build(this.config);
    return performance.now() - start;
  }
}

/** Coins for `side` to fund a channel of `capacitySat` from, confirmed. */
async function fund(chain: TestChain, side: LnkitSide | LdkSide, capacitySat: bigint): Promise<void> {
  const valueSat = capacitySat + 100_000n;
  if (side instanceof LdkSide) {
    await side.funding.addCoins(1, valueSat);
    await chain.mine(1);
    return;
  }
  await chain.fundScript(await side.node.coinbaseScript(), valueSat);
  await chain.mine(1);
  await waitFor(() => side.node.wallet.balance().spendableSat >= valueSat, {
    what: `${side.label}'s wallet to hold the coins`,
    timeoutMs: WAIT_MS,
  });
}

async function syncLdk(...sides: (LnkitSide | LdkSide)[]): Promise<void> {
  for (const s of sides) if (s instanceof LdkSide) await s.node.syncToTip();
}

/**
 * `from` connects to `to` and opens a static-remotekey channel (LDK's default type) of
 * `capacitySat` pushing `pushMsat`, mined to 6 blocks; resolves once both can pay over it.
 */
export async function openChannel(
  chain: TestChain,
  from: LnkitSide | LdkSide,
  to: LnkitSide | LdkSide,
  capacitySat: bigint,
  pushMsat: bigint,
): Promise<void> {
  await fund(chain, from, capacitySat);
  await syncLdk(from, to);
  const port = to instanceof LdkSide ? to.node.port : await to.port();
  if (from instanceof LdkSide) {
    await from.node.connect(to.nodeId, '127.0.0.1', port);
    from.node.openChannel(to.nodeId, capacitySat, pushMsat);
    await from.node.waitFor(
      () => from.node.events.some((e) => e.type === 'ChannelPending'),
      WAIT_MS,
      `${from.label}: ChannelPending`,
    );
    await from.node.settled();
  } else {
    await from.node.connect(to.nodeId, '127.0.0.1', port);
    await from.node.openChannel(to.nodeId, capacitySat, { pushMsat, type: 'static-remotekey' });
  }
  await waitFor(async () => ((await chain.rpc('getrawmempool')) as string[]).length > 0, {
    what: 'the funding in the mempool',
    timeoutMs: WAIT_MS,
    intervalMs: 50,
  });
  await chain.mine(6);
  await syncLdk(from, to);
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
