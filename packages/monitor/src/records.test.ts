import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreError } from '@lnkit/store';
import { concatBytes, encodeBigSize, writeTlvStream } from '@lnkit/wire';
import { monitorBlockConnected } from './chain.ts';
import { applyMonitorUpdate, createMonitor } from './monitor.ts';
import { decodeMonitor, decodeMonitorUpdate, encodeMonitor, encodeMonitorUpdate } from './records.ts';
import { ChannelFixture, historyUpdates } from './test-fixtures.ts';
import type { ChannelMonitor, ChannelMonitorUpdate } from './types.ts';

/** Plain bytes everywhere, so Buffer and Uint8Array views of the same bytes compare equal. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

async function busyMonitor(): Promise<{ monitor: ChannelMonitor; updates: ChannelMonitorUpdate[] }> {
  const fx = new ChannelFixture({ channelType: 'anchors_zero_fee_htlc_tx' });
  const { update, counterparty } = await fx.initialUpdate();
  const updates = [update, ...(await historyUpdates(fx, 9))];
  let monitor = createMonitor(update, fx.bestBlock);
  for (const u of updates.slice(1)) monitor = applyMonitorUpdate(monitor, u);
  monitor = applyMonitorUpdate(monitor, {
    channelId: fx.info.channelId,
    updateId: monitor.latestUpdateId + 1n,
    steps: [{ kind: 'channel-closed', reason: 'holder-force-closed', broadcastHolderCommitment: true }],
  });
  // A revoked commitment seen on chain: the funding spend with its claims is part of the record.
  monitor = monitorBlockConnected(monitor, { hashHex: 'ab'.repeat(32), prevHashHex: '00'.repeat(32) }, 101, [
    counterparty.built.tx,
  ]).monitor;
  return { monitor, updates };
}

test('a monitor with commitments, HTLCs, secrets, preimages, a close and a spend reads back as written', async () => {
  const { monitor } = await busyMonitor();
  assert.equal(monitor.fundingSpend?.kind, 'counterparty-revoked-commitment');
  assert.ok(monitor.revokedCounterpartyHtlcs.length > 0);
  const bytes = encodeMonitor(monitor);
  assert.deepEqual(Array.from(bytes.subarray(0, 2)), [1, 1], 'written by version 1, readable from version 1');
  assert.deepEqual(plain(decodeMonitor(bytes)), plain(monitor));
});

test('every update step kind reads back as written', async () => {
  const { updates } = await busyMonitor();
  const closed: ChannelMonitorUpdate = {
    channelId: updates[0]?.channelId as Uint8Array,
    updateId: 99n,
    steps: [
      { kind: 'channel-closed', reason: 'counterparty-force-closed', broadcastHolderCommitment: false },
      { kind: 'payment-preimage', paymentPreimage: new Uint8Array(32).fill(7) },
    ],
  };
  const kinds = new Set<string>();
  for (const u of [...updates, closed]) {
    for (const s of u.steps) kinds.add(s.kind);
    assert.deepEqual(plain(decodeMonitorUpdate(encodeMonitorUpdate(u))), plain(u));
  }
  assert.deepEqual([...kinds].sort(), [
    'channel-closed',
    'channel-opened',
    'commitment-secret',
    'counterparty-commitment',
    'holder-commitment',
    'payment-preimage',
  ]);
});

test('a record from a newer lnkit is refused naming the kind and both versions', async () => {
  const { monitor, updates } = await busyMonitor();
  const newer = encodeMonitor(monitor);
  newer[0] = 3;
  newer[1] = 2;
  assert.throws(
    () => decodeMonitor(newer),
    (e: unknown) =>
      e instanceof StoreError &&
      e.code === 'record-too-new' &&
      /channel-monitor record written by version 3 needs a reader of version 2 or newer; this lnkit reads up to version 1/.test(
        e.message,
      ),
  );
  const update = encodeMonitorUpdate(updates[1] as ChannelMonitorUpdate);
  update[0] = 2;
  update[1] = 2;
  assert.throws(
    () => decodeMonitorUpdate(update),
    (e: unknown) =>
      e instanceof StoreError &&
      e.code === 'record-too-new' &&
      /channel-monitor-update record/.test(e.message),
  );
});

test('an update step of a kind this lnkit does not know (even type) is refused, an odd one cannot stand alone', () => {
  const record = (stepBody: Uint8Array) =>
    concatBytes(
      Uint8Array.of(1, 1),
      writeTlvStream([
        { type: 0n, value: new Uint8Array(32) },
        { type: 2n, value: new Uint8Array(8).fill(0).map((_, i) => (i === 7 ? 5 : 0)) },
        { type: 4n, value: concatBytes(encodeBigSize(stepBody.length), stepBody) },
      ]),
    );
  // A future step kind at type 12 in the step envelope.
  const unknownEven = writeTlvStream([{ type: 12n, value: Uint8Array.of(1) }]);
  assert.throws(
    () => decodeMonitorUpdate(record(unknownEven)),
    (e: unknown) => e instanceof StoreError && e.code === 'record-unknown-required-field',
  );
  const unknownOdd = writeTlvStream([{ type: 13n, value: Uint8Array.of(1) }]);
  assert.throws(
    () => decodeMonitorUpdate(record(unknownOdd)),
    (e: unknown) =>
      e instanceof StoreError && e.code === 'record-malformed' && /holds 0 kinds/.test(e.message),
  );
  const preimage = writeTlvStream([
    { type: 10n, value: new Uint8Array(32).fill(1) },
    { type: 13n, value: Uint8Array.of(1) },
  ]);
  const u = decodeMonitorUpdate(record(preimage));
  assert.equal(u.updateId, 5n);
  assert.deepEqual(
    u.steps.map((s) => s.kind),
    ['payment-preimage'],
    'the odd field beside it is skipped',
  );
});

test('cut or damaged records are StoreErrors, never anything else', async () => {
  const { monitor } = await busyMonitor();
  const bytes = encodeMonitor(monitor);
  for (const cut of [0, 1, 2, 10, bytes.length >> 1, bytes.length - 1]) {
    assert.throws(
      () => decodeMonitor(bytes.subarray(0, cut)),
      (e: unknown) => e instanceof StoreError && e.code === 'record-malformed',
      `cut at ${cut}`,
    );
  }
});
