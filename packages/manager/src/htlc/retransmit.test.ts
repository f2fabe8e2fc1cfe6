/**
 * BOLT 2 "Message Retransmission" with HTLCs in flight: after a disconnect at each point of
 * the dance, channel_reestablish says what the peer lacks and exactly that goes again, in the
 * order it first went; the payment then completes with exact balances on both sides.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChannelReestablish } from '@lnkit/wire';
import { reestablishMessage } from './retransmit.ts';
import {
  deliverOne,
  disconnect,
  type HtlcNode,
  htlcPair,
  preimageOf,
  pump,
  reconnect,
} from './test-harness.ts';

/** Sends after the reconnect (channel_reestablish left out). */
function resent(n: HtlcNode, from: number): string[] {
  return n
    .kindsSent()
    .slice(from)
    .filter((k) => k !== 'channel_reestablish');
}

/** Reconnects, exchanges channel_reestablish, and returns what each side sent again. */
async function reestablish(a: HtlcNode, b: HtlcNode): Promise<{ a: string[]; b: string[] }> {
  const [na, nb] = [a.sent.length, b.sent.length];
  await reconnect(a, b);
  // Each side's channel_reestablish first: what it answers with is its retransmission.
  await deliverOne(a);
  await deliverOne(b);
  const out = { a: resent(a, na), b: resent(b, nb) };
  await pump(a, b);
  return out;
}

/** Settles HTLC 0 of A (B fulfills) and checks both sides end the same. */
async function finishPayment(a: HtlcNode, b: HtlcNode, amountMsat: bigint): Promise<void> {
  await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(1) });
  await b.input({ kind: 'commit' });
  await pump(a, b);
  assert.deepEqual([...a.failures, ...b.failures], []);
  assert.equal(a.state.ledger.htlcs.length + b.state.ledger.htlcs.length, 0);
  assert.deepEqual(a.balances(), {
    toLocalMsat: 700_000_000n - amountMsat,
    toRemoteMsat: 300_000_000n + amountMsat,
  });
  assert.deepEqual(b.balances(), {
    toLocalMsat: 300_000_000n + amountMsat,
    toRemoteMsat: 700_000_000n - amountMsat,
  });
  assert.equal(a.state.commitments.holder.number, b.state.commitments.counterparty.number);
  assert.equal(b.state.commitments.holder.number, a.state.commitments.counterparty.number);
}

test('lost commitment_signed: the updates it covered and it, again', async () => {
  const { a, b } = await htlcPair();
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  // B got the add but not the commitment_signed: it reverses the add on disconnection.
  await deliverOne(b);
  await disconnect(a, b);
  assert.equal(b.state.ledger.htlcs.length, 0);
  assert.equal(b.state.ledger.nextReceivedId, 0n);
  const r = await reestablish(a, b);
  assert.deepEqual(r.a, ['update_add_htlc', 'commitment_signed']);
  assert.deepEqual(r.b, []);
  // Byte for byte what went the first time.
  const adds = a.sent.filter((m) => m.kind === 'update_add_htlc');
  assert.deepEqual(adds[0], adds[1]);
  const sigs = a.sent.filter((m) => m.kind === 'commitment_signed');
  assert.deepEqual(sigs[0], sigs[1]);
  assert.ok(b.events.some((e) => e.type === 'htlc-committed'));
  await finishPayment(a, b, 20_000_000n);
});

test('lost revoke_and_ack (nothing after it): it alone, again', async () => {
  const { a, b } = await htlcPair();
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  // B answers revoke_and_ack + commitment_signed; A answers with its revoke_and_ack, lost.
  await deliverOne(b);
  await deliverOne(b);
  await deliverOne(a);
  await deliverOne(a);
  assert.equal(b.inbox.length, 1);
  await disconnect(a, b);
  const r = await reestablish(a, b);
  assert.deepEqual(r.a, ['revoke_and_ack']);
  assert.deepEqual(r.b, []);
  const raas = a.sent.filter((m) => m.kind === 'revoke_and_ack');
  assert.deepEqual(raas.at(-1), raas.at(-2));
  await finishPayment(a, b, 20_000_000n);
});

test('lost revoke_and_ack and commitment_signed: both, revoke_and_ack first as it went first', async () => {
  const { a, b } = await htlcPair();
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  // B answers revoke_and_ack then commitment_signed; both are lost.
  await deliverOne(b);
  await deliverOne(b);
  assert.deepEqual(b.kindsSent(), ['revoke_and_ack', 'commitment_signed']);
  await disconnect(a, b);
  const r = await reestablish(a, b);
  assert.deepEqual(r.b, ['revoke_and_ack', 'commitment_signed']);
  assert.deepEqual(r.a, []);
  await finishPayment(a, b, 20_000_000n);
});

test('commitment_signed then revoke_and_ack lost: sent again in that order, with the update before them', async () => {
  const { a, b } = await htlcPair();
  // Both add at once; B's add and commitment_signed reach A, A's messages to B are all lost.
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  await b.add(5_000_000n, preimageOf(2));
  await b.input({ kind: 'commit' });
  await deliverOne(a);
  await deliverOne(a);
  assert.deepEqual(a.kindsSent(), ['update_add_htlc', 'commitment_signed', 'revoke_and_ack']);
  await disconnect(a, b);
  const r = await reestablish(a, b);
  assert.deepEqual(r.a, ['update_add_htlc', 'commitment_signed', 'revoke_and_ack']);
  assert.deepEqual(r.b, []);
  assert.deepEqual([...a.failures, ...b.failures], []);
  // Both HTLCs committed on both sides.
  assert.equal(a.state.ledger.htlcs.filter((h) => h.state === 'sent-add-ack-revocation').length, 1);
  assert.equal(a.state.ledger.htlcs.filter((h) => h.state === 'rcvd-add-ack-revocation').length, 1);
  await a.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(2) });
  await a.input({ kind: 'commit' });
  await pump(a, b);
  await finishPayment(a, b, 20_000_000n - 5_000_000n);
});

test('an update never signed for is sent again after the retransmission', async () => {
  const { a, b } = await htlcPair();
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  await pump(a, b);
  // B's fulfill went, its commitment_signed was never made: lost with the connection.
  await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(1) });
  await deliverOne(a);
  assert.equal(a.state.ledger.htlcs[0]?.state, 'rcvd-remove-htlc');
  await disconnect(a, b);
  // A reverses the fulfill it had no commitment_signed for (it keeps the preimage).
  assert.equal(a.state.ledger.htlcs[0]?.state, 'sent-add-ack-revocation');
  assert.equal(a.state.ledger.htlcs[0]?.preimageKnown, true);
  const r = await reestablish(a, b);
  // Sent again, and (nothing waiting on a revocation) signed for at once.
  assert.deepEqual(r.b, ['update_fulfill_htlc', 'commitment_signed']);
  assert.deepEqual([...a.failures, ...b.failures], []);
  assert.deepEqual(a.balances(), { toLocalMsat: 680_000_000n, toRemoteMsat: 320_000_000n });
  // The payer heard of the preimage once, and the monitor got it once.
  assert.equal(a.events.filter((e) => e.type === 'htlc-fulfilled').length, 1);
  assert.equal(a.persisted.filter((u) => u.steps.some((s) => s.kind === 'payment-preimage')).length, 1);
  assert.deepEqual(b.balances(), { toLocalMsat: 320_000_000n, toRemoteMsat: 680_000_000n });
});

test('channel_reestablish numbers that cannot be: refused, and a peer ahead of us detected', async () => {
  const { a, b } = await htlcPair();
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  await pump(a, b);
  await disconnect(a, b);
  await reconnect(a, b);
  const theirs = b.inbox.shift() as ChannelReestablish;
  a.inbox.length = 0;
  const good = reestablishMessage(a.state);
  assert.equal(good.nextCommitmentNumber, 2n);
  assert.equal(good.nextRevocationNumber, 1n);
  const cases: [Partial<ChannelReestablish>, string][] = [
    [{ nextCommitmentNumber: 0n }, 'next_commitment_number'],
    [{ nextCommitmentNumber: 5n }, 'next_commitment_number'],
    [{ yourLastPerCommitmentSecret: new Uint8Array(32).fill(9) }, 'your_last_per_commitment_secret'],
  ];
  for (const [over, field] of cases) {
    const r = await b.deliver({ ...theirs, ...over });
    assert.equal(r.failure?.kind, 'protocol');
    assert.ok(r.failure?.kind === 'protocol' && r.failure.refusal.field === field, field);
  }
  // A peer that proves a newer state of ours: we lost data (the channel must not broadcast).
  const behind = await b.deliver({ ...theirs, nextRevocationNumber: 3n });
  assert.equal(behind.failure?.kind, 'behind');
  assert.ok((await b.deliver(theirs)).failure === undefined);
});
