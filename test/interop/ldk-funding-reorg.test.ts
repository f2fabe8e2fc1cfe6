/**
 * A reorg of the funding transaction before channel_ready, with LDK 0.1.0 (WASM) on the bcoin
 * regtest chain (BOLT 2: channel_ready is sent once the funding reaches minimum_depth; a reorg
 * that removes it before then only means waiting longer). lnkit opens a channel to LDK, the
 * funding is mined and buried one block deeper (depth 2 of 3); bcoin then replaces both blocks
 * with a longer branch of empty blocks, the disconnects and connects are fed to both nodes, and
 * the channel is back to 0 confirmations, still waiting and not closed; mined again and buried
 * to depth 3, it is ready on both sides, and a cooperative close still works.
 * Run: node scripts/test.mjs test/interop/ldk-funding-reorg.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import type * as ldk from 'lightningdevkit';
import { connectedPair, interopChain, mine, WAIT_MS } from '../support/ldk/interop.ts';
import type { LdkNode } from '../support/ldk/ldk-node.ts';
import type { LnkitNode } from '../support/ldk/lnkit-node.ts';

const env = interopChain();

/**
 * Replaces the chain's last `depth` blocks with `depth + 1` empty ones (their transactions go
 * back to bcoin's mempool) and feeds the reorg to both nodes: each replaced block disconnected
 * from the tip down, on the manager before its monitors (the reverse of a connect), then the new
 * branch through the harness's usual block path.
 */
async function reorgOut(ldkNode: LdkNode, lnkit: LnkitNode, depth: number): Promise<void> {
  const tip = await env.chain.height();
  const replaced: { height: number; hashHex: string; prevHashHex: string; header: Buffer }[] = [];
  for (let h = tip; h > tip - depth; h--) {
    const hashHex = (await env.chain.rpc('getblockhash', [h])) as string;
    const header = Buffer.from((await env.chain.rpc('getblockheader', [hashHex, false])) as string, 'hex');
    const prevHashHex = Buffer.from(header.subarray(4, 36)).reverse().toString('hex');
    replaced.push({ height: h, hashHex, prevHashHex, header });
  }
  await env.chain.reorg(depth);
  // LDK's ChainMonitor is the harness's own; a reorg is the one thing that needs it from outside.
  const ldkChainMonitor = (ldkNode as unknown as { chainMonitor: ldk.ChainMonitor }).chainMonitor;
  for (const b of replaced) {
    ldkNode.chanMan.as_Listen().block_disconnected(b.header, b.height);
    ldkChainMonitor.as_Listen().block_disconnected(b.header, b.height);
    ldkNode.height = b.height - 1;
    await lnkit.manager.blockDisconnected({ prevHashHex: b.prevHashHex }, b.height);
    await lnkit.chainMonitor.blockDisconnected({ hashHex: b.hashHex, prevHashHex: b.prevHashHex }, b.height);
    lnkit.height = b.height - 1;
    lnkit.monitorHeight = b.height - 1;
  }
  await ldkNode.syncToTip();
  await lnkit.syncToTip();
}

test('a reorg of the funding before channel_ready: both sides wait, then the channel is ready after the depth and closes', async () => {
  const { ldk, lnkit } = await connectedPair(env, { ldk: { minimumDepth: 3 } });
  await lnkit.funding.addCoins(1, 1_200_000n);
  await mine(env, ldk, lnkit, 1);
  await lnkit.manager.openChannel(ldk.nodeId, 1_000_000n, { pushMsat: 50_000_000n });
  await waitFor(() => lnkit.events.some((e) => e.type === 'ChannelPending'), {
    what: 'ChannelPending at lnkit',
    timeoutMs: WAIT_MS,
  });
  await ldk.waitFor(
    () => ldk.events.some((e) => e.type === 'ChannelPending'),
    WAIT_MS,
    'ChannelPending at LDK',
  );
  await ldk.settled();
  const fundingTxid = lnkit.manager.listChannels()[0]?.fundingTxid as string;
  assert.ok(
    ((await env.chain.rpc('getrawmempool')) as string[]).includes(fundingTxid),
    'the funding transaction is in bcoin mempool',
  );

  // Mined in block N, one block on top: depth 2 of 3, not ready anywhere yet.
  await mine(env, ldk, lnkit, 2);
  const n = (await env.chain.height()) - 1;
  const buried = (await env.chain.rpc('getrawtransaction', [fundingTxid, true])) as {
    confirmations?: number;
  };
  assert.equal(buried.confirmations, 2, 'the funding is 2 deep on bcoin');
  let mine0 = lnkit.manager.listChannels()[0];
  assert.equal(mine0?.minimumDepth, 3, "lnkit waits for LDK's minimum_depth");
  assert.equal(mine0?.state, 'awaiting-confirmation');
  assert.equal(mine0?.confirmations, 2);
  let theirs = ldk.channels()[0];
  assert.equal(theirs?.confirmationsRequired, 3);
  assert.equal(theirs?.confirmations, 2);
  assert.equal(theirs?.isReady, false);

  // bcoin replaces blocks N and N+1 with three empty blocks: the funding is back in the mempool only.
  await reorgOut(ldk, lnkit, 2);
  assert.equal(await env.chain.height(), n + 2);
  const blockN = (await env.chain.rpc('getblock', [await env.chain.rpc('getblockhash', [n]), 1])) as {
    tx: string[];
  };
  assert.ok(!blockN.tx.includes(fundingTxid), 'the new block N does not hold the funding');
  assert.ok(
    ((await env.chain.rpc('getrawmempool')) as string[]).includes(fundingTxid),
    'the funding is back in the mempool',
  );
  const unmined = (await env.chain.rpc('getrawtransaction', [fundingTxid, true])) as {
    confirmations?: number;
  };
  assert.equal(unmined.confirmations ?? 0, 0, 'bcoin: the funding is unconfirmed');
  mine0 = lnkit.manager.listChannels()[0];
  assert.equal(mine0?.state, 'awaiting-confirmation', 'lnkit still waits');
  assert.equal(mine0?.confirmations, 0, 'lnkit counts the reorged funding as unconfirmed');
  assert.equal(mine0?.closingTxid, null);
  assert.ok(!lnkit.events.some((e) => e.type === 'ChannelClosed'), 'lnkit did not close the channel');
  assert.ok(!lnkit.events.some((e) => e.type === 'ChannelReady'), 'lnkit did not call it ready');
  theirs = ldk.channels()[0];
  assert.equal(theirs?.isReady, false, 'LDK does not call it ready');
  assert.equal(theirs?.confirmations ?? 0, 0, 'LDK counts it unconfirmed');
  assert.ok(!ldk.events.some((e) => e.type === 'ChannelClosed'), 'LDK did not close the channel');

  // Mined again (from the mempool) plus 2 blocks: depth 3, ready and usable on both sides.
  await mine(env, ldk, lnkit, 1);
  const again = (await env.chain.rpc('getrawtransaction', [fundingTxid, true])) as { confirmations?: number };
  assert.equal(again.confirmations, 1, 'the funding is mined again');
  assert.equal(lnkit.manager.listChannels()[0]?.state, 'awaiting-confirmation', 'depth 1 is not enough');
  await mine(env, ldk, lnkit, 2);
  await waitFor(() => lnkit.manager.listChannels()[0]?.state === 'ready', {
    what: 'ready at lnkit',
    timeoutMs: WAIT_MS,
  });
  await ldk.waitFor(() => ldk.channels()[0]?.isUsable === true, WAIT_MS, 'usable at LDK');
  await waitFor(() => lnkit.manager.listChannels()[0]?.usable === true, {
    what: 'usable at lnkit',
    timeoutMs: WAIT_MS,
  });
  mine0 = lnkit.manager.listChannels()[0];
  assert.equal(mine0?.confirmations, 3);
  // The short_channel_id is the funding's new place: block N + 3.
  assert.match(mine0?.shortChannelId ?? '', new RegExp(`^${n + 3}x`));
  const channelId = mine0?.channelId as string;

  await lnkit.manager.closeChannel(channelId);
  await waitFor(() => lnkit.manager.listChannels()[0]?.closingTxid ?? undefined, {
    what: 'a closing transaction agreed',
    timeoutMs: WAIT_MS,
  });
  const closingTxid = lnkit.manager.listChannels()[0]?.closingTxid as string;
  await ldk.waitFor(
    () => ldk.events.some((e) => e.type === 'ChannelClosed'),
    WAIT_MS,
    'ChannelClosed at LDK',
  );
  await ldk.settled();
  assert.ok(
    [...lnkit.broadcasts, ...ldk.broadcasts].some((b) => b.accepted && b.txid === closingTxid),
    'bcoin accepted the closing transaction',
  );
  await mine(env, ldk, lnkit, 1);
  const closing = (await env.chain.rpc('getrawtransaction', [closingTxid, true])) as {
    confirmations?: number;
  };
  assert.ok((closing.confirmations ?? 0) >= 1, 'the closing transaction is mined');
  await waitFor(() => lnkit.events.find((e) => e.type === 'ChannelClosed'), {
    what: 'ChannelClosed at lnkit',
    timeoutMs: WAIT_MS,
  });
  const closed = lnkit.events.find((e) => e.type === 'ChannelClosed');
  assert.ok(closed?.type === 'ChannelClosed');
  assert.deepEqual(closed.reason, { kind: 'cooperative', initiator: 'local', closingTxid });
  const loud = ldk.logs.filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
  assert.deepEqual(loud, []);
});
