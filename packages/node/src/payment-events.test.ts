/**
 * Payment events persisted until handled, across a crash: a node killed after a payment's
 * outcome was stored but before its PaymentSent reached the event log, and after a claimed HTLC
 * was stored but before its PaymentClaimed did, still has both events when it starts again —
 * in its log, handled by its handler (logged at info), on `since` for a client's replay — and
 * a second start does not raise them again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LmdbPaymentsStore, type PaymentRecord } from '@lnkit/manager';
import { Store } from '@lnkit/store';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { NodeBuilder } from './index.ts';
import { nodeStoreOptions } from './store-schema.ts';
import { nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();

async function withStore<T>(path: string, f: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(path, nodeStoreOptions('regtest'));
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

const HASH = 'cd'.repeat(32);
const PREIMAGE = 'ef'.repeat(32);
const RECEIVED_HASH = '12'.repeat(32);

test('a node killed between a payment record and its event has the event after the restart, handled once', async () => {
  const dataDir = dir('killed-mid-payment');
  const config = nodeConfig(chain(), dataDir);
  const first = await new NodeBuilder(config).withLogger(captureLogger().logger).build();
  await first.stop();
  // What the kill left: the outcome stored, not told (the outbox); a claimed HTLC, its PaymentClaimed not told.
  await withStore(dataDir, async (store) => {
    const books = new LmdbPaymentsStore(store);
    const record: PaymentRecord = {
      paymentId: 'paid-before-the-kill',
      paymentHash: Buffer.from(HASH, 'hex'),
      kind: 'keysend',
      status: 'succeeded',
      amountMsat: 4_000_123n,
      feeMsat: 0n,
      preimage: Buffer.from(PREIMAGE, 'hex'),
      createdAt: 1_700_000_000,
      updatedAt: 1_700_000_001,
      told: false,
    };
    await books.savePayment(record);
    await books.saveReceipt({
      key: `${'ab'.repeat(32)}:3`,
      paymentHash: Buffer.from(RECEIVED_HASH, 'hex'),
      amountMsat: 2_000_000n,
      keysend: true,
      status: 'claimed',
      updatedAt: 1_700_000_002,
    });
  });

  const log = captureLogger();
  const node = await new NodeBuilder(config).withLogger(log.logger).build();
  let seqs: number[];
  try {
    const written = await waitFor(
      async () => {
        const all = await node.events.since(0);
        return all.some((e) => e.kind === 'PaymentClaimed') ? all : undefined;
      },
      { what: 'both events in the log' },
    );
    const sent = written.find((e) => e.kind === 'PaymentSent');
    assert.deepEqual(sent?.data, {
      paymentId: 'paid-before-the-kill',
      paymentHash: HASH,
      amountMsat: '4000123',
      feeMsat: '0',
    });
    const claimed = written.find((e) => e.kind === 'PaymentClaimed');
    assert.deepEqual(claimed?.data, { paymentHash: RECEIVED_HASH, amountMsat: '2000000', keysend: true });
    seqs = [sent?.seq ?? 0, claimed?.seq ?? 0];
    await waitFor(async () => (await node.events.pending()).length === 0, { what: 'the events handled' });
    const line = log.lines.find((l) => l.event === 'PaymentSent');
    assert.ok(line, 'the handler logged it');
    assert.equal(line.level, 30, 'at info');
    assert.match(String(line.msg), /^payment paid-before-the-kill sent: 4000123 msat \(fee 0 msat\)/);
    assert.doesNotMatch(JSON.stringify(log.lines), new RegExp(PREIMAGE), 'no preimage in the log');
    const [payment] = await node.listPayments();
    assert.equal(payment?.status, 'succeeded');
  } finally {
    await node.stop();
  }

  // Told (the outbox emptied at start): a second start raises neither again.
  await withStore(dataDir, async (store) => {
    const books = new LmdbPaymentsStore(store).load();
    assert.equal(books.payments[0]?.told, undefined);
    assert.deepEqual(books.receipts, []);
  });
  const again = await new NodeBuilder(config).withLogger(captureLogger().logger).build();
  try {
    const kinds = (await again.events.since(Math.max(...seqs))).map((e) => e.kind);
    assert.deepEqual(
      kinds.filter((k) => k.startsWith('Payment')),
      [],
    );
  } finally {
    await again.stop();
  }
});
