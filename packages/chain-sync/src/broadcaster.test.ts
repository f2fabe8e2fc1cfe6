import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootLogger } from '@lnkit/runtime';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { Transaction } from 'bitcoinjs-lib';
import type { BlockHeaderData } from './block-source.ts';
import { BitcoindBroadcaster } from './broadcaster.ts';
import { ChainSyncError } from './errors.ts';
import { ManualScheduler } from './manual-scheduler.ts';
import type { JsonRpc } from './rpc-client.ts';

const logger = createRootLogger({ level: 'silent' });

function tx(n: number): Transaction {
  const t = new Transaction();
  t.addInput(new Uint8Array(32).fill(n), 0);
  t.addOutput(new Uint8Array([0x51]), 1000n);
  return t;
}

/** sendrawtransaction answers from `reply`; every call is recorded. */
function fakeRpc(reply: (hex: string) => string | ChainSyncError): JsonRpc & { sent: string[] } {
  const sent: string[] = [];
  return {
    url: 'http://127.0.0.1:1',
    sent,
    async call<T>(method: string, params: unknown[] = []): Promise<T> {
      assert.equal(method, 'sendrawtransaction');
      const hex = params[0] as string;
      sent.push(hex);
      const r = reply(hex);
      if (r instanceof ChainSyncError) throw r;
      return r as T;
    },
  };
}

const header = {} as BlockHeaderData;

test('pending until seen in a block; pending again if that block is disconnected', async () => {
  const a = tx(1);
  const rpc = fakeRpc(() => a.getId());
  const b = new BitcoindBroadcaster(rpc, { logger });
  assert.deepEqual(await b.broadcastTransactions([a.toBuffer()]), [{ txid: a.getId(), accepted: true }]);
  assert.deepEqual(b.pending, [a.getId()]);
  await b.rebroadcastPending();
  assert.equal(rpc.sent.length, 2);
  b.blockConnected({ header, txdata: [tx(9), a] }, 10);
  assert.deepEqual(b.pending, []);
  await b.rebroadcastPending();
  assert.equal(rpc.sent.length, 2, 'a confirmed transaction is not sent again');
  b.blockDisconnected(header, 10);
  assert.deepEqual(b.pending, [a.getId()]);
});

test("reports the source's rejection; 'already in chain' stops the rebroadcast; undecodable bytes do not throw", async () => {
  const a = tx(2);
  let answer: ChainSyncError = new ChainSyncError('rpc-error', 'min relay fee not met', -26);
  const b = new BitcoindBroadcaster(
    fakeRpc(() => answer),
    { logger },
  );
  assert.deepEqual(await b.broadcastTransactions([a.toBuffer()]), [
    { txid: a.getId(), accepted: false, rpcCode: -26, reason: 'min relay fee not met' },
  ]);
  assert.deepEqual(b.pending, [a.getId()], 'kept: the reason may pass (fees fall, a parent confirms)');
  answer = new ChainSyncError('rpc-error', 'Transaction already in block chain', -27);
  await b.rebroadcastPending();
  assert.deepEqual(b.pending, []);
  const [bad] = await b.broadcastTransactions([new Uint8Array([1, 2, 3])]);
  assert.equal(bad?.accepted, false);
});

test('start() rebroadcasts on every round of its interval until the transaction is seen in a block', async () => {
  const a = tx(3);
  const rpc = fakeRpc(() => a.getId());
  const scheduler = new ManualScheduler();
  const b = new BitcoindBroadcaster(rpc, { logger, rebroadcastIntervalMs: 20, scheduler });
  await b.broadcastTransactions([a.toBuffer()]);
  b.start();
  b.start();
  assert.deepEqual(
    scheduler.intervalsMs,
    [20],
    'one timer, on the configured interval, however often started',
  );
  await scheduler.tick();
  await scheduler.tick();
  assert.equal(rpc.sent.length, 3, 'the first send, then one per round');
  assert.ok(rpc.sent.every((hex) => hex === Buffer.from(a.toBuffer()).toString('hex')));
  b.blockConnected({ header, txdata: [a] }, 5);
  await scheduler.tick();
  await scheduler.tick();
  assert.equal(rpc.sent.length, 3, 'rounds went on, but a confirmed transaction is not sent again');
  b.blockDisconnected(header, 5);
  await scheduler.tick();
  assert.equal(rpc.sent.length, 4, 'reorged out: rebroadcast on the next round');
  b.stop();
  assert.deepEqual(scheduler.intervalsMs, [], 'stop() cancels the rounds');
});

test('start() with real timers rebroadcasts by itself', async () => {
  const a = tx(5);
  const rpc = fakeRpc(() => a.getId());
  const b = new BitcoindBroadcaster(rpc, { logger, rebroadcastIntervalMs: 5 });
  await b.broadcastTransactions([a.toBuffer()]);
  b.start();
  try {
    await waitFor(() => rpc.sent.length >= 3, { what: 'two rebroadcast rounds' });
  } finally {
    b.stop();
  }
});

test('a source that is down is not a rejection: logged as such, the transaction stays pending', async () => {
  const a = tx(4);
  const { logger: capture, lines } = captureLogger({ level: 'info' });
  let down = true;
  const rpc = fakeRpc(() =>
    down
      ? new ChainSyncError('unreachable', 'cannot reach http://127.0.0.1:1 for sendrawtransaction')
      : a.getId(),
  );
  const b = new BitcoindBroadcaster(rpc, { logger: capture });
  const [result] = await b.broadcastTransactions([a.toBuffer()]);
  assert.equal(result?.accepted, false);
  assert.deepEqual(b.pending, [a.getId()]);
  assert.match(String(lines[0]?.msg), /not sent, http:\/\/127\.0\.0\.1:1 is unavailable .*will rebroadcast/);
  assert.equal(lines[0]?.transient, true);
  down = false;
  assert.deepEqual(await b.rebroadcastPending(), [{ txid: a.getId(), accepted: true }]);
});
