/**
 * BOLT 2 normal operation between two lnkit cores in memory: the whole add → commit → revoke →
 * fulfill → commit → revoke dance, failures, both sides at once, and the durability rule.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '@lnkit/crypto';
import type { CommitmentData, HolderCommitmentData } from '@lnkit/monitor';
import { settledForClose } from './normal.ts';
import { deliverOne, htlcPair, preimageOf, pump } from './test-harness.ts';

const FUNDING_MSAT = 1_000_000_000n;

test('add → commit → revoke → fulfill → commit → revoke: exact balances and the classic message order', async () => {
  const { a, b } = await htlcPair();
  const preimage = preimageOf(1);
  const add = await a.add(100_000_000n, preimage);
  assert.equal(add.failure, undefined);
  await a.input({ kind: 'commit' });
  await pump(a, b);

  // B heard of the HTLC once it was irrevocably committed, and only then.
  const committed = b.events.filter((e) => e.type === 'htlc-committed');
  assert.equal(committed.length, 1);
  assert.equal(committed[0]?.type === 'htlc-committed' && committed[0].amountMsat, 100_000_000n);
  assert.equal(a.state.ledger.htlcs[0]?.state, 'sent-add-ack-revocation');
  assert.equal(b.state.ledger.htlcs[0]?.state, 'rcvd-add-ack-revocation');
  // The HTLC is in both commitments, out of both balances.
  assert.deepEqual(a.balances(), { toLocalMsat: 600_000_000n, toRemoteMsat: 300_000_000n });

  const fulfill = await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimage });
  assert.equal(fulfill.failure, undefined);
  await b.input({ kind: 'commit' });
  await pump(a, b);

  assert.deepEqual(a.kindsSent(), [
    'update_add_htlc',
    'commitment_signed',
    'revoke_and_ack',
    'revoke_and_ack',
    'commitment_signed',
  ]);
  assert.deepEqual(b.kindsSent(), [
    'revoke_and_ack',
    'commitment_signed',
    'update_fulfill_htlc',
    'commitment_signed',
    'revoke_and_ack',
  ]);
  const sent = a.events.find((e) => e.type === 'htlc-fulfilled');
  assert.ok(sent && sent.type === 'htlc-fulfilled');
  assert.deepEqual(sent.paymentPreimage, preimage);
  assert.ok(a.events.some((e) => e.type === 'htlc-resolved' && e.removal.kind === 'fulfill'));
  assert.ok(b.events.some((e) => e.type === 'htlc-resolved' && e.direction === 'received'));

  // Exact to the msat, on both sides and in both commitments; nothing left in the ledgers.
  for (const n of [a, b]) {
    assert.equal(n.state.ledger.htlcs.length, 0);
    assert.equal(n.state.commitments.holder.number, 2n);
    assert.equal(n.state.commitments.counterparty.number, 2n);
    assert.equal(n.state.outbox.length, 0);
    assert.deepEqual(n.failures, []);
  }
  assert.deepEqual(a.balances(), { toLocalMsat: 600_000_000n, toRemoteMsat: 400_000_000n });
  assert.deepEqual(b.balances(), { toLocalMsat: 400_000_000n, toRemoteMsat: 600_000_000n });
  assert.equal(a.state.ledger.settledLocalMsat + a.state.ledger.settledRemoteMsat, FUNDING_MSAT);

  // What the monitors hold: A's last holder commitment (signed by B) and B's last counterparty
  // commitment for A are the same transaction; the preimage reached both monitors.
  const holderA = a.persisted.flatMap((u) => u.steps).filter((s) => s.kind === 'holder-commitment');
  const cpB = b.persisted.flatMap((u) => u.steps).filter((s) => s.kind === 'counterparty-commitment');
  const lastHolderA = holderA.at(-1)?.commitment as HolderCommitmentData;
  const lastCpB = cpB.at(-1)?.commitment as CommitmentData;
  assert.equal(lastHolderA.txid, lastCpB.txid);
  assert.equal(lastHolderA.commitmentNumber, 2n);
  assert.equal(lastHolderA.toLocalMsat, 600_000_000n);
  for (const n of [a, b])
    assert.ok(
      n.persisted.some((u) =>
        u.steps.some(
          (s) =>
            s.kind === 'payment-preimage' &&
            sha256(s.paymentPreimage).every((x, i) => x === sha256(preimage)[i]),
        ),
      ),
    );
  // While the HTLC was in flight, the commitments carried it (with its HTLC signature).
  const withHtlc = holderA.find((s) => (s.commitment.htlcs?.length ?? 0) > 0)
    ?.commitment as HolderCommitmentData;
  assert.equal(withHtlc.htlcs?.[0]?.direction, 'offered');
  assert.equal(withHtlc.htlcSignatures?.length, 1);
  // B revealed secrets 0 and 1, A holds them.
  assert.ok(a.persisted.flatMap((u) => u.steps).filter((s) => s.kind === 'commitment-secret').length === 2);
});

test('a failed HTLC gives the amount back; a malformed one carries sha256_of_onion and failure_code', async () => {
  const { a, b } = await htlcPair();
  await a.add(50_000_000n, preimageOf(2));
  await a.add(70_000_000n, preimageOf(3));
  await a.input({ kind: 'commit' });
  await pump(a, b);
  assert.deepEqual(a.balances(), { toLocalMsat: 580_000_000n, toRemoteMsat: 300_000_000n });
  assert.equal(
    (await b.input({ kind: 'fail-htlc', id: 0n, reason: new Uint8Array([1, 2, 3]) })).failure,
    undefined,
  );
  const sha = sha256(new Uint8Array(1366).fill(7));
  assert.equal(
    (await b.input({ kind: 'fail-malformed-htlc', id: 1n, sha256OfOnion: sha, failureCode: 0xc005 })).failure,
    undefined,
  );
  await b.input({ kind: 'commit' });
  await pump(a, b);
  const resolved = a.events.filter((e) => e.type === 'htlc-resolved');
  assert.equal(resolved.length, 2);
  const [fail, malformed] = resolved.map((e) => (e.type === 'htlc-resolved' ? e.removal : undefined));
  assert.deepEqual(fail, { kind: 'fail', reason: new Uint8Array([1, 2, 3]) });
  assert.deepEqual(malformed, { kind: 'fail-malformed', sha256OfOnion: sha, failureCode: 0xc005 });
  assert.deepEqual(a.balances(), { toLocalMsat: 700_000_000n, toRemoteMsat: 300_000_000n });
  assert.deepEqual(b.balances(), { toLocalMsat: 300_000_000n, toRemoteMsat: 700_000_000n });
  assert.deepEqual(b.kindsSent().slice(2), [
    'update_fail_htlc',
    'update_fail_malformed_htlc',
    'commitment_signed',
    'revoke_and_ack',
  ]);
  assert.ok(!a.events.some((e) => e.type === 'htlc-fulfilled'));
});

test('both sides add and settle at the same time; msat conserved on both sides', async () => {
  const { a, b } = await htlcPair();
  // Both send before hearing the other.
  await a.add(10_000_000n, preimageOf(4));
  await a.input({ kind: 'commit' });
  await b.add(20_000_000n, preimageOf(5));
  await b.add(30_000_000n, preimageOf(6));
  await b.input({ kind: 'commit' });
  await pump(a, b);
  assert.deepEqual(a.failures, []);
  assert.deepEqual(b.failures, []);
  // Each fulfills what it received, at once.
  await a.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(5) });
  await a.input({ kind: 'fail-htlc', id: 1n, reason: new Uint8Array(32) });
  await a.input({ kind: 'commit' });
  await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(4) });
  await b.input({ kind: 'commit' });
  await pump(a, b);
  for (const n of [a, b]) {
    assert.deepEqual(n.failures, []);
    assert.equal(n.state.ledger.htlcs.length, 0);
  }
  // A: 700,000 sat − 10,000 paid + 20,000 received.
  assert.deepEqual(a.balances(), { toLocalMsat: 710_000_000n, toRemoteMsat: 290_000_000n });
  assert.deepEqual(b.balances(), { toLocalMsat: 290_000_000n, toRemoteMsat: 710_000_000n });
  // The latest commitments agree: A's holder is what B last signed for it, and the reverse.
  const last = (n: typeof a, kind: 'holder-commitment' | 'counterparty-commitment') =>
    n.persisted
      .flatMap((u) => u.steps)
      .filter((s) => s.kind === kind)
      .at(-1) as { commitment: CommitmentData };
  assert.equal(
    last(a, 'holder-commitment').commitment.txid,
    last(b, 'counterparty-commitment').commitment.txid,
  );
  assert.equal(
    last(b, 'holder-commitment').commitment.txid,
    last(a, 'counterparty-commitment').commitment.txid,
  );
});

test('durability: commitment_signed, revoke_and_ack, a fulfill and the preimage event wait for their persists', async () => {
  const { a, b } = await htlcPair();
  a.holdPersists = true;
  await a.add(10_000_000n, preimageOf(8));
  await a.input({ kind: 'commit' });
  // Signed, but the counterparty commitment is not durable: only the add left.
  assert.deepEqual(a.kindsSent(), ['update_add_htlc']);
  // An update made now must not overtake the commitment_signed waiting before it.
  await a.add(11_000_000n, preimageOf(9));
  assert.deepEqual(a.kindsSent(), ['update_add_htlc']);
  await a.complete();
  assert.deepEqual(a.kindsSent(), ['update_add_htlc', 'commitment_signed', 'update_add_htlc']);
  const persistAt = a.log.indexOf('completed:2');
  assert.ok(persistAt >= 0 && persistAt < a.log.indexOf('send:commitment_signed'));

  b.holdPersists = true;
  await pump(a, b);
  // B validated A's signatures, but holds its revoke_and_ack until the holder commitment is durable.
  assert.deepEqual(b.kindsSent(), []);
  await b.complete();
  assert.deepEqual(b.kindsSent().slice(0, 2), ['revoke_and_ack', 'commitment_signed']);
  b.holdPersists = false;
  a.holdPersists = false;
  while (a.held.length + b.held.length > 0 || a.inbox.length + b.inbox.length > 0) {
    await a.complete();
    await b.complete();
    await pump(a, b);
  }
  await a.input({ kind: 'commit' });
  await pump(a, b);
  assert.equal(b.events.filter((e) => e.type === 'htlc-committed').length, 2);

  b.holdPersists = true;
  await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(8) });
  // The preimage is not durable: the fulfill stays.
  assert.ok(!b.kindsSent().includes('update_fulfill_htlc'));
  await b.complete();
  assert.equal(b.kindsSent().at(-1), 'update_fulfill_htlc');
  b.holdPersists = false;
  a.holdPersists = true;
  await pump(a, b);
  assert.ok(
    !a.events.some((e) => e.type === 'htlc-fulfilled'),
    'no PaymentSent before the preimage is durable',
  );
  await a.complete();
  assert.ok(a.events.some((e) => e.type === 'htlc-fulfilled'));
  assert.deepEqual([...a.failures, ...b.failures], []);
});

test('a failed persist stops the step with persist-failed', async () => {
  const { a } = await htlcPair();
  a.holdPersists = true;
  await a.add(10_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  const id = a.held[0] as bigint;
  const { PersistStatus } = await import('@lnkit/store');
  const r = await a.input({ kind: 'persisted', updateId: id, status: PersistStatus.failed('disk full') });
  assert.deepEqual(r.failure, { kind: 'persist-failed', reason: 'disk full' });
  assert.ok(!a.kindsSent().includes('commitment_signed'));
});

test('update_fee from the funder: committed on both sides, the commitments at the new feerate', async () => {
  const { a, b } = await htlcPair();
  assert.equal((await a.input({ kind: 'update-fee', feeratePerKw: 5000 })).failure, undefined);
  await a.input({ kind: 'commit' });
  await pump(a, b);
  for (const n of [a, b]) {
    assert.deepEqual(n.failures, []);
    assert.equal(n.state.ledger.feeratePerKw, 5000);
    assert.equal(n.state.ledger.feeUpdates.length, 0);
  }
  const holder = b.persisted
    .flatMap((u) => u.steps)
    .filter((s) => s.kind === 'holder-commitment')
    .at(-1);
  assert.equal(holder?.kind === 'holder-commitment' && holder.commitment.feeratePerKw, 5000);
  // The fundee may not send one.
  const r = await b.input({ kind: 'update-fee', feeratePerKw: 3000 });
  assert.equal(r.failure?.kind, 'refused');
});

test('the state is plain data: a structured clone carries on the dance; settled for close only at the end', async () => {
  const { a, b } = await htlcPair();
  assert.ok(settledForClose(a.state) && settledForClose(b.state));
  await a.add(10_000_000n, preimageOf(1));
  assert.ok(!settledForClose(a.state));
  await a.input({ kind: 'commit' });
  await deliverOne(b);
  await deliverOne(b);
  // As a snapshot would be written and read (structured clone: no classes, no functions).
  for (const n of [a, b]) {
    const copy = structuredClone(n.state);
    assert.deepEqual(copy, n.state);
    n.state = copy;
  }
  assert.ok(!settledForClose(b.state));
  await pump(a, b);
  await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(1) });
  await b.input({ kind: 'commit' });
  // B's last revoke_and_ack is still to come: not settled yet on A's side.
  await deliverOne(a);
  await deliverOne(a);
  assert.ok(!settledForClose(a.state));
  await pump(a, b);
  assert.deepEqual([...a.failures, ...b.failures], []);
  assert.ok(settledForClose(a.state) && settledForClose(b.state));
  assert.deepEqual(b.balances(), { toLocalMsat: 310_000_000n, toRemoteMsat: 690_000_000n });
});
