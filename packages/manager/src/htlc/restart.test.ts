/**
 * restartNormal: a node stopped in the middle of the dance comes back from its snapshot (the
 * NormalState record) and its monitor — the updates its monitor never got issued again, a
 * signature or a secret it was waiting for asked again, an event its last step let out told
 * again — and finishes the dance with its peer; a monitor ahead of the snapshot, or a gap
 * between them, is not resumed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '@lnkit/crypto';
import { decodeNormalState, encodeNormalState } from './normal-record.ts';
import { restartNormal } from './restart.ts';
import { SimNode } from './sim.ts';
import { deliverOne, htlcPair, preimageOf, pump, reconnect } from './test-harness.ts';

const pair = () =>
  htlcPair<SimNode>({}, (name) => new SimNode(name, sha256(new TextEncoder().encode(`restart ${name}`))));

/** Runs `f`, which must crash the node. */
async function crashes(n: SimNode, f: () => Promise<unknown>): Promise<void> {
  await assert.rejects(f, (err: Error) => err.message.startsWith(`${n.name} crashed`));
}

async function disconnected(a: SimNode, b: SimNode): Promise<void> {
  a.connected = b.connected = false;
  a.inbox.length = b.inbox.length = 0;
  for (const n of [a, b]) if (n.state.link !== 'disconnected') await n.input({ kind: 'peer-disconnected' });
}

/** Reconnects and runs both sides to quiet; then everything is settled and the balances checked. */
async function finish(a: SimNode, b: SimNode, expectA: bigint): Promise<void> {
  await reconnect(a, b);
  for (let i = 0; i < 6; i++) {
    await pump(a, b);
    for (const n of [a, b])
      for (const h of n.state.ledger.htlcs.filter((x) => x.state === 'rcvd-add-ack-revocation'))
        await n.input({ kind: 'fulfill-htlc', id: h.id, paymentPreimage: preimageOf(Number(h.id) + 1) });
    await a.input({ kind: 'commit' });
    await b.input({ kind: 'commit' });
  }
  await pump(a, b);
  assert.deepEqual([...a.failures, ...b.failures], []);
  assert.equal(a.state.ledger.htlcs.length + b.state.ledger.htlcs.length, 0);
  assert.deepEqual(a.balances(), { toLocalMsat: expectA, toRemoteMsat: 1_000_000_000n - expectA });
  assert.deepEqual(b.balances(), { toLocalMsat: 1_000_000_000n - expectA, toRemoteMsat: expectA });
}

test('the record keeps the NormalState: read back and written again, the same bytes', async () => {
  const { a, b } = await pair();
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  await pump(a, b);
  await b.add(3_000_000n, preimageOf(1));
  await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(1) });
  a.holdPersists = true;
  await deliverOne(a);
  const bytes = encodeNormalState(a.state);
  const back = decodeNormalState(bytes, a.state.params);
  assert.deepEqual(encodeNormalState(back), bytes);
  assert.equal(back.ledger.htlcs.length, a.state.ledger.htlcs.length);
  assert.deepEqual(back.unpersisted, a.state.unpersisted);
  assert.equal(back.link, 'disconnected');
});

test('stopped before its commitment_signed was signed: the same commitment is signed again, nothing persisted twice', async () => {
  const { a, b } = await pair();
  await a.add(20_000_000n, preimageOf(1));
  // The counterparty-commitment update goes; the node stops before the signer answers.
  a.crashIn = 1;
  await crashes(a, () => a.input({ kind: 'commit' }));
  const saved = decodeNormalState(a.snapshot as Uint8Array, a.state.params);
  assert.equal(saved.lastCommitment?.signature, undefined);
  const r = restartNormal(saved, a.view);
  assert.ok(r.ok);
  assert.deepEqual(
    r.effects.map((e) => e.kind),
    ['sign-counterparty-commitment'],
  );
  await disconnected(a, b);
  await a.restart(0);
  await finish(a, b, 680_000_000n);
});

test('stopped before its secret was released: asked again (the one before our latest), after the monitor', async () => {
  const { a, b } = await pair();
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  await deliverOne(b); // the add
  // B takes the commitment_signed: persist, validated, then it stops before the secret.
  b.holdPersists = true;
  b.crashIn = 2;
  await crashes(b, () => deliverOne(b));
  const saved = decodeNormalState(b.snapshot as Uint8Array, b.state.params);
  assert.equal(saved.lastRevocation?.secret, undefined);
  // The holder-commitment update (and the counterparty one of B's own commitment_signed, made
  // in the same step) did not land: they go again, the signer learns the new commitment, and
  // only then is the secret of the one before asked for; B's signature too.
  const r = restartNormal(saved, b.view);
  assert.ok(r.ok);
  assert.deepEqual(
    r.effects.map((e) => e.kind),
    [
      'persist-monitor',
      'persist-monitor',
      'holder-commitment-validated',
      'release-commitment-secret',
      'sign-counterparty-commitment',
    ],
  );
  assert.deepEqual(r.replayed, [2n, 3n]);
  const release = r.effects.find((e) => e.kind === 'release-commitment-secret');
  assert.deepEqual(release, { kind: 'release-commitment-secret', commitmentNumber: 0n, nextPointNumber: 2n });
  await disconnected(a, b);
  await b.restart(0);
  b.holdPersists = false;
  await b.complete();
  await finish(a, b, 680_000_000n);
});

test('the monitor has some of the updates in progress: only those after its latest go again', async () => {
  const { a, b } = await pair();
  a.holdPersists = true;
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  await b.add(1_000_000n, preimageOf(1));
  await b.input({ kind: 'commit' });
  await pump(a, b);
  assert.ok(a.held.length >= 2, 'updates in progress');
  const saved = decodeNormalState(a.snapshot as Uint8Array, a.state.params);
  const first = a.persisted.find((u) => u.updateId === a.held[0]);
  assert.ok(first);
  // As if the first had landed: the rest only.
  const landed = (await import('./restart.ts')).viewAfter(a.view, first);
  const r = restartNormal(saved, landed);
  assert.ok(r.ok);
  assert.deepEqual(r.replayed, a.held.slice(1));
  await disconnected(a, b);
  await a.restart(1);
  a.holdPersists = false;
  await a.complete();
  await finish(a, b, 681_000_000n);
});

test('a monitor ahead of the snapshot, or updates in neither: not resumed', async () => {
  const { a, b } = await pair();
  await a.add(20_000_000n, preimageOf(1));
  const old = decodeNormalState(a.snapshot as Uint8Array, a.state.params);
  await a.input({ kind: 'commit' });
  await pump(a, b);
  const ahead = restartNormal(old, a.view);
  assert.ok(!ahead.ok && /past the snapshot/.test(ahead.reason), 'the monitor is ahead');
  // An update neither durable nor kept (a snapshot that lost it).
  const now = decodeNormalState(a.snapshot as Uint8Array, a.state.params);
  const gap = restartNormal({ ...now, nextMonitorUpdateId: now.nextMonitorUpdateId + 1n }, a.view);
  assert.ok(!gap.ok && /neither in the monitor nor in the snapshot/.test(gap.reason));
  // A monitor whose commitments are not the snapshot's.
  const other = restartNormal(now, { ...a.view, holderCommitmentNumber: a.view.holderCommitmentNumber + 1n });
  assert.ok(!other.ok && /holder commitment/.test(other.reason));
});

// Found by the simulation (seed 6): the step that completed the preimage's persist let out
// htlc-fulfilled, its snapshot was written, and the node stopped before the event was told; a
// disconnection had reversed the fulfill, so nothing in the ledger said so either. The payer
// never heard that it was paid.
test('an event its last step let out is told again after a restart (the payer hears it was paid)', async () => {
  const { a, b } = await pair();
  await a.add(20_000_000n, preimageOf(1));
  await a.input({ kind: 'commit' });
  await pump(a, b);
  await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(1) });
  a.holdPersists = true;
  await deliverOne(a); // the fulfill: its preimage's persist held
  await disconnected(a, b); // reversed: A keeps only that the preimage is known
  assert.equal(a.state.ledger.htlcs[0]?.preimageKnown, true);
  a.holdPersists = false;
  a.crashIn = 0;
  await crashes(a, () => a.complete());
  assert.ok(!a.events.some((e) => e.type === 'htlc-fulfilled'), 'cut before it was told');
  await a.restart(0);
  const told = a.events.filter((e) => e.type === 'htlc-fulfilled');
  assert.equal(told.length, 1);
  assert.deepEqual(told[0], {
    type: 'htlc-fulfilled',
    id: 0n,
    paymentHash: sha256(preimageOf(1)),
    paymentPreimage: preimageOf(1),
  });
  await finish(a, b, 680_000_000n);
});
