import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isCompleted, type PersistStatus, PersistStatus as PS, Store } from '@lnkit/store';
import { nextEvent } from '@lnkit/test-support';
import { ChannelKeysClaimSigner, p2wpkh, type Transaction, Transaction as TxClass } from '@lnkit/tx';
import { Subject } from 'rxjs';
import { ChainMonitor } from './chain-monitor.ts';
import { MonitorError } from './errors.ts';
import { MonitorStore } from './monitor-store.ts';
import type { MonitorPersister, PersistCompletion } from './persister.ts';
import { ChannelFixture, historyUpdates } from './test-fixtures.ts';
import {
  ANTI_REORG_DELAY,
  type ChannelMonitor,
  type ChannelMonitorUpdate,
  type ChannelOpened,
  type MonitorEvent,
} from './types.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
async function openStore(dir?: string): Promise<{ store: Store; dir: string }> {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'lnkit-chain-monitor-'));
  if (!dir) dirs.push(d);
  return { store: await Store.open(d, { schemaVersion: 1 }), dir: d };
}

const hash = (n: number) => n.toString(16).padStart(64, '0');
const header = (height: number) => ({ hashHex: hash(height), prevHashHex: hash(height - 1) });
const TIP = { hashHex: hash(100), height: 100 };

/** Records every event the ChainMonitor says. */
function recorder(cm: ChainMonitor): MonitorEvent[] {
  const seen: MonitorEvent[] = [];
  cm.events$.subscribe((e) => seen.push(e));
  return seen;
}

async function mine(cm: ChainMonitor, txs: Transaction[] = []) {
  const height = cm.bestBlock.height + 1;
  await cm.blockConnected(header(height), height, txs);
}

/** A persister that answers what the test says, and records what it was asked. */
class ScriptedPersister implements MonitorPersister {
  answer: PersistStatus = PS.completed();
  readonly writes: { fundingKey: string; updateId?: bigint }[] = [];
  readonly completions = new Subject<PersistCompletion>();
  readonly completions$ = this.completions.asObservable();
  async persistNewChannel(m: ChannelMonitor) {
    this.writes.push({ fundingKey: m.fundingKey });
    return this.answer;
  }
  async updatePersistedChannel(m: ChannelMonitor, u?: ChannelMonitorUpdate) {
    this.writes.push({ fundingKey: m.fundingKey, ...(u ? { updateId: u.updateId } : {}) });
    return this.answer;
  }
  async readAll() {
    return [];
  }
}

test('the first update makes the monitor at the ChainMonitor’s tip; an update out of order is refused and changes nothing', async () => {
  const persister = new ScriptedPersister();
  const cm = new ChainMonitor({ persister, bestBlock: TIP });
  const fx = new ChannelFixture();
  const { update } = await fx.initialUpdate();
  assert.deepEqual(await cm.updateChannel(update), { status: 'completed' });
  const key = cm.monitors()[0]?.fundingKey as string;
  assert.deepEqual(cm.monitor(key)?.bestBlock, TIP);
  assert.equal(
    cm.monitor(Buffer.from(fx.info.channelId).toString('hex'))?.fundingKey,
    key,
    'found by channel id too',
  );
  const [u2, u3] = await historyUpdates(fx, 2);
  await assert.rejects(
    cm.updateChannel(u3 as ChannelMonitorUpdate),
    (e: unknown) =>
      e instanceof MonitorError && e.code === 'update-out-of-order' && e.expected === 2n && e.got === 3n,
  );
  assert.equal(cm.monitor(key)?.latestUpdateId, 1n);
  assert.deepEqual(await cm.updateChannel(u2 as ChannelMonitorUpdate), { status: 'completed' });
  assert.equal(cm.monitor(key)?.latestUpdateId, 2n);
  assert.deepEqual(persister.writes, [{ fundingKey: key }, { fundingKey: key, updateId: 2n }]);
  await assert.rejects(
    cm.updateChannel({ ...(u2 as ChannelMonitorUpdate), channelId: new Uint8Array(32) }),
    (e: unknown) => e instanceof MonitorError && e.code === 'unknown-channel',
  );
});

test('watchChannel refuses a second monitor for the same funding outpoint', async () => {
  const cm = new ChainMonitor({ persister: new ScriptedPersister(), bestBlock: TIP });
  const fx = new ChannelFixture();
  const { update } = await fx.initialUpdate();
  await cm.updateChannel(update);
  const monitor = cm.monitors()[0] as ChannelMonitor;
  await assert.rejects(
    cm.watchChannel(monitor),
    (e: unknown) =>
      e instanceof MonitorError && e.code === 'duplicate-channel' && e.message.includes(monitor.fundingKey),
  );
  // The same opening again is an update out of order for that channel.
  await assert.rejects(
    cm.updateChannel(update),
    (e: unknown) => e instanceof MonitorError && e.code === 'update-out-of-order',
  );
  // Another channel (another id) claiming the same funding outpoint is refused.
  const other = await new ChannelFixture({ fundingOutpoint: fx.info.fundingOutpoint }).initialUpdate();
  const channelId = new Uint8Array(32).fill(9);
  const opened = { ...(other.update.steps[0] as ChannelOpened), channelId };
  await assert.rejects(
    cm.updateChannel({ ...other.update, channelId, steps: [opened] }),
    (e: unknown) => e instanceof MonitorError && e.code === 'duplicate-channel',
  );
  assert.equal(cm.monitors().length, 1);
});

test('in progress: the update is pending until the persister reports it; failed: the channel is told to stop', async () => {
  const persister = new ScriptedPersister();
  const cm = new ChainMonitor({ persister, bestBlock: TIP });
  const seen = recorder(cm);
  const fx = new ChannelFixture();
  const { update } = await fx.initialUpdate();
  await cm.updateChannel(update);
  const key = cm.monitors()[0]?.fundingKey as string;
  const [u2, u3, u4] = (await historyUpdates(fx, 3)) as ChannelMonitorUpdate[];
  persister.answer = PS.inProgress();
  assert.deepEqual(await cm.updateChannel(u2 as ChannelMonitorUpdate), { status: 'in-progress' });
  assert.deepEqual(await cm.updateChannel(u3 as ChannelMonitorUpdate), { status: 'in-progress' });
  assert.deepEqual(cm.pendingUpdates(key), [2n, 3n]);
  // The persister's own report (a remote backup acknowledged update 2), then a direct call for 3.
  persister.completions.next({ fundingKey: key, updateId: 2n, status: PS.completed() });
  const forManager: { channelId: string; updateId: bigint }[] = [];
  cm.completed$.subscribe((c) => forManager.push(c));
  await cm.channelMonitorUpdated(key, 3n);
  const channelIdHex = Buffer.from(fx.info.channelId).toString('hex');
  assert.deepEqual(forManager, [
    { channelId: channelIdHex, updateId: 2n },
    { channelId: channelIdHex, updateId: 3n },
  ]);
  assert.deepEqual(cm.pendingUpdates(key), []);
  assert.deepEqual(
    seen.filter((e) => e.type === 'MonitorUpdateCompleted').map((e) => (e as { updateId: bigint }).updateId),
    [2n, 3n],
  );
  // The manager's view: persist() answers instead of throwing, completed$ names the channel id.
  const refused = await cm.persist({ ...(u2 as ChannelMonitorUpdate) });
  assert.ok(
    refused.status === 'failed' && /update-out-of-order/.test(refused.reason),
    JSON.stringify(refused),
  );
  persister.answer = PS.failed('backup host unreachable');
  const failed = await cm.updateChannel(u4 as ChannelMonitorUpdate);
  assert.deepEqual(failed, { status: 'failed', reason: 'backup host unreachable' });
  const event = seen.find((e) => e.type === 'MonitorUpdateFailed');
  assert.deepEqual(event && { ...event, channelId: undefined }, {
    type: 'MonitorUpdateFailed',
    fundingKey: key,
    channelId: undefined,
    updateId: 4n,
    reason: 'backup host unreachable',
  });
});

test('every monitor sees every block; the one whose funding is spent says so, is written, and a reorg undoes it', async () => {
  const { store } = await openStore();
  const persister = new MonitorStore(store);
  const cm = new ChainMonitor({ persister, bestBlock: TIP });
  const seen = recorder(cm);
  const a = new ChannelFixture();
  const b = new ChannelFixture();
  const first = await a.initialUpdate();
  await cm.updateChannel(first.update);
  await cm.updateChannel((await b.initialUpdate()).update);
  await mine(cm);
  await mine(cm, [first.counterparty.built.tx]);
  for (const m of cm.monitors()) assert.equal(m.bestBlock.height, 102, 'each monitor saw both blocks');
  const spent = seen.filter((e) => e.type === 'FundingSpent');
  assert.equal(spent.length, 1);
  assert.deepEqual(
    spent.map((e) => [(e as { kind: string }).kind, (e as { height: number }).height]),
    [['counterparty-commitment', 102]],
  );
  const keyA = cm.monitor(Buffer.from(a.info.channelId).toString('hex'))?.fundingKey as string;
  const onDisk = new Map((await new MonitorStore(store).readAll()).map((m) => [m.fundingKey, m]));
  assert.equal(
    onDisk.get(keyA)?.fundingSpend?.txidHex,
    first.counterparty.built.tx.getId(),
    'the spend is durable',
  );
  await cm.blockDisconnected(header(102), 102);
  assert.deepEqual(
    seen.filter((e) => e.type === 'FundingSpendReorged').map((e) => (e as { txidHex: string }).txidHex),
    [first.counterparty.built.tx.getId()],
  );
  assert.equal(
    (await new MonitorStore(store).readAll()).find((m) => m.fundingKey === keyA)?.fundingSpend,
    undefined,
  );
  assert.equal(cm.bestBlock.height, 101);
  await store.close();
});

test('restart: monitors read back, a standing funding spend said again on watch', async () => {
  const { store, dir } = await openStore();
  let cm = new ChainMonitor({ persister: new MonitorStore(store), bestBlock: TIP });
  const fx = new ChannelFixture();
  const first = await fx.initialUpdate();
  await cm.updateChannel(first.update);
  for (const u of await historyUpdates(fx, 5)) assert.ok(isCompleted(await cm.updateChannel(u)));
  await mine(cm, [first.holder.built.tx]);
  const before = cm.monitors()[0] as ChannelMonitor;
  await cm.stop();
  await store.close();

  const reopened = (await openStore(dir)).store;
  const persister = new MonitorStore(reopened);
  const [back] = await persister.readAll();
  assert.equal(back?.latestUpdateId, 6n);
  assert.deepEqual(back?.bestBlock, before.bestBlock);
  cm = new ChainMonitor({ persister, bestBlock: before.bestBlock });
  const said = nextEvent(cm.events$, (e) => e.type === 'FundingSpent', { what: 'the standing spend' });
  assert.ok(isCompleted(await cm.watchChannel(back as ChannelMonitor)));
  const e = await said;
  assert.equal(e.type === 'FundingSpent' && e.kind, 'holder-commitment');
  await reopened.close();
});

test('chain state is written again once the best block is far past the last write', async () => {
  const persister = new ScriptedPersister();
  const cm = new ChainMonitor({ persister, bestBlock: TIP, chainPersistIntervalBlocks: 3 });
  await cm.updateChannel((await new ChannelFixture().initialUpdate()).update);
  for (let i = 0; i < 7; i++) await mine(cm);
  // The monitor was written at 100 (created), then at 103 and 106.
  assert.deepEqual(
    persister.writes.map((w) => w.updateId ?? 'whole'),
    ['whole', 'whole', 'whole'],
  );
});

test('a funding spend’s claims leave only once its resolution is written; confirmed, it is done after ANTI_REORG_DELAY and nothing more is sent', async () => {
  const persister = new ScriptedPersister();
  const fx = new ChannelFixture();
  const sent: Transaction[] = [];
  const destination = p2wpkh(fx.holderKeys.walletPublicKey(1n));
  const cm = new ChainMonitor({
    persister,
    bestBlock: TIP,
    broadcaster: {
      async broadcastTransactions(txs) {
        sent.push(...txs.map((raw) => TxClass.fromBuffer(Buffer.from(raw))));
        return txs.map(() => ({ txid: '', accepted: true as const }));
      },
    },
    feeEstimator: { feeratePerKw: () => 253n },
    destinationScript: async () => destination,
    claimSigner: (m) => new ChannelKeysClaimSigner(fx.holderKeys.deriveChannelKeys(m.info.channelKeyIndex)),
  });
  const seen = recorder(cm);
  const first = await fx.initialUpdate();
  await cm.updateChannel(first.update);
  // Their commitment confirms while the disk refuses writes: nothing is broadcast.
  persister.answer = PS.failed('disk full');
  const commitment = first.counterparty.built.tx;
  await mine(cm, [commitment]);
  await cm.settled();
  assert.equal(sent.length, 0, 'no claim before its resolution is on disk');
  const [balance] = cm.claimableBalances();
  assert.equal(balance?.kind, 'counterparty-commitment');
  assert.deepEqual(
    balance?.pending.map((p) => [p.output, p.claimableAtHeight]),
    [['to_remote', 102]],
  );
  // Written at the next block: the to_remote claim goes, to the destination.
  persister.answer = PS.completed();
  await mine(cm);
  await cm.settled();
  assert.equal(sent.length, 1);
  const claim = sent[0] as Transaction;
  assert.deepEqual(new Uint8Array(claim.outs[0]?.script as Uint8Array), destination);
  assert.equal(
    Buffer.from(claim.ins[0]?.hash as Uint8Array)
      .reverse()
      .toString('hex'),
    commitment.getId(),
  );
  assert.equal(seen.filter((e) => e.type === 'ClaimBroadcast').length, 1);
  // Rebroadcast, the same transaction, while unconfirmed; said once.
  await mine(cm);
  await cm.settled();
  assert.deepEqual(
    sent.map((t) => t.getId()),
    [claim.getId(), claim.getId()],
  );
  assert.equal(seen.filter((e) => e.type === 'ClaimBroadcast').length, 1);
  await mine(cm, [claim]);
  const confirmedAt = cm.bestBlock.height;
  assert.deepEqual(
    seen.filter((e) => e.type === 'ClaimConfirmed').map((e) => (e as { byHolder: boolean }).byHolder),
    [true],
  );
  for (let i = 1; i < ANTI_REORG_DELAY - 1; i++) await mine(cm);
  assert.equal(seen.filter((e) => e.type === 'ChannelResolved').length, 0, 'not before 6 confirmations');
  await mine(cm);
  assert.equal(seen.filter((e) => e.type === 'ChannelResolved').length, 1);
  assert.equal(cm.claimableBalances()[0]?.doneAtHeight, confirmedAt + ANTI_REORG_DELAY - 1);
  await mine(cm);
  await cm.settled();
  assert.equal(sent.length, 2, 'nothing sent once confirmed');
  // A reorg deeper than that changes nothing any more.
  await cm.blockDisconnected(header(confirmedAt), confirmedAt);
  assert.equal(cm.claimableBalances()[0]?.pending.length, 0);
  await cm.stop();
});

test('a mutual close has nothing to claim: resolved once ANTI_REORG_DELAY deep, undone with its block before that', async () => {
  const persister = new ScriptedPersister();
  const fx = new ChannelFixture();
  const cm = new ChainMonitor({ persister, bestBlock: TIP });
  const seen = recorder(cm);
  await cm.updateChannel((await fx.initialUpdate()).update);
  // A closing transaction: spends the funding output, none of a commitment's locktime and sequence marks.
  const closing = new TxClass();
  closing.version = 2;
  closing.addInput(Buffer.from(fx.info.fundingOutpoint.txid), fx.info.fundingOutpoint.vout, 0xffffffff);
  closing.addOutput(p2wpkh(fx.holderKeys.walletPublicKey(1n)), 500_000n);
  await mine(cm, [closing]);
  assert.equal(cm.claimableBalances()[0]?.kind, 'mutual-close');
  assert.equal(cm.claimableBalances()[0]?.pending.length, 0);
  await cm.blockDisconnected(header(101), 101);
  assert.deepEqual(cm.claimableBalances(), [], 'the resolution goes with its block');
  await mine(cm, [closing]);
  for (let i = 1; i < ANTI_REORG_DELAY; i++) await mine(cm);
  assert.deepEqual(
    seen.filter((e) => e.type === 'ChannelResolved').map((e) => (e as { height: number }).height),
    [101 + ANTI_REORG_DELAY - 1],
  );
  await cm.stop();
});
