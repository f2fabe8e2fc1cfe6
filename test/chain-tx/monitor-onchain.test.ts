/**
 * The ChainMonitor on a real regtest chain (bcoin validates scripts and signatures), fed by
 * chain-sync's poller over JSON-RPC as the node feeds it: a channel funded on chain, its monitor
 * persisted in lmdb, then
 *  - a revoked commitment of the counterparty, signed by both lnkit signers before its secret
 *    was given, is mined and recognised as revoked, with its to_local for the revocation key;
 *    a reorg undoes the spend, the same transaction mined again redoes it, and six
 *    confirmations make it irrevocable;
 *  - the holder's latest commitment, signed from what the monitor alone holds (its
 *    counterparty signature) as a force close does, is accepted by the chain and recognised.
 * Run: node scripts/test.mjs test/chain-tx/monitor-onchain.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ChainPoller, RpcBlockSource, subscribeListener } from '@lnkit/chain-sync';
import {
  ChainMonitor,
  finalizeHolderCommitment,
  holderCommitmentToSign,
  type MonitorEvent,
  MonitorStore,
} from '@lnkit/monitor';
import { createRootLogger } from '@lnkit/runtime';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import { fundOnChain } from '../../packages/monitor/src/claims/chain-test-kit.ts';

const logger = createRootLogger({ level: 'silent' });
let chain: TestChain;
const dirs: string[] = [];
before(async () => {
  chain = await startTestChain();
  await chain.activateSegwit();
});
after(async () => {
  await chain?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A channel funded on chain by the holder: the fixture's signers, with the real funding outpoint. */
const fundedChannel = async () => (await fundOnChain(chain)).fx;

/** A ChainMonitor on lmdb, fed by a poller over the chain's JSON-RPC from the current tip. */
async function watching() {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-monitor-chain-'));
  dirs.push(dir);
  const store = await Store.open(dir, { schemaVersion: 1 });
  const source = new RpcBlockSource({
    url: chain.rpcUrl,
    auth: { user: chain.rpcUser, password: chain.rpcPassword },
  });
  const tip = await source.getBestBlock();
  const cm = new ChainMonitor({ persister: new MonitorStore(store), bestBlock: tip, logger });
  const events: MonitorEvent[] = [];
  cm.events$.subscribe((e) => events.push(e));
  const poller = new ChainPoller(source, { logger, start: tip, pollIntervalMs: 25 });
  subscribeListener(
    poller.events$,
    {
      blockConnected: (block, height) => cm.blockConnected(block.header, height, block.txdata),
      blockDisconnected: (header, height) => cm.blockDisconnected(header, height),
    },
    logger,
  );
  poller.start();
  return {
    cm,
    events,
    /** Waits until the monitors have seen the chain's tip. */
    caughtUp: async () => {
      const height = await chain.height();
      await waitFor(
        () => cm.bestBlock.height >= height && cm.monitors().every((m) => m.bestBlock.height >= height),
        {
          what: `the monitors at height ${height}`,
        },
      );
    },
    stop: async () => {
      await poller.stop();
      await cm.stop();
      await store.close();
    },
  };
}

test('a revoked counterparty commitment mined on bcoin is recognised, undone by a reorg, then irrevocable', async () => {
  const fx = await fundedChannel();
  const w = await watching();
  try {
    const first = await fx.initialUpdate();
    assert.deepEqual(await w.cm.updateChannel(first.update), { status: 'completed' });
    // The counterparty keeps its fully signed commitment 0, then moves on and revokes it.
    const cheat = await first.counterparty.signed();
    const next = await fx.counterpartyCommitment(1n, {
      toLocalMsat: 200_000_000n,
      toRemoteMsat: 800_000_000n,
    });
    const id = fx.info.channelId;
    await w.cm.updateChannel({
      channelId: id,
      updateId: 2n,
      steps: [{ kind: 'counterparty-commitment', commitment: next.commitment }],
    });
    const secret = await fx.counterpartySecret(0n);
    await w.cm.updateChannel({
      channelId: id,
      updateId: 3n,
      steps: [{ kind: 'commitment-secret', commitmentNumber: 0n, secret }],
    });

    const txid = await chain.sendRawTransaction(cheat.toHex());
    assert.equal(txid, cheat.getId());
    await chain.mine(1);
    const minedAt = await chain.height();
    await w.caughtUp();
    const spent = w.events.find((e) => e.type === 'FundingSpent');
    assert.ok(spent?.type === 'FundingSpent');
    assert.equal(spent.kind, 'counterparty-revoked-commitment');
    assert.equal(spent.txidHex, txid);
    assert.equal(spent.height, minedAt);
    assert.equal(spent.commitmentNumber, 0n);
    const byKind = new Map(
      first.counterparty.built.outputs.map((o, vout) => [o.kind, { vout, valueSat: o.valueSat }]),
    );
    assert.deepEqual(
      spent.claimableOutputs.map((c) => [c.claim, c.vout, c.valueSat]).sort(),
      [
        ['payment', byKind.get('to_remote')?.vout, byKind.get('to_remote')?.valueSat],
        ['revocation', byKind.get('to_local')?.vout, byKind.get('to_local')?.valueSat],
      ].sort(),
    );

    // A reorg drops the block: the spend is undone; the same transaction mined again is a spend again.
    await chain.reorg(1);
    await w.caughtUp();
    assert.deepEqual(
      w.events.filter((e) => e.type === 'FundingSpendReorged').map((e) => (e as { txidHex: string }).txidHex),
      [txid],
    );
    assert.equal(w.cm.monitors()[0]?.fundingSpend, undefined);
    await chain.mine(1);
    await w.caughtUp();
    const again = w.events.filter((e) => e.type === 'FundingSpent');
    assert.equal(again.length, 2);
    const reminedAt = (again[1] as { height: number }).height;
    assert.equal(reminedAt, minedAt + 2, 'two replacement blocks, then the block holding it again');
    await chain.mine(5);
    await w.caughtUp();
    assert.deepEqual(
      w.events
        .filter((e) => e.type === 'FundingSpendIrrevocable')
        .map((e) => (e as { height: number }).height),
      [reminedAt],
    );
    assert.equal(w.cm.monitors()[0]?.fundingSpend?.irrevocable, true);
  } finally {
    await w.stop();
  }
});

test('the holder’s commitment, signed from the monitor alone as a force close does, is accepted and recognised', async () => {
  const fx = await fundedChannel();
  const w = await watching();
  try {
    const first = await fx.initialUpdate(600_000_000n);
    await w.cm.updateChannel(first.update);
    const h1 = await fx.holderCommitment(1n, { toLocalMsat: 650_000_000n, toRemoteMsat: 350_000_000n });
    await w.cm.updateChannel({
      channelId: fx.info.channelId,
      updateId: 2n,
      steps: [{ kind: 'holder-commitment', commitment: h1.commitment }],
    });
    await w.cm.updateChannel({
      channelId: fx.info.channelId,
      updateId: 3n,
      steps: [{ kind: 'channel-closed', reason: 'holder-force-closed', broadcastHolderCommitment: true }],
    });
    const monitor = w.cm.monitors()[0];
    assert.ok(monitor?.closed?.broadcastHolderCommitment);
    const toSign = holderCommitmentToSign(monitor);
    const { signature } = await fx.holder.signHolderCommitment({
      commitmentNumber: toSign.commitmentNumber,
      commitmentSighash: toSign.commitmentSighash,
      htlcSighashes: [],
    });
    const signed = finalizeHolderCommitment(monitor, signature);
    const txid = await chain.sendRawTransaction(signed.toHex());
    assert.equal(txid, h1.commitment.txid);
    await chain.mine(1);
    await w.caughtUp();
    const spent = w.events.find((e) => e.type === 'FundingSpent');
    assert.ok(spent?.type === 'FundingSpent');
    assert.equal(spent.kind, 'holder-commitment');
    assert.equal(spent.commitmentNumber, 1n);
    const toLocal = h1.built.outputs.findIndex((o) => o.kind === 'to_local');
    assert.deepEqual(
      spent.claimableOutputs.map((c) => [c.claim, c.vout, c.valueSat, c.csvDelay]),
      [['delayed', toLocal, h1.built.outputs[toLocal]?.valueSat, 144]],
    );
  } finally {
    await w.stop();
  }
});
