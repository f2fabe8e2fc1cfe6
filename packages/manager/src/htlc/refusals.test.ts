/**
 * Every BOLT 2 receiver requirement of normal operation: each refusal is a channel failure
 * naming the rule (its field), and the state is left as it was. The sending side's own
 * limits refuse the command and send nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '@lnkit/crypto';
import type { ChannelSideParams } from '@lnkit/monitor';
import type { ChannelType } from '@lnkit/tx';
import { type Message, ONION_PACKET_LENGTH, type UpdateAddHtlc } from '@lnkit/wire';
import type { NormalStep } from './normal-state.ts';
import { type HtlcNode, htlcPair, preimageOf, pump } from './test-harness.ts';

function addFor(n: HtlcNode, over: Partial<UpdateAddHtlc> = {}): UpdateAddHtlc {
  return {
    type: 128,
    kind: 'update_add_htlc',
    channelId: n.state.params.channelId,
    id: n.state.ledger.nextReceivedId,
    amountMsat: 10_000_000n,
    paymentHash: sha256(preimageOf(1)),
    cltvExpiry: 600_000,
    onionRoutingPacket: new Uint8Array(ONION_PACKET_LENGTH),
    ...over,
  };
}

function assertRefused(step: NormalStep, message: string, field: string, before?: unknown): void {
  assert.equal(
    step.failure?.kind,
    'protocol',
    `refused: ${JSON.stringify(step.failure, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))}`,
  );
  assert.ok(step.failure?.kind === 'protocol');
  assert.equal(step.failure.message, message);
  assert.equal(step.failure.refusal.field, field);
  assert.deepEqual(step.effects, []);
  if (before !== undefined) assert.equal(step.state, before);
}

/** A pair where B received (from A) and committed nothing yet. */
async function pairB(b?: Partial<ChannelSideParams>, channelType?: ChannelType) {
  return htlcPair({ ...(b ? { b } : {}), ...(channelType ? { channelType } : {}) });
}

test('update_add_htlc: amount 0 and below htlc_minimum_msat', async () => {
  const { b } = await pairB({ htlcMinimumMsat: 1000n });
  const before = b.state;
  assertRefused(await b.deliver(addFor(b, { amountMsat: 0n })), 'update_add_htlc', 'amount_msat', before);
  assertRefused(await b.deliver(addFor(b, { amountMsat: 999n })), 'update_add_htlc', 'htlc_minimum_msat');
  assert.equal((await b.deliver(addFor(b, { amountMsat: 1000n }))).failure, undefined);
});

test('update_add_htlc: more than max_accepted_htlcs, more than max_htlc_value_in_flight_msat', async () => {
  const { b } = await pairB({ maxAcceptedHtlcs: 2, maxHtlcValueInFlightMsat: 150_000_000n });
  assert.equal((await b.deliver(addFor(b, { amountMsat: 100_000_000n }))).failure, undefined);
  assertRefused(
    await b.deliver(addFor(b, { amountMsat: 50_000_001n })),
    'update_add_htlc',
    'max_htlc_value_in_flight_msat',
  );
  assert.equal((await b.deliver(addFor(b, { amountMsat: 50_000_000n }))).failure, undefined);
  assertRefused(await b.deliver(addFor(b, { amountMsat: 1n })), 'update_add_htlc', 'max_accepted_htlcs');
});

test('update_add_htlc: cltv_expiry at 500000000, an id out of sequence, an add after shutdown', async () => {
  const { b } = await pairB();
  assertRefused(await b.deliver(addFor(b, { cltvExpiry: 500_000_000 })), 'update_add_htlc', 'cltv_expiry');
  assert.equal((await b.deliver(addFor(b, { cltvExpiry: 499_999_999 }))).failure, undefined);
  assertRefused(await b.deliver(addFor(b, { id: 5n })), 'update_add_htlc', 'id');
  assertRefused(await b.deliver(addFor(b, { id: 0n })), 'update_add_htlc', 'id');
  b.state = { ...b.state, shutdownReceived: true };
  assertRefused(await b.deliver(addFor(b)), 'update_add_htlc', 'shutdown');
});

// A has 700,000 sat; B asks it to keep 10,000. The funder must also pay the fee of the
// commitment with the added HTLC's output (172 weight) and, with anchors, both anchors.
for (const [type, limitMsat] of [
  // 700,000,000 − 10,000,000 − (724 + 172) × 2500 / 1000 sat
  ['static_remotekey', 687_760_000n],
  // 700,000,000 − 10,000,000 − (1124 + 172) × 2500 / 1000 sat − 2 × 330 sat
  ['anchors_zero_fee_htlc_tx', 686_100_000n],
] as const) {
  test(`update_add_htlc: the funder affords reserve, fee and the HTLC's output exactly (${type})`, async () => {
    const { b } = await pairB({ maxHtlcValueInFlightMsat: 10n ** 12n }, type);
    const before = b.state;
    assertRefused(
      await b.deliver(addFor(b, { amountMsat: limitMsat + 1n })),
      'update_add_htlc',
      'channel_reserve_satoshis',
      before,
    );
    assert.equal((await b.deliver(addFor(b, { amountMsat: limitMsat }))).failure, undefined);
  });
}

test('update_add_htlc: the fundee keeps the reserve asked of it', async () => {
  // B has 300,000 sat and must keep A's 10,000 (the fundee pays no fee).
  const { a } = await htlcPair();
  assertRefused(
    await a.deliver(addFor(a, { amountMsat: 290_000_001n })),
    'update_add_htlc',
    'channel_reserve_satoshis',
  );
  assert.equal((await a.deliver(addFor(a, { amountMsat: 290_000_000n }))).failure, undefined);
});

/** A pair with HTLC 0 from A committed in both commitments. */
async function committedHtlc() {
  const p = await htlcPair();
  await p.a.add(10_000_000n, preimageOf(1));
  await p.a.input({ kind: 'commit' });
  await pump(p.a, p.b);
  return p;
}

const fulfill = (n: HtlcNode, id: bigint, preimage: Uint8Array): Message => ({
  type: 130,
  kind: 'update_fulfill_htlc',
  channelId: n.state.params.channelId,
  id,
  paymentPreimage: preimage,
});

test('update_fulfill_htlc: a preimage that does not hash to payment_hash, an unknown id, an HTLC not yet committed', async () => {
  const { a } = await committedHtlc();
  assertRefused(await a.deliver(fulfill(a, 0n, preimageOf(2))), 'update_fulfill_htlc', 'payment_preimage');
  assertRefused(await a.deliver(fulfill(a, 1n, preimageOf(1))), 'update_fulfill_htlc', 'id');
  await a.add(10_000_000n, preimageOf(3));
  assertRefused(await a.deliver(fulfill(a, 1n, preimageOf(3))), 'update_fulfill_htlc', 'id');
  assert.equal((await a.deliver(fulfill(a, 0n, preimageOf(1)))).failure, undefined);
  // Removed already: a second removal is refused.
  assertRefused(await a.deliver(fulfill(a, 0n, preimageOf(1))), 'update_fulfill_htlc', 'id');
});

test('update_fail_malformed_htlc without the BADONION bit; update_fail_htlc of an unknown id', async () => {
  const { a } = await committedHtlc();
  const channelId = a.state.params.channelId;
  const malformed = (failureCode: number): Message => ({
    type: 135,
    kind: 'update_fail_malformed_htlc',
    channelId,
    id: 0n,
    sha256OfOnion: new Uint8Array(32),
    failureCode,
  });
  assertRefused(await a.deliver(malformed(0x4005)), 'update_fail_malformed_htlc', 'failure_code');
  const fail: Message = { type: 131, kind: 'update_fail_htlc', channelId, id: 9n, reason: new Uint8Array(4) };
  assertRefused(await a.deliver(fail), 'update_fail_htlc', 'id');
  assert.equal((await a.deliver(malformed(0x8000 | 0x4000 | 5))).failure, undefined);
});

test('update_fee: from the fundee, below and above the bounds, one the funder cannot afford', async () => {
  const { a, b } = await htlcPair();
  const fee = (n: HtlcNode, feeratePerKw: number): Message => ({
    type: 134,
    kind: 'update_fee',
    channelId: n.state.params.channelId,
    feeratePerKw,
  });
  assertRefused(await a.deliver(fee(a, 3000)), 'update_fee', 'feerate_per_kw');
  assertRefused(await b.deliver(fee(b, 252)), 'update_fee', 'feerate_per_kw');
  assertRefused(await b.deliver(fee(b, 100_001)), 'update_fee', 'feerate_per_kw');
  assert.equal((await b.deliver(fee(b, 253))).failure, undefined);
  // A funder with 15,000 sat cannot pay 724 × 50,000 / 1000 = 36,200 sat.
  const poor = await htlcPair({ pushMsat: 985_000_000n });
  assertRefused(await poor.b.deliver(fee(poor.b, 50_000)), 'update_fee', 'feerate_per_kw');
  assert.equal((await poor.b.deliver(fee(poor.b, 20_000))).failure, undefined);
});

test('commitment_signed: with no updates; a wrong signature; a wrong HTLC signature; a wrong count', async () => {
  const { a, b } = await htlcPair();
  const channelId = b.state.params.channelId;
  const none: Message = {
    type: 132,
    kind: 'commitment_signed',
    channelId,
    signature: new Uint8Array(64).fill(1),
    htlcSignatures: [],
  };
  assertRefused(await b.deliver(none), 'commitment_signed', 'commitment_signed');

  await a.add(10_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  const [add, signed] = b.inbox.splice(0, 2);
  assert.ok(add && signed?.kind === 'commitment_signed');
  await b.deliver(add);
  const before = b.state;
  const htlcSig = signed.htlcSignatures[0] as Uint8Array;
  assertRefused(await b.deliver({ ...signed, signature: htlcSig }), 'commitment_signed', 'signature', before);
  assertRefused(
    await b.deliver({ ...signed, htlcSignatures: [signed.signature] }),
    'commitment_signed',
    'htlc_signature',
    before,
  );
  assertRefused(await b.deliver({ ...signed, htlcSignatures: [] }), 'commitment_signed', 'num_htlcs', before);
  // A high-S twin of a valid signature is refused too (BOLT 2: LOW-S-standard rule).
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const sBytes = signed.signature.slice(32);
  const s = BigInt(`0x${Buffer.from(sBytes).toString('hex')}`);
  const highS = Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex');
  const twin = new Uint8Array([...signed.signature.slice(0, 32), ...highS]);
  assertRefused(await b.deliver({ ...signed, signature: twin }), 'commitment_signed', 'signature', before);
  assert.equal((await b.deliver(signed)).failure, undefined);
});

test('revoke_and_ack: unexpected, and with a secret that does not match the previous point', async () => {
  const { a, b } = await htlcPair();
  const channelId = a.state.params.channelId;
  const raa = (secret: Uint8Array, next: Uint8Array): Message => ({
    type: 133,
    kind: 'revoke_and_ack',
    channelId,
    perCommitmentSecret: secret,
    nextPerCommitmentPoint: next,
  });
  const point2 = await b.signer.getPerCommitmentPoint(2n);
  assertRefused(await a.deliver(raa(new Uint8Array(32).fill(3), point2)), 'revoke_and_ack', 'revoke_and_ack');
  await a.add(10_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  await b.deliver(b.inbox.shift() as Message);
  await b.deliver(b.inbox.shift() as Message);
  const real = a.inbox.shift();
  assert.ok(real?.kind === 'revoke_and_ack');
  const before = a.state;
  assertRefused(
    await a.deliver(raa(new Uint8Array(32).fill(3), point2)),
    'revoke_and_ack',
    'per_commitment_secret',
    before,
  );
  // Not a valid secret key at all.
  assertRefused(
    await a.deliver(raa(new Uint8Array(32), point2)),
    'revoke_and_ack',
    'per_commitment_secret',
    before,
  );
  assert.equal((await a.deliver(real)).failure, undefined);
});

test('our own commands beyond the limits are refused and send nothing', async () => {
  const { a, b } = await htlcPair({ b: { htlcMinimumMsat: 5000n, maxAcceptedHtlcs: 1 } });
  const r1 = await a.add(4999n, preimageOf(1));
  assert.equal(r1.failure?.kind, 'refused');
  assert.ok(r1.failure?.kind === 'refused' && r1.failure.refusal.field === 'htlc_minimum_msat');
  // The funder keeps the fee-spike buffer: twice the feerate and one more HTLC.
  const r2 = await a.add(687_000_000n, preimageOf(1));
  assert.ok(r2.failure?.kind === 'refused' && r2.failure.refusal.field === 'channel_reserve_satoshis');
  assert.equal((await a.add(10_000n, preimageOf(1))).failure, undefined);
  const r3 = await a.add(10_000n, preimageOf(2));
  assert.ok(r3.failure?.kind === 'refused' && r3.failure.refusal.field === 'max_accepted_htlcs');
  const r4 = await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(1) });
  assert.ok(r4.failure?.kind === 'refused' && r4.failure.refusal.field === 'id', 'not committed yet');
  assert.deepEqual(a.kindsSent(), ['update_add_htlc']);
  a.state = { ...a.state, shutdownSent: true };
  const r5 = await a.add(10_000n, preimageOf(3));
  assert.ok(r5.failure?.kind === 'refused' && r5.failure.refusal.field === 'shutdown');
});

test('max_dust_htlc_exposure_msat: we do not offer beyond it; one received beyond it is taken, then only failed', async () => {
  const { a, b } = await htlcPair();
  // At 2500 sat/kw an HTLC under 546 + 1657 sat is trimmed from A's commitment.
  a.ctx = { ...a.ctx, maxDustHtlcExposureMsat: 1_000_000n };
  assert.equal((await a.add(900_000n, preimageOf(1))).failure, undefined);
  const over = await a.add(200_000n, preimageOf(2));
  assert.ok(over.failure?.kind === 'refused' && over.failure.refusal.field === 'max_dust_htlc_exposure_msat');
  // Not dust: no bound.
  assert.equal((await a.add(3_000_000n, preimageOf(3))).failure, undefined);
  a.ctx = { ...a.ctx, maxDustHtlcExposureMsat: undefined };
  assert.equal((await a.add(200_000n, preimageOf(2))).failure, undefined);
  b.ctx = { ...b.ctx, maxDustHtlcExposureMsat: 1_000_000n };
  await a.input({ kind: 'commit' });
  await pump(a, b);
  assert.deepEqual(
    [...a.failures, ...b.failures].filter((f) => f.kind !== 'refused'),
    [],
  );
  const committed = b.events.filter((e) => e.type === 'htlc-committed');
  assert.deepEqual(
    committed.map((e) => e.type === 'htlc-committed' && (e.dustExposureExceeded ?? false)),
    [false, false, true],
  );
  const reveal = await b.input({ kind: 'fulfill-htlc', id: 2n, paymentPreimage: preimageOf(2) });
  assert.ok(
    reveal.failure?.kind === 'refused' && reveal.failure.refusal.field === 'max_dust_htlc_exposure_msat',
  );
  assert.equal((await b.input({ kind: 'fail-htlc', id: 2n, reason: new Uint8Array(4) })).failure, undefined);
});
