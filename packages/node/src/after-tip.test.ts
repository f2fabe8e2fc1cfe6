/**
 * Step 15's order: each listener is fed on its own subscription, but a block reaches the
 * others only once the tip has handled it; one that fails stops only itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BlockData, type ChainEvent, type ChainListener, subscribeListener } from '@lnkit/chain-sync';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { Subject, share } from 'rxjs';
import { AfterTip } from './after-tip.ts';

const header = (height: number) => ({
  hashHex: height.toString(16).padStart(64, '0'),
  prevHashHex: (height - 1).toString(16).padStart(64, '0'),
  height,
  header: new Uint8Array(80),
  time: 0,
});
const connected = (height: number): ChainEvent => ({
  type: 'blockConnected',
  header: header(height),
  height,
  txdata: [],
});

/** A listener that records what it was given, and holds each block until the test releases it. */
function gated(name: string, log: string[], opts: { hold?: boolean; failAt?: number } = {}) {
  const held: (() => void)[] = [];
  const listener: ChainListener = {
    async blockConnected(_b: BlockData, height: number) {
      if (opts.hold) await new Promise<void>((go) => held.push(go));
      if (height === opts.failAt) throw new Error(`${name} fails at ${height}`);
      log.push(`${name} ${height}`);
    },
    blockDisconnected() {},
  };
  return { listener, held };
}

test('the others get a block only once the tip has handled it, in stream order', async () => {
  const log: string[] = [];
  const stream = new Subject<ChainEvent>();
  const events$ = stream.pipe(share());
  const order = new AfterTip();
  const logger = captureLogger().logger;
  const tip = gated('tip', log, { hold: true });
  const wallet = gated('wallet', log);
  const monitor = gated('monitor', log);
  const subs = [
    subscribeListener(events$, order.leader(tip.listener), logger),
    subscribeListener(events$, order.follower(wallet.listener), logger),
    subscribeListener(events$, order.follower(monitor.listener), logger),
  ];
  stream.next(connected(1));
  stream.next(connected(2));
  await waitFor(() => tip.held.length === 1, { what: 'the tip to hold block 1' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, [], 'nothing before the tip has block 1');
  tip.held.shift()?.();
  await waitFor(() => log.length === 3 || undefined, { what: 'block 1 everywhere' });
  await waitFor(() => tip.held.length === 1, { what: 'the tip to hold block 2' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([...log].sort(), ['monitor 1', 'tip 1', 'wallet 1'], 'block 2 waits for the tip');
  assert.equal(log[0], 'tip 1');
  tip.held.shift()?.();
  await waitFor(() => log.length === 6 || undefined, { what: 'block 2 everywhere' });
  assert.equal(log[3], 'tip 2');
  for (const s of subs) s.unsubscribe();
});

test('a follower that fails stops only itself; the tip and the others go on', async () => {
  const log: string[] = [];
  const stream = new Subject<ChainEvent>();
  const events$ = stream.pipe(share());
  const order = new AfterTip();
  const logger = captureLogger({ level: 'silent' }).logger;
  const failed: string[] = [];
  const tip = gated('tip', log);
  const wallet = gated('wallet', log, { failAt: 2 });
  const monitor = gated('monitor', log);
  const subs = [
    subscribeListener(events$, order.leader(tip.listener), logger),
    subscribeListener(events$, order.follower(wallet.listener), logger, () => failed.push('wallet')),
    subscribeListener(events$, order.follower(monitor.listener), logger),
  ];
  for (const h of [1, 2, 3]) stream.next(connected(h));
  await waitFor(() => log.includes('monitor 3') || undefined, { what: 'the monitor to reach block 3' });
  assert.deepEqual(failed, ['wallet']);
  assert.ok(log.includes('tip 3'));
  assert.ok(!log.includes('wallet 2') && !log.includes('wallet 3'));
  for (const s of subs) s.unsubscribe();
});
