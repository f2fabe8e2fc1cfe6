/**
 * forwardinghistory through a real node: the forwards' books are the node's lmdb (step 9 gives
 * the manager an LmdbForwardsStore), so a forward recorded before a restart is in the history
 * after it, `since` filters by creation time, and a bad `since` is refused naming it. The fees
 * set (setFees) are in the same books: in force after the restart; a bad one refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ForwardRecord, LmdbForwardsStore } from '@lnkit/manager';
import { Store } from '@lnkit/store';
import { captureLogger } from '@lnkit/test-support';
import { NodeBuilder } from './index.ts';
import { nodeStoreOptions } from './store-schema.ts';
import { nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();

test('a node’s forwardinghistory is its durable books: a settled forward from before the restart, since, a bad since', async () => {
  const dataDir = dir('forward-history');
  const config = { ...nodeConfig(chain(), dataDir), forwardPolicy: { feeBaseMsat: 500 } };
  const first = await new NodeBuilder(config).withLogger(captureLogger().logger).build();
  assert.deepEqual(await first.forwardingHistory(), { forwards: [] });
  // setfees all, before the restart: over the configured default, the fields given only.
  const set = await first.setFees('all', { cltvExpiryDelta: 90 });
  assert.deepEqual([set.channel, set.feeBaseMsat, set.cltvExpiryDelta], ['all', 500, 90]);
  await first.stop();
  const settled: ForwardRecord = {
    inChannelId: new Uint8Array(32).fill(1),
    inHtlcId: 4n,
    outShortChannelId: (500n << 40n) | (1n << 16n),
    outChannelId: new Uint8Array(32).fill(2),
    outHtlcId: 0n,
    paymentHash: new Uint8Array(32).fill(3),
    amountInMsat: 2_000_500n,
    amountOutMsat: 2_000_000n,
    inCltvExpiry: 650,
    outCltvExpiry: 578,
    status: 'fulfilled',
    preimage: new Uint8Array(32).fill(4),
    createdAt: 1_764_597_600,
    resolvedAt: 1_764_597_601,
  };
  const store = await Store.open(dataDir, nodeStoreOptions('regtest'));
  await new LmdbForwardsStore(store).save(settled);
  await store.close();

  const node = await new NodeBuilder(config).withLogger(captureLogger().logger).build();
  try {
    const { forwards } = await node.forwardingHistory();
    assert.deepEqual(forwards, [
      {
        inChannel: '01'.repeat(32),
        outChannel: '02'.repeat(32),
        paymentHash: '03'.repeat(32),
        amountInMsat: 2_000_500n,
        amountOutMsat: 2_000_000n,
        feeMsat: 500n,
        status: 'settled',
        failure: null,
        createdAt: 1_764_597_600,
        resolvedAt: 1_764_597_601,
      },
    ]);
    assert.equal((await node.forwardingHistory({ since: 1_764_597_601 })).forwards.length, 0);
    assert.equal((await node.forwardingHistory({ since: 1_764_597_600 })).forwards.length, 1);
    await assert.rejects(node.forwardingHistory({ since: -1 }), /since must be a whole number of seconds/);
    // The fees set before the restart are still in force.
    const now = await node.setFees('all', { feeProportionalMillionths: 3 });
    assert.deepEqual([now.feeBaseMsat, now.feeProportionalMillionths, now.cltvExpiryDelta], [500, 3, 90]);
    await assert.rejects(node.setFees('05'.repeat(32), { feeBaseMsat: 1 }), {
      code: 'unknown-channel',
      message: `no open channel ${'05'.repeat(32)}`,
    });
    await assert.rejects(node.setFees('chan', { feeBaseMsat: 1 }), {
      code: 'invalid-argument',
      message: 'channel must be a channel id (64 hex characters) or all; got "chan"',
    });
    await assert.rejects(node.setFees('all', { cltvExpiryDelta: 5 }), { code: 'invalid-argument' });
  } finally {
    await node.stop();
  }
});
