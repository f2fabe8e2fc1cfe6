import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootLogger } from '@lnkit/runtime';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { of, Subject } from 'rxjs';
import type { BlockHeaderData, BlockSource } from './block-source.ts';
import { ChainSyncError } from './errors.ts';
import { type ChainEvent, ChainPoller, subscribeListener } from './poller.ts';

const header = (height: number): BlockHeaderData => ({
  hashHex: height.toString(16).padStart(64, '0'),
  prevHashHex: (height - 1).toString(16).padStart(64, '0'),
  height,
  header: new Uint8Array(80),
  time: height,
});
const connected = (height: number): ChainEvent => ({
  type: 'blockConnected',
  header: header(height),
  height,
  txdata: [],
});

test('a listener that throws is not fed again (no skipped block), is reported, and the stream goes on', async () => {
  const { logger, waitForLine } = captureLogger({ level: 'info' });
  const events = new Subject<ChainEvent>();
  const seenByFailing: number[] = [];
  const seenByOther: number[] = [];
  const failures: { height: number; type: string }[] = [];
  const failing = subscribeListener(
    events,
    {
      async blockConnected(_block, height) {
        seenByFailing.push(height);
        if (height === 2) throw new Error('disk full');
      },
      blockDisconnected() {},
    },
    logger,
    (_err, at) => failures.push({ height: at.height, type: at.type }),
  );
  subscribeListener(
    events,
    {
      blockConnected: (_block, height) => void seenByOther.push(height),
      blockDisconnected: (_header, height) => void seenByOther.push(-height),
    },
    logger,
  );
  for (const h of [1, 2, 3]) events.next(connected(h));
  events.next({ type: 'blockDisconnected', header: header(3), height: 3 });
  events.next({ type: 'progress', height: 2, tipHeight: 2, synced: true });
  await waitFor(() => failures.length > 0, { what: 'the failure to be reported' });
  assert.ok(failing.closed, 'the failing listener is unsubscribed once it has failed');
  // The stream goes on: once the other listener has a later block, so would the failing one.
  events.next(connected(3));
  await waitFor(() => seenByOther.at(-1) === 3, { what: 'the other listener to see block 3 again' });
  assert.deepEqual(seenByFailing, [1, 2], 'nothing after the block it failed on');
  assert.deepEqual(failures, [{ height: 2, type: 'blockConnected' }]);
  assert.deepEqual(seenByOther, [1, 2, 3, -3, 3], 'the other listener is not affected');
  const error = await waitForLine((l) => l.level === 50, { what: 'the error line' });
  assert.equal(error.height, 2);
  assert.match(String(error.msg), /failed on blockConnected at height 2.*must be resynchronized/);
});

test('a stream that replays synchronously and a listener that throws synchronously: still reported, no crash', () => {
  const logger = createRootLogger({ level: 'silent' });
  const failures: number[] = [];
  const sub = subscribeListener(
    of(connected(7), connected(8)),
    {
      blockConnected() {
        throw new Error('boom');
      },
      blockDisconnected() {},
    },
    logger,
    (_err, at) => failures.push(at.height),
  );
  assert.deepEqual(failures, [7]);
  assert.ok(sub.closed);
});

test('a new tip is reported as not synced before its blocks are fetched, so a fetch that fails part-way leaves synced false', async () => {
  const { logger } = captureLogger({ level: 'info' });
  const headers = [0, 1, 2, 3].map(header);
  let tipHeight = 1;
  let failFetches = false;
  const source: BlockSource = {
    description: 'fake',
    getBestBlock: async () => ({ hashHex: headers[tipHeight]!.hashHex, height: tipHeight }),
    getHeader: async (hashHex) => headers.find((h) => h.hashHex === hashHex)!,
    getBlock: async (hashHex) => {
      if (failFetches) throw new ChainSyncError('unreachable', 'EMFILE');
      return { header: headers.find((h) => h.hashHex === hashHex)!, txdata: [] };
    },
  };
  const poller = new ChainPoller(source, { logger, start: { hashHex: headers[1]!.hashHex, height: 1 } });
  const progress: { height: number; tipHeight: number; synced: boolean }[] = [];
  poller.events$.subscribe((e) => {
    if (e.type === 'progress') progress.push({ height: e.height, tipHeight: e.tipHeight, synced: e.synced });
  });
  await poller.pollOnce();
  assert.deepEqual(progress.at(-1), { height: 1, tipHeight: 1, synced: true });
  tipHeight = 3;
  failFetches = true;
  await assert.rejects(poller.pollOnce());
  assert.deepEqual(progress.at(-1), { height: 1, tipHeight: 3, synced: false });
  failFetches = false;
  await poller.pollOnce();
  assert.deepEqual(progress.at(-1), { height: 3, tipHeight: 3, synced: true });
});
