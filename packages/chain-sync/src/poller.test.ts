import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootLogger } from '@lnkit/runtime';
import { of, Subject } from 'rxjs';
import type { BlockHeaderData } from './block-source.ts';
import { type ChainEvent, subscribeListener } from './poller.ts';

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
  const lines: Record<string, unknown>[] = [];
  const logger = createRootLogger({
    level: 'info',
    destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
  });
  const events = new Subject<ChainEvent>();
  const seenByFailing: number[] = [];
  const seenByOther: number[] = [];
  const failures: { height: number; type: string }[] = [];
  subscribeListener(
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
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seenByFailing, [1, 2], 'nothing after the block it failed on');
  assert.deepEqual(failures, [{ height: 2, type: 'blockConnected' }]);
  assert.deepEqual(seenByOther, [1, 2, 3, -3], 'the other listener is not affected');
  const error = lines.find((l) => l.level === 50);
  assert.equal(error?.height, 2);
  assert.match(String(error?.msg), /failed on blockConnected at height 2.*must be resynchronized/);
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
