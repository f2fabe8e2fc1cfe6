/**
 * Rebuilding a channel at start from its monitor and its snapshot (restore.ts), without
 * threads or sockets: the monitor is the source of truth; a snapshot older than it never makes
 * the channel broadcast; one without a monitor is not resurrected (channel-manager tests);
 * the snapshot record reads back what was written.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyMonitorUpdate, type ChannelMonitor, createMonitor } from '@lnkit/monitor';
import type { ChannelState } from './channel-state.ts';
import { FUNDING_TIMEOUT_BLOCKS } from './config.ts';
import { normalFromChannel } from './htlc/from-channel.ts';
import { decodeNormalState, encodeNormalState } from './htlc/normal-record.ts';
import { restoreChannel } from './restore.ts';
import { decodeChannelSnapshot, encodeChannelSnapshot, snapshotOf } from './snapshot.ts';
import { CHAIN_HASH, openToReady, pair, pump, type Side } from './test-fixtures.ts';

const BEST = { hashHex: '00'.repeat(32), height: 500 };

function monitorOf(side: Side): ChannelMonitor {
  const [first, ...rest] = side.persisted;
  assert.ok(first);
  return rest.reduce(applyMonitorUpdate, createMonitor(first, BEST));
}

async function restore(side: Side, snapshotState: ChannelState | undefined, bestHeight = 510) {
  const snapshot = snapshotState && snapshotOf(snapshotState);
  return restoreChannel({
    monitor: monitorOf(side),
    snapshot: snapshot && decodeChannelSnapshot(encodeChannelSnapshot(snapshot)),
    keys: await side.localKeys(),
    chainHash: CHAIN_HASH,
    bestHeight,
    newAlias: 0xf42400_00beefn,
  });
}

test('a ready channel comes back ready from its snapshot and monitor, waiting for its peer', async () => {
  const { funder, fundee } = await openToReady({ pushMsat: 20_000_000n });
  for (const side of [funder, fundee]) {
    const was = side.state as ChannelState;
    const r = await restore(side, was);
    assert.ok(r.ok, 'resumed');
    const s = r.state;
    assert.equal(s.phase, 'ready');
    assert.equal(s.link, 'disconnected');
    for (const k of [
      'role',
      'counterpartyNodeId',
      'channelId',
      'channelType',
      'fundingSat',
      'pushMsat',
      'confirmation',
      'shortChannelId',
      'localAlias',
      'remoteAlias',
      'channelReadySent',
      'channelReadyReceived',
      'remoteFirstPerCommitmentPoint',
      'remoteNextPerCommitmentPoint',
      'nextMonitorUpdateId',
      'commitments',
      'funding',
      'local',
      'remote',
      'keys',
    ] as const)
      assert.deepEqual(s[k], was[k], `${side.name}: ${k}`);
    assert.deepEqual(r.notes, []);
    assert.deepEqual(
      r.effects.map((e) => e.kind),
      ['watch-funding'],
      'nothing broadcast, nothing sent: it waits for its peer',
    );
  }
});

test('restored on both sides, the channel reestablishes and is ready again; then a cooperative close runs', async () => {
  const { funder, fundee } = await openToReady();
  for (const [side, fill] of [
    [funder, 1],
    [fundee, 2],
  ] as const) {
    // Where each side's close goes: kept by the snapshot.
    const script = Uint8Array.of(0, 20, ...new Uint8Array(20).fill(fill));
    const r = await restore(side, { ...(side.state as ChannelState), localShutdownScript: script });
    assert.ok(r.ok);
    side.state = r.state;
  }
  funder.sent.length = 0;
  fundee.sent.length = 0;
  await funder.input({ kind: 'peer-connected' });
  await fundee.input({ kind: 'peer-connected' });
  await pump(funder, fundee);
  assert.deepEqual(funder.sentKinds(), ['channel_reestablish', 'channel_ready']);
  assert.deepEqual(fundee.sentKinds(), ['channel_reestablish', 'channel_ready']);
  assert.equal(funder.state?.phase, 'ready');
  assert.equal(funder.state?.link, 'connected');
  assert.equal(fundee.state?.localShutdownScript?.[2], 2);
  await funder.input({ kind: 'close', feeratePerKw: 1000 });
  await pump(funder, fundee);
  assert.equal(funder.state?.phase, 'closing');
  assert.ok(funder.state?.close?.closingTxid);
  assert.equal(fundee.state?.close?.closingTxid, funder.state?.close?.closingTxid);
});

test('a snapshot older than the monitor: the commitments are the monitor’s, and nothing is broadcast', async () => {
  const { funder, fundee, chain } = await openToReady();
  const older = { ...(fundee.state as ChannelState), nextMonitorUpdateId: 1n + 0n };
  // An older snapshot (its channel had not yet seen its update 1) is not even written…
  assert.equal(snapshotOf(older), undefined);
  // …so make one that says update 0 and phase awaiting-confirmation.
  const snap = snapshotOf(fundee.state as ChannelState);
  assert.ok(snap);
  const stale = {
    ...snap,
    lastMonitorUpdateId: 0n,
    phase: 'awaiting-confirmation' as const,
    channelReadySent: false,
  };
  const r = restoreChannel({
    monitor: monitorOf(fundee),
    snapshot: stale,
    keys: await fundee.localKeys(),
    chainHash: CHAIN_HASH,
    bestHeight: chain.height,
    newAlias: 1n,
  });
  assert.ok(r.ok);
  assert.match(r.notes.join(' '), /older than the monitor/);
  assert.equal(r.state.phase, 'awaiting-confirmation');
  assert.equal(r.state.nextMonitorUpdateId, 2n, 'from the monitor');
  assert.deepEqual(r.state.commitments?.holder, monitorOf(fundee).holderCommitment);
  assert.ok(!r.effects.some((e) => e.kind === 'broadcast' || e.kind === 'sign-holder-commitment'));
  void funder;
});

test('a monitor that closed the channel (a force close the snapshot never saw): not resumed, nothing broadcast', async () => {
  const { fundee } = await openToReady();
  const snapshotState = fundee.state as ChannelState;
  // The monitor got update 2 (channel-closed) after the snapshot was written.
  fundee.persisted.push({
    channelId: snapshotState.channelId as Uint8Array,
    updateId: 2n,
    steps: [{ kind: 'channel-closed', reason: 'holder-force-closed', broadcastHolderCommitment: true }],
  });
  const r = await restore(fundee, snapshotState);
  assert.ok(!r.ok && r.quiet, 'closed before the restart');
});

test('without a snapshot: rebuilt from the monitor, waiting for the funding, and never timed out on a guess', async () => {
  const { fundee, funder } = await openToReady();
  const r = await restore(fundee, undefined);
  assert.ok(r.ok);
  assert.equal(r.state.phase, 'awaiting-confirmation');
  assert.equal(r.state.confirmationUnknown, true);
  assert.equal(r.state.localAlias, 0xf42400_00beefn, 'a fresh alias');
  assert.match(r.notes.join(' '), /no snapshot/);
  fundee.state = r.state;
  await fundee.input({ kind: 'block-connected', height: 500 + FUNDING_TIMEOUT_BLOCKS + 10 });
  assert.equal(fundee.state?.phase, 'awaiting-confirmation', 'not forgotten');
  void funder;
});

test('a funder restarted after its monitor was durable but before the broadcast: broadcasts, pending again', async () => {
  const { funder, fundee } = await pair();
  funder.persistAnswer = 'in-progress';
  const { accept } = await import('./test-fixtures.ts');
  await accept(fundee);
  await pump(funder, fundee);
  assert.equal(funder.state?.phase, 'awaiting-persist');
  assert.equal(funder.broadcasts.length, 0);
  const r = await restore(funder, funder.state);
  assert.ok(r.ok);
  assert.equal(r.state.phase, 'awaiting-confirmation');
  const kinds = r.effects.map((e) => e.kind);
  assert.deepEqual(kinds, ['watch-funding', 'broadcast', 'event']);
});

test('a force close under way at the restart goes on: the monitor told if it was not, our commitment out again', async () => {
  const { funder } = await openToReady();
  await funder.input({ kind: 'force-close' });
  const s = funder.state as ChannelState;
  assert.ok(s.forceClose?.commitmentTx);
  // Crash after the snapshot was written but before the monitor's channel-closed update.
  funder.persisted.pop();
  const r = await restore(funder, s);
  assert.ok(r.ok);
  assert.equal(r.state.phase, 'closing');
  const persist = r.effects.find((e) => e.kind === 'persist-monitor');
  assert.ok(persist?.kind === 'persist-monitor' && persist.update.updateId === 2n);
  const broadcast = r.effects.find((e) => e.kind === 'broadcast');
  assert.ok(broadcast?.kind === 'broadcast' && broadcast.what === 'commitment');
  assert.deepEqual(broadcast.tx, s.forceClose.commitmentTx);
});

test('a snapshot for another funding than the monitor’s is ignored: rebuilt from the monitor alone', async () => {
  const { funder } = await openToReady();
  const snap = snapshotOf(funder.state as ChannelState);
  assert.ok(snap);
  const r = restoreChannel({
    monitor: monitorOf(funder),
    snapshot: { ...snap, fundingOutpoint: { ...snap.fundingOutpoint, vout: snap.fundingOutpoint.vout + 1 } },
    keys: await funder.localKeys(),
    chainHash: CHAIN_HASH,
    bestHeight: 510,
    newAlias: 5n,
  });
  assert.ok(r.ok);
  assert.equal(r.state.phase, 'awaiting-confirmation');
  assert.match(r.notes.join(' '), /another funding outpoint/);
});

test('a monitor that saw the funding spent, the snapshot not knowing: not resumed, said as a close, nothing broadcast', async () => {
  const { funder } = await openToReady();
  const monitor = monitorOf(funder);
  const spent: ChannelMonitor = {
    ...monitor,
    fundingSpend: {
      kind: 'counterparty-commitment',
      txidHex: 'cd'.repeat(32),
      height: 520,
      blockHashHex: 'ee'.repeat(32),
      irrevocable: false,
      claimableOutputs: [],
    },
  };
  const snapshot = snapshotOf(funder.state as ChannelState);
  const r = restoreChannel({
    monitor: spent,
    snapshot,
    keys: await funder.localKeys(),
    chainHash: CHAIN_HASH,
    bestHeight: 530,
    newAlias: 1n,
  });
  assert.ok(!r.ok && !r.quiet);
  assert.deepEqual(r.reason, { kind: 'funding-spent', spendingTxid: 'cd'.repeat(32) });
});

test('after payments (commitments moved on, no HTLC in flight): normal operation resumes at the monitor’s numbers with the snapshot’s HTLC ids and peer point', async () => {
  const { funder } = await openToReady();
  const monitor = monitorOf(funder);
  const theirs = monitor.counterpartyCommitments[0];
  assert.ok(theirs);
  const moved: ChannelMonitor = {
    ...monitor,
    holderCommitment: { ...monitor.holderCommitment, commitmentNumber: 4n },
    counterpartyCommitments: [{ ...theirs, commitmentNumber: 5n }],
  };
  const snap = snapshotOf(funder.state as ChannelState);
  assert.ok(snap);
  const base = {
    monitor: moved,
    keys: await funder.localKeys(),
    chainHash: CHAIN_HASH,
    bestHeight: 510,
    newAlias: 1n,
  };
  const without = restoreChannel({ ...base, snapshot: snap });
  assert.ok(
    !without.ok && without.reason.kind === 'not-resumed',
    'without the peer’s next point it is not guessed',
  );
  const point = (await funder.localKeys()).perCommitmentPoints[1];
  const r = restoreChannel({
    ...base,
    snapshot: {
      ...snap,
      normal: { nextOfferedId: 7n, nextReceivedId: 3n, remoteNextPerCommitmentPoint: point },
    },
  });
  assert.ok(r.ok);
  const n = r.state.normal;
  assert.equal(n?.ledger.nextOfferedId, 7n);
  assert.equal(n?.ledger.nextReceivedId, 3n);
  assert.equal(n?.commitments.holder.number, 4n);
  assert.equal(n?.commitments.counterparty.number, 5n);
  assert.deepEqual(n?.commitments.counterparty.nextPerCommitmentPoint, point);
  assert.deepEqual(n?.commitments.counterparty.secrets, moved.commitmentSecrets);
  assert.equal(n?.link, 'disconnected');
  assert.ok(!r.effects.some((e) => e.kind === 'broadcast'));
});

test('the snapshot record: version 2 carries the whole NormalState; a version-1 snapshot still reads, and resumes as before', async () => {
  const { funder } = await openToReady();
  const state = funder.state as ChannelState;
  const normal = normalFromChannel(state);
  const v2 = snapshotOf({ ...state, normal });
  assert.ok(v2?.normalState);
  const bytes = encodeChannelSnapshot(v2);
  assert.equal(bytes[0], 2, 'written by version 2');
  const back = decodeChannelSnapshot(bytes);
  assert.deepEqual(back.normalState, v2.normalState);
  assert.deepEqual(
    encodeNormalState(decodeNormalState(back.normalState as Uint8Array, normal.params)),
    v2.normalState,
  );
  // What version 1 wrote: no normalState (its header says 1).
  const v1 = encodeChannelSnapshot({ ...v2, normalState: undefined });
  v1[0] = 1;
  const old = decodeChannelSnapshot(v1);
  assert.equal(old.normalState, undefined);
  assert.equal(old.normal?.nextOfferedId, 0n);
  const r = await restore(funder, state);
  assert.ok(r.ok, 'a version-1 snapshot of a channel without HTLCs resumes as before');
});

test('a version-2 snapshot behind its monitor (a snapshot write that failed): not resumed, nothing broadcast', async () => {
  const { funder } = await openToReady();
  const state = funder.state as ChannelState;
  const snap = snapshotOf({ ...state, normal: normalFromChannel(state) });
  assert.ok(snap?.normalState);
  const monitor = monitorOf(funder);
  const r = restoreChannel({
    monitor: { ...monitor, latestUpdateId: monitor.latestUpdateId + 3n },
    snapshot: decodeChannelSnapshot(encodeChannelSnapshot(snap)),
    keys: await funder.localKeys(),
    chainHash: CHAIN_HASH,
    bestHeight: 510,
    newAlias: 1n,
  });
  assert.ok(!r.ok && !r.quiet && r.reason.kind === 'not-resumed');
  assert.match(r.reason.message, /past the snapshot/);
  // And the same snapshot with its monitor: resumed, disconnected, nothing broadcast.
  const ok = restoreChannel({
    monitor,
    snapshot: decodeChannelSnapshot(encodeChannelSnapshot(snap)),
    keys: await funder.localKeys(),
    chainHash: CHAIN_HASH,
    bestHeight: 510,
    newAlias: 1n,
  });
  assert.ok(ok.ok);
  assert.equal(ok.state.normal?.link, 'disconnected');
  assert.ok(!ok.effects.some((e) => e.kind === 'broadcast'));
});

test('a version-2 snapshot whose HTLC state does not read: not resumed, said, nothing broadcast', async () => {
  const { funder } = await openToReady();
  const state = funder.state as ChannelState;
  const snap = snapshotOf({ ...state, normal: normalFromChannel(state) });
  assert.ok(snap?.normalState);
  const r = restoreChannel({
    monitor: monitorOf(funder),
    snapshot: { ...snap, normalState: snap.normalState.subarray(0, 9) },
    keys: await funder.localKeys(),
    chainHash: CHAIN_HASH,
    bestHeight: 510,
    newAlias: 1n,
  });
  assert.ok(!r.ok && !r.quiet && r.reason.kind === 'not-resumed');
  assert.match(r.reason.message, /does not read/);
});
