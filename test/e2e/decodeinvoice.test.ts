/**
 * End to end: `lnkit-cli decodeinvoice` and `POST /v1/decodeinvoice` on a running lnkitd, with
 * BOLT 11's own examples, an invoice lnkit signs for regtest, and bad invoices, which must be a
 * 400 naming what is wrong (never a 500) and exit code 1 from the CLI.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createInvoice, plainKeySigner } from '@lnkit/invoice';
import invalidExamples from '../../packages/invoice/src/fixtures/bolt11-invalid.json' with { type: 'json' };
import validExamples from '../../packages/invoice/src/fixtures/bolt11-valid.json' with { type: 'json' };
import { Daemon, request } from './daemon.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-invoice-'));
let d: Daemon;

before(async () => {
  d = new Daemon(join(root, 'a'), ['--listen', '127.0.0.1:0', '--api', '127.0.0.1:0']);
  await d.start();
});

after(async () => {
  await d?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

async function post(body: unknown): Promise<{
  status: number;
  json: { error?: { code: string; message: string } } & Record<string, unknown>;
}> {
  const { url, token } = d.api();
  const res = await request(`${url}/v1/decodeinvoice`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as never };
}

const coffee = validExamples.find((e) => e.title.startsWith('Please send $3 for a cup of coffee'))!;
const routed = validExamples.find((e) => e.title.includes('extra routing info'))!;

test('--json gives the invoice fields, absent ones null, amountMsat as a string', () => {
  const out = d.json('decodeinvoice', coffee.invoice);
  assert.deepEqual(
    {
      network: out.network,
      payee: out.payee,
      amountMsat: out.amountMsat,
      paymentHash: out.paymentHash,
      description: out.description,
      descriptionHash: out.descriptionHash,
      expirySeconds: out.expirySeconds,
      minFinalCltvExpiry: out.minFinalCltvExpiry,
      routeHints: out.routeHints,
    },
    {
      network: 'bitcoin',
      payee: coffee.expected.payee,
      amountMsat: '250000000',
      paymentHash: coffee.expected.paymentHash,
      description: '1 cup coffee',
      descriptionHash: null,
      expirySeconds: 60,
      minFinalCltvExpiry: 18,
      routeHints: null,
    },
  );
  assert.deepEqual((out.features as { bits: number[] }).bits, [8, 14]);
  assert.equal(out.hasPaymentSecret, true);

  const r = d.json('decodeinvoice', routed.invoice);
  assert.equal(r.description, null);
  assert.equal(r.descriptionHash, routed.expected.descriptionHash);
  assert.deepEqual(r.routeHints, routed.expected.routeHints);
  assert.deepEqual(r.fallbacks, ['1RustyRX2oai4EYYDpQGWvEL62BBGqN9T']);
});

test('the human output names network, payee, amount, hash, secret, description, expiry, cltv, features, route hints', async () => {
  const { invoice } = await createInvoice(
    {
      network: 'regtest',
      amountMsat: 42_000n,
      paymentHash: new Uint8Array(32).fill(0xab),
      paymentSecret: new Uint8Array(32).fill(1),
      description: 'regtest tea',
      expirySeconds: 3_600_000,
      routeHints: [
        [
          {
            nodeId: Buffer.from(routed.expected.routeHints[0]![0]!.nodeId, 'hex'),
            shortChannelId: (101n << 40n) | (2n << 16n) | 3n,
            feeBaseMsat: 1000,
            feeProportionalMillionths: 10,
            cltvExpiryDelta: 40,
          },
        ],
      ],
    },
    plainKeySigner(new Uint8Array(32).fill(9)),
  );
  const r = d.cli('decodeinvoice', invoice);
  assert.equal(r.status, 0, r.stderr);
  for (const want of [
    /network: +regtest/,
    /payee: +0[23][0-9a-f]{64}/,
    /amount: +42000 msat/,
    /payment hash: +(ab){32}/,
    /payment secret: +present/,
    /description: +"regtest tea"/,
    /expiry: +3600000 s \(expires /,
    /min_final_cltv_expiry: +18 blocks/,
    /features: +var_onion_optin\/required, payment_secret\/required/,
    /from 029e03a9\S+ over 101x2x3: fee 1000 msat \+ 10 ppm, cltv delta 40/,
  ])
    assert.match(r.stdout, want);
  const hashed = d.cli('decodeinvoice', routed.invoice);
  assert.match(hashed.stdout, new RegExp(`description hash: +${routed.expected.descriptionHash}`));
  assert.match(hashed.stdout, /amount: +2000000000 msat/);
});

test('every invalid BOLT 11 example is a 400 naming the fault, and the CLI exits 1 with it', async () => {
  for (const ex of invalidExamples) {
    const { status, json } = await post({ invoice: ex.invoice });
    assert.equal(status, 400, `${ex.title}: ${JSON.stringify(json)}`);
    assert.equal(json.error?.code, 'invalid-invoice');
    assert.ok(json.error?.message.includes(ex.messageNames), `${ex.title}: ${json.error?.message}`);
  }
  const r = d.cli('decodeinvoice', invalidExamples.find((e) => e.expectedCode === 'bad-checksum')!.invoice);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^lnkit-cli: parameter "invoice" is not a valid BOLT 11 invoice: bech32 checksum is invalid/,
  );
  const j = d.cli('--json', 'decodeinvoice', 'lnbc1nothing');
  assert.equal(j.status, 1);
  assert.equal(JSON.parse(j.stdout).error.code, 'invalid-invoice');
});

test('a missing or non-string invoice is a 400 naming the parameter; garbage is never a 500', async () => {
  let r = await post({});
  assert.equal(r.status, 400);
  assert.match(r.json.error!.message, /parameter "invoice" is required/);
  r = await post({ invoice: 12 });
  assert.equal(r.status, 400);
  assert.match(r.json.error!.message, /parameter "invoice" must be a string/);
  for (const junk of ['x', '1', 'lnbc1', '\u0000', 'lightning:', 'é'.repeat(100), 'ln'.repeat(20_000)]) {
    r = await post({ invoice: junk });
    assert.equal(r.status, 400, `${JSON.stringify(junk.slice(0, 20))}: ${JSON.stringify(r.json)}`);
  }
  const usage = d.cli('decodeinvoice');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /expected one argument: the BOLT 11 invoice/);
});
