/**
 * Payments between two ChannelManagers over an in-memory link (no sockets, lmdb monitors):
 * invoices and keysend both ways over their channel, the outcome and events on both sides,
 * balances exact to the msat; a connection dropped in the middle of a payment, reestablished,
 * the payment ending exactly once; and the payer's mistakes refused with a message naming
 * them, nothing sent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { randomBytes, sha256 } from '@lnkit/crypto';
import { compactSigner, createInvoice } from '@lnkit/invoice';
import { KeysManager } from '@lnkit/keys';
import type { ChannelMonitorUpdate } from '@lnkit/monitor';
import { createRootLogger } from '@lnkit/runtime';
import { PersistStatus, Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { Transaction } from '@lnkit/tx';
import { Subject } from 'rxjs';
import { ChannelManager } from '../channel-manager.ts';
import { ManagerError } from '../errors.ts';
import { FakeWallet, MemoryLink } from '../manager-test-kit.ts';
import { LmdbMonitorPersister, type MonitorPersister, type PersistCompletion } from '../monitor-persister.ts';
import type { PaymentEvent } from './payments.ts';

const logger = createRootLogger({ level: 'silent' });
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Regtest's genesis (internal byte order): invoices are lnbcrt. */
const REGTEST = Uint8Array.from(
  Buffer.from('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206', 'hex'),
).reverse();

interface Node {
  keys: KeysManager;
  nodeId: string;
  manager: ChannelManager;
  link: MemoryLink;
  broadcasts: Uint8Array[];
  payments: PaymentEvent[];
  persister: HeldPersister;
}

/** A persister whose answers can be held in progress and completed later (a remote backup, say). */
class HeldPersister implements MonitorPersister {
  hold = false;
  readonly held: ChannelMonitorUpdate[] = [];
  readonly #completions = new Subject<PersistCompletion>();
  readonly completed$ = this.#completions.asObservable();
  constructor(private readonly inner: LmdbMonitorPersister) {}
  async persist(update: ChannelMonitorUpdate): Promise<PersistStatus> {
    const status = await this.inner.persist(update);
    if (!this.hold) return status;
    this.held.push(update);
    return PersistStatus.inProgress();
  }
  release(): void {
    this.hold = false;
    for (const u of this.held.splice(0))
      this.#completions.next({ channelId: hex(u.channelId), updateId: u.updateId });
  }
}

async function node(link: MemoryLink, keys: KeysManager): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-payments-'));
  dirs.push(dir);
  const store = await Store.open(dir, { schemaVersion: 1 });
  const broadcasts: Uint8Array[] = [];
  const persister = new HeldPersister(new LmdbMonitorPersister(store));
  const manager = new ChannelManager({
    keys,
    peers: link,
    persister,
    broadcaster: {
      broadcastTransactions: async (txs) => {
        broadcasts.push(...txs);
        return txs.map((t) => ({
          txid: Transaction.fromBuffer(Buffer.from(t)).getId(),
          accepted: true as const,
        }));
      },
    },
    feeEstimator: { feeratePerKw: () => 253n },
    wallet: new FakeWallet(),
    chainHash: REGTEST,
    bestHeight: 500,
    shutdownScript: () => Uint8Array.from([0x00, 0x14, ...randomBytes(20)]),
    logger,
  });
  const payments: PaymentEvent[] = [];
  manager.payments.events$.subscribe((e) => payments.push(e));
  await manager.start();
  cleanups.push(async () => {
    await manager.stop();
    await store.close();
  });
  return { keys, nodeId: link.nodeId, manager, link, broadcasts, payments, persister };
}

/** A ready channel of 1,000,000 sat from a to b, 100,000,000 msat pushed to b. */
async function readyPair(type: 'anchors' | 'static-remotekey'): Promise<[Node, Node]> {
  const ka = new KeysManager(randomBytes(32));
  const kb = new KeysManager(randomBytes(32));
  const la = new MemoryLink(Buffer.from(ka.nodeId).toString('hex'));
  const lb = new MemoryLink(Buffer.from(kb.nodeId).toString('hex'));
  la.other = lb;
  lb.other = la;
  const a = await node(la, ka);
  const b = await node(lb, kb);
  await a.manager.openChannel(b.nodeId, 1_000_000n, { pushMsat: 100_000_000n, type });
  await waitFor(() => b.manager.listChannels()[0]?.state === 'awaiting-confirmation', {
    what: 'pending at b',
  });
  const funding = a.broadcasts[0] as Uint8Array;
  for (let h = 501; h < 504; h++)
    for (const n of [a, b])
      await n.manager.blockConnected(
        { txdata: h === 501 ? [Transaction.fromBuffer(Buffer.from(funding))] : [] },
        h,
      );
  await waitFor(
    () => a.manager.listChannels()[0]?.state === 'ready' && b.manager.listChannels()[0]?.state === 'ready',
    { what: 'ready on both' },
  );
  return [a, b];
}

const local = (n: Node) => n.manager.listChannels()[0]?.localBalanceMsat;
const remote = (n: Node) => n.manager.listChannels()[0]?.remoteBalanceMsat;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

for (const type of ['anchors', 'static-remotekey'] as const) {
  test(`${type}: invoices and keysend both ways; outcomes, events and balances exact to the msat`, async () => {
    const [a, b] = await readyPair(type);
    const A0 = 900_000_000n;
    const B0 = 100_000_000n;
    assert.equal(local(a), A0);

    // a pays b's invoice.
    const inv = await b.manager.payments.createInvoice(12_345_678n, { description: 'coffee' });
    assert.match(inv.bolt11, /^lnbcrt/);
    const paid = await a.manager.payments.sendPayment(inv.bolt11);
    assert.equal(paid.status, 'succeeded');
    assert.equal(paid.paymentHash, inv.paymentHash);
    assert.equal(hex(sha256(Buffer.from(paid.preimage ?? '', 'hex'))), inv.paymentHash);
    assert.ok(a.payments.some((e) => e.type === 'PaymentSent' && e.preimage === paid.preimage));
    await waitFor(() => b.payments.some((e) => e.type === 'PaymentClaimed'), { what: 'claimed at b' });
    assert.deepEqual(
      b.payments.map((e) => e.type),
      ['PendingHTLCsForwardable', 'PaymentClaimable', 'PaymentClaimed'],
    );
    // lnkit takes the HTLCs at once: the event says so, for the one HTLC committed.
    assert.deepEqual(b.payments[0], { type: 'PendingHTLCsForwardable', htlcCount: 1, timeForwardableMs: 0 });
    assert.equal(b.manager.payments.listInvoices()[0]?.status, 'paid');

    // b pays a's invoice of any amount, with the amount given; then keysends to a.
    const any = await a.manager.payments.createInvoice(null, { description: 'tip' });
    const tip = await b.manager.payments.sendPayment(any.bolt11, { amountMsat: 2_000_001n });
    assert.equal(tip.status, 'succeeded');
    const ks = await b.manager.payments.keysend(a.nodeId, 999n * 1000n + 7n);
    assert.equal(ks.status, 'succeeded');
    await waitFor(() => a.payments.filter((e) => e.type === 'PaymentClaimed').length === 2, {
      what: 'both claimed at a',
    });
    const keysendClaim = a.payments.find((e) => e.type === 'PaymentClaimed' && e.keysend);
    assert.ok(keysendClaim?.type === 'PaymentClaimed' && keysendClaim.amountMsat === 999_007n);

    const moved = 12_345_678n - 2_000_001n - 999_007n;
    await waitFor(() => remote(a) === B0 + moved && local(b) === B0 + moved, { what: 'both settled' });
    assert.equal(local(a), A0 - moved);
    assert.equal(remote(b), A0 - moved);
    // The same invoice paid again under a new id: refused by the payer, which paid it already
    // (the payee's own refusal of a paid invoice is receive.test.ts's).
    await assert.rejects(
      a.manager.payments.sendPayment(inv.bolt11, { paymentId: 'twice' }),
      /the invoice is already paid \(payment id [0-9a-f]{64}\)/,
    );
    assert.equal(local(a), A0 - moved);
    assert.equal(local(b), B0 + moved);
  });
}

test('a connection dropped in the middle of a payment: reestablished, the payment ends once, balances exact', async () => {
  const [a, b] = await readyPair('anchors');
  for (let i = 0; i < 3; i++) {
    const inv = await b.manager.payments.createInvoice(1_000_000n, { description: `drop ${i}` });
    const paying = a.manager.payments.sendPayment(inv.bolt11);
    // Dropped after 0, 1, 2 of the messages went: what is in flight is lost, then retransmitted.
    await waitFor(() => a.link.sentTypes.filter((t) => t === 128).length > i, { what: 'the add sent' });
    for (let k = 0; k < i; k++) await new Promise((r) => setImmediate(r));
    a.link.disconnect();
    await a.manager.idle();
    await b.manager.idle();
    a.link.connect();
    const outcome = await paying;
    assert.equal(outcome.status, 'succeeded', `payment ${i}: ${outcome.reason}`);
  }
  await waitFor(() => b.payments.filter((e) => e.type === 'PaymentClaimed').length === 3, {
    what: 'three claimed',
  });
  await waitFor(() => local(b) === 103_000_000n && remote(a) === 103_000_000n, { what: 'settled on both' });
  assert.equal(local(a), 897_000_000n);
  assert.equal(a.payments.filter((e) => e.type === 'PaymentSent').length, 3);
});

test('the durability rule: while the payee’s monitor updates are in progress nothing that depends on them leaves; once complete, the payment ends', async () => {
  const [a, b] = await readyPair('anchors');
  const inv = await b.manager.payments.createInvoice(4_000_000n, { description: 'held' });
  b.persister.hold = true;
  const sentBefore = b.link.sentTypes.length;
  const paying = a.manager.payments.sendPayment(inv.bolt11);
  let settled = false;
  void paying.then(() => {
    settled = true;
  });
  // b took a's commitment_signed: its holder-commitment update is in progress, so no revoke_and_ack.
  await waitFor(() => b.persister.held.some((u) => u.steps.some((st) => st.kind === 'holder-commitment')), {
    what: 'the holder-commitment update held',
  });
  await a.manager.idle();
  await b.manager.idle();
  assert.ok(
    !b.link.sentTypes.slice(sentBefore).includes(133),
    'no revoke_and_ack before the update is durable',
  );
  assert.equal(settled, false);
  b.persister.release();
  const outcome = await paying;
  assert.equal(outcome.status, 'succeeded');
  await waitFor(() => b.payments.some((e) => e.type === 'PaymentClaimed'), { what: 'claimed at b' });
  await waitFor(() => local(b) === 104_000_000n && remote(a) === 104_000_000n, { what: 'settled on both' });
  // Each message b sent after the hold waited for the update it depends on.
  assert.ok(b.link.sentTypes.slice(sentBefore).includes(130), 'the fulfill went');
});

test('a cooperative close asked with a payment in flight: closing_signed waits for it to settle, the close pays what it left', async () => {
  const [a, b] = await readyPair('static-remotekey');
  const channelId = a.manager.listChannels()[0]?.channelId as string;
  const inv = await b.manager.payments.createInvoice(7_000_000n, { description: 'in flight' });
  const paying = a.manager.payments.sendPayment(inv.bolt11);
  await waitFor(() => a.link.sentTypes.includes(128), { what: 'the add sent' });
  await b.manager.closeChannel(channelId);
  const outcome = await paying;
  assert.equal(outcome.status, 'succeeded', outcome.reason);
  const closing = await waitFor(() => a.broadcasts[1] ?? b.broadcasts[0], { what: 'a closing transaction' });
  const tx = Transaction.fromBuffer(Buffer.from(closing));
  const values = tx.outs.map((o) => BigInt(o.value)).sort((x, y) => (x < y ? -1 : 1));
  // b (not the funder) gets exactly its balance after the payment; a pays the fee.
  assert.equal(values[0], 107_000n);
  assert.ok((values[1] ?? 0n) < 893_000n && (values[1] ?? 0n) > 890_000n, `${values}`);
  // The shutdowns came before the HTLC settled; closing_signed only after.
  const types = b.link.sentTypes;
  assert.ok(types.indexOf(38) < types.lastIndexOf(133), `shutdown before the last revoke_and_ack: ${types}`);
  assert.ok(
    types.indexOf(39) > types.lastIndexOf(133) ||
      a.link.sentTypes.indexOf(39) > a.link.sentTypes.lastIndexOf(133),
  );
});

test("the payer's mistakes are refused naming them, and nothing is sent", async () => {
  const [a, b] = await readyPair('anchors');
  const sent = a.link.sentTypes.length;
  const refuses = async (p: Promise<unknown>, pattern: RegExp) => {
    await assert.rejects(p, (err: unknown) => err instanceof ManagerError && pattern.test(err.message));
  };
  const bSigner = compactSigner((d) => b.keys.signWithNodeKey(d), b.keys.nodeId);
  const invoice = (o: { network?: 'regtest' | 'bitcoin'; amountMsat?: bigint | null; timestamp?: number }) =>
    createInvoice(
      {
        network: o.network ?? 'regtest',
        amountMsat: o.amountMsat === undefined ? 1_000n : o.amountMsat,
        timestamp: o.timestamp ?? Math.floor(Date.now() / 1000),
        paymentHash: randomBytes(32),
        paymentSecret: randomBytes(32),
        description: 'x',
        expirySeconds: 60,
      },
      bSigner,
    ).then((r) => r.invoice);
  await refuses(a.manager.payments.sendPayment('lnbcrt1nonsense'), /not a valid invoice/);
  await refuses(
    a.manager.payments.sendPayment(await invoice({ network: 'bitcoin' })),
    /for bitcoin.*regtest/,
  );
  await refuses(a.manager.payments.sendPayment(await invoice({ timestamp: 1_000_000 })), /expired/);
  await refuses(a.manager.payments.sendPayment(await invoice({ amountMsat: null })), /no amount/);
  await refuses(
    a.manager.payments.sendPayment(await invoice({ amountMsat: 2_000_000_000n })),
    /more than the channel with the payee holds/,
  );
  // b cannot send more than its side holds less its reserve.
  const big = await a.manager.payments.createInvoice(99_000_000n, { description: 'too much' });
  await refuses(b.manager.payments.sendPayment(big.bolt11), /the channel cannot send this payment/);
  await refuses(a.manager.payments.keysend('02ab', 1_000n), /not a node id/);
  await refuses(
    a.manager.payments.keysend(hex(randomBytes(1)).padEnd(66, '0').replace(/^../, '03'), 1_000n),
    /no ready channel/,
  );
  assert.equal(a.link.sentTypes.length, sent, 'nothing sent');
  assert.equal(local(a), 900_000_000n);

  // A payment id already used: by another invoice, or by a keysend, refused naming the id; the
  // same invoice under its id answers the first outcome. Nothing more sent for any of them.
  const first = await b.manager.payments.createInvoice(1_000n, { description: 'first' });
  const paid = await a.manager.payments.sendPayment(first.bolt11, { paymentId: 'order-1' });
  assert.equal(paid.status, 'succeeded');
  await waitFor(() => local(a) === 900_000_000n - 1_000n, { what: 'the first payment settled' });
  const afterFirst = a.link.sentTypes.length;
  const second = await b.manager.payments.createInvoice(2_000n, { description: 'second' });
  await refuses(
    a.manager.payments.sendPayment(second.bolt11, { paymentId: 'order-1' }),
    /payment id order-1 is already used by another payment \(payment hash [0-9a-f]{64}\)/,
  );
  await refuses(
    a.manager.payments.keysend(b.nodeId, 5_000n, { paymentId: 'order-1' }),
    /payment id order-1 is already used by another payment/,
  );
  assert.deepEqual(await a.manager.payments.sendPayment(first.bolt11, { paymentId: 'order-1' }), paid);
  // A new id for it is a retry, and the invoice is paid already: refused, never paid twice.
  await refuses(
    a.manager.payments.sendPayment(first.bolt11, { paymentId: 'order-1-again' }),
    /the invoice is already paid \(payment id order-1\)/,
  );
  assert.equal(a.link.sentTypes.length, afterFirst, 'nothing sent for a used id');
  assert.equal(local(a), 900_000_000n - 1_000n);
});
