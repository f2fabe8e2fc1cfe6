/**
 * End to end, a crash in the middle of a stream of payments: two lnkitd on one bcoin chain
 * (two-nodes.ts) with a channel A→B, both sides paying each other through the REST API (half
 * invoices, half keysend, ten in flight each way). Once a few payments are done, one node is
 * SIGKILLed — A in the first part, B in the second — with HTLCs in flight both ways; it is
 * restarted from its data dir and reestablishes with the other. Then:
 * - every payment either side's books hold ends (none left `pending`), each once;
 * - an invoice payment whose answer the kill cut off is asked again: it answers its stored
 *   outcome, or pays if the HTLC never left — never a second time (the payee's invoice is paid once);
 * - both sides' channel balances are exact to the msat and equal to what the books say (each
 *   side's start, less its succeeded payments, plus the other side's), and each payee's paid
 *   invoices are exactly the payer's succeeded invoice payments;
 * - every succeeded payment has its PaymentSent on the payer's event log (GET /v1/events replay).
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

interface Invoice {
  bolt11: string;
  paymentHash: string;
  amountMsat: string | null;
  status: string;
}

const CHANNEL_SAT = 1_000_000n;
const PUSH_MSAT = 500_000_000n;
/** Payments each side starts in a part (the kill cuts some short), and how many at once. */
const PER_SIDE = 40;
const IN_FLIGHT = 10;
/** Payments done before the kill. */
const BEFORE_KILL = 16;

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-payments-kill-'));
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

/** Refused with nothing sent, and worth a later try: the HTLC slots busy, or the peer not back yet. */
const TRY_AGAIN =
  /max_accepted_htlcs|max_htlc_value_in_flight|not connected|no ready channel|cannot send this payment: the peer/;

type Answer = { payment: Payment } | { refused: string } | { cut: string };

/** One payment through the API, tried again while refused as busy; `cut` when the connection died (the node was killed). */
async function payOnce(
  from: Daemon,
  path: '/v1/pay' | '/v1/keysend',
  body: unknown,
  stop: () => boolean,
): Promise<Answer> {
  return waitFor(
    async (): Promise<Answer | undefined> => {
      let r: { status: number; json: Payment & { error?: { message: string } } };
      try {
        r = await api(from, 'POST', path, body);
      } catch (err) {
        return { cut: (err as Error).message };
      }
      if (r.status === 200) return { payment: r.json };
      const message = r.json.error?.message ?? '';
      if (TRY_AGAIN.test(message) && !stop()) return undefined;
      return { refused: `${path} refused (${r.status}): ${message}` };
    },
    { what: `a payment through ${path}`, intervalMs: 20, timeoutMs: 300_000 },
  );
}

const books = async (d: Daemon) =>
  (await api<{ payments: Payment[] }>(d, 'GET', '/v1/listpayments')).json.payments;
const invoicesOf = async (d: Daemon) =>
  (await api<{ invoices: Invoice[] }>(d, 'GET', '/v1/listinvoices')).json.invoices;
const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
const succeededMsat = (ps: Payment[]) =>
  sum(ps.filter((p) => p.status === 'succeeded').map((p) => BigInt(p.amountMsat) + BigInt(p.feeMsat)));

/** The payee's invoices for the even indexes (the odd ones are keysend). */
async function invoicesFor(payee: Daemon, amounts: bigint[], what: string): Promise<(Invoice | undefined)[]> {
  const out: (Invoice | undefined)[] = [];
  for (let i = 0; i < amounts.length; i++)
    out.push(
      i % 2 === 0
        ? (
            await api<Invoice>(payee, 'POST', '/v1/invoice', {
              amountMsat: String(amounts[i]),
              description: `${what} ${i}`,
            })
          ).json
        : undefined,
    );
  return out;
}

/** Both sides' balances exact, and what their books say. */
async function balancesMatchBooks(what: string): Promise<void> {
  const { a, b } = n;
  const [pa, pb] = [await books(a), await books(b)];
  const aMsat = CHANNEL_SAT * 1000n - PUSH_MSAT - succeededMsat(pa) + succeededMsat(pb);
  const bMsat = CHANNEL_SAT * 1000n - aMsat;
  await waitForChannel(
    a,
    channelId,
    (c) => c.localBalanceMsat === String(aMsat) && c.remoteBalanceMsat === String(bMsat),
    `A's balances ${what}`,
  );
  await waitForChannel(
    b,
    channelId,
    (c) => c.localBalanceMsat === String(bMsat) && c.remoteBalanceMsat === String(aMsat),
    `B's balances ${what}`,
  );
  // Each payee's paid invoices are exactly the payer's succeeded invoice payments.
  for (const [payer, payee, ps] of [
    [a, b, pa],
    [b, a, pb],
  ] as const) {
    const listed = await invoicesOf(payee);
    const ofPayee = new Set(listed.map((i) => i.paymentHash));
    const paid = new Set(listed.filter((i) => i.status === 'paid').map((i) => i.paymentHash));
    const sentToInvoices = new Set(
      ps.filter((p) => p.status === 'succeeded' && ofPayee.has(p.paymentHash)).map((p) => p.paymentHash),
    );
    assert.deepEqual(
      [...paid].sort(),
      [...sentToInvoices].sort(),
      `${payer === a ? 'A' : 'B'}'s invoice payments ${what}`,
    );
  }
}

for (const [part, victimName] of [
  [0, 'a'],
  [1, 'b'],
] as const) {
  test(`SIGKILL of ${victimName.toUpperCase()} in the middle of payments both ways: restarted and reestablished, no payment lost or paid twice, balances exact`, {
    timeout: 900_000,
  }, async () => {
    const { a, b } = n;
    const victim = victimName === 'a' ? a : b;
    const amountsAB = Array.from(
      { length: PER_SIDE },
      (_, i) => 2_000_000n + BigInt(part * 1000 + i) * 1_009n,
    );
    const amountsBA = Array.from({ length: PER_SIDE }, (_, i) => 1_900_000n + BigInt(part * 1000 + i) * 991n);
    const invoicesOfB = await invoicesFor(b, amountsAB, `part ${part} A to B`);
    const invoicesOfA = await invoicesFor(a, amountsBA, `part ${part} B to A`);

    let done = 0;
    let killed = false;
    const answers: { from: Daemon; invoice: Invoice | undefined; answer: Answer }[] = [];
    // Killed once enough are done and one of its own payments is in flight (pending in its books).
    let pendingAtKill = 0;
    const killing = waitFor(
      async () => {
        if (done < BEFORE_KILL) return undefined;
        pendingAtKill = (await books(victim)).filter((p) => p.status === 'pending').length;
        return pendingAtKill > 0 || undefined;
      },
      { what: `${BEFORE_KILL} payments before the kill, one of the victim's in flight`, timeoutMs: 300_000 },
    ).then(async () => {
      killed = true;
      await victim.kill('SIGKILL');
    });
    const stream = (from: Daemon, to: string, amounts: bigint[], invoices: (Invoice | undefined)[]) => {
      let next = 0;
      const worker = async () => {
        while (next < amounts.length && !killed) {
          const i = next++;
          const invoice = invoices[i];
          const answer = await payOnce(
            from,
            invoice ? '/v1/pay' : '/v1/keysend',
            invoice ? { bolt11: invoice.bolt11 } : { nodeId: to, amountMsat: String(amounts[i]) },
            () => killed,
          );
          answers.push({ from, invoice, answer });
          if ('payment' in answer) done++;
        }
      };
      return Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    };
    const streams = Promise.all([
      stream(a, n.ib.nodeId, amountsAB, invoicesOfB),
      stream(b, n.ia.nodeId, amountsBA, invoicesOfA),
    ]);
    await killing;
    await victim.start();
    // In flight at the kill, by the victim's books: they end through the restored channel.
    const pendingAtRestart = (await books(victim)).filter((p) => p.status === 'pending').length;
    // The survivor's payments to the victim end once the channel is reestablished.
    await streams;
    const cut = answers.filter((x) => 'cut' in x.answer);
    const refused = answers.filter((x) => 'refused' in x.answer);
    console.log(
      `# part ${part}: ${answers.length} payments asked, ${done} answered, ${cut.length} cut by the kill, ${refused.length} refused with nothing sent; the victim's pending: ${pendingAtKill} just before the kill, ${pendingAtRestart} at its restart`,
    );
    for (const x of answers) if ('payment' in x.answer) assert.notEqual(x.answer.payment.status, 'pending');
    // Refused only because the peer was down, or cut: nothing else.
    for (const x of refused) assert.match((x.answer as { refused: string }).refused, TRY_AGAIN);

    // Every payment in either book ends, none stays pending.
    for (const d of [a, b])
      await waitFor(async () => (await books(d)).every((p) => p.status !== 'pending') || undefined, {
        what: 'no payment left pending',
        timeoutMs: 180_000,
      });
    // An invoice payment cut off is asked again: its stored outcome, or paid now if its HTLC never left.
    for (const x of cut)
      if (x.invoice) {
        const again = await payOnce(x.from, '/v1/pay', { bolt11: x.invoice.bolt11 }, () => false);
        assert.ok('payment' in again, JSON.stringify(again));
        assert.equal(again.payment.paymentHash, x.invoice.paymentHash);
      }
    // Asking again for every invoice answers the first outcome: no second payment anywhere.
    for (const x of answers)
      if (x.invoice && 'payment' in x.answer) {
        const again = await payOnce(x.from, '/v1/pay', { bolt11: x.invoice.bolt11 }, () => false);
        assert.ok('payment' in again);
        assert.equal(again.payment.status, x.answer.payment.status);
      }
    await balancesMatchBooks(`after the SIGKILL of ${victimName.toUpperCase()}`);
    for (const d of [a, b]) {
      const ps = await books(d);
      assert.equal(new Set(ps.map((p) => p.paymentId)).size, ps.length);
      // Each succeeded payment's PaymentSent is on the payer's log (replayed from the start).
      const replay = await eventStream(d.api().url, d.api().token, { since: 0 });
      try {
        const sent = ps.filter((p) => p.status === 'succeeded').map((p) => p.paymentId);
        await waitFor(
          () => {
            const told = new Set(
              replay.events
                .filter((e) => e.record.kind === 'PaymentSent')
                .map((e) => String(e.record.data.paymentId)),
            );
            return sent.every((id) => told.has(id)) || undefined;
          },
          { what: 'a PaymentSent for every succeeded payment', timeoutMs: 60_000 },
        );
      } finally {
        replay.close();
      }
    }
  });
}
