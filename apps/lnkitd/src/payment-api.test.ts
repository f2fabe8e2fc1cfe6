/**
 * The payment endpoints over a node that records what it was asked: parameters parsed strictly
 * (each bad one named), amounts as strings both ways, exactly the fields in each answer
 * (`reason` only for a failure), and the node's refusals with their words under a 400.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, msatParam, nodeIdParam } from './api.ts';
import { type PaymentNode, type PaymentOutcomeView, paymentRoutes } from './payment-api.ts';

/** As api.ts names a bad parameter. */
const badParam = (param: string, what: string) =>
  new ApiError(400, 'invalid-parameter', `parameter "${param}" ${what}`);
const SELF = `02${'11'.repeat(32)}`;
const G = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
const HASH = 'aa'.repeat(32);
const asked: unknown[][] = [];
const ok: PaymentOutcomeView = {
  paymentId: HASH,
  paymentHash: HASH,
  status: 'succeeded',
  amountMsat: 12_345n,
  feeMsat: 0n,
  preimage: 'bb'.repeat(32),
};
const node: PaymentNode = {
  nodeId: SELF,
  createInvoice: async (amountMsat, opts) => {
    asked.push(['createInvoice', amountMsat, opts]);
    return { bolt11: 'lnbcrt1x', paymentHash: HASH, expiresAt: 1_700_000_000 };
  },
  pay: async (bolt11, opts) => {
    asked.push(['pay', bolt11, opts]);
    if (bolt11 === 'lnbcrt1expired')
      throw Object.assign(new Error('the invoice expired at 2026-01-01T00:00:00.000Z'), {
        code: 'invalid-argument',
      });
    return bolt11 === 'lnbcrt1fails'
      ? { ...ok, status: 'failed', preimage: null, reason: 'incorrect_or_unknown_payment_details' }
      : ok;
  },
  keysend: async (nodeId, amountMsat) => {
    asked.push(['keysend', nodeId, amountMsat]);
    return ok;
  },
  listPayments: async () => [ok],
  listInvoices: async () => [
    { bolt11: 'lnbcrt1x', paymentHash: HASH, amountMsat: null, status: 'paid', paidAt: 1_700_000_001 },
  ],
};
const routes = paymentRoutes(node, {
  apiError: (status, code, message) => new ApiError(status, code, message),
  badParam,
  nodeIdParam,
  msatParam,
});
const call = (path: string, method: string, body: Record<string, unknown> = {}) =>
  routes[path]![method]!(body);

test('answers carry exactly the issue’s fields, amounts as strings; what was asked reaches the node', async () => {
  assert.deepEqual(
    await call('/v1/invoice', 'POST', { amountMsat: '1000', description: 'tea', expirySeconds: '60' }),
    { bolt11: 'lnbcrt1x', paymentHash: HASH, expiresAt: 1_700_000_000 },
  );
  assert.deepEqual(asked.pop(), ['createInvoice', 1000n, { description: 'tea', expirySeconds: 60 }]);
  await call('/v1/invoice', 'POST', { amountMsat: '0' });
  assert.deepEqual(asked.pop(), ['createInvoice', null, { description: '' }]);
  const paid = await call('/v1/pay', 'POST', { bolt11: ' lnbcrt1ok ', amountMsat: 5000 });
  assert.deepEqual(paid, {
    paymentId: HASH,
    paymentHash: HASH,
    status: 'succeeded',
    amountMsat: '12345',
    feeMsat: '0',
    preimage: 'bb'.repeat(32),
  });
  assert.deepEqual(asked.pop(), ['pay', 'lnbcrt1ok', { amountMsat: 5000n }]);
  await call('/v1/pay', 'POST', { bolt11: 'lnbcrt1ok', paymentId: 'second-try' });
  assert.deepEqual(asked.pop(), ['pay', 'lnbcrt1ok', { paymentId: 'second-try' }]);
  const failed = (await call('/v1/pay', 'POST', { bolt11: 'lnbcrt1fails' })) as Record<string, unknown>;
  assert.equal(failed.status, 'failed');
  assert.equal(failed.reason, 'incorrect_or_unknown_payment_details');
  assert.equal(failed.preimage, null);
  await call('/v1/keysend', 'POST', { nodeId: G, amountMsat: '777' });
  assert.deepEqual(asked.pop(), ['keysend', G, 777n]);
  assert.deepEqual(await call('/v1/listpayments', 'GET'), { payments: [paid] });
  assert.deepEqual(await call('/v1/listinvoices', 'GET'), {
    invoices: [
      { bolt11: 'lnbcrt1x', paymentHash: HASH, amountMsat: null, status: 'paid', paidAt: 1_700_000_001 },
    ],
  });
});

test('bad parameters are refused naming them; the node’s refusal keeps its words', async () => {
  const refused = async (path: string, body: Record<string, unknown>, pattern: RegExp, status = 400) => {
    const before = asked.length;
    await assert.rejects(call(path, 'POST', body), (e: ApiError) => {
      assert.equal(e.status, status);
      assert.match(e.message, pattern);
      return true;
    });
    return asked.length - before;
  };
  assert.equal(await refused('/v1/pay', {}, /"bolt11" is required/), 0);
  assert.equal(await refused('/v1/pay', { bolt11: 'lnbcrt1ok', amountMsat: '-1' }, /"amountMsat"/), 0);
  assert.equal(await refused('/v1/pay', { bolt11: 'lnbcrt1ok', paymentId: 'has space' }, /"paymentId"/), 0);
  assert.equal(await refused('/v1/pay', { bolt11: 'lnbcrt1ok', paymentId: 7 }, /"paymentId"/), 0);
  assert.equal(
    await refused('/v1/pay', { bolt11: 'lnbcrt1ok', paymentId: 'x'.repeat(65) }, /"paymentId"/),
    0,
  );
  assert.equal(await refused('/v1/invoice', { amountMsat: '1e3' }, /"amountMsat"/), 0);
  assert.equal(await refused('/v1/invoice', { amountMsat: '1', expirySeconds: 0 }, /"expirySeconds"/), 0);
  assert.equal(await refused('/v1/invoice', { amountMsat: '1', description: 5 }, /"description"/), 0);
  assert.equal(await refused('/v1/keysend', { nodeId: G }, /"amountMsat" is required/), 0);
  assert.equal(await refused('/v1/keysend', { nodeId: '02zz', amountMsat: '1' }, /"nodeId"/), 0);
  await refused('/v1/pay', { bolt11: 'lnbcrt1expired' }, /the invoice expired at/);
});
