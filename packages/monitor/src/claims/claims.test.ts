/**
 * The claim core without a chain: what is due when, what is skipped and why, anchors' 1-block
 * CSV, and that a resolution is plain data. The scripts themselves are run by bcoin in
 * claims-chain.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { type CommitmentHtlc, p2wpkh, Transaction } from '@lnkit/tx';
import { applyMonitorUpdate, createMonitor } from '../monitor.ts';
import { ChannelFixture } from '../test-fixtures.ts';
import type { ChannelMonitor } from '../types.ts';
import { claimsToBroadcast } from './plan.ts';
import { resolveCommitment } from './resolve.ts';
import { disconnectResolution, resolveSpend } from './spends.ts';

const preimage = new Uint8Array(32).fill(0x04);
const paymentHash = new Uint8Array(createHash('sha256').update(preimage).digest());
const received: CommitmentHtlc = {
  direction: 'received',
  amountMsat: 4_000_000n,
  paymentHash,
  cltvExpiry: 504,
  id: 4n,
};
const opts = { feeratePerKw: 1000n, destinationScript: p2wpkh(new Uint8Array(33).fill(2)) };

async function holderClose(
  channelType: 'static_remotekey' | 'anchors_zero_fee_htlc_tx' = 'static_remotekey',
) {
  const fx = new ChannelFixture({ channelType });
  const first = await fx.initialUpdate();
  const ours = await fx.holderCommitment(1n, {
    toLocalMsat: 600_000_000n,
    toRemoteMsat: 396_000_000n,
    htlcs: [received],
    feeratePerKw: 1000n,
  });
  let monitor = createMonitor(first.update, fx.bestBlock);
  monitor = applyMonitorUpdate(monitor, {
    channelId: fx.info.channelId,
    updateId: 2n,
    steps: [{ kind: 'holder-commitment', commitment: ours.commitment }],
  });
  const tx = await ours.signed();
  return { fx, monitor, tx, resolution: resolveCommitment(monitor, tx, 200) };
}

const withPreimage = (fx: ChannelFixture, m: ChannelMonitor): ChannelMonitor =>
  applyMonitorUpdate(m, {
    channelId: fx.info.channelId,
    updateId: m.latestUpdateId + 1n,
    steps: [{ kind: 'payment-preimage', paymentPreimage: preimage }],
  });

test('an HTLC-success waits for its preimage, then is due at once', async () => {
  const { fx, monitor, resolution } = await holderClose();
  const before = claimsToBroadcast(resolution, monitor, 200, opts);
  assert.equal(before.claims.length, 0);
  assert.deepEqual(
    before.skipped.map((s) => s.reason),
    ['HTLC-success needs the payment preimage'],
  );
  const after = claimsToBroadcast(resolution, withPreimage(fx, monitor), 200, opts);
  assert.equal(after.claims.length, 1);
  assert.equal(after.claims[0]?.kind, 'htlc-transaction');
});

test('nothing is due before the block that may include it: to_local at height + to_self_delay', async () => {
  const { fx, monitor, resolution } = await holderClose();
  const toLocal = resolution.pending.find((p) => p.output === 'to_local');
  assert.equal(toLocal?.spendableAtHeight, 200 + fx.channel.holderToSelfDelay);
  const ids = (tip: number) =>
    claimsToBroadcast(resolution, monitor, tip, opts).claims.flatMap((c) => c.outputIds);
  assert.ok(!ids(200 + 142).includes(toLocal?.id as string));
  assert.ok(ids(200 + 143).includes(toLocal?.id as string));
  const sweep = claimsToBroadcast(resolution, monitor, 200 + 143, opts).claims.find((c) =>
    c.outputIds.includes(toLocal?.id as string),
  );
  assert.ok(sweep?.kind === 'sweep');
  assert.equal(Transaction.fromBuffer(Buffer.from(sweep.tx)).ins[0]?.sequence, 144);
});

test('a claim that does not pay for itself at the feerate is skipped, saying so', async () => {
  const { fx, monitor, resolution } = await holderClose();
  const m = withPreimage(fx, monitor);
  // The HTLC transaction's output (4,000 - 703 sat) cannot pay a sweep at 10,000 sat/kw.
  const htlcTx = claimsToBroadcast(resolution, m, 200, opts).claims[0];
  assert.ok(htlcTx?.kind === 'htlc-transaction');
  const tx = Transaction.fromBuffer(Buffer.from(htlcTx.tx));
  const after = resolveSpend(resolution, m, tx, 201).resolution;
  const id = `${tx.getId()}:0`;
  const plan = claimsToBroadcast(after, m, 201 + 143, { ...opts, feeratePerKw: 10_000n });
  assert.ok(!plan.claims.some((c) => c.outputIds.includes(id)));
  const skipped = plan.skipped.find((x) => x.outputIds.includes(id));
  assert.match(skipped?.reason ?? '', /below the dust limit/);
  const cheaper = claimsToBroadcast(after, m, 201 + 143, opts);
  assert.ok(cheaper.claims.some((c) => c.outputIds.includes(id)));
});

test('anchors: the HTLC transaction is zero-fee and needs a fee input; their to_remote waits one block', async () => {
  const { fx, monitor, resolution } = await holderClose('anchors_zero_fee_htlc_tx');
  const plan = claimsToBroadcast(resolution, withPreimage(fx, monitor), 200, opts);
  assert.match(plan.skipped[0]?.reason ?? '', /needs a fee input/);
  assert.ok(resolution.notes.some((n) => n.includes('fee input')));

  const other = new ChannelFixture({ channelType: 'anchors_zero_fee_htlc_tx' });
  const first = await other.initialUpdate();
  const theirs = await other.counterpartyCommitment(1n, {
    toLocalMsat: 400_000_000n,
    toRemoteMsat: 600_000_000n,
  });
  const m = applyMonitorUpdate(createMonitor(first.update, other.bestBlock), {
    channelId: other.info.channelId,
    updateId: 2n,
    steps: [{ kind: 'counterparty-commitment', commitment: theirs.commitment }],
  });
  const r = resolveCommitment(m, await theirs.signed(), 300);
  const toRemote = r.pending.find((p) => p.output === 'to_remote');
  assert.equal(toRemote?.input?.witness, 'to-remote-anchors');
  assert.equal(toRemote?.spendableAtHeight, 301);
  const sweep = claimsToBroadcast(r, m, 300, opts).claims[0];
  assert.ok(sweep?.kind === 'sweep');
  assert.equal(Transaction.fromBuffer(Buffer.from(sweep.tx)).ins[0]?.sequence, 1);
});

test('a resolution is plain data, and a transaction that spends none of it changes nothing', async () => {
  const { monitor, resolution, tx } = await holderClose();
  assert.deepEqual(structuredClone(resolution), resolution);
  const unrelated = resolveSpend(resolution, monitor, tx, 210);
  assert.equal(unrelated.relevant, false);
  assert.equal(unrelated.resolution, resolution);
});

test('a reorg undoes the spends above it: outputs pending again, their second stages gone', async () => {
  const { fx, monitor, resolution } = await holderClose();
  const m = withPreimage(fx, monitor);
  const htlcTx = claimsToBroadcast(resolution, m, 200, opts).claims[0];
  assert.ok(htlcTx?.kind === 'htlc-transaction');
  const tx = Transaction.fromBuffer(Buffer.from(htlcTx.tx));
  const spent = resolveSpend(resolution, m, tx, 201).resolution;
  assert.equal(spent.resolved[0]?.byHolder, true);
  assert.ok(spent.pending.some((p) => p.source === 'holder-htlc-transaction'));
  // A block above the spend changes nothing; the spend's own block undoes it.
  assert.equal(disconnectResolution(spent, 202), spent);
  const undone = disconnectResolution(spent, 201);
  assert.deepEqual(undone?.resolved, []);
  assert.deepEqual(undone?.pending.map((p) => p.id).sort(), resolution.pending.map((p) => p.id).sort());
  assert.deepEqual(
    undone?.pending.find((p) => p.htlc),
    resolution.pending.find((p) => p.htlc),
  );
  // The commitment's own block: the funding output is unspent again, nothing to claim.
  assert.equal(disconnectResolution(spent, 200), undefined);
});

test('an HTLC trimmed from the commitment is named, for the manager to fail or fulfil upstream', async () => {
  const fx = new ChannelFixture();
  const first = await fx.initialUpdate();
  const dust: CommitmentHtlc = { ...received, amountMsat: 1_000_000n, id: 0n };
  const ours = await fx.holderCommitment(1n, {
    toLocalMsat: 600_000_000n,
    toRemoteMsat: 395_000_000n,
    htlcs: [dust, received],
    feeratePerKw: 1000n,
  });
  const monitor = applyMonitorUpdate(createMonitor(first.update, fx.bestBlock), {
    channelId: fx.info.channelId,
    updateId: 2n,
    steps: [{ kind: 'holder-commitment', commitment: ours.commitment }],
  });
  const r = resolveCommitment(monitor, await ours.signed(), 200);
  assert.deepEqual(
    r.htlcsWithoutOutput.map((h) => h.id),
    [0n],
  );
  assert.deepEqual(
    r.pending.filter((p) => p.htlc).map((p) => p.htlc?.id),
    [4n],
  );
});
