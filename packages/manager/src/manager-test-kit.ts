/**
 * What the ChannelManager tests share: an in-memory PeerLink pair (no sockets) that can drop
 * and come back (or hold what one end sends), a wallet that builds made-up funding
 * transactions, the options every test manager starts from, and a manager on lmdb with a
 * channel opened and blocks fed to it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeysManager } from '@lnkit/keys';
import type { Logger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { Transaction } from '@lnkit/tx';
import { type Observable, Subject } from 'rxjs';
import { ChannelManager, type ChannelManagerOptions } from './channel-manager.ts';
import type { ChannelEvent } from './channel-state.ts';
import { MANAGER_INIT_FEATURES } from './features.ts';
import type { FundingWallet } from './funding-wallet.ts';
import { LmdbMonitorPersister, type MonitorPersister } from './monitor-persister.ts';
import type { PeerLink, PeerLinkEvent, PeerLinkInfo } from './peer-link.ts';
import { ChannelHosts } from './remote-channel.ts';
import { fakeFundingTx } from './test-fixtures.ts';

const FEATURES_HEX = Buffer.from(MANAGER_INIT_FEATURES.toBytes()).toString('hex');

/** Two ends of an in-memory connection; each delivers on a later tick, as a socket would. */
export class MemoryLink implements PeerLink {
  readonly messages = new Subject<{ nodeId: string; raw: Uint8Array }>();
  readonly events = new Subject<PeerLinkEvent>();
  other!: MemoryLink;
  connected = true;
  constructor(readonly nodeId: string) {}
  async send(nodeId: string, raw: Uint8Array): Promise<void> {
    if (!this.connected || nodeId !== this.other.nodeId) throw new Error('not-connected');
    this.sentTypes.push(Buffer.from(raw).readUInt16BE(0));
    if (this.holding) {
      this.held.push(raw);
      return;
    }
    setImmediate(() => this.other.messages.next({ nodeId: this.nodeId, raw }));
  }
  /** While true, what this end sends is kept in `held`, not delivered: a peer gone silent. */
  holding = false;
  readonly held: Uint8Array[] = [];
  messages$(): Observable<{ nodeId: string; raw: Uint8Array }> {
    return this.messages.asObservable();
  }
  events$(): Observable<PeerLinkEvent> {
    return this.events.asObservable();
  }
  listPeers(): PeerLinkInfo[] {
    return this.connected ? [{ nodeId: this.other.nodeId, features: { hex: FEATURES_HEX } }] : [];
  }
  /** Message types (BOLT 1 type) this end sent, in order. */
  readonly sentTypes: number[] = [];
  /** Both ends connected again: each hears of the other. */
  connect(): void {
    this.connected = this.other.connected = true;
    this.events.next({ type: 'connected', nodeId: this.other.nodeId, features: { hex: FEATURES_HEX } });
    this.other.events.next({ type: 'connected', nodeId: this.nodeId, features: { hex: FEATURES_HEX } });
  }
  disconnect(): void {
    this.connected = this.other.connected = false;
    this.events.next({ type: 'disconnected', nodeId: this.other.nodeId });
    this.other.events.next({ type: 'disconnected', nodeId: this.nodeId });
  }
}

export class FakeWallet implements FundingWallet<string> {
  released: string[] = [];
  fail = false;
  async fundingTransaction(r: { outputScript: Uint8Array; amountSat: bigint }) {
    if (this.fail) throw new Error('insufficient funds: 0 sat spendable');
    const tx = Transaction.fromBuffer(Buffer.from(fakeFundingTx(r.outputScript, r.amountSat)));
    return { tx, reservation: tx.getId() };
  }
  async release(reservation: string) {
    this.released.push(reservation);
  }
}

/** Two nodes' keys and the two ends of one in-memory connection between them. */
export function linkedPeers(
  newKeys: () => KeysManager,
): [{ keys: KeysManager; link: MemoryLink }, { keys: KeysManager; link: MemoryLink }] {
  const ka = newKeys();
  const kb = newKeys();
  const la = new MemoryLink(Buffer.from(ka.nodeId).toString('hex'));
  const lb = new MemoryLink(Buffer.from(kb.nodeId).toString('hex'));
  la.other = lb;
  lb.other = la;
  return [
    { keys: ka, link: la },
    { keys: kb, link: lb },
  ];
}

/**
 * LNKIT_TEST_CHANNEL_THREADS=N: every manager these kits build places its channels in N channel
 * host threads (remote-channel.ts), started with its first channel and stopped with it; the
 * test script runs the manager's suite once more so.
 */
export function channelHostsFromEnv(logger: Logger): { channelHosts?: ChannelHosts } {
  const v = process.env.LNKIT_TEST_CHANNEL_THREADS;
  if (!v) return {};
  return { channelHosts: new ChannelHosts({ threads: Number(v), logger }) };
}

/**
 * The options a test manager starts from: a broadcaster that keeps what it is given (in
 * `broadcasts`) and calls each accepted, 253 sat/kW, a FakeWallet, a made-up chain at height 500.
 */
export function testManagerOptions(o: {
  keys: KeysManager;
  link: PeerLink;
  persister: MonitorPersister;
  logger: Logger;
  wallet?: FakeWallet;
}): { options: ChannelManagerOptions; broadcasts: Uint8Array[] } {
  const broadcasts: Uint8Array[] = [];
  const options: ChannelManagerOptions = {
    keys: o.keys,
    peers: o.link,
    persister: o.persister,
    broadcaster: {
      broadcastTransactions: async (txs) => {
        broadcasts.push(...txs);
        return txs.map((t) => ({
          txid: Transaction.fromBuffer(Buffer.from(t)).getId(),
          accepted: true as const,
        }));
      },
    },
    feeEstimator: { feeratePerKw: () => 253n },
    wallet: o.wallet ?? new FakeWallet(),
    chainHash: new Uint8Array(32).fill(6),
    bestHeight: 500,
    logger: o.logger,
    ...channelHostsFromEnv(o.logger),
  };
  return { options, broadcasts };
}

/** A test manager on an lmdb store of its own (monitor updates in it), and what it did. */
export interface TestManager {
  manager: ChannelManager;
  nodeId: string;
  link: MemoryLink;
  store: Store;
  broadcasts: Uint8Array[];
  events: ChannelEvent[];
  /** Stops the manager, closes the store and removes its folder. */
  close(): Promise<void>;
}

/**
 * Starts a manager with testManagerOptions, an LmdbMonitorPersister on a fresh store, and
 * `overrides` (made from that store, e.g. a snapshot store or a persister of the test's in it).
 */
export async function startTestManager(o: {
  keys: KeysManager;
  link: MemoryLink;
  logger: Logger;
  overrides?: (store: Store, persister: LmdbMonitorPersister) => Partial<ChannelManagerOptions>;
}): Promise<TestManager> {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-manager-'));
  const store = await Store.open(dir, { schemaVersion: 1 });
  const persister = new LmdbMonitorPersister(store);
  const { options, broadcasts } = testManagerOptions({
    keys: o.keys,
    link: o.link,
    persister,
    logger: o.logger,
  });
  const manager = new ChannelManager({
    ...options,
    bestBlockHash: testBlockHash(500),
    ...o.overrides?.(store, persister),
  });
  const events: ChannelEvent[] = [];
  manager.events$.subscribe((e) => events.push(e));
  await manager.start();
  return {
    manager,
    nodeId: o.link.nodeId,
    link: o.link,
    store,
    broadcasts,
    events,
    close: async () => {
      await manager.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The made-up chain's block hash at `height`. */
export const testBlockHash = (height: number) => height.toString(16).padStart(64, '0');

/** Feeds blocks `from`..`to` to every manager, the first holding `txs`; resolves once each handled them. */
export async function connectBlocks(
  managers: readonly TestManager[],
  from: number,
  to: number,
  txs: readonly Uint8Array[] = [],
): Promise<void> {
  for (let h = from; h <= to; h++) {
    const txdata = h === from ? txs.map((t) => Transaction.fromBuffer(Buffer.from(t))) : [];
    for (const m of managers)
      await m.manager.blockConnected({ txdata, header: { hashHex: testBlockHash(h) } }, h);
  }
  for (const m of managers) await m.manager.idle();
}

/** A opens a channel to B (A's funding confirmed 3 deep at heights 501-503); resolves once usable on both. */
export async function openReadyChannel(
  a: TestManager,
  b: TestManager,
  capacitySat: bigint,
  pushMsat: bigint,
): Promise<void> {
  await a.manager.openChannel(b.nodeId, capacitySat, { pushMsat });
  await connectBlocks([a, b], 501, 503, [a.broadcasts.at(-1) as Uint8Array]);
  await waitFor(() => a.manager.listChannels()[0]?.usable && b.manager.listChannels()[0]?.usable, {
    what: 'the channel usable on both sides',
  });
}
