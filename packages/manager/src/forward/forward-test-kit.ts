/**
 * Three or more ChannelManagers in memory: a hub of in-memory links where a node has many
 * peers (manager-test-kit's MemoryLink has one), and a line A–B–C of ready channels whose
 * funding transactions are mined in one made-up block seen by every node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from '@lnkit/crypto';
import { decodeInvoice } from '@lnkit/invoice';
import { KeysManager } from '@lnkit/keys';
import type { RouteHop } from '@lnkit/onion';
import type { Logger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { Transaction } from '@lnkit/tx';
import { parseShortChannelId } from '@lnkit/wire';
import { type Observable, Subject } from 'rxjs';
import { ChannelManager, type ChannelManagerOptions } from '../channel-manager.ts';
import type { ChannelSummary } from '../channel-summary.ts';
import { MANAGER_INIT_FEATURES } from '../features.ts';
import { FakeWallet, testManagerOptions } from '../manager-test-kit.ts';
import { LmdbMonitorPersister, type MonitorPersister } from '../monitor-persister.ts';
import type { PaymentEvent } from '../payments/payments.ts';
import type { PeerLink, PeerLinkEvent, PeerLinkInfo } from '../peer-link.ts';
import type { ChannelHosts } from '../remote-channel.ts';
import { LmdbChannelSnapshotStore } from '../snapshot.ts';
import type { ForwardEvent } from './forwarder.ts';
import { LmdbForwardsStore } from './store.ts';

const FEATURES_HEX = Buffer.from(MANAGER_INIT_FEATURES.toBytes()).toString('hex');

/** One node's end of the hub: connected to any number of peers; each delivers on a later tick. */
export class HubLink implements PeerLink {
  readonly messages = new Subject<{ nodeId: string; raw: Uint8Array }>();
  readonly events = new Subject<PeerLinkEvent>();
  readonly peers = new Map<string, HubLink>();
  /** Every message this end sent: to whom and its BOLT 1 type, in order. */
  readonly sent: { to: string; type: number }[] = [];
  /** Called as each message is sent (before it is delivered). */
  onSend?: (to: string, type: number) => void;
  /** While set and true for a message, it is kept in `held` (this end gone silent), not delivered. */
  hold?: ((to: string, type: number) => boolean) | undefined;
  readonly held: { to: string; raw: Uint8Array }[] = [];
  /** Stops holding and delivers what was held, in order. */
  release(): void {
    this.hold = undefined;
    for (const { to, raw } of this.held.splice(0)) {
      const other = this.peers.get(to);
      if (other) setImmediate(() => other.messages.next({ nodeId: this.nodeId, raw }));
    }
  }
  constructor(readonly nodeId: string) {}
  async send(nodeId: string, raw: Uint8Array): Promise<void> {
    const other = this.peers.get(nodeId);
    if (!other) throw new Error('not-connected');
    const type = Buffer.from(raw).readUInt16BE(0);
    this.sent.push({ to: nodeId, type });
    this.onSend?.(nodeId, type);
    if (this.hold?.(nodeId, type)) {
      this.held.push({ to: nodeId, raw });
      return;
    }
    // Lost if the connection drops before it arrives, as on a socket.
    setImmediate(() => {
      if (other.peers.get(this.nodeId) === this) other.messages.next({ nodeId: this.nodeId, raw });
    });
  }
  messages$(): Observable<{ nodeId: string; raw: Uint8Array }> {
    return this.messages.asObservable();
  }
  events$(): Observable<PeerLinkEvent> {
    return this.events.asObservable();
  }
  listPeers(): PeerLinkInfo[] {
    return [...this.peers.keys()].map((nodeId) => ({ nodeId, features: { hex: FEATURES_HEX } }));
  }
  sentTo(nodeId: string, type: number): number {
    return this.sent.filter((s) => s.to === nodeId && s.type === type).length;
  }
}

/** Both ends hear of each other (as a reconnect would). */
export function connectLinks(a: HubLink, b: HubLink): void {
  a.peers.set(b.nodeId, b);
  b.peers.set(a.nodeId, a);
  a.events.next({ type: 'connected', nodeId: b.nodeId, features: { hex: FEATURES_HEX } });
  b.events.next({ type: 'connected', nodeId: a.nodeId, features: { hex: FEATURES_HEX } });
}

export function disconnectLinks(a: HubLink, b: HubLink): void {
  a.peers.delete(b.nodeId);
  b.peers.delete(a.nodeId);
  a.events.next({ type: 'disconnected', nodeId: b.nodeId });
  b.events.next({ type: 'disconnected', nodeId: a.nodeId });
}

export interface LineNode {
  seed: Uint8Array;
  dir: string;
  keys: KeysManager;
  nodeId: string;
  manager: ChannelManager;
  link: HubLink;
  payments: PaymentEvent[];
  forwards: ForwardEvent[];
  store: Store;
  broadcasts: Uint8Array[];
  /** The monitor persister the manager writes to (a test may add to it). */
  monitors: MonitorPersister;
  /** The threads its channels are placed in, if any (stopped with the manager). */
  hosts?: ChannelHosts | undefined;
}

/** The made-up block hash at a height (the snapshot keeps the best block by it). */
export const BLOCK_HASH = (h: number) => h.toString(16).padStart(64, '0');

/**
 * A node on lmdb (monitors, channel snapshot, forwards), on the regtest chain, at height 500.
 * `from`: the same node again (its seed and data dir), as after a restart: its channels are
 * rebuilt from the snapshot and monitors, its forwards from the books.
 */
export async function lineNode(
  logger: Logger,
  cleanups: (() => Promise<void>)[],
  wrapForwardsStore?: (s: LmdbForwardsStore) => LmdbForwardsStore,
  from?: { seed: Uint8Array; dir: string },
  overrides: Partial<ChannelManagerOptions> = {},
): Promise<LineNode> {
  const seed = from?.seed ?? randomBytes(32);
  const keys = new KeysManager(seed);
  const nodeId = Buffer.from(keys.nodeId).toString('hex');
  const link = new HubLink(nodeId);
  const dir = from?.dir ?? mkdtempSync(join(tmpdir(), 'lnkit-forward-'));
  const store = await Store.open(dir, { schemaVersion: 1 });
  const monitors = new LmdbMonitorPersister(store);
  const { options, broadcasts } = testManagerOptions({
    keys,
    link,
    persister: monitors,
    logger,
    wallet: new FakeWallet(),
  });
  const forwardsStore = new LmdbForwardsStore(store);
  const manager = new ChannelManager({
    ...options,
    chainHash: REGTEST,
    bestBlockHash: BLOCK_HASH(500),
    snapshot: new LmdbChannelSnapshotStore(store),
    monitors: () => monitors.readMonitors({ hashHex: BLOCK_HASH(500), height: 500 }),
    shutdownScript: () => Uint8Array.from([0x00, 0x14, ...randomBytes(20)]),
    forwardsStore: wrapForwardsStore ? wrapForwardsStore(forwardsStore) : forwardsStore,
    ...overrides,
  });
  const payments: PaymentEvent[] = [];
  const forwards: ForwardEvent[] = [];
  manager.payments.events$.subscribe((e) => payments.push(e));
  manager.forwards.events$.subscribe((e) => forwards.push(e));
  await manager.start();
  const node: LineNode = {
    seed,
    dir,
    keys,
    nodeId,
    manager,
    link,
    payments,
    forwards,
    store,
    broadcasts,
    monitors,
    hosts: overrides.channelHosts,
  };
  cleanups.push(async () => {
    await stopLineNode(node);
    rmSync(dir, { recursive: true, force: true });
  });
  return node;
}

const stopped = new WeakSet<LineNode>();
/** Stops the node's manager and closes its store (its data dir stays, for a restart). */
export async function stopLineNode(n: LineNode): Promise<void> {
  if (stopped.has(n)) return;
  stopped.add(n);
  for (const peer of [...n.link.peers.values()]) disconnectLinks(n.link, peer);
  await n.manager.stop();
  await n.store.close();
}

/** Regtest's genesis (internal byte order): invoices are lnbcrt. */
export const REGTEST = Uint8Array.from(
  Buffer.from('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206', 'hex'),
).reverse();

export const channelWith = (n: LineNode, peer: LineNode): ChannelSummary => {
  const c = n.manager.listChannels().find((ch) => ch.peer === peer.nodeId);
  if (!c) throw new Error(`no channel from ${n.nodeId} to ${peer.nodeId}`);
  return c;
};

export const scidOf = (n: LineNode, peer: LineNode): bigint =>
  parseShortChannelId(channelWith(n, peer).shortChannelId ?? '');

/**
 * Opens `opener → peer` channels of `capacitySat` (no push) for each pair, mines every funding
 * in block 501 (each node sees every block), and waits until all are ready.
 */
export async function openLine(
  pairs: [LineNode, LineNode][],
  all: LineNode[],
  capacitySat = 1_000_000n,
): Promise<void> {
  const funding: Uint8Array[] = [];
  for (const [opener, peer] of pairs) {
    if (!opener.link.peers.has(peer.nodeId)) connectLinks(opener.link, peer.link);
    await opener.manager.openChannel(peer.nodeId, capacitySat, { type: 'anchors' });
    await waitFor(() => channelWith(peer, opener).state === 'awaiting-confirmation', {
      what: 'pending at the peer',
    });
    funding.push(opener.broadcasts[opener.broadcasts.length - 1] as Uint8Array);
  }
  const txs = funding.map((f) => Transaction.fromBuffer(Buffer.from(f)));
  for (let h = 501; h < 504; h++)
    for (const n of all)
      await n.manager.blockConnected({ txdata: h === 501 ? txs : [], header: { hashHex: BLOCK_HASH(h) } }, h);
  await waitFor(
    () => all.every((n) => n.manager.listChannels().every((c) => c.state === 'ready' && c.usable)),
    {
      what: 'every channel ready and usable',
    },
  );
}

/** LDK 0.1.0's defaults, lnkit's too: 1000 msat base, 0 ppm, cltv_expiry_delta 72. */
export const LINE_FEE_MSAT = 1000n;
export const LINE_DELTA = 72;
/** The tip once openLine has mined its blocks. */
export const LINE_HEIGHT = 503;

/** A's route to C through B, for `amountMsat` at C, at B's default policy; each field can be made wrong. */
export function routeThrough(
  a: LineNode,
  b: LineNode,
  c: LineNode,
  amountMsat: bigint,
  o: { feeMsat?: bigint; delta?: number; outCltv?: number; bcScid?: bigint } = {},
): RouteHop[] {
  const outCltv = o.outCltv ?? LINE_HEIGHT + 18 + 3;
  return [
    {
      nodeId: b.keys.nodeId,
      shortChannelId: scidOf(a, b),
      amountMsat: amountMsat + (o.feeMsat ?? LINE_FEE_MSAT),
      cltvExpiry: outCltv + (o.delta ?? LINE_DELTA),
    },
    { nodeId: c.keys.nodeId, shortChannelId: o.bcScid ?? scidOf(b, c), amountMsat, cltvExpiry: outCltv },
  ];
}

/** A fresh invoice of C's: its payment hash, and what the payer's last hop carries for it. */
export async function invoiceOf(c: LineNode, amountMsat: bigint) {
  const inv = await c.manager.payments.createInvoice(amountMsat, { description: 'through B' });
  const d = decodeInvoice(inv.bolt11);
  return { paymentHash: d.paymentHash, recipient: { paymentSecret: d.paymentSecret, totalMsat: amountMsat } };
}
