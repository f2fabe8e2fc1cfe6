/**
 * The ChannelManager across a restart and a force close, two managers over an in-memory link
 * and lmdb (no sockets): a ready channel's snapshot and monitor rebuild it in a new manager on
 * the same data dir, it reestablishes when the peer comes back and closes cooperatively; a
 * snapshot whose monitor is gone is not resurrected; a force close broadcasts our commitment,
 * answers its txid, and the channel is closed when a block spends the funding. With payments
 * in flight both ways, a node stopped at each point of the dance (after an add, after its
 * commitment_signed, after the peer's revoke_and_ack, with a persist in progress) resumes from
 * its snapshot and monitor, reestablishes, and every payment settles, balances exact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { PersistStatus, Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { p2wpkh, Transaction } from '@lnkit/tx';
import { ChannelManager, type ChannelManagerOptions } from './channel-manager.ts';
import type { ChannelEvent } from './channel-state.ts';
import type { HtlcChannelParams } from './htlc/build.ts';
import { decodeNormalState } from './htlc/normal-record.ts';
import { MemoryLink, testManagerOptions } from './manager-test-kit.ts';
import { LmdbMonitorPersister, type MonitorPersister } from './monitor-persister.ts';
import { LmdbChannelSnapshotStore } from './snapshot.ts';

const logger = createRootLogger({ level: 'silent' });
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const BLOCK_HASH = (h: number) => h.toString(16).padStart(64, '0');

interface Node {
  keys: KeysManager;
  nodeId: string;
  manager: ChannelManager;
  link: MemoryLink;
  broadcasts: Uint8Array[];
  events: ChannelEvent[];
  store: Store;
  dir: string;
}

async function startNode(
  keys: KeysManager,
  link: MemoryLink,
  dir: string,
  o: {
    subscribeAfterStart?: boolean;
    overrides?: Partial<ChannelManagerOptions>;
    /** The persister the manager is given, around the lmdb one (which the restart reads). */
    persister?: (p: LmdbMonitorPersister) => MonitorPersister;
  } = {},
): Promise<Node> {
  const store = await Store.open(dir, { schemaVersion: 1 });
  const lmdb = new LmdbMonitorPersister(store);
  const persister = o.persister?.(lmdb) ?? lmdb;
  const shutdown = p2wpkh(keys.walletPublicKey(0n));
  const { options, broadcasts } = testManagerOptions({ keys, link, persister, logger });
  const manager = new ChannelManager({
    ...options,
    bestBlockHash: BLOCK_HASH(500),
    shutdownScript: () => shutdown,
    snapshot: new LmdbChannelSnapshotStore(store),
    monitors: () => lmdb.readMonitors({ hashHex: BLOCK_HASH(500), height: 500 }),
    ...o.overrides,
  });
  const events: ChannelEvent[] = [];
  if (!o.subscribeAfterStart) manager.events$.subscribe((e) => events.push(e));
  await manager.start();
  if (o.subscribeAfterStart) manager.events$.subscribe((e) => events.push(e));
  const n = { keys, nodeId: link.nodeId, manager, link, broadcasts, events, store, dir };
  cleanups.push(() => stopNode(n));
  return n;
}

const stopped = new WeakSet<Node>();
async function stopNode(n: Node): Promise<void> {
  if (stopped.has(n)) return;
  stopped.add(n);
  await n.manager.stop();
  await n.store.close();
}

function links(a: string, b: string): [MemoryLink, MemoryLink] {
  const la = new MemoryLink(a);
  const lb = new MemoryLink(b);
  la.other = lb;
  lb.other = la;
  return [la, lb];
}

async function twoNodes(): Promise<[Node, Node]> {
  const ka = new KeysManager(randomBytes(32));
  const kb = new KeysManager(randomBytes(32));
  const [la, lb] = links(Buffer.from(ka.nodeId).toString('hex'), Buffer.from(kb.nodeId).toString('hex'));
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'lnkit-manager-restart-'));
    dirs.push(d);
    return d;
  };
  return [await startNode(ka, la, dir()), await startNode(kb, lb, dir())];
}

async function mine(nodes: Node[], from: number, count: number, tx?: Uint8Array): Promise<void> {
  for (let h = from; h < from + count; h++) {
    const txdata = h === from && tx ? [Transaction.fromBuffer(Buffer.from(tx))] : [];
    for (const n of nodes) await n.manager.blockConnected({ txdata, header: { hashHex: BLOCK_HASH(h) } }, h);
  }
  for (const n of nodes) await n.manager.idle();
}

async function readyPair(): Promise<[Node, Node, string]> {
  const [a, b] = await twoNodes();
  const opened = await a.manager.openChannel(b.nodeId, 250_000n, { pushMsat: 1_000_000n });
  await waitFor(() => b.events.some((e) => e.type === 'ChannelPending'), { what: 'pending at the fundee' });
  await mine([a, b], 501, 3, a.broadcasts[0]);
  await waitFor(
    () => a.manager.listChannels()[0]?.state === 'ready' && b.manager.listChannels()[0]?.state === 'ready',
    { what: 'ready on both' },
  );
  return [a, b, opened.channelId];
}

test('restart: a new manager on the same data dir rebuilds the ready channel, reestablishes, and closes cooperatively', async () => {
  const [a, b, channelId] = await readyPair();
  const before = a.manager.listChannels()[0];
  a.link.disconnect();
  await waitFor(() => b.manager.listChannels()[0]?.state === 'ready', { what: 'b keeps the channel' });
  await stopNode(a);

  // The same node, restarted: a new link end for the same node id, not connected yet.
  const [la2] = [new MemoryLink(a.nodeId)];
  la2.other = b.link;
  b.link.other = la2;
  la2.connected = false;
  const a2 = await startNode(a.keys, la2, a.dir);
  assert.equal(
    a2.manager.bestBlock.height,
    503,
    'the snapshot’s best block: where the chain sync resumes it',
  );
  assert.equal(a2.manager.bestBlock.hashHex, BLOCK_HASH(503));
  const restored = a2.manager.listChannels()[0];
  assert.deepEqual(
    { ...restored, confirmations: 0, usable: false },
    { ...before, confirmations: 0, usable: false },
    'the same channel: ids, balances, short_channel_id, funding',
  );
  assert.equal(restored?.usable, false, 'not usable until the peer reestablishes');
  assert.equal(a2.broadcasts.length, 0, 'nothing broadcast at start');
  assert.ok(!a2.events.some((e) => e.type === 'ChannelClosed'));

  la2.connect();
  await waitFor(() => la2.sentTypes.includes(136) && b.link.sentTypes.includes(136), {
    what: 'channel_reestablish both ways',
  });
  await a2.manager.idle();
  await b.manager.idle();
  assert.equal(a2.manager.listChannels()[0]?.state, 'ready');
  assert.ok(la2.sentTypes.includes(36), 'channel_ready retransmitted (next_commitment_number 1 both ways)');

  const closing = await a2.manager.closeChannel(channelId);
  assert.deepEqual(closing, { channelId, closingTxid: null });
  const closingTxid = await waitFor(() => a2.manager.listChannels()[0]?.closingTxid ?? undefined, {
    what: 'a closing transaction',
  });
  // Listed as soon as agreed; broadcast by the step's effects just after.
  const closingTx = await waitFor(
    () => a2.broadcasts.find((t) => Transaction.fromBuffer(Buffer.from(t)).getId() === closingTxid),
    { what: 'the closing transaction broadcast' },
  );
  await mine([a2, b], 504, 1, closingTx);
  await waitFor(() => a2.events.some((e) => e.type === 'ChannelClosed'), { what: 'closed' });
  const closed = a2.events.find((e) => e.type === 'ChannelClosed');
  assert.equal(closed?.type === 'ChannelClosed' && closed.reason.kind, 'cooperative');

  // Closed: a further restart restores nothing (its snapshot is a tombstone, then gone).
  await stopNode(a2);
  const la3 = new MemoryLink(a.nodeId);
  la3.other = b.link;
  la3.connected = false;
  const a3 = await startNode(a.keys, la3, a.dir);
  assert.deepEqual(a3.manager.listChannels(), []);
  assert.ok(!a3.events.some((e) => e.type === 'ChannelClosed'), 'said once, before the restart');
});

test('a snapshot whose monitor is gone is not resurrected', async () => {
  const [a, b] = await readyPair();
  a.link.disconnect();
  await stopNode(a);
  const la2 = new MemoryLink(a.nodeId);
  la2.other = b.link;
  la2.connected = false;
  const a2 = await startNode(a.keys, la2, a.dir, { overrides: { monitors: [] } });
  assert.deepEqual(a2.manager.listChannels(), []);
  assert.equal(a2.broadcasts.length, 0);
  assert.deepEqual(
    (await new LmdbChannelSnapshotStore(a2.store).load()).channels,
    [],
    'the snapshot removed',
  );
});

test('force close: our commitment broadcast, its txid answered, closing, then closed when a block spends the funding', async () => {
  const [a, b, channelId] = await readyPair();
  const r = await a.manager.closeChannel(channelId, { force: true });
  assert.equal(r.channelId, channelId);
  const commitment = a.broadcasts.at(-1) as Uint8Array;
  assert.equal(r.closingTxid, Transaction.fromBuffer(Buffer.from(commitment)).getId());
  assert.equal(a.manager.listChannels()[0]?.state, 'closing');
  assert.equal(a.manager.listChannels()[0]?.closingTxid, r.closingTxid);
  await waitFor(() => b.link.sentTypes.length > 0 && b.manager.listChannels()[0]?.state === 'closing', {
    what: 'the peer heard the error and force-closes too',
  });
  assert.ok(a.link.sentTypes.includes(17), 'an error sent');
  await mine([a, b], 504, 1, commitment);
  await waitFor(() => a.events.some((e) => e.type === 'ChannelClosed'), { what: 'closed at a' });
  const closed = a.events.find((e) => e.type === 'ChannelClosed');
  assert.deepEqual(closed?.type === 'ChannelClosed' && closed.reason, {
    kind: 'holder-force-closed',
    commitmentTxid: r.closingTxid,
  });
  await waitFor(() => b.manager.listChannels()[0]?.state === 'closed', { what: 'closed at b' });
  await assert.rejects(a.manager.closeChannel(channelId, { force: true }), /no open channel/);
});

test('a channel that cannot be resumed is said at start (ChannelClosed, not-resumed or funding-spent), even to a later subscriber; nothing broadcast', async () => {
  const [a, b] = await readyPair();
  a.link.disconnect();
  await stopNode(a);
  const la2 = new MemoryLink(a.nodeId);
  la2.other = b.link;
  la2.connected = false;
  const store = await Store.open(a.dir, { schemaVersion: 1 });
  const monitors = new LmdbMonitorPersister(store).readMonitors({ hashHex: BLOCK_HASH(500), height: 500 });
  await store.close();
  const spent = monitors.map((m) => ({
    ...m,
    fundingSpend: {
      kind: 'counterparty-commitment' as const,
      txidHex: 'cd'.repeat(32),
      height: 504,
      blockHashHex: BLOCK_HASH(504),
      irrevocable: false,
      claimableOutputs: [],
    },
  }));
  const a2 = await startNode(a.keys, la2, a.dir, {
    subscribeAfterStart: true,
    overrides: { monitors: spent },
  });
  assert.deepEqual(a2.manager.listChannels(), []);
  assert.equal(a2.broadcasts.length, 0);
  const closed = a2.events.find((e) => e.type === 'ChannelClosed');
  assert.deepEqual(closed?.type === 'ChannelClosed' && closed.reason, {
    kind: 'funding-spent',
    spendingTxid: 'cd'.repeat(32),
  });
});

/**
 * A link that drops right after this end sent its `n`th message of a type (BOLT 1 type): what
 * followed it in the same step is lost, as on a connection that broke there.
 */
class CuttingLink extends MemoryLink {
  cut?: { type: number; left: number } | undefined;
  override async send(nodeId: string, raw: Uint8Array): Promise<void> {
    await super.send(nodeId, raw);
    const type = Buffer.from(raw).readUInt16BE(0);
    if (this.cut?.type === type && --this.cut.left === 0) {
      this.cut = undefined;
      this.disconnect();
    }
  }
}

/** Updates held in progress and never written (lost with the process, as on a crash). */
class HoldingPersister implements MonitorPersister {
  hold = false;
  readonly held: bigint[] = [];
  constructor(private readonly inner: LmdbMonitorPersister) {}
  async persist(update: Parameters<MonitorPersister['persist']>[0]) {
    if (!this.hold) return this.inner.persist(update);
    this.held.push(update.updateId);
    return PersistStatus.inProgress();
  }
}

type CutAt =
  | 'after update_add_htlc, before commitment_signed'
  | 'after commitment_signed sent'
  | 'after revoke_and_ack received'
  | 'with a persist in progress';

/**
 * A keysends to B and B to A at once; A stops at `at` with both HTLCs somewhere in the dance,
 * restarts from its data dir (snapshot and monitor), reestablishes, and both payments settle:
 * balances exact on both sides.
 */
async function restartMidPayments(at: CutAt): Promise<void> {
  const ka = new KeysManager(randomBytes(32));
  const kb = new KeysManager(randomBytes(32));
  const la = new CuttingLink(Buffer.from(ka.nodeId).toString('hex'));
  const lb = new CuttingLink(Buffer.from(kb.nodeId).toString('hex'));
  la.other = lb;
  lb.other = la;
  const dirOf = () => {
    const d = mkdtempSync(join(tmpdir(), 'lnkit-manager-htlc-restart-'));
    dirs.push(d);
    return d;
  };
  let holding: HoldingPersister | undefined;
  const a = await startNode(ka, la, dirOf(), {
    persister: (p) => {
      holding = new HoldingPersister(p);
      return holding;
    },
  });
  const b = await startNode(kb, lb, dirOf());
  await a.manager.openChannel(b.nodeId, 250_000n, { pushMsat: 100_000_000n });
  await waitFor(() => b.events.some((e) => e.type === 'ChannelPending'), { what: 'pending at the fundee' });
  await mine([a, b], 501, 3, a.broadcasts[0]);
  await waitFor(() => a.manager.listChannels()[0]?.usable && b.manager.listChannels()[0]?.usable, {
    what: 'usable on both',
  });
  // One payment each way first, so the commitments have moved on and hold a history.
  await a.manager.payments.keysend(b.nodeId, 1_000_000n);
  await b.manager.payments.keysend(a.nodeId, 2_000_000n);
  const aBefore = 150_000_000n - 1_000_000n + 2_000_000n;
  await waitFor(() => a.manager.listChannels()[0]?.localBalanceMsat === aBefore, { what: 'settled' });

  if (at === 'after update_add_htlc, before commitment_signed') la.cut = { type: 128, left: 1 };
  if (at === 'after commitment_signed sent') la.cut = { type: 132, left: 1 };
  if (at === 'after revoke_and_ack received') lb.cut = { type: 133, left: 1 };
  if (at === 'with a persist in progress') (holding as HoldingPersister).hold = true;
  // Both ways at once: B's HTLC to A is in flight wherever A stops.
  const toB = a.manager.payments.keysend(b.nodeId, 30_000_000n).catch(() => undefined);
  const toA = b.manager.payments.keysend(a.nodeId, 7_000_000n);
  if (at === 'with a persist in progress')
    await waitFor(() => (holding as HoldingPersister).held.length > 0, { what: 'a persist held' });
  else await waitFor(() => !la.connected, { what: `the link cut ${at}` });
  await a.manager.idle();
  la.connected = false;
  la.disconnect();
  await stopNode(a);
  void toB;
  // What A left on disk: HTLCs in flight in its snapshot, and (holding) updates its monitor lacks.
  const disk = await Store.open(a.dir, { schemaVersion: 1 });
  const [snap] = (await new LmdbChannelSnapshotStore(disk).load()).channels;
  const [monitor] = new LmdbMonitorPersister(disk).readMonitors({ hashHex: BLOCK_HASH(500), height: 500 });
  await disk.close();
  assert.ok(snap?.normalState && monitor);
  const saved = decodeNormalState(snap.normalState, {} as HtlcChannelParams);
  assert.ok(saved.ledger.htlcs.length > 0, `HTLCs in flight at the restart (${at})`);
  if (at === 'with a persist in progress')
    assert.ok(
      monitor.latestUpdateId < saved.nextMonitorUpdateId - 1n,
      'the snapshot is ahead of the monitor',
    );

  const la2 = new MemoryLink(a.nodeId);
  la2.other = b.link;
  b.link.other = la2;
  la2.connected = false;
  const a2 = await startNode(ka, la2, a.dir);
  assert.ok(!a2.events.some((e) => e.type === 'ChannelClosed'), `resumed ${at}`);
  assert.equal(a2.manager.listChannels()[0]?.state, 'ready');
  assert.equal(a2.broadcasts.length, 0, 'nothing broadcast at start');
  la2.connect();
  const paid = await toA;
  assert.equal(paid.status, 'succeeded', 'B’s payment to the restarted A ends');
  // A's payment to B was in flight in A's process: B takes it (and its fulfill comes back).
  const aAfter = aBefore - 30_000_000n + 7_000_000n;
  await waitFor(
    () =>
      a2.manager.listChannels()[0]?.localBalanceMsat === aAfter &&
      b.manager.listChannels()[0]?.localBalanceMsat === 250_000_000n - aAfter,
    { what: `balances exact on both sides (${at})`, timeoutMs: 60_000 },
  );
  assert.equal(a2.manager.listChannels()[0]?.remoteBalanceMsat, 250_000_000n - aAfter);
  assert.equal(b.manager.listChannels()[0]?.remoteBalanceMsat, aAfter);
  assert.ok(!b.events.some((e) => e.type === 'ChannelClosed'), 'the peer never closed');
  // And the channel goes on: one more each way.
  await a2.manager.payments.keysend(b.nodeId, 1_000n);
  assert.equal((await b.manager.payments.keysend(a.nodeId, 2_000n)).status, 'succeeded');
  await waitFor(() => a2.manager.listChannels()[0]?.localBalanceMsat === aAfter + 1_000n, {
    what: 'the next payments',
  });
  await stopNode(a2);
  await stopNode(b);
}

for (const at of [
  'after update_add_htlc, before commitment_signed',
  'after commitment_signed sent',
  'after revoke_and_ack received',
  'with a persist in progress',
] as const)
  test(`restart with HTLCs in flight both ways, ${at}: resumed, reestablished, everything settles, balances exact`, () =>
    restartMidPayments(at));
