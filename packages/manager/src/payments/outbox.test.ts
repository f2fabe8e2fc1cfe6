/**
 * The payment events as durable as the channel events, across crashes (lmdb books, no
 * channel core: the channel's HTLC events are given by hand, as a restored channel gives them):
 * - each event is awaited in the sink before what follows from it (the fulfil, the caller's outcome);
 * - a payer killed with its payment pending ends it once when the restored channel settles it;
 *   killed again after the outcome is stored but before PaymentSent is durable, the next start
 *   tells PaymentSent once, and the id answers the outcome without an HTLC;
 * - a payee killed after claiming an HTLC, before it settled: the restored channel's settlement
 *   marks the invoice paid and raises PaymentClaimed once (no second PaymentClaimable); killed
 *   after the claim is stored but before PaymentClaimed is durable, the next start tells it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import type { ChannelInput, ChannelState } from '../channel-state.ts';
import type { HtlcEvent } from '../htlc/index.ts';
import type { PaymentChannels, PaymentEvent } from './payments.ts';
import { createPayments } from './shell.ts';
import { LmdbPaymentsStore } from './store.ts';

const logger = createRootLogger({ level: 'silent' });
const dirs: string[] = [];
const stores: Store[] = [];
after(async () => {
  for (const s of stores) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
/** Regtest's genesis (internal byte order): invoices are lnbcrt. */
const REGTEST = Uint8Array.from(
  Buffer.from('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206', 'hex'),
).reverse();
const CHANNEL = 7;
const CHANNEL_ID = 'ab'.repeat(32);

async function openStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-payments-outbox-'));
  dirs.push(dir);
  const store = await Store.open(dir, { schemaVersion: 1 });
  stores.push(store);
  return store;
}

/** One ready channel to `peer` holding plenty on our side; the commands given to it recorded. */
function oneChannel(peer: string): PaymentChannels & { commands: ChannelInput[] } {
  const state = { phase: 'ready', link: 'connected', commitments: { toLocalMsat: 900_000_000n } };
  const c = {
    commands: [] as ChannelInput[],
    channelsWith: (nodeId: string) =>
      nodeId === peer ? [{ id: CHANNEL, state: state as unknown as ChannelState }] : [],
    channelIdOf: (id: number) => (id === CHANNEL ? CHANNEL_ID : undefined),
    command: async (_id: number, input: ChannelInput) => {
      c.commands.push(input);
      return undefined;
    },
    bestHeight: () => 500,
  };
  return c;
}

/** A sink that records each event, and holds (never resolves) those `holds` names: the process dies there. */
function sink(holds: PaymentEvent['type'][] = []) {
  const events: PaymentEvent[] = [];
  return {
    events,
    types: () => events.map((e) => e.type),
    write: (e: PaymentEvent): Promise<void> => {
      events.push(e);
      return holds.includes(e.type) ? new Promise(() => {}) : Promise.resolve();
    },
  };
}

function node(keys: KeysManager, store: Store, peer: string, s: ReturnType<typeof sink>) {
  const channels = oneChannel(peer);
  const payments = createPayments({
    keys,
    chainHash: REGTEST,
    channels,
    logger,
    store: new LmdbPaymentsStore(store),
    eventSink: s.write,
  });
  return { payments, channels };
}

const hexOf = (k: KeysManager) => Buffer.from(k.nodeId).toString('hex');
const added = (c: { commands: ChannelInput[] }) =>
  c.commands.find((i): i is Extract<ChannelInput, { kind: 'add-htlc' }> => i.kind === 'add-htlc');
const fulfils = (c: { commands: ChannelInput[] }) =>
  c.commands.filter((i): i is Extract<ChannelInput, { kind: 'fulfill-htlc' }> => i.kind === 'fulfill-htlc');

test('a payer killed with a payment pending, then between its stored outcome and PaymentSent: the payment ends once and PaymentSent is told once', async () => {
  const ka = new KeysManager(randomBytes(32));
  const kb = new KeysManager(randomBytes(32));
  const payee = node(kb, await openStore(), hexOf(ka), sink());
  const invoice = await payee.payments.createInvoice(12_345_000n, { description: 'once' });
  const store = await openStore();

  // 1. The HTLC is offered; the payer dies before it settles.
  const first = node(ka, store, hexOf(kb), sink());
  void first.payments.sendPayment(invoice.bolt11);
  const htlc = await waitFor(() => added(first.channels), { what: 'the HTLC offered' });
  assert.deepEqual(
    first.payments.listPayments().map((p) => p.status),
    ['pending'],
  );

  // 2. Restarted: the restored channel settles it; the payer dies again while PaymentSent is written.
  const held = sink(['PaymentSent']);
  const second = node(ka, store, hexOf(kb), held);
  await second.payments.start();
  await assert.rejects(
    second.payments.sendPayment(invoice.bolt11),
    /still in flight from before the restart/,
  );
  // The payee claims it: its fulfil's preimage is what the channel hands back.
  payee.payments.onHtlcEvent(CHANNEL, committed(htlc));
  const preimage = (await waitFor(() => fulfils(payee.channels)[0], { what: "the payee's fulfil" }))
    .paymentPreimage;
  second.payments.onHtlcEvent(CHANNEL, {
    type: 'htlc-fulfilled',
    id: 0n,
    paymentHash: htlc.paymentHash,
    paymentPreimage: preimage,
  });
  await waitFor(() => held.types().includes('PaymentSent') || undefined, { what: 'PaymentSent written' });
  // A fulfilled HTLC is resolved later: no second end.
  second.payments.onHtlcEvent(
    CHANNEL,
    resolved('offered', htlc, { kind: 'fulfill', paymentPreimage: preimage }),
  );
  assert.deepEqual(held.types(), ['PaymentSent']);
  assert.equal(second.channels.commands.length, 0, 'no HTLC offered again');

  // 3. Restarted again: the outcome is in the books, its event not known to be told — told now, once.
  const told = sink();
  const third = node(ka, store, hexOf(kb), told);
  assert.deepEqual(
    third.payments.listPayments().map((p) => p.status),
    ['succeeded'],
  );
  await third.payments.start();
  assert.deepEqual(told.types(), ['PaymentSent']);
  const sent = told.events[0];
  assert.ok(sent?.type === 'PaymentSent');
  assert.equal(sent.paymentHash, invoice.paymentHash);
  assert.equal(sent.preimage, Buffer.from(preimage).toString('hex'));
  assert.equal(sent.amountMsat, 12_345_000n);
  const again = await third.payments.sendPayment(invoice.bolt11);
  assert.equal(again.status, 'succeeded');
  assert.equal(third.channels.commands.length, 0, 'answered from the books');

  // 4. Once told, the outbox is empty: another start tells nothing.
  await waitFor(() => new LmdbPaymentsStore(store).load().payments[0]?.told === undefined || undefined, {
    what: 'the outcome marked told',
  });
  const fourth = sink();
  await node(ka, store, hexOf(kb), fourth).payments.start();
  assert.deepEqual(fourth.types(), []);
});

test('a payee killed after claiming an HTLC, before it settled: the restored channel settles it, the invoice is paid and PaymentClaimed raised once', async () => {
  const ka = new KeysManager(randomBytes(32));
  const kb = new KeysManager(randomBytes(32));
  const payer = node(ka, await openStore(), hexOf(kb), sink());
  const store = await openStore();

  // 1. The payee's invoice paid: the HTLC claimed (events durable first), the payee dies.
  const first = node(kb, store, hexOf(ka), sink());
  const invoice = await first.payments.createInvoice(5_000_000n, { description: 'claimed across a restart' });
  void payer.payments.sendPayment(invoice.bolt11);
  const htlc = await waitFor(() => added(payer.channels), { what: 'the HTLC offered' });
  first.payments.onHtlcEvent(CHANNEL, committed(htlc));
  const fulfil = await waitFor(() => fulfils(first.channels)[0], { what: 'the fulfil' });
  assert.deepEqual(
    (
      await waitFor(() => (first.channels.commands.length === 2 ? first.channels.commands : undefined), {
        what: 'fulfil and commit',
      })
    ).map((c) => c.kind),
    ['fulfill-htlc', 'commit'],
  );

  // 2. Restarted: the restored channel gives the HTLC again, then settles it; the payee dies
  //    while PaymentClaimed is written.
  const held = sink(['PaymentClaimed']);
  const second = node(kb, store, hexOf(ka), held);
  await second.payments.start();
  assert.deepEqual(held.types(), []);
  const shown = () => second.payments.listInvoices()[0];
  assert.equal(shown()?.paidAt, null, 'not paid before it settles');
  second.payments.onHtlcEvent(CHANNEL, committed(htlc));
  await waitFor(() => fulfils(second.channels).length === 1 || undefined, { what: 'the fulfil again' });
  assert.deepEqual(fulfils(second.channels)[0]?.paymentPreimage, fulfil.paymentPreimage);
  second.payments.onHtlcEvent(
    CHANNEL,
    resolved('received', htlc, { kind: 'fulfill', paymentPreimage: fulfil.paymentPreimage }),
  );
  await waitFor(() => held.types().includes('PaymentClaimed') || undefined, {
    what: 'PaymentClaimed written',
  });
  assert.deepEqual(held.types(), ['PendingHTLCsForwardable', 'PaymentClaimed'], 'no second PaymentClaimable');
  assert.equal(shown()?.status, 'paid');
  assert.equal(typeof shown()?.paidAt, 'number');
  second.payments.onHtlcEvent(
    CHANNEL,
    resolved('received', htlc, { kind: 'fulfill', paymentPreimage: fulfil.paymentPreimage }),
  );

  // 3. Restarted again: the invoice paid in the books, PaymentClaimed told once now.
  const told = sink();
  const third = node(kb, store, hexOf(ka), told);
  assert.equal(third.payments.listInvoices()[0]?.status, 'paid');
  await third.payments.start();
  assert.deepEqual(told.events, [
    { type: 'PaymentClaimed', paymentHash: invoice.paymentHash, amountMsat: 5_000_000n, keysend: false },
  ]);
  assert.deepEqual(new LmdbPaymentsStore(store).load().receipts, [], 'the receipt gone once told');
  const fourth = sink();
  await node(kb, store, hexOf(ka), fourth).payments.start();
  assert.deepEqual(fourth.types(), []);
});

test('each event is durable in the sink before what follows from it: no fulfil before PaymentClaimable, no outcome before PaymentSent', async () => {
  const ka = new KeysManager(randomBytes(32));
  const kb = new KeysManager(randomBytes(32));
  const payerSink = sink(['PaymentSent']);
  const payer = node(ka, await openStore(), hexOf(kb), payerSink);
  const payeeSink = sink(['PaymentClaimable']);
  const payee = node(kb, await openStore(), hexOf(ka), payeeSink);
  const keysent = payer.payments.keysend(hexOf(kb), 3_000_000n);
  const htlc = await waitFor(() => added(payer.channels), { what: 'the HTLC offered' });
  payee.payments.onHtlcEvent(CHANNEL, committed(htlc));
  await waitFor(() => payeeSink.types().includes('PaymentClaimable') || undefined, {
    what: 'PaymentClaimable written',
  });
  // Its write never ends: the fulfil waits for it, however long.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(payee.channels.commands, []);
  assert.deepEqual(payeeSink.types(), ['PendingHTLCsForwardable', 'PaymentClaimable']);

  let settled = false;
  void keysent.then(() => {
    settled = true;
  });
  payer.payments.onHtlcEvent(CHANNEL, {
    type: 'htlc-fulfilled',
    id: 0n,
    paymentHash: htlc.paymentHash,
    paymentPreimage: randomBytes(32),
  });
  await waitFor(() => payerSink.types().includes('PaymentSent') || undefined, {
    what: 'PaymentSent written',
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'the caller hears no sooner than the event is durable');
});

type AddHtlc = Extract<ChannelInput, { kind: 'add-htlc' }>;

function committed(h: AddHtlc): HtlcEvent {
  return {
    type: 'htlc-committed',
    id: 0n,
    amountMsat: h.amountMsat,
    paymentHash: h.paymentHash,
    cltvExpiry: h.cltvExpiry,
    onionRoutingPacket: h.onionRoutingPacket,
  };
}

function resolved(
  direction: 'offered' | 'received',
  h: AddHtlc,
  removal: Extract<HtlcEvent, { type: 'htlc-resolved' }>['removal'],
): HtlcEvent {
  return {
    type: 'htlc-resolved',
    direction,
    id: 0n,
    amountMsat: h.amountMsat,
    paymentHash: h.paymentHash,
    removal,
  };
}

test('a crash cut between the channel and the books: at start a pending payment whose preimage a monitor has succeeded, one in no channel failed, one in flight waits; a claim settled is claimed', async () => {
  const ka = new KeysManager(randomBytes(32));
  const kb = new KeysManager(randomBytes(32));
  const payeeStore = await openStore();
  const payerStore = await openStore();
  const payee = node(kb, payeeStore, hexOf(ka), sink());
  const payer = node(ka, payerStore, hexOf(kb), sink());
  // Three payments offered; the payee claims the first.
  const invoices = await Promise.all(
    [1, 2, 3].map((i) => payee.payments.createInvoice(1_000_000n * BigInt(i), { description: `cut ${i}` })),
  );
  const htlcs: AddHtlc[] = [];
  for (const inv of invoices) {
    void payer.payments.sendPayment(inv.bolt11);
    htlcs.push(
      await waitFor(
        () => payer.channels.commands.filter((c) => c.kind === 'add-htlc')[htlcs.length] as AddHtlc,
        {
          what: 'the HTLC offered',
        },
      ),
    );
  }
  const [h1, h2, h3] = htlcs as [AddHtlc, AddHtlc, AddHtlc];
  payee.payments.onHtlcEvent(CHANNEL, committed(h1));
  const preimage = (await waitFor(() => fulfils(payee.channels)[0], { what: 'the fulfil' })).paymentPreimage;

  // Both restart; the channels settled the first HTLC and forgot the second, the third is in flight.
  const hashOf = (h: AddHtlc) => Buffer.from(h.paymentHash).toString('hex');
  const view = {
    inFlight: (hash: string) => hash === hashOf(h3),
    preimageFor: (hash: string) => (hash === hashOf(h1) ? preimage : undefined),
  };
  const payerSink = sink();
  const payer2 = node(ka, payerStore, hexOf(kb), payerSink);
  await payer2.payments.start();
  await payer2.payments.reconcile(view);
  const payeeSink = sink();
  const payee2 = node(kb, payeeStore, hexOf(ka), payeeSink);
  await payee2.payments.start();
  await payee2.payments.reconcile(view);
  await waitFor(() => payerSink.events.length === 2 || undefined, { what: "the payer's outcomes" });
  const byHash = new Map(payer2.payments.listPayments().map((p) => [p.paymentHash, p]));
  assert.equal(byHash.get(hashOf(h1))?.status, 'succeeded');
  assert.equal(byHash.get(hashOf(h1))?.preimage, Buffer.from(preimage).toString('hex'));
  assert.equal(byHash.get(hashOf(h2))?.status, 'failed');
  assert.equal(
    byHash.get(hashOf(h2))?.reason,
    'its HTLC is in no channel after the restart (never committed, or failed back)',
  );
  assert.equal(byHash.get(hashOf(h3))?.status, 'pending');
  assert.deepEqual(payerSink.types().sort(), ['PaymentFailed', 'PaymentSent']);
  assert.deepEqual(payeeSink.types(), ['PaymentClaimed']);
  const invoiceStatus = new Map(payee2.payments.listInvoices().map((i) => [i.paymentHash, i.status]));
  assert.deepEqual(
    [h1, h2, h3].map((h) => invoiceStatus.get(hashOf(h))),
    ['paid', 'unpaid', 'unpaid'],
  );
  // The third ends when its restored channel settles it, once.
  payer2.payments.onHtlcEvent(CHANNEL, {
    type: 'htlc-fulfilled',
    id: 0n,
    paymentHash: h3.paymentHash,
    paymentPreimage: randomBytes(32),
  });
  await waitFor(() => payerSink.events.length === 3 || undefined, { what: 'the third outcome' });
  await payer2.payments.reconcile(view);
  assert.equal(payerSink.events.length, 3);
});
