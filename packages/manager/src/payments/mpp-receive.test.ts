/**
 * BOLT 4 basic_mpp at the payee: A sends C's invoice in parts over their channel (sendToRoute,
 * each part with the invoice's payment_secret and the whole total_msat). C holds the parts until
 * they reach the total, then claims them all with one PaymentClaimable; parts that never reach
 * it are failed back together with mpp_timeout; parts naming different totals are failed at once.
 * Our invoices offer basic_mpp.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { decodeInvoice } from '@lnkit/invoice';
import type { RouteHop } from '@lnkit/onion';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import { type LineNode, lineNode, openLine, scidOf } from '../forward/forward-test-kit.ts';

const logger = createRootLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const HEIGHT = 503;

async function pair(mppTimeoutMs?: number): Promise<{ a: LineNode; c: LineNode }> {
  const a = await lineNode(logger, cleanups);
  const c = await lineNode(logger, cleanups, undefined, undefined, mppTimeoutMs ? { mppTimeoutMs } : {});
  await openLine([[a, c]], [a, c]);
  return { a, c };
}

/** One part: `amountMsat` of a payment of `totalMsat` to C over the A–C channel. */
function part(a: LineNode, c: LineNode, bolt11: string, amountMsat: bigint, totalMsat: bigint) {
  const inv = decodeInvoice(bolt11);
  const hop: RouteHop = {
    nodeId: c.keys.nodeId,
    shortChannelId: scidOf(a, c),
    amountMsat,
    cltvExpiry: HEIGHT + 18 + 3,
  };
  return a.manager.forwards.sendToRoute([hop], inv.paymentHash, {
    paymentSecret: inv.paymentSecret,
    totalMsat,
  });
}

test('C holds the parts until they reach the total, then claims them all: one PaymentClaimable, the invoice paid in full', async () => {
  const { a, c } = await pair();
  const inv = await c.manager.payments.createInvoice(10_000_000n, { description: 'in parts' });
  assert.ok(decodeInvoice(inv.bolt11).features.supports('basic_mpp'), 'the invoice offers basic_mpp');
  const first = part(a, c, inv.bolt11, 4_000_000n, 10_000_000n);
  // The first part alone is held, not claimed: C has it (PendingHTLCsForwardable) and says nothing more.
  await waitFor(() => c.payments.some((e) => e.type === 'PendingHTLCsForwardable') || undefined, {
    what: 'the first part at C',
  });
  assert.equal(c.payments.filter((e) => e.type === 'PaymentClaimable').length, 0);
  const second = part(a, c, inv.bolt11, 6_000_000n, 10_000_000n);
  const outcomes = await Promise.all([first, second]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['succeeded', 'succeeded'],
  );
  const claimable = c.payments.filter((e) => e.type === 'PaymentClaimable');
  assert.equal(claimable.length, 1);
  assert.equal((claimable[0] as { amountMsat: bigint }).amountMsat, 10_000_000n);
  // Each part's PaymentClaimed once it left both commitments: together, the whole amount.
  await waitFor(() => c.payments.filter((e) => e.type === 'PaymentClaimed').length === 2 || undefined, {
    what: 'both parts claimed',
  });
  const claimed = c.payments.filter((e) => e.type === 'PaymentClaimed') as { amountMsat: bigint }[];
  assert.equal(
    claimed.reduce((sum, e) => sum + e.amountMsat, 0n),
    10_000_000n,
  );
  assert.equal(
    c.manager.payments.listInvoices().find((x) => x.paymentHash === inv.paymentHash)?.status,
    'paid',
  );
});

test('parts that never reach the total are failed back together with mpp_timeout', async () => {
  const { a, c } = await pair(300);
  const inv = await c.manager.payments.createInvoice(10_000_000n, { description: 'never whole' });
  const [one, two] = await Promise.all([
    part(a, c, inv.bolt11, 3_000_000n, 10_000_000n),
    part(a, c, inv.bolt11, 3_000_000n, 10_000_000n),
  ]);
  for (const o of [one, two]) {
    assert.equal(o.status, 'failed');
    assert.deepEqual([o.failure?.name, o.failure?.hopIndex], ['mpp_timeout', 0]);
  }
  assert.equal(c.payments.filter((e) => e.type === 'PaymentClaimable').length, 0);
  assert.equal(
    c.manager.payments.listInvoices().find((x) => x.paymentHash === inv.paymentHash)?.status,
    'unpaid',
  );
});

test('parts naming different totals are failed at once, and a part with less than the invoice asks in all is refused', async () => {
  const { a, c } = await pair();
  const inv = await c.manager.payments.createInvoice(10_000_000n, { description: 'mismatch' });
  const [x, y] = await Promise.all([
    part(a, c, inv.bolt11, 4_000_000n, 10_000_000n),
    part(a, c, inv.bolt11, 4_000_000n, 12_000_000n),
  ]);
  assert.deepEqual(
    [x.failure?.name, y.failure?.name],
    ['incorrect_or_unknown_payment_details', 'incorrect_or_unknown_payment_details'],
  );
  const short = await part(a, c, inv.bolt11, 4_000_000n, 9_000_000n);
  assert.equal(short.failure?.name, 'incorrect_or_unknown_payment_details');
  assert.equal(c.payments.filter((e) => e.type === 'PaymentClaimable').length, 0);
});
