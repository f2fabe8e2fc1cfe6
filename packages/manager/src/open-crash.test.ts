/**
 * Issue 14, durability of the open under a real SIGKILL: one side's ChannelManager runs in a
 * child process (testing/open-crash.child.ts) on its own lmdb data dir, the other in this
 * process, frames crossing IPC. The child kills itself right after its channel-opened monitor
 * update is durable; a new child on the same data dir takes over. The fundee killed before
 * funding_signed left resumes from its monitor while the funder, never signed, broadcasts
 * nothing and gets its coins back; the funder killed before its broadcast broadcasts the
 * funding it signed for after the restart, and the channel becomes ready.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { p2wpkh, Transaction } from '@lnkit/tx';
import { Subject } from 'rxjs';
import { ChannelManager } from './channel-manager.ts';
import type { ChannelEvent } from './channel-state.ts';
import type { ChannelSummary } from './channel-summary.ts';
import { MANAGER_INIT_FEATURES } from './features.ts';
import { FakeWallet } from './manager-test-kit.ts';
import { LmdbMonitorPersister } from './monitor-persister.ts';
import type { PeerLink, PeerLinkEvent } from './peer-link.ts';
import { LmdbChannelSnapshotStore } from './snapshot.ts';
import type { ToChild } from './testing/open-crash.child.ts';

const BLOCK_HASH = (h: number) => h.toString(16).padStart(64, '0');
const FEATURES_HEX = Buffer.from(MANAGER_INIT_FEATURES.toBytes()).toString('hex');
const FUNDING_SIGNED = 35;
const TIMEOUT_MS = 120_000;
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const txidOf = (raw: Uint8Array) => Transaction.fromBuffer(Buffer.from(raw)).getId();

const dirs: string[] = [];
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.reverse()) await c().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lnkit-open-crash-'));
  dirs.push(d);
  return d;
}

type FromChild =
  | { type: 'ready' | 'ack' }
  | { type: 'frame'; raw: Uint8Array }
  | { type: 'broadcast'; raws: Uint8Array[] }
  | { type: 'event'; event: ChannelEvent }
  | { type: 'channels'; channels: ChannelSummary[] }
  | { type: 'open-failed'; message: string };

/** The side in a child process; every run of it on the same data dir and seed. */
class ChildSide {
  readonly dir = tempDir();
  readonly seed = randomBytes(32);
  readonly nodeId = hexOf(new KeysManager(this.seed).nodeId);
  /** Txids of what each run broadcast, by run. */
  readonly broadcasts: string[][] = [];
  readonly rawBroadcasts: Uint8Array[] = [];
  events: ChannelEvent[] = [];
  channels: ChannelSummary[] | undefined;
  child: ChildProcess | undefined;
  ready = false;
  acks = 0;
  #onFrame: (raw: Uint8Array) => void = () => {};

  async start(peerId: string, crash: boolean, onFrame: (raw: Uint8Array) => void): Promise<void> {
    this.#onFrame = onFrame;
    this.ready = false;
    this.events = [];
    const run: string[] = [];
    this.broadcasts.push(run);
    const child = fork(
      fileURLToPath(new URL('./testing/open-crash.child.ts', import.meta.url)),
      [this.dir, hexOf(this.seed), peerId, crash ? 'crash' : 'no-crash'],
      {
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    children.push(child);
    this.child = child;
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') this.ready = true;
      else if (m.type === 'ack') this.acks++;
      else if (m.type === 'frame') this.#onFrame(Uint8Array.from(m.raw));
      else if (m.type === 'broadcast')
        for (const raw of m.raws) {
          run.push(txidOf(raw));
          this.rawBroadcasts.push(Uint8Array.from(raw));
        }
      else if (m.type === 'event') this.events.push(m.event);
      else if (m.type === 'channels') this.channels = m.channels;
    });
    await waitFor(() => this.ready, { what: 'the child ready', timeoutMs: TIMEOUT_MS });
  }

  send(m: ToChild): void {
    const child = this.child as ChildProcess;
    if (child.connected) child.send(m);
  }

  async exited(): Promise<ChildProcess> {
    const child = this.child as ChildProcess;
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, {
      what: 'the child gone',
      timeoutMs: TIMEOUT_MS,
    });
    return child;
  }

  async list(): Promise<ChannelSummary[]> {
    this.channels = undefined;
    this.send({ type: 'list' });
    return waitFor(() => this.channels, { what: 'the child’s channels', timeoutMs: TIMEOUT_MS });
  }

  async block(height: number, rawTxs: Uint8Array[]): Promise<void> {
    const acks = this.acks;
    this.send({ type: 'block', height, rawTxs });
    await waitFor(() => this.acks > acks, { what: `block ${height} at the child`, timeoutMs: TIMEOUT_MS });
  }

  async stop(): Promise<void> {
    this.send({ type: 'stop' });
    await this.exited();
  }
}

/** The parent's PeerLink to the child: frames over IPC; the child's exit is a disconnect. */
class ChildLink implements PeerLink {
  readonly messages = new Subject<{ nodeId: string; raw: Uint8Array }>();
  readonly events = new Subject<PeerLinkEvent>();
  /** BOLT 1 types received from the child, in order. */
  readonly receivedTypes: number[] = [];
  connected = false;
  constructor(readonly side: ChildSide) {}
  async send(nodeId: string, raw: Uint8Array): Promise<void> {
    if (!this.connected || nodeId !== this.side.nodeId) throw new Error('not-connected');
    this.side.send({ type: 'frame', raw });
  }
  messages$() {
    return this.messages.asObservable();
  }
  events$() {
    return this.events.asObservable();
  }
  listPeers() {
    return this.connected ? [{ nodeId: this.side.nodeId, features: { hex: FEATURES_HEX } }] : [];
  }
  deliver(raw: Uint8Array): void {
    this.receivedTypes.push(Buffer.from(raw).readUInt16BE(0));
    this.messages.next({ nodeId: this.side.nodeId, raw });
  }
  /** Both ends hear of each other. */
  connect(): void {
    this.connected = true;
    this.events.next({ type: 'connected', nodeId: this.side.nodeId, features: { hex: FEATURES_HEX } });
    this.side.send({ type: 'connect' });
  }
  /** Watches the child: its death is a disconnect here. */
  watch(child: ChildProcess): void {
    child.once('exit', () => {
      if (!this.connected) return;
      this.connected = false;
      this.events.next({ type: 'disconnected', nodeId: this.side.nodeId });
    });
  }
}

/** The side in this process: a ChannelManager on lmdb, over a ChildLink. */
async function parentSide(link: ChildLink) {
  const keys = new KeysManager(randomBytes(32));
  const store = await Store.open(tempDir(), { schemaVersion: 1 });
  const persister = new LmdbMonitorPersister(store);
  const wallet = new FakeWallet();
  const broadcasts: Uint8Array[] = [];
  const shutdown = p2wpkh(keys.walletPublicKey(0n));
  const manager = new ChannelManager({
    keys,
    peers: link,
    persister,
    broadcaster: {
      broadcastTransactions: async (txs) => {
        broadcasts.push(...txs);
        return txs.map((t) => ({ txid: txidOf(t), accepted: true as const }));
      },
    },
    feeEstimator: { feeratePerKw: () => 253n },
    wallet,
    chainHash: new Uint8Array(32).fill(6),
    bestHeight: 500,
    bestBlockHash: BLOCK_HASH(500),
    shutdownScript: () => shutdown,
    logger: createRootLogger({ level: 'silent' }),
    snapshot: new LmdbChannelSnapshotStore(store),
    monitors: [],
  });
  const events: ChannelEvent[] = [];
  manager.events$.subscribe((e) => events.push(e));
  await manager.start();
  cleanups.push(async () => {
    await manager.stop();
    await store.close();
  });
  return { nodeId: hexOf(keys.nodeId), manager, wallet, broadcasts, events, persister };
}

async function startChild(side: ChildSide, link: ChildLink, peerId: string, crash: boolean): Promise<void> {
  await side.start(peerId, crash, (raw) => link.deliver(raw));
  link.watch(side.child as ChildProcess);
  link.connect();
}

test('SIGKILL of the fundee after its channel-opened monitor is durable, before funding_signed left: it resumes from its monitor; the funder broadcasts nothing and its coins are released', async () => {
  const fundee = new ChildSide();
  const link = new ChildLink(fundee);
  const funder = await parentSide(link);
  await startChild(fundee, link, funder.nodeId, true);

  const open = funder.manager.openChannel(fundee.nodeId, 250_000n);
  open.catch(() => {});
  const killed = await fundee.exited();
  assert.equal(killed.signalCode, 'SIGKILL', 'the fundee killed itself at the persist');
  await assert.rejects(open, /disconnected before the funding was signed/);
  await funder.manager.idle();

  assert.ok(!link.receivedTypes.includes(FUNDING_SIGNED), 'funding_signed never left the fundee');
  assert.equal(funder.broadcasts.length, 0, 'the funder never broadcast the funding');
  const built = funder.manager.listChannels()[0];
  assert.equal(built?.state, 'closed');
  assert.ok(built.fundingTxid, 'the wallet had built the funding');
  assert.deepEqual(funder.wallet.released, [built.fundingTxid], 'the funding’s coins back in the wallet');
  assert.equal(funder.persister.readAll().length, 0, 'the funder kept no monitor');

  // The same fundee, restarted on its data dir: the monitor written before the kill brings the channel back.
  await startChild(fundee, link, funder.nodeId, false);
  const [resumed, ...more] = await fundee.list();
  assert.deepEqual(more, []);
  assert.equal(resumed?.state, 'awaiting-confirmation', 'resumed from its monitor, waiting for the funding');
  assert.equal(resumed.channelId, built.channelId, 'the channel the funder had opened');
  assert.equal(resumed.fundingTxid, built.fundingTxid);
  assert.equal(resumed.isFunder, false);
  assert.deepEqual(fundee.broadcasts.flat(), [], 'the fundee broadcast nothing');
  await fundee.stop();
});

test('SIGKILL of the funder after its monitor is durable, before the broadcast: restarted, it broadcasts the funding it signed for and the channel becomes ready', async () => {
  const funder = new ChildSide();
  const link = new ChildLink(funder);
  const fundee = await parentSide(link);
  await startChild(funder, link, fundee.nodeId, true);

  funder.send({ type: 'open', amountSat: 250_000n });
  const killed = await funder.exited();
  assert.equal(killed.signalCode, 'SIGKILL', 'the funder killed itself at the persist');
  assert.deepEqual(funder.broadcasts[0], [], 'nothing broadcast before the kill');
  const pending = await waitFor(
    () =>
      fundee.events.find(
        (e): e is Extract<ChannelEvent, { type: 'ChannelPending' }> => e.type === 'ChannelPending',
      ),
    { what: 'pending at the fundee', timeoutMs: TIMEOUT_MS },
  );
  await waitFor(() => !link.connected, { what: 'the fundee sees the disconnect', timeoutMs: TIMEOUT_MS });
  await fundee.manager.idle();
  assert.equal(
    fundee.manager.listChannels()[0]?.state,
    'awaiting-confirmation',
    'the fundee keeps the channel',
  );

  // Restarted on the same data dir: the funding it signed for goes out.
  await startChild(funder, link, fundee.nodeId, false);
  await waitFor(() => funder.broadcasts[1]?.length, { what: 'the funding broadcast', timeoutMs: TIMEOUT_MS });
  assert.deepEqual(funder.broadcasts[1], [pending.fundingTxid], 'the funding the fundee signed for, once');
  const [restored] = await funder.list();
  assert.equal(restored?.state, 'awaiting-confirmation');
  assert.equal(restored.fundingTxid, pending.fundingTxid);
  assert.equal(restored.channelId, hexOf(pending.channelId));

  // Three blocks, the first with the funding: both sides ready (they reestablished meanwhile).
  const fundingTx = funder.rawBroadcasts.at(-1) as Uint8Array;
  for (let h = 501; h <= 503; h++) {
    const txs = h === 501 ? [fundingTx] : [];
    await funder.block(h, txs);
    await fundee.manager.blockConnected(
      { txdata: txs.map((t) => Transaction.fromBuffer(Buffer.from(t))), header: { hashHex: BLOCK_HASH(h) } },
      h,
    );
  }
  await waitFor(
    async () =>
      fundee.manager.listChannels()[0]?.state === 'ready' && (await funder.list())[0]?.state === 'ready',
    { what: 'ready on both', timeoutMs: TIMEOUT_MS },
  );
  const ready = (await funder.list())[0];
  assert.equal(ready?.shortChannelId, fundee.manager.listChannels()[0]?.shortChannelId);
  assert.ok(ready?.shortChannelId?.startsWith('501x'), 'confirmed in block 501');
  assert.deepEqual(funder.broadcasts[1], [pending.fundingTxid], 'no second broadcast');
  await funder.stop();
});
