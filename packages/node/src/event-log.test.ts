/**
 * The durable event log on its own: seqs in order across reopenings, pending until handled,
 * an event written but not handled before a "crash" (the store closed) pending again after,
 * replay from a seq, the handled ones pruned beyond the limit, and a node that starts on a data
 * dir with an unhandled event handles it first.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '@lnkit/store';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { firstValueFrom } from 'rxjs';
import { NodeEventLog } from './event-log.ts';
import { NodeBuilder, NodeError } from './index.ts';
import { nodeStoreOptions } from './store-schema.ts';
import { gateWrites, nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();

async function withStore<T>(path: string, f: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(path, nodeStoreOptions('regtest'));
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

test('an event is durable before stream$ hears of it, stays pending until handled, and survives a crash unhandled', async () => {
  const path = mkdtempSync(join(tmpdir(), 'lnkit-events-'));
  try {
    await withStore(path, async (store) => {
      const log = new NodeEventLog(store, { now: () => new Date('2026-12-01T10:00:00.000Z') });
      const live = firstValueFrom(log.stream$);
      const first = await log.append('ChannelPending', {
        channelId: 'ab'.repeat(32),
        isFunder: true,
        vout: 1,
      });
      assert.deepEqual(first, {
        seq: 1,
        at: '2026-12-01T10:00:00.000Z',
        kind: 'ChannelPending',
        data: { channelId: 'ab'.repeat(32), isFunder: true, vout: 1 },
      });
      assert.deepEqual(await live, first);
      // On disk by the time stream$ had it: another reader of the same store sees it.
      assert.deepEqual(await new NodeEventLog(store).pending(), [first]);
      await log.append('ChannelReady', {
        channelId: 'ab'.repeat(32),
        localBalanceMsat: '990000000',
        remoteAlias: null,
      });
      await log.handled(1);
      assert.deepEqual(
        (await log.pending()).map((e) => e.seq),
        [2],
      );
      // "Crash": the store closes with event 2 unhandled.
    });
    await withStore(path, async (store) => {
      const log = new NodeEventLog(store);
      const pending = await log.pending();
      assert.deepEqual(
        pending.map((e) => [e.seq, e.kind, e.data.localBalanceMsat]),
        [[2, 'ChannelReady', '990000000']],
      );
      const third = await log.append('ChannelClosed', { reason: 'cooperative' });
      assert.equal(third.seq, 3, 'seq goes on from the last one written');
      assert.deepEqual(
        (await log.since(1)).map((e) => e.seq),
        [2, 3],
      );
      assert.deepEqual(
        (await log.since(0)).map((e) => e.seq),
        [1, 2, 3],
        'handled ones stay for replay',
      );
      await assert.rejects(log.handled(9), /no event 9 in the log \(the last is 3\)/);
      await assert.rejects(log.since(-1), /seq must be a whole number/);
    });
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
});

test('handled events beyond the limit are pruned, oldest first; unhandled ones never', async () => {
  const path = mkdtempSync(join(tmpdir(), 'lnkit-events-'));
  try {
    await withStore(path, async (store) => {
      const log = new NodeEventLog(store, { keepHandled: 2 });
      for (let i = 0; i < 5; i++) await log.append('E', { i });
      for (const seq of [1, 3, 4, 5]) await log.handled(seq);
      assert.deepEqual(
        (await log.since(0)).map((e) => e.seq),
        [2, 4, 5],
        '1 and 3 pruned; 2 still pending',
      );
      await log.handled(1); // pruned already: no error
      await log.handled(2);
      assert.deepEqual(
        (await new NodeEventLog(store, { keepHandled: 2 }).since(0)).map((e) => e.seq),
        [4, 5],
      );
    });
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
});

test('a node started on a data dir with an event left unhandled by a crash handles it at start, logged at info', async () => {
  const dataDir = dir('crashed');
  const config = nodeConfig(chain(), dataDir);
  const first = await new NodeBuilder(config).withLogger(captureLogger().logger).build();
  await first.stop();
  const written = await withStore(dataDir, (store) =>
    new NodeEventLog(store).append('ChannelReady', {
      channelId: 'cd'.repeat(32),
      peer: `02${'11'.repeat(32)}`,
      shortChannelId: '500x1x0',
    }),
  );

  const log = captureLogger();
  const node = await new NodeBuilder(config).withLogger(log.logger).build();
  try {
    await waitFor(async () => (await node.events.pending()).length === 0, { what: 'the event handled' });
    assert.deepEqual(await node.events.since(written.seq - 1), [written]);
    const line = log.lines.find((l) => l.event === 'ChannelReady');
    assert.ok(line, 'the handler logged it');
    assert.equal(line.level, 30, 'at info');
    assert.equal(line.seq, written.seq);
    assert.match(String(line.msg), /^channel (cd){32} with 02(11){32} is ready \(500x1x0\)$/);
  } finally {
    await node.stop();
  }
});

test('an event waits out a disk that refuses its write, and a node stopping meanwhile gives it up rather than hang', async () => {
  const dataDir = dir('full-disk');
  const store = await Store.open(dataDir, nodeStoreOptions('regtest'));
  try {
    const gate = gateWrites(store, 'events');
    const node = await new NodeBuilder(nodeConfig(chain(), dataDir))
      .withLogger(captureLogger().logger)
      .withStore(store)
      .build();
    gate.mode = 'fail';
    const written = (node.events as NodeEventLog).append('ChannelReady', { channelId: 'ef'.repeat(32) });
    await waitFor(async () => (await node.info()).faults.some((f) => f.kind === 'storage-unavailable'), {
      what: 'storage shown unavailable',
    });
    assert.ok(gate.refused >= 1);
    await node.stop();
    await assert.rejects(written, (e: Error) => e instanceof NodeError && e.code === 'not-running');
  } finally {
    await store.close();
  }
});
