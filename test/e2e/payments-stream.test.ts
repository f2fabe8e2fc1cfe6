/**
 * End to end, payments at volume: two lnkitd on one bcoin chain (two-nodes.ts) with a channel
 * A→B, 200 payments each way through the REST API — half to the payee's invoices, half keysend —
 * with both sides sending at once, up to 30 in flight each way. Every payment succeeds exactly
 * once; both sides' channel balances are exact to the msat, and equal to what the payments
 * books say (each side's start, less its succeeded payments, plus the other side's); each
 * payee's paid invoices are what the payer paid them; the event streams carry one PaymentSent
 * and one PaymentClaimed per payment, none twice.
 *
 * A payment refused before anything left (the channel at max_accepted_htlcs while settled
 * HTLCs are still leaving the commitments) is tried again, as a client would; the tries are
 * counted in the test's output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { type Daemon, eventStream } from './daemon.ts';
import {
  api,
  fundA,
  openReadyChannel,
  type PaymentJson as Payment,
  startTwoNodes,
  type TwoNodes,
  waitForChannel,
} from './two-nodes.ts';

const CHANNEL_SAT = 1_000_000n;
const PUSH_MSAT = 500_000_000n;
const EACH_WAY = 200;
/** Within the API's 32 connections at once, with the event stream's. */
const IN_FLIGHT = 30;

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-payments-stream-'));
let n: TwoNodes;
let channelId = '';

before(async () => {
  n = await startTwoNodes(root);
  await fundA(n);
  channelId = await openReadyChannel(n, CHANNEL_SAT, PUSH_MSAT);
});

after(async () => {
  await n?.b.kill('SIGKILL');
  await n?.a.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** Refusals with nothing sent that a later try gets past: the peer's HTLC slots are still taken by settled HTLCs leaving. */
const BUSY = /max_accepted_htlcs|max_htlc_value_in_flight/;

/** One payment, tried again while the channel refuses it as busy; the outcome and its tries. */
async function pay(
  from: Daemon,
  path: '/v1/pay' | '/v1/keysend',
  body: unknown,
): Promise<{ payment: Payment; tries: number }> {
  let tries = 0;
  // Anything but a busy refusal ends the tries (a keysend tried again after a lost answer would be a second payment).
  const answer = await waitFor(
    async () => {
      tries++;
      const r = await api<Payment & { error?: { message: string } }>(from, 'POST', path, body).catch(
        (err: Error) => ({
          status: 0,
          json: { error: { message: err.message } } as Payment & { error?: { message: string } },
        }),
      );
      if (r.status === 200) return { payment: r.json };
      if (BUSY.test(r.json.error?.message ?? '')) return undefined;
      return { refused: `${path} refused (${r.status}): ${JSON.stringify(r.json)}` };
    },
    { what: `a payment through ${path}`, intervalMs: 20, timeoutMs: 240_000 },
  );
  if ('refused' in answer) throw new Error(answer.refused);
  const { payment } = answer;
  return { payment, tries };
}

/** Runs `jobs` with at most `limit` at once. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

const payments = async (d: Daemon) =>
  (await api<{ payments: (Payment & { kind?: string })[] }>(d, 'GET', '/v1/listpayments')).json.payments;
const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

test(`${EACH_WAY} payments each way, invoices and keysend, ${IN_FLIGHT} in flight each way at once: every one once, balances exact to the msat and equal to the books`, {
  timeout: 900_000,
}, async () => {
  const { a, b } = n;
  const aEvents = await eventStream(a.api().url, a.api().token);
  const bEvents = await eventStream(b.api().url, b.api().token);
  try {
    // Distinct amounts (not whole sat), so every payment is told apart in the sums.
    const amountsAB = Array.from({ length: EACH_WAY }, (_, i) => 1_000_000n + BigInt(i) * 1_003n);
    const amountsBA = Array.from({ length: EACH_WAY }, (_, i) => 900_000n + BigInt(i) * 997n);
    // Even indexes pay an invoice of the payee's (made first), odd ones keysend.
    // (Made ten at a time: the API takes 32 connections at once.)
    const invoicesOf = (payee: Daemon, amounts: bigint[], what: string) =>
      pool(
        amounts.map(
          (amt, i) => async () =>
            i % 2 === 0
              ? (
                  await api<{ bolt11: string; paymentHash: string }>(payee, 'POST', '/v1/invoice', {
                    amountMsat: String(amt),
                    description: `${what} ${i}`,
                  })
                ).json
              : undefined,
        ),
        10,
      );
    const invoicesOfB = await invoicesOf(b, amountsAB, 'A to B');
    const invoicesOfA = await invoicesOf(a, amountsBA, 'B to A');
    const jobs = (
      from: Daemon,
      to: string,
      amounts: bigint[],
      invoices: ({ bolt11: string } | undefined)[],
    ) =>
      amounts.map((amt, i) => () => {
        const inv = invoices[i];
        return inv
          ? pay(from, '/v1/pay', { bolt11: inv.bolt11 })
          : pay(from, '/v1/keysend', { nodeId: to, amountMsat: String(amt) });
      });
    const started = Date.now();
    const [ab, ba] = await Promise.all([
      pool(jobs(a, n.ib.nodeId, amountsAB, invoicesOfB), IN_FLIGHT),
      pool(jobs(b, n.ia.nodeId, amountsBA, invoicesOfA), IN_FLIGHT),
    ]);
    const seconds = (Date.now() - started) / 1000;
    const tries = sum([...ab, ...ba].map((r) => BigInt(r.tries))) - BigInt(2 * EACH_WAY);
    console.log(
      `# ${2 * EACH_WAY} payments in ${seconds.toFixed(1)} s (${((2 * EACH_WAY) / seconds).toFixed(1)}/s), ${tries} tried again after a busy refusal`,
    );
    for (const [what, results, amounts] of [
      ['A→B', ab, amountsAB],
      ['B→A', ba, amountsBA],
    ] as const)
      results.forEach((r, i) => {
        assert.equal(r.payment.status, 'succeeded', `${what} ${i}: ${r.payment.reason}`);
        assert.equal(r.payment.amountMsat, String(amounts[i]), `${what} ${i}`);
        assert.equal(r.payment.feeMsat, '0');
      });

    // Balances exact on both sides once every HTLC left the commitments.
    const sentAB = sum(amountsAB);
    const sentBA = sum(amountsBA);
    const aMsat = CHANNEL_SAT * 1000n - PUSH_MSAT - sentAB + sentBA;
    const bMsat = PUSH_MSAT + sentAB - sentBA;
    await waitForChannel(
      a,
      channelId,
      (c) => c.localBalanceMsat === String(aMsat) && c.remoteBalanceMsat === String(bMsat),
      "A's balances after the stream",
    );
    await waitForChannel(
      b,
      channelId,
      (c) => c.localBalanceMsat === String(bMsat) && c.remoteBalanceMsat === String(aMsat),
      "B's balances after the stream",
    );

    // The books say the same: each side's succeeded payments, once each.
    const booksA = await payments(a);
    const booksB = await payments(b);
    for (const [books, amounts] of [
      [booksA, amountsAB],
      [booksB, amountsBA],
    ] as const) {
      assert.equal(books.length, EACH_WAY);
      assert.ok(books.every((p) => p.status === 'succeeded'));
      assert.equal(new Set(books.map((p) => p.paymentHash)).size, EACH_WAY, 'no payment twice');
      assert.equal(sum(books.map((p) => BigInt(p.amountMsat) + BigInt(p.feeMsat))), sum(amounts));
    }
    assert.equal(
      CHANNEL_SAT * 1000n -
        PUSH_MSAT -
        sum(booksA.map((p) => BigInt(p.amountMsat))) +
        sum(booksB.map((p) => BigInt(p.amountMsat))),
      aMsat,
    );
    // Each payee's paid invoices are what the payer paid to them.
    for (const [payee, invoices] of [
      [b, invoicesOfB],
      [a, invoicesOfA],
    ] as const) {
      const listed = (
        await api<{ invoices: { paymentHash: string; amountMsat: string; status: string }[] }>(
          payee,
          'GET',
          '/v1/listinvoices',
        )
      ).json.invoices;
      const ours = new Set(invoices.filter((i) => i !== undefined).map((i) => i.paymentHash));
      assert.equal(listed.filter((i) => ours.has(i.paymentHash) && i.status === 'paid').length, EACH_WAY / 2);
    }

    // One PaymentSent and one PaymentClaimed per payment on each stream, none twice.
    const kinds = (s: typeof aEvents, kind: string) =>
      s.events.filter((e) => e.record.kind === kind).map((e) => String(e.record.data.paymentHash));
    await waitFor(
      () =>
        (kinds(aEvents, 'PaymentClaimed').length === EACH_WAY &&
          kinds(bEvents, 'PaymentClaimed').length === EACH_WAY) ||
        undefined,
      { what: 'every PaymentClaimed on the streams', timeoutMs: 120_000 },
    );
    for (const s of [aEvents, bEvents])
      for (const kind of ['PaymentSent', 'PaymentClaimed', 'PaymentClaimable']) {
        const hashes = kinds(s, kind);
        assert.equal(hashes.length, EACH_WAY, kind);
        assert.equal(new Set(hashes).size, EACH_WAY, `${kind} once each`);
      }
    assert.deepEqual(new Set(kinds(aEvents, 'PaymentSent')), new Set(booksA.map((p) => p.paymentHash)));
  } finally {
    aEvents.close();
    bEvents.close();
  }
});
