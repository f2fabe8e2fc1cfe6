/**
 * The monitor and the chain, with transactions crafted by @lnkit/tx: each kind of funding spend
 * recognised with the outputs the holder will claim, and a reorg undoing a spend until it has
 * ANTI_REORG_DELAY confirmations. The transactions are unsigned (a txid does not cover the
 * witness); test/chain-tx mines signed ones on a real chain.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { buildLegacyClosingTransaction, type CommitmentHtlc, p2wpkh, type Transaction } from '@lnkit/tx';
import { monitorBlockConnected, monitorBlockDisconnected } from './chain.ts';
import { applyMonitorUpdate, createMonitor } from './monitor.ts';
import { ChannelFixture, type FixtureOptions } from './test-fixtures.ts';
import { ANTI_REORG_DELAY, type ChannelMonitor, type MonitorEvent, type MonitorUpdateStep } from './types.ts';

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const hash = (n: number) => n.toString(16).padStart(64, '0');
const header = (height: number, fork = 0) => ({
  hashHex: hash(height * 16 + fork),
  prevHashHex: hash((height - 1) * 16 + fork),
});

async function channel(options: FixtureOptions = {}) {
  const fx = new ChannelFixture(options);
  const first = await fx.initialUpdate();
  return { fx, ...first, monitor: createMonitor(first.update, fx.bestBlock) };
}

const step = (m: ChannelMonitor, ...steps: MonitorUpdateStep[]) =>
  applyMonitorUpdate(m, { channelId: m.channel.channelId, updateId: m.latestUpdateId + 1n, steps });

/** Connects one block holding `txs` on top of the monitor's best block. */
function mine(m: ChannelMonitor, txs: Transaction[] = []) {
  const height = m.bestBlock.height + 1;
  return monitorBlockConnected(m, header(height), height, txs);
}

function spentEvent(events: MonitorEvent[]) {
  const [e] = events;
  assert.equal(e?.type, 'FundingSpent');
  return e as Extract<MonitorEvent, { type: 'FundingSpent' }>;
}

test('a block without a funding spend moves the best block only; an old block is ignored', async () => {
  const { monitor } = await channel();
  const r = mine(monitor);
  assert.deepEqual(r.monitor.bestBlock, { hashHex: header(101).hashHex, height: 101 });
  assert.deepEqual(r.events, []);
  assert.equal(r.spendChanged, false);
  const again = monitorBlockConnected(r.monitor, header(101), 101, []);
  assert.equal(again.monitor, r.monitor);
});

test('a cooperative closing transaction is a mutual close with nothing to claim', async () => {
  const { fx, monitor } = await channel();
  const closing = buildLegacyClosingTransaction({
    fundingOutpoint: fx.info.fundingOutpoint,
    localMsat: 700_000_000n,
    remoteMsat: 300_000_000n,
    localScriptPubKey: p2wpkh(fx.holder.pubkeys.paymentBasepoint),
    remoteScriptPubKey: p2wpkh(fx.counterparty.pubkeys.paymentBasepoint),
    localIsFunder: true,
    feeSat: 1_000n,
    dustLimitSat: 546n,
  });
  const r = mine(monitor, [closing]);
  const e = spentEvent(r.events);
  assert.equal(e.kind, 'mutual-close');
  assert.equal(e.txidHex, closing.getId());
  assert.equal(e.height, 101);
  assert.deepEqual(e.claimableOutputs, []);
  assert.equal(r.spendChanged, true);
  assert.equal(r.monitor.fundingSpend?.kind, 'mutual-close');
});

test('our commitment: to_local after our delay, and our HTLCs through the second stage', async () => {
  const { fx, monitor } = await channel();
  const htlcs: CommitmentHtlc[] = [
    {
      direction: 'offered',
      amountMsat: 50_000_000n,
      paymentHash: sha256(randomBytes(32)),
      cltvExpiry: 300,
      id: 1n,
    },
    {
      direction: 'received',
      amountMsat: 40_000_000n,
      paymentHash: sha256(randomBytes(32)),
      cltvExpiry: 320,
      id: 2n,
    },
  ];
  const h1 = await fx.holderCommitment(1n, { toLocalMsat: 610_000_000n, toRemoteMsat: 300_000_000n, htlcs });
  const m = step(monitor, { kind: 'holder-commitment', commitment: h1.commitment });
  const e = spentEvent(mine(m, [h1.built.tx]).events);
  assert.equal(e.kind, 'holder-commitment');
  assert.equal(e.commitmentNumber, 1n);
  const toLocal = h1.built.outputs.findIndex((o) => o.kind === 'to_local');
  assert.deepEqual(
    e.claimableOutputs.map((c) => [c.vout, c.claim, c.csvDelay, c.htlc?.id, c.secondStage]),
    h1.built.outputs.flatMap((o, vout) =>
      vout === toLocal
        ? [[vout, 'delayed', 144, undefined, undefined]]
        : o.kind === 'htlc'
          ? [
              [
                vout,
                o.htlc?.direction === 'offered' ? 'htlc-timeout' : 'htlc-preimage',
                undefined,
                o.htlc?.id,
                true,
              ],
            ]
          : [],
    ),
  );
  assert.deepEqual(
    e.claimableOutputs.find((c) => c.claim === 'delayed')?.witnessScript,
    h1.built.outputs[toLocal]?.witnessScript,
  );
});

test('our previous commitment is recognised as ours', async () => {
  const { fx, monitor, holder } = await channel();
  const h1 = await fx.holderCommitment(1n, { toLocalMsat: 650_000_000n, toRemoteMsat: 350_000_000n });
  const m = step(monitor, { kind: 'holder-commitment', commitment: h1.commitment });
  const e = spentEvent(mine(m, [holder.built.tx]).events);
  assert.equal(e.kind, 'holder-commitment');
  assert.equal(e.commitmentNumber, 0n);
});

test('their current and their previous unrevoked commitment: our to_remote at once', async () => {
  const { fx, monitor, counterparty } = await channel();
  const c1 = await fx.counterpartyCommitment(1n, { toLocalMsat: 250_000_000n, toRemoteMsat: 750_000_000n });
  const m = step(monitor, { kind: 'counterparty-commitment', commitment: c1.commitment });
  const current = spentEvent(mine(m, [c1.built.tx]).events);
  assert.equal(current.kind, 'counterparty-commitment');
  assert.equal(current.commitmentNumber, 1n);
  const toRemote = c1.built.outputs.findIndex((o) => o.kind === 'to_remote');
  assert.deepEqual(
    current.claimableOutputs.map((c) => [c.vout, c.claim, c.valueSat, c.csvDelay]),
    [[toRemote, 'payment', c1.built.outputs[toRemote]?.valueSat, undefined]],
  );
  const previous = spentEvent(mine(m, [counterparty.built.tx]).events);
  assert.equal(previous.kind, 'counterparty-previous-commitment');
  assert.equal(previous.commitmentNumber, 0n);
});

test('a revoked commitment of theirs, found by its obscured number: to_local with the revocation key', async () => {
  const { fx, monitor, counterparty } = await channel();
  const c1 = await fx.counterpartyCommitment(1n, { toLocalMsat: 250_000_000n, toRemoteMsat: 750_000_000n });
  let m = step(monitor, { kind: 'counterparty-commitment', commitment: c1.commitment });
  m = step(m, { kind: 'commitment-secret', commitmentNumber: 0n, secret: await fx.counterpartySecret(0n) });
  assert.equal(m.counterpartyCommitments.length, 1, 'commitment 0 is no longer kept');
  const e = spentEvent(mine(m, [counterparty.built.tx]).events);
  assert.equal(e.kind, 'counterparty-revoked-commitment');
  assert.equal(e.commitmentNumber, 0n);
  const byKind = new Map(counterparty.built.outputs.map((o, vout) => [o.kind, vout]));
  assert.deepEqual(
    e.claimableOutputs.map((c) => [c.vout, c.claim, c.valueSat]).sort(),
    [
      [byKind.get('to_local'), 'revocation', 300_000n],
      // The holder funded the channel: the fee comes out of its side.
      [byKind.get('to_remote'), 'payment', 700_000n - (2500n * 724n) / 1000n],
    ].sort(),
  );
  assert.deepEqual(
    e.claimableOutputs.find((c) => c.claim === 'revocation')?.witnessScript,
    counterparty.built.outputs[byKind.get('to_local') as number]?.witnessScript,
  );
});

test('anchors: a revoked commitment with HTLCs gives its HTLC outputs to the revocation key, and our anchor', async () => {
  const { fx, monitor } = await channel({ channelType: 'anchors_zero_fee_htlc_tx', holderIsFunder: false });
  const htlc: CommitmentHtlc = {
    direction: 'offered',
    amountMsat: 60_000_000n,
    paymentHash: sha256(randomBytes(32)),
    cltvExpiry: 400,
    id: 11n,
  };
  const c1 = await fx.counterpartyCommitment(1n, {
    toLocalMsat: 240_000_000n,
    toRemoteMsat: 700_000_000n,
    htlcs: [htlc],
  });
  const c2 = await fx.counterpartyCommitment(2n, { toLocalMsat: 300_000_000n, toRemoteMsat: 700_000_000n });
  let m = step(monitor, { kind: 'counterparty-commitment', commitment: c1.commitment });
  m = step(m, { kind: 'commitment-secret', commitmentNumber: 0n, secret: await fx.counterpartySecret(0n) });
  m = step(m, { kind: 'counterparty-commitment', commitment: c2.commitment });
  m = step(m, { kind: 'commitment-secret', commitmentNumber: 1n, secret: await fx.counterpartySecret(1n) });
  const e = spentEvent(mine(m, [c1.built.tx]).events);
  assert.equal(e.kind, 'counterparty-revoked-commitment');
  const expected = c1.built.outputs.flatMap((o, vout) => {
    if (o.kind === 'to_local' || o.kind === 'htlc') return [[vout, 'revocation']];
    if (o.kind === 'to_remote') return [[vout, 'payment']];
    if (o.kind === 'to_remote_anchor') return [[vout, 'anchor']];
    return [];
  });
  assert.deepEqual(
    e.claimableOutputs.map((c) => [c.vout, c.claim]),
    expected,
  );
  assert.equal(
    e.claimableOutputs.find((c) => c.claim === 'payment')?.csvDelay,
    1,
    'anchors: to_remote waits one block',
  );
  assert.equal(e.claimableOutputs.find((c) => c.htlc)?.htlc?.id, 11n);
});

test('a commitment-shaped spend the monitor does not know is said as unknown', async () => {
  const { monitor } = await channel();
  const stranger = new ChannelFixture({ fundingOutpoint: monitor.channel.fundingOutpoint });
  const { counterparty } = await stranger.initialUpdate();
  const e = spentEvent(mine(monitor, [counterparty.built.tx]).events);
  assert.equal(e.kind, 'unknown-commitment');
});

test('a reorg undoes the spend until ANTI_REORG_DELAY confirmations, not after', async () => {
  const { monitor, counterparty } = await channel();
  const spent = mine(monitor, [counterparty.built.tx]);
  assert.equal(spent.monitor.fundingSpend?.height, 101);
  // Disconnecting the block holding the spend undoes it.
  const undone = monitorBlockDisconnected(spent.monitor, header(101), 101);
  assert.deepEqual(
    undone.events.map((e) => e.type),
    ['FundingSpendReorged'],
  );
  assert.equal(undone.monitor.fundingSpend, undefined);
  assert.deepEqual(undone.monitor.bestBlock, { hashHex: header(100).hashHex, height: 100 });
  assert.equal(undone.spendChanged, true);
  // The same transaction in the new chain's next block is a spend again, at its new height.
  let m = mine(undone.monitor).monitor;
  const again = mine(m, [counterparty.built.tx]);
  assert.equal(spentEvent(again.events).height, 102);
  m = again.monitor;
  const confirmedAt: string[][] = [];
  for (let i = 2; i <= ANTI_REORG_DELAY; i++) {
    const r = mine(m);
    confirmedAt.push(r.events.map((e) => e.type));
    m = r.monitor;
  }
  assert.deepEqual(confirmedAt.at(-1), ['FundingSpendIrrevocable']);
  assert.deepEqual(confirmedAt.slice(0, -1).flat(), []);
  assert.equal(m.fundingSpend?.irrevocable, true);
  // A reorg deeper than that does not undo it (LDK's rule: the spend is final).
  let deep = m;
  for (let h = m.bestBlock.height; h >= 102; h--) {
    const r = monitorBlockDisconnected(deep, header(h), h);
    assert.deepEqual(r.events, []);
    deep = r.monitor;
  }
  assert.equal(deep.fundingSpend?.txidHex, counterparty.built.tx.getId());
  // A block the monitor never saw is not undone.
  assert.equal(monitorBlockDisconnected(deep, header(500), 500).monitor, deep);
});

test('a disconnect of a block after the spend keeps the spend', async () => {
  const { monitor, holder } = await channel();
  let m = mine(monitor, [holder.built.tx]).monitor;
  m = mine(m).monitor;
  const r = monitorBlockDisconnected(m, header(102), 102);
  assert.deepEqual(r.events, []);
  assert.equal(r.monitor.fundingSpend?.kind, 'holder-commitment');
  assert.equal(r.spendChanged, false);
});
