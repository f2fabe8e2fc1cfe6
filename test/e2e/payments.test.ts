/**
 * End to end, payments: two lnkitd on one bcoin chain (two-nodes.ts) with a channel A→B, driven
 * through lnkit-cli and the REST API. Invoices paid each way and keysend each way; after each,
 * both sides' channel balances are exact to the msat and equal to what listpayments says was
 * sent. A's GET /v1/events carries PaymentSent, B's PaymentClaimed. Bad payments are refused
 * naming the problem, nothing sent. A is SIGKILLed and restarted: once the channel is ready
 * again, `pay` of an invoice it paid answers the stored outcome (never a second payment), and
 * listpayments still has every payment.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { type Daemon, eventStream, request, type StreamedEvent } from './daemon.ts';
import {
  fundA,
  openReadyChannel,
  type PaymentJson as Payment,
  startTwoNodes,
  type TwoNodes,
  waitForChannel,
} from './two-nodes.ts';

interface Invoice {
  bolt11: string;
  paymentHash: string;
  amountMsat: string | null;
  status: string;
  paidAt: number | null;
}

const CHANNEL_SAT = 1_000_000n;
const PUSH_MSAT = 300_000_123n;
/** A mainnet invoice ($3 for a cup of coffee): BOLT 11's test vectors, copied from packages/invoice/src/fixtures/bolt11-valid.json. */
const MAINNET_INVOICE =
  'lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh';
const NOBODY = '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5';
const PAYMENT_FIELDS = ['amountMsat', 'feeMsat', 'paymentHash', 'paymentId', 'preimage', 'status'];

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-payments-'));
let n: TwoNodes;
let a: Daemon;
let b: Daemon;
let channelId = '';
/** What each side should hold in the channel, msat. */
const expected = { a: CHANNEL_SAT * 1000n - PUSH_MSAT, b: PUSH_MSAT };

async function api<T>(
  d: Daemon,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const { url, token } = d.api();
  const r = await request(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: JSON.parse(r.text) as T };
}

const payments = (d: Daemon) => d.json<{ payments: Payment[] }>('listpayments').payments;
const sentMsat = (d: Daemon) =>
  payments(d)
    .filter((p) => p.status === 'succeeded')
    .reduce((s, p) => s + BigInt(p.amountMsat) + BigInt(p.feeMsat), 0n);

/** Both sides' balances exact to the msat, as expected, and each side's sent payments are what left it. */
async function balancesExact(what: string, receivedA: bigint, receivedB: bigint): Promise<void> {
  await waitForChannel(
    a,
    channelId,
    (c) => c.localBalanceMsat === String(expected.a) && c.remoteBalanceMsat === String(expected.b),
    `A's balances ${what}`,
  );
  await waitForChannel(
    b,
    channelId,
    (c) => c.localBalanceMsat === String(expected.b) && c.remoteBalanceMsat === String(expected.a),
    `B's balances ${what}`,
  );
  // Each side holds what it started with, less what it sent, plus what it received.
  assert.equal(CHANNEL_SAT * 1000n - PUSH_MSAT - sentMsat(a) + receivedA, expected.a);
  assert.equal(PUSH_MSAT - sentMsat(b) + receivedB, expected.b);
}

let aEvents: Awaited<ReturnType<typeof eventStream>>;
let bEvents: Awaited<ReturnType<typeof eventStream>>;
const received = { a: 0n, b: 0n };

before(async () => {
  n = await startTwoNodes(root);
  ({ a, b } = n);
  await fundA(n);
  channelId = await openReadyChannel(n, CHANNEL_SAT, PUSH_MSAT);
  aEvents = await eventStream(a.api().url, a.api().token);
  bEvents = await eventStream(b.api().url, b.api().token);
});

after(async () => {
  aEvents?.close();
  bEvents?.close();
  await n?.b.kill('SIGKILL');
  await n?.a.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const eventOf = (s: { events: StreamedEvent[] }, kind: string, hash: string) =>
  waitFor(() => s.events.find((e) => e.record.kind === kind && e.record.data.paymentHash === hash), {
    what: `${kind} of ${hash} on the event stream`,
    timeoutMs: 60_000,
  });

describe('payments between two lnkitd over a direct channel', () => {
  let paidByA: Invoice;
  let paidByAOutcome: Payment;

  test("A pays B's invoice through lnkit-cli; B's invoice is paid; events on both streams", {
    timeout: 300_000,
  }, async () => {
    const amount = 12_345_678n;
    const inv = b.json<{ bolt11: string; paymentHash: string; expiresAt: number }>(
      'invoice',
      String(amount),
      '--description',
      'coffee',
      '--expiry',
      '600',
    );
    assert.deepEqual(Object.keys(inv).sort(), ['bolt11', 'expiresAt', 'paymentHash']);
    assert.match(inv.bolt11, /^lnbcrt/);
    assert.ok(inv.expiresAt > Date.now() / 1000 + 500);
    const out = a.json<Payment>('pay', inv.bolt11);
    assert.deepEqual(Object.keys(out).sort(), PAYMENT_FIELDS);
    assert.equal(out.status, 'succeeded');
    assert.equal(out.paymentHash, inv.paymentHash);
    assert.equal(out.amountMsat, String(amount));
    assert.equal(out.feeMsat, '0');
    assert.match(out.preimage!, /^[0-9a-f]{64}$/);
    assert.equal(
      Buffer.from(await crypto.subtle.digest('SHA-256', Buffer.from(out.preimage!, 'hex'))).toString('hex'),
      inv.paymentHash,
      'the preimage is the hash’s',
    );
    expected.a -= amount;
    expected.b += amount;
    received.b += amount;
    await balancesExact('after A paid B', received.a, received.b);
    const invoices = b.json<{ invoices: Invoice[] }>('listinvoices').invoices;
    paidByA = invoices.find((i) => i.paymentHash === inv.paymentHash)!;
    assert.deepEqual(Object.keys(paidByA).sort(), [
      'amountMsat',
      'bolt11',
      'paidAt',
      'paymentHash',
      'status',
    ]);
    assert.equal(paidByA.status, 'paid');
    assert.equal(paidByA.amountMsat, String(amount));
    assert.ok(typeof paidByA.paidAt === 'number');
    paidByAOutcome = out;
    const sent = await eventOf(aEvents, 'PaymentSent', inv.paymentHash);
    assert.equal(sent.record.data.amountMsat, String(amount));
    assert.equal(sent.record.data.paymentId, out.paymentId);
    const claimed = await eventOf(bEvents, 'PaymentClaimed', inv.paymentHash);
    assert.equal(claimed.record.data.amountMsat, String(amount));
    // The human output says the same.
    const text = b.cli('listinvoices');
    assert.equal(text.status, 0);
    assert.match(text.stdout, new RegExp(`paid ${amount} msat`));
  });

  test("B pays A's invoice through the API; keysend each way", { timeout: 300_000 }, async () => {
    const amount = 7_654_321n;
    const inv = await api<{ bolt11: string; paymentHash: string }>(a, 'POST', '/v1/invoice', {
      amountMsat: String(amount),
      description: 'refund',
    });
    assert.equal(inv.status, 200);
    const paid = await api<Payment>(b, 'POST', '/v1/pay', { bolt11: inv.json.bolt11 });
    assert.equal(paid.status, 200, JSON.stringify(paid.json));
    assert.equal(paid.json.status, 'succeeded');
    assert.equal(paid.json.amountMsat, String(amount));
    expected.b -= amount;
    expected.a += amount;
    received.a += amount;
    await balancesExact('after B paid A', received.a, received.b);
    await eventOf(bEvents, 'PaymentSent', inv.json.paymentHash);
    await eventOf(aEvents, 'PaymentClaimed', inv.json.paymentHash);

    const ks1 = 1_000_001n;
    const k1 = a.json<Payment>('keysend', n.ib.nodeId, String(ks1));
    assert.deepEqual(Object.keys(k1).sort(), PAYMENT_FIELDS);
    assert.equal(k1.status, 'succeeded');
    expected.a -= ks1;
    expected.b += ks1;
    received.b += ks1;
    const ks2 = 2_000_003n;
    const k2 = await api<Payment>(b, 'POST', '/v1/keysend', { nodeId: n.ia.nodeId, amountMsat: String(ks2) });
    assert.equal(k2.status, 200, JSON.stringify(k2.json));
    assert.equal(k2.json.status, 'succeeded');
    expected.b -= ks2;
    expected.a += ks2;
    received.a += ks2;
    await balancesExact('after keysend each way', received.a, received.b);
    const claimed = await eventOf(aEvents, 'PaymentClaimed', k2.json.paymentHash);
    assert.equal(claimed.record.data.keysend, true);
    assert.equal(payments(a).length, 2);
    assert.equal(payments(b).length, 2);
  });

  test('bad payments are refused naming the problem, and nothing is sent', { timeout: 300_000 }, async () => {
    const refusedWith = (d: Daemon, args: string[], pattern: RegExp) => {
      const r = d.cli('--json', ...args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}`);
      const e = JSON.parse(r.stdout).error;
      assert.match(e.message, pattern, args.join(' '));
      return e;
    };
    refusedWith(a, ['pay', MAINNET_INVOICE], /the invoice is for bitcoin, this node is on regtest/);
    refusedWith(a, ['pay', 'lnbcrt1junk'], /not a valid invoice/);
    const big = b.json<{ bolt11: string }>('invoice', String(CHANNEL_SAT * 1000n));
    refusedWith(a, ['pay', big.bolt11], /more than the channel with the payee holds on our side/);
    refusedWith(a, ['keysend', NOBODY, '1000'], /no route to/);
    refusedWith(a, ['keysend', n.ib.nodeId, '0'], /amountMsat/);
    const short = b.json<{ bolt11: string; expiresAt: number }>('invoice', '1000', '--expiry', '1');
    // Not paid before it expires (that would pay it): once the clock is past its expiry, refused.
    await waitFor(() => Date.now() > (short.expiresAt + 1) * 1000 || undefined, {
      what: 'the 1-second invoice to expire',
      intervalMs: 100,
    });
    refusedWith(a, ['pay', short.bolt11], /the invoice expired at/);
    // Paying an invoice again answers its first outcome: no second HTLC.
    const again = a.json<Payment>('pay', paidByA.bolt11);
    assert.deepEqual(again, paidByAOutcome);
    await balancesExact('after the refusals', received.a, received.b);
    assert.equal(payments(a).length, 2);
  });

  test('SIGKILL of the payer, restart: the same invoice answers the stored outcome, listpayments keeps it', {
    timeout: 400_000,
  }, async () => {
    const before = payments(a);
    aEvents.close();
    await a.kill('SIGKILL');
    await a.start();
    await waitForChannel(a, channelId, (c) => c.state === 'ready', 'A: the channel ready again');
    assert.deepEqual(payments(a), before);
    const again = a.json<Payment>('pay', paidByA.bolt11);
    assert.deepEqual(again, paidByAOutcome);
    await balancesExact('after the restart', received.a, received.b);
    // The channel still carries payments once reestablished.
    const inv = b.json<{ bolt11: string }>('invoice', '5000');
    await waitFor(
      () => {
        const r = a.cli('--json', 'pay', inv.bolt11);
        return r.status === 0 ? (JSON.parse(r.stdout) as Payment) : undefined;
      },
      { what: 'a payment after the restart', intervalMs: 500, timeoutMs: 120_000 },
    ).then((p) => assert.equal(p.status, 'succeeded'));
    expected.a -= 5000n;
    expected.b += 5000n;
    received.b += 5000n;
    await balancesExact('after a payment after the restart', received.a, received.b);
    const replay = await eventStream(a.api().url, a.api().token, { since: 0 });
    try {
      await eventOf(replay, 'PaymentSent', paidByA.paymentHash);
    } finally {
      replay.close();
    }
  });
});
