/**
 * The payments' books: LmdbPaymentsStore keeps payments and invoices across a reopen of the
 * store, exactly; and Payments started on stored books answers a payment id with its stored
 * outcome (no HTLC offered), refuses an id used by another payment and one still in flight from
 * before the restart, naming each — the idempotency a restart must not lose.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { randomBytes, sha256 } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import type { PaymentChannels } from './payments.ts';
import type { StoredInvoice } from './receive.ts';
import { createPayments } from './shell.ts';
import { LmdbPaymentsStore, MemoryPaymentsStore, type PaymentRecord } from './store.ts';

const logger = createRootLogger({ level: 'silent' });
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
/** Regtest's genesis (internal byte order): invoices are lnbcrt. */
const REGTEST = Uint8Array.from(
  Buffer.from('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206', 'hex'),
).reverse();

/** The record without its absent fields (an optional field is absent, not undefined). */
const defined = <T extends object>(v: T | undefined) =>
  Object.fromEntries(Object.entries(v ?? {}).filter(([, x]) => x !== undefined));

/** Channels that must not be used: a stored outcome is answered without any. */
const noChannels = (): PaymentChannels & { commands: number } => {
  const c = {
    commands: 0,
    channelsWith: () => [],
    command: async () => {
      c.commands++;
      return undefined;
    },
    bestHeight: () => 500,
  };
  return c;
};

test('LmdbPaymentsStore: payments and invoices read back exactly after the store is reopened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-payments-store-'));
  dirs.push(dir);
  const preimage = randomBytes(32);
  const succeeded: PaymentRecord = {
    paymentId: 'p1',
    paymentHash: sha256(preimage),
    kind: 'invoice',
    status: 'succeeded',
    amountMsat: 12_345_678_901n,
    feeMsat: 0n,
    preimage,
    bolt11: 'lnbcrt1...',
    createdAt: 1_700_000_000,
    updatedAt: 1_700_000_005,
  };
  const failed: PaymentRecord = {
    paymentId: 'p2',
    paymentHash: randomBytes(32),
    kind: 'keysend',
    status: 'failed',
    amountMsat: 1n,
    feeMsat: 0n,
    reason: 'incorrect_or_unknown_payment_details',
    createdAt: 1_700_000_001,
    updatedAt: 1_700_000_002,
  };
  const anyAmount: StoredInvoice = {
    bolt11: 'lnbcrt1any',
    paymentHash: randomBytes(32),
    paymentPreimage: randomBytes(32),
    paymentSecret: randomBytes(32),
    amountMsat: null,
    expiresAt: 1_700_003_600,
    minFinalCltvExpiryDelta: 18,
    status: 'unpaid',
  };
  const paid: StoredInvoice = {
    ...anyAmount,
    bolt11: 'lnbcrt1paid',
    paymentHash: randomBytes(32),
    amountMsat: 5000n,
    status: 'paid',
    paidAtSeconds: 1_700_000_100,
    receivedMsat: 5001n,
  };
  let store = await Store.open(dir, { schemaVersion: 1 });
  let books = new LmdbPaymentsStore(store);
  await books.savePayment({ ...succeeded, status: 'pending', preimage: undefined });
  await books.savePayment(succeeded);
  await books.savePayment(failed);
  await books.savePayment({ ...failed, paymentId: 'gone' });
  await books.removePayment('gone');
  await books.saveInvoice(anyAmount);
  await books.saveInvoice(paid);
  await store.close();

  store = await Store.open(dir, { schemaVersion: 1 });
  books = new LmdbPaymentsStore(store);
  const { payments, invoices } = books.load();
  const byId = new Map(payments.map((p) => [p.paymentId, p]));
  assert.equal(payments.length, 2);
  assert.deepEqual(defined(byId.get('p1')), succeeded);
  assert.deepEqual(defined(byId.get('p2')), failed);
  const byBolt11 = new Map(invoices.map((i) => [i.bolt11, i]));
  assert.deepEqual(defined(byBolt11.get('lnbcrt1any')), anyAmount);
  assert.deepEqual(defined(byBolt11.get('lnbcrt1paid')), paid);
  await store.close();
});

test('started on stored books: a paid id answers its outcome without an HTLC; another payment under it, or one in flight, is refused', async () => {
  const keys = new KeysManager(randomBytes(32));
  const payee = createPayments({
    keys: new KeysManager(randomBytes(32)),
    chainHash: REGTEST,
    channels: noChannels(),
    logger,
  });
  const first = await payee.createInvoice(10_000n, { description: 'first' });
  const second = await payee.createInvoice(20_000n, { description: 'second' });
  const third = await payee.createInvoice(30_000n, { description: 'third' });
  const preimage = randomBytes(32);
  const books = new MemoryPaymentsStore();
  const stored = (id: string, hashHex: string, status: PaymentRecord['status']): PaymentRecord => ({
    paymentId: id,
    paymentHash: Buffer.from(hashHex, 'hex'),
    kind: 'invoice',
    status,
    amountMsat: 10_000n,
    feeMsat: 0n,
    ...(status === 'succeeded' ? { preimage } : {}),
    createdAt: 1,
    updatedAt: 2,
  });
  await books.savePayment(stored(first.paymentHash, first.paymentHash, 'succeeded'));
  await books.savePayment(stored(third.paymentHash, third.paymentHash, 'pending'));
  const channels = noChannels();
  const payer = createPayments({ keys, chainHash: REGTEST, channels, logger, store: books });

  const again = await payer.sendPayment(first.bolt11);
  assert.deepEqual(again, {
    paymentId: first.paymentHash,
    paymentHash: first.paymentHash,
    status: 'succeeded',
    amountMsat: 10_000n,
    feeMsat: 0n,
    preimage: Buffer.from(preimage).toString('hex'),
  });
  await assert.rejects(payer.sendPayment(second.bolt11, { paymentId: first.paymentHash }), {
    name: 'ManagerError',
    message: new RegExp(`payment id ${first.paymentHash} is already used by another payment`),
  });
  await assert.rejects(payer.sendPayment(third.bolt11), {
    name: 'ManagerError',
    message: /still in flight from before the restart/,
  });
  assert.equal(channels.commands, 0, 'no HTLC offered');
  assert.deepEqual(
    payer.listPayments().map((p) => [p.paymentId, p.status]),
    [
      [first.paymentHash, 'succeeded'],
      [third.paymentHash, 'pending'],
    ],
  );
  // The payee's invoices are in its books, secrets and all, and listInvoices shows none of them.
  const listed = JSON.stringify(payee.listInvoices(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  assert.doesNotMatch(listed, /preimage|secret/i);
});
