/**
 * BOLT 4's final-node checks (decideReceive): each way an HTLC to us is refused, with the
 * failure the BOLT names, and the two ways it is claimed (our invoice, a keysend preimage).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes, sha256 } from '@lnkit/crypto';
import type { ReceivePayment } from '@lnkit/onion';
import { decideReceive, type ReceivedHtlc, type StoredInvoice } from './receive.ts';

const HEIGHT = 800;
const NOW = 1_700_000_000;
const preimage = randomBytes(32);
const paymentHash = sha256(preimage);
const paymentSecret = randomBytes(32);

const invoice = (o: Partial<StoredInvoice> = {}): StoredInvoice => ({
  bolt11: 'lnbcrt...',
  paymentHash,
  paymentPreimage: preimage,
  paymentSecret,
  amountMsat: 10_000n,
  expiresAt: NOW + 3600,
  minFinalCltvExpiryDelta: 18,
  status: 'unpaid',
  ...o,
});
const htlc = (o: Partial<ReceivedHtlc> = {}): ReceivedHtlc => ({
  amountMsat: 10_000n,
  paymentHash,
  cltvExpiry: HEIGHT + 21,
  ...o,
});
const peeled = (o: Partial<ReceivePayment> = {}): ReceivePayment => ({
  kind: 'receive',
  sharedSecret: new Uint8Array(32),
  payload: { amtToForwardMsat: 10_000n, outgoingCltvValue: HEIGHT + 21 },
  amtToForwardMsat: 10_000n,
  outgoingCltvValue: HEIGHT + 21,
  totalMsat: 10_000n,
  paymentSecret,
  customRecords: [],
  ...o,
});

const failure = (d: ReturnType<typeof decideReceive>) => (d.kind === 'fail' ? d.failure.name : 'claim');

test('an HTLC that matches our invoice is claimed with its preimage (an overpayment up to twice too)', () => {
  const d = decideReceive(htlc(), peeled(), invoice(), HEIGHT, NOW);
  assert.ok(d.kind === 'claim');
  assert.deepEqual(d.paymentPreimage, preimage);
  assert.equal(d.keysend, false);
  const over = decideReceive(
    htlc({ amountMsat: 15_000n }),
    peeled({ totalMsat: 15_000n }),
    invoice(),
    HEIGHT,
    NOW,
  );
  assert.equal(over.kind, 'claim');
  // basic_mpp: a part of a larger total is taken, to be held until its set reaches the total.
  const part = decideReceive(htlc(), peeled({ totalMsat: 20_000n }), invoice(), HEIGHT, NOW);
  assert.ok(part.kind === 'claim');
  assert.equal(part.totalMsat, 20_000n);
});

test('each refusal of BOLT 4 at the final node, with the failure it names', () => {
  const unknown = 'incorrect_or_unknown_payment_details';
  const cases: [string, ReturnType<typeof decideReceive>, string][] = [
    ['no invoice', decideReceive(htlc(), peeled(), undefined, HEIGHT, NOW), unknown],
    ['already paid', decideReceive(htlc(), peeled(), invoice({ status: 'paid' }), HEIGHT, NOW), unknown],
    [
      'wrong secret',
      decideReceive(htlc(), peeled({ paymentSecret: randomBytes(32) }), invoice(), HEIGHT, NOW),
      unknown,
    ],
    [
      'no secret',
      decideReceive(htlc(), peeled({ paymentSecret: undefined }), invoice(), HEIGHT, NOW),
      unknown,
    ],
    [
      'too little',
      decideReceive(
        htlc({ amountMsat: 9_999n }),
        peeled({ amtToForwardMsat: 9_999n, totalMsat: 9_999n }),
        invoice(),
        HEIGHT,
        NOW,
      ),
      unknown,
    ],
    [
      'more than twice',
      decideReceive(htlc({ amountMsat: 20_001n }), peeled({ totalMsat: 20_001n }), invoice(), HEIGHT, NOW),
      unknown,
    ],
    ['expired', decideReceive(htlc(), peeled(), invoice({ expiresAt: NOW - 1 }), HEIGHT, NOW), unknown],
    [
      'cltv too near',
      decideReceive(
        htlc({ cltvExpiry: HEIGHT + 17 }),
        peeled({ outgoingCltvValue: HEIGHT + 17 }),
        invoice(),
        HEIGHT,
        NOW,
      ),
      unknown,
    ],
    [
      'past the fulfillment deadline, though the invoice asked for fewer blocks',
      decideReceive(
        htlc({ cltvExpiry: HEIGHT + 18 }),
        peeled({ outgoingCltvValue: HEIGHT + 18 }),
        invoice({ minFinalCltvExpiryDelta: 9 }),
        HEIGHT,
        NOW,
      ),
      unknown,
    ],
    [
      'a part of a total below the invoice',
      decideReceive(
        htlc({ amountMsat: 4_000n }),
        peeled({ amtToForwardMsat: 4_000n, totalMsat: 9_999n }),
        invoice(),
        HEIGHT,
        NOW,
      ),
      unknown,
    ],
    [
      'amt_to_forward above the HTLC',
      decideReceive(htlc(), peeled({ amtToForwardMsat: 10_001n }), invoice(), HEIGHT, NOW),
      'final_incorrect_htlc_amount',
    ],
    [
      'outgoing_cltv_value above the HTLC',
      decideReceive(htlc(), peeled({ outgoingCltvValue: HEIGHT + 22 }), invoice(), HEIGHT, NOW),
      'final_incorrect_cltv_expiry',
    ],
    [
      'beyond the dust exposure',
      decideReceive(htlc({ dustExposureExceeded: true }), peeled(), invoice(), HEIGHT, NOW),
      'temporary_node_failure',
    ],
  ];
  for (const [what, d, expected] of cases) assert.equal(failure(d), expected, what);
  const u = decideReceive(htlc(), peeled(), undefined, HEIGHT, NOW);
  assert.ok(u.kind === 'fail' && u.failure.name === unknown);
  assert.deepEqual(u.failure, { name: unknown, htlcMsat: 10_000n, height: HEIGHT });
});

test('keysend: claimed with the preimage the onion carries, refused when it is not the hash’s', () => {
  const k = randomBytes(32);
  const ok = decideReceive(
    htlc({ paymentHash: sha256(k), cltvExpiry: HEIGHT + 40 }),
    peeled({ keysendPreimage: k, paymentSecret: undefined, outgoingCltvValue: HEIGHT + 40 }),
    undefined,
    HEIGHT,
    NOW,
  );
  assert.ok(ok.kind === 'claim' && ok.keysend);
  assert.deepEqual(ok.paymentPreimage, k);
  const bad = decideReceive(
    htlc({ paymentHash: sha256(randomBytes(32)) }),
    peeled({ keysendPreimage: k, paymentSecret: undefined }),
    undefined,
    HEIGHT,
    NOW,
  );
  assert.equal(failure(bad), 'incorrect_or_unknown_payment_details');
});

test('an onion that asks to forward: this node does not forward yet (unknown_next_peer)', () => {
  const d = decideReceive(
    htlc(),
    {
      kind: 'forward',
      sharedSecret: new Uint8Array(32),
      payload: {},
      next: { shortChannelId: 1n },
      amtToForwardMsat: 9_000n,
      outgoingCltvValue: HEIGHT,
      nextPacket: new Uint8Array(1366),
    },
    invoice(),
    HEIGHT,
    NOW,
  );
  assert.equal(failure(d), 'unknown_next_peer');
});
