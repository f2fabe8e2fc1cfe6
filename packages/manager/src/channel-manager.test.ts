/**
 * The ChannelManager shell, two of them linked by an in-memory PeerLink (no sockets): a
 * channel opened by one and accepted by the other reaches ready on both through the
 * directory and the in-thread channel actors; the monitor updates land in lmdb as records and
 * read back; user mistakes are refused with a ManagerError naming the problem; a disconnect
 * before funding_signed releases the wallet's coins; a persister that answers in-progress holds the broadcast until
 * it reports completion.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { type ChannelMonitorUpdate, decodeMonitorUpdate, encodeMonitorUpdate } from '@lnkit/monitor';
import { createRootLogger } from '@lnkit/runtime';
import { PersistStatus, Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { Transaction } from '@lnkit/tx';
import { Features } from '@lnkit/wire';
import { Subject } from 'rxjs';
import { ChannelManager, type ChannelManagerOptions } from './channel-manager.ts';
import type { ChannelEvent } from './channel-state.ts';
import { channelConfig } from './config.ts';
import { ManagerError } from './errors.ts';
import { FakeWallet, linkedPeers, type MemoryLink, testManagerOptions } from './manager-test-kit.ts';
import { LmdbMonitorPersister, type MonitorPersister, type PersistCompletion } from './monitor-persister.ts';

const logger = createRootLogger({ level: 'silent' });
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A persister that records, and answers what the test says. */
class ScriptedPersister implements MonitorPersister {
  readonly updates: ChannelMonitorUpdate[] = [];
  answer: PersistStatus = PersistStatus.completed();
  readonly completions = new Subject<PersistCompletion>();
  readonly completed$ = this.completions.asObservable();
  persist(update: ChannelMonitorUpdate): PersistStatus {
    this.updates.push(update);
    return this.answer;
  }
}

interface Node {
  keys: KeysManager;
  nodeId: string;
  manager: ChannelManager;
  link: MemoryLink;
  wallet: FakeWallet;
  broadcasts: Uint8Array[];
  events: ChannelEvent[];
  store: Store;
}

async function node(
  link: MemoryLink,
  keys: KeysManager,
  overrides: Partial<ChannelManagerOptions> = {},
): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-manager-'));
  dirs.push(dir);
  const store = await Store.open(dir, { schemaVersion: 1 });
  const wallet = new FakeWallet();
  const { options, broadcasts } = testManagerOptions({
    keys,
    link,
    persister: new LmdbMonitorPersister(store),
    logger,
    wallet,
  });
  const manager = new ChannelManager({ ...options, ...overrides });
  const events: ChannelEvent[] = [];
  manager.events$.subscribe((e) => events.push(e));
  await manager.start();
  cleanups.push(async () => {
    await manager.stop();
    await store.close();
  });
  return { keys, nodeId: link.nodeId, manager, link, wallet, broadcasts, events, store };
}

async function twoNodes(
  aOptions: Partial<ChannelManagerOptions> = {},
  bOptions: Partial<ChannelManagerOptions> = {},
): Promise<[Node, Node]> {
  const [a, b] = linkedPeers(() => new KeysManager(randomBytes(32)));
  return [await node(a.link, a.keys, aOptions), await node(b.link, b.keys, bOptions)];
}

/** Mines the broadcast funding into block `height`, then empty blocks, feeding both managers. */
async function mine(nodes: Node[], from: number, count: number, funding?: Uint8Array): Promise<void> {
  for (let h = from; h < from + count; h++) {
    const txdata = h === from && funding ? [Transaction.fromBuffer(Buffer.from(funding))] : [];
    for (const n of nodes) await n.manager.blockConnected({ txdata }, h);
  }
  for (const n of nodes) await n.manager.idle();
}

test('two managers: open, accept, persist, broadcast, confirm, ready — the directory finds each channel by its ids', async () => {
  const [a, b] = await twoNodes();
  const opened = await a.manager.openChannel(b.nodeId, 250_000n, { pushMsat: 1_000_000n });
  assert.equal(opened.fundingTxid.length, 64);
  assert.equal(a.broadcasts.length, 1);
  const fundingTx = Transaction.fromBuffer(Buffer.from(a.broadcasts[0] as Uint8Array));
  assert.equal(fundingTx.getId(), opened.fundingTxid);
  await waitFor(() => b.events.some((e) => e.type === 'ChannelPending'), {
    what: 'ChannelPending at the fundee',
  });
  assert.equal(a.manager.listChannels()[0]?.state, 'awaiting-confirmation');
  await mine([a, b], 501, 3, a.broadcasts[0]);
  await waitFor(
    () => a.events.some((e) => e.type === 'ChannelReady') && b.events.some((e) => e.type === 'ChannelReady'),
    {
      what: 'ChannelReady on both',
    },
  );
  const [ca] = a.manager.listChannels();
  const [cb] = b.manager.listChannels();
  assert.ok(ca && cb);
  assert.equal(ca.state, 'ready');
  assert.equal(cb.state, 'ready');
  assert.equal(ca.channelId, opened.channelId);
  assert.equal(cb.channelId, opened.channelId);
  assert.equal(ca.peer, b.nodeId);
  assert.equal(ca.type, 'anchors', 'both offer anchors: the default type');
  assert.equal(ca.localBalanceMsat, 250_000_000n - 1_000_000n);
  assert.equal(cb.localBalanceMsat, 1_000_000n);
  assert.equal(ca.shortChannelId, `501x0x${fundingTx.outs.findIndex((o) => o.value === 250_000n)}`);
  assert.equal(ca.fundingTxid, opened.fundingTxid);
  // The monitor updates are in lmdb as records, and decode to what the core emitted.
  const stored = new LmdbMonitorPersister(a.store).readAll();
  assert.equal(stored.length, 1);
  const opened1 = stored[0]?.steps[0];
  assert.ok(opened1?.kind === 'channel-opened');
  assert.equal(Buffer.from(opened1.channelId).toString('hex'), opened.channelId);
  assert.deepEqual(decodeMonitorUpdate(encodeMonitorUpdate(stored[0] as ChannelMonitorUpdate)), stored[0]);
});

test('openChannel refuses what cannot work, naming the problem', async () => {
  const [a, b] = await twoNodes({}, {});
  const refuse = async (p: Promise<unknown>, code: string, re: RegExp) => {
    await assert.rejects(
      p,
      (e: unknown) => e instanceof ManagerError && e.code === code && re.test(e.message),
    );
  };
  await refuse(a.manager.openChannel('02'.padEnd(66, '1'), 100_000n), 'peer-not-connected', /not connected/);
  await refuse(a.manager.openChannel(b.nodeId, 999n), 'invalid-argument', /at least 1000 sat/);
  await refuse(
    a.manager.openChannel(b.nodeId, 100_000n, { pushMsat: 100_000_001n }),
    'invalid-argument',
    /push_msat/,
  );
  a.wallet.fail = true;
  await refuse(a.manager.openChannel(b.nodeId, 100_000n), 'channel-failed', /insufficient funds/);
  assert.equal(a.broadcasts.length, 0);
  // A peer without anchors or large channels.
  const plain = Buffer.from(Features.of({ optional: ['option_channel_type'] }).toBytes()).toString('hex');
  a.link.events.next({ type: 'connected', nodeId: b.nodeId, features: { hex: plain } });
  await refuse(
    a.manager.openChannel(b.nodeId, 100_000n, { type: 'anchors' }),
    'feature-not-negotiated',
    /anchors/,
  );
  await refuse(
    a.manager.openChannel(b.nodeId, 1n << 24n),
    'feature-not-negotiated',
    /option_support_large_channel/,
  );
  const [c, d] = await twoNodes({ wallet: undefined });
  await refuse(c.manager.openChannel(d.nodeId, 100_000n), 'funding-failed', /no wallet/);
});

test("a peer's refusal fails the open with its reason, before the wallet is asked", async () => {
  // The fundee takes no channel under 300,000 sat.
  const [a, b] = await twoNodes({}, { config: channelConfig({ limits: { minFundingSat: 300_000n } }) });
  await assert.rejects(
    a.manager.openChannel(b.nodeId, 200_000n),
    (e: unknown) =>
      e instanceof ManagerError && e.code === 'channel-failed' && /funding_satoshis/.test(e.message),
  );
  assert.equal(a.wallet.released.length, 0, 'refused before the wallet was asked');
  assert.equal(b.manager.listChannels().length, 0, 'the fundee keeps nothing');
  const closed = a.manager.listChannels()[0];
  assert.equal(closed?.state, 'closed');
  assert.match(closed?.closedReason ?? '', /funding_satoshis 200000 is below our minimum/);
});

test('a disconnect after the wallet built the funding but before funding_signed releases its coins', async () => {
  // Hold the fundee's persist, so the funder waits in awaiting-funding-signed.
  const p = new ScriptedPersister();
  p.answer = PersistStatus.inProgress();
  const [c, d] = await twoNodes({}, { persister: p });
  const open = c.manager.openChannel(d.nodeId, 100_000n);
  await waitFor(() => p.updates.length === 1, { what: 'the fundee to start persisting' });
  c.link.disconnect();
  await assert.rejects(open, /disconnected before the funding was signed/);
  assert.equal(c.wallet.released.length, 1);
  assert.equal(c.broadcasts.length, 0);
  await d.manager.idle();
  assert.equal(d.manager.listChannels()[0]?.state, 'closed');
});

test("an in-progress persist holds the funder's broadcast until the persister reports completion", async () => {
  const p = new ScriptedPersister();
  p.answer = PersistStatus.inProgress();
  const [a, b] = await twoNodes({ persister: p });
  let settled = false;
  const open = a.manager.openChannel(b.nodeId, 100_000n).then((r) => {
    settled = true;
    return r;
  });
  await waitFor(() => p.updates.length === 1, { what: 'the funder to persist its monitor' });
  await a.manager.idle();
  assert.equal(a.broadcasts.length, 0, 'nothing broadcast while in progress');
  assert.equal(settled, false);
  assert.equal(a.manager.listChannels()[0]?.phase, 'awaiting-persist');
  const u = p.updates[0] as ChannelMonitorUpdate;
  p.completions.next({ channelId: Buffer.from(u.channelId).toString('hex'), updateId: u.updateId });
  const r = await open;
  assert.equal(a.broadcasts.length, 1);
  assert.equal(Transaction.fromBuffer(Buffer.from(a.broadcasts[0] as Uint8Array)).getId(), r.fundingTxid);
  void b;
});

test('a peer gets at most four unfunded inbound channels at a time; the rest are refused with an error', async () => {
  // The funder's wallet never answers, so each channel waits at the fundee in awaiting-funding-created.
  const hang = { fundingTransaction: () => new Promise<never>(() => {}), release: async () => {} };
  const [a, b] = await twoNodes({ wallet: hang });
  const opens = [1, 2, 3, 4, 5].map(() => a.manager.openChannel(b.nodeId, 100_000n));
  for (const p of opens) p.catch(() => {});
  await waitFor(() => a.manager.listChannels().filter((c) => c.state === 'closed').length === 1, {
    what: 'the fifth open refused',
  });
  await b.manager.idle();
  assert.equal(b.manager.listChannels().filter((c) => c.phase === 'awaiting-funding-created').length, 4);
  const refused = a.manager.listChannels().find((c) => c.state === 'closed');
  assert.match(refused?.closedReason ?? '', /4 channels from this peer wait for funding_created/);
});
