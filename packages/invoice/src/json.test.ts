import assert from 'node:assert/strict';
import { test } from 'node:test';
import validExamples from './fixtures/bolt11-valid.json' with { type: 'json' };
import { decodeInvoice, invoiceJson } from './index.ts';

test('invoiceJson: hex, msat as a string, defaults applied, absent fields null', () => {
  const donation = invoiceJson(decodeInvoice(validExamples[0]!.invoice));
  assert.equal(donation.amountMsat, null);
  assert.equal(donation.descriptionHash, null);
  assert.equal(donation.routeHints, null);
  assert.equal(donation.fallbacks, null);
  assert.equal(donation.paymentMetadata, null);
  assert.equal(donation.expirySeconds, 3600);
  assert.equal(donation.minFinalCltvExpiry, 18);
  assert.deepEqual(donation.features, {
    hex: '4100',
    bits: [8, 14],
    names: ['var_onion_optin/required', 'payment_secret/required'],
  });
  const routed = validExamples.find((e) => e.title.includes('extra routing info'))!;
  const r = invoiceJson(decodeInvoice(routed.invoice));
  assert.equal(r.amountMsat, '2000000000');
  assert.deepEqual(r.routeHints, routed.expected.routeHints);
  assert.deepEqual(r.fallbacks, ['1RustyRX2oai4EYYDpQGWvEL62BBGqN9T']);
  const beans = invoiceJson(
    decodeInvoice(validExamples.find((e) => e.expected.features.includes(99))!.invoice),
  );
  assert.deepEqual(beans.features?.names, ['var_onion_optin/required', 'payment_secret/required', 'bit99']);
  // JSON.stringify works as is: no bigint, no Uint8Array.
  assert.equal(JSON.parse(JSON.stringify(r)).payee, r.payee);
});
