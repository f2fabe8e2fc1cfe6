/**
 * On-chain claims in the node: two lnkit nodes on one bcoin chain, a static_remotekey channel A
 * opened with a push to B, then B force-closes. A's ChainMonitor (step 6) sweeps its to_remote
 * as soon as the commitment confirms, and B's sweeps its to_local once to_self_delay blocks
 * have passed (bcoin enforces the CSV); each claim is signed by the node's signer pool (step 9)
 * under the claim policy — it pays a script of the node's own wallet, which holds it after:
 * the channel balance to the satoshi, less the commitment fee (the funder's) and the claim's
 * fee, both as the chain shows them.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import { Transaction } from '@lnkit/tx';
import { type LnkitNode, NodeBuilder } from './index.ts';
import { nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();
const silent = () =>
  createRootLogger({ level: (process.env.LNKIT_TEST_LOG as 'info' | undefined) ?? 'silent' });
const build = (name: string) =>
  new NodeBuilder(nodeConfig(chain(), dir(name), { listen: { host: '127.0.0.1', port: 0 } }))
    .withLogger(silent())
    .build();

let a: LnkitNode | undefined;
let b: LnkitNode | undefined;
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const FUNDED_SAT = 5_000_000n;
const CAPACITY_SAT = 1_000_000n;
const PUSH_SAT = 100_000n;
const WAIT_MS = 120_000;

const mempool = async () => (await chain().rpc('getrawmempool', [])) as string[];

async function tx(txid: string): Promise<{ tx: Transaction; confirmations: number }> {
  const raw = (await chain().rpc('getrawtransaction', [txid, true])) as {
    confirmations?: number;
    hex: string;
  };
  return { tx: Transaction.fromHex(raw.hex), confirmations: raw.confirmations ?? 0 };
}

/** The transaction of the block at `height` spending output `vout` of `txid`. */
async function spenderAt(height: number, txid: string, vout: number): Promise<Transaction | undefined> {
  const hash = (await chain().rpc('getblockhash', [height])) as string;
  const block = (await chain().rpc('getblock', [hash, true])) as { tx: string[] };
  for (const id of block.tx) {
    const t = (await tx(id)).tx;
    if (t.ins.some((i) => Buffer.from(i.hash).reverse().toString('hex') === txid && i.index === vout))
      return t;
  }
  return undefined;
}

test('a force close: the peer sweeps its to_remote at once and the closer its to_local after to_self_delay, each into its wallet to the satoshi', async () => {
  await chain().activateSegwit();
  [a, b] = await Promise.all([build('a'), build('b')]);
  const na = a;
  const nb = b;
  await chain().fundScript(await na.coinbaseScript(), FUNDED_SAT);
  await chain().mine(1);
  await waitFor(() => na.wallet.balance().spendableSat === FUNDED_SAT, { what: "A's coins" });
  const { port } = (await nb.info()).listening!;
  await na.connect(nb.nodeId, '127.0.0.1', port);
  await waitFor(async () => (await nb.listPeers()).some((p) => p.nodeId === na.nodeId), { what: 'B sees A' });
  const opened = await na.openChannel(nb.nodeId, CAPACITY_SAT, {
    pushMsat: PUSH_SAT * 1000n,
    type: 'static-remotekey',
  });
  await chain().mine(3);
  for (const n of [na, nb])
    await waitFor(async () => (await n.listChannels())[0]?.state === 'ready', {
      what: 'the channel ready',
      timeoutMs: WAIT_MS,
    });
  const aBefore = await waitFor(
    () => {
      const w = na.wallet.balance();
      return w.unconfirmedSat === 0n && w.reservedSat === 0n ? w.confirmedSat : undefined;
    },
    { what: "A's change confirmed" },
  );
  assert.equal(nb.wallet.balance().confirmedSat, 0n);

  // B force-closes: its commitment, A's to_remote and B's delayed to_local.
  const closed = await nb.closeChannel(opened.channelId, { force: true });
  const commitmentTxid = closed.closingTxid as string;
  await waitFor(async () => (await mempool()).includes(commitmentTxid), {
    what: 'the commitment in the mempool',
    timeoutMs: WAIT_MS,
  });
  await chain().mine(1);
  const confirmedAt = await chain().height();
  const { tx: commitment } = await tx(commitmentTxid);
  const commitmentFeeSat = CAPACITY_SAT - commitment.outs.reduce((s, o) => s + o.value, 0n);
  const values = commitment.outs.map((o) => o.value).sort((x, y) => (x < y ? -1 : 1));
  // B's output is exactly the push; A's is the rest less the commitment fee (A is the funder).
  assert.deepEqual(values, [PUSH_SAT, CAPACITY_SAT - PUSH_SAT - commitmentFeeSat]);
  const toRemoteVout = commitment.outs.findIndex((o) => o.value !== PUSH_SAT);
  const toLocalVout = commitment.outs.findIndex((o) => o.value === PUSH_SAT);

  // listChannels: each side's on-chain state — the commitment, its height, the output it takes.
  const onchainOf = async (n: LnkitNode) =>
    (await n.listChannels()).find((c) => c.channelId === opened.channelId)?.onchain;
  const bOnchain = await waitFor(() => onchainOf(nb), { what: "B's on-chain state", timeoutMs: WAIT_MS });
  assert.deepEqual(
    [bOnchain.kind, bOnchain.spendTxid, bOnchain.confirmedAtHeight, bOnchain.done],
    ['holder-commitment', commitmentTxid, confirmedAt, false],
  );
  const bToLocal = bOnchain.outputs.find((o) => o.id === `${commitmentTxid}:${toLocalVout}`);
  assert.deepEqual(
    [bToLocal?.output, bToLocal?.valueSat, bToLocal?.status],
    ['to_local', PUSH_SAT, 'pending'],
  );
  assert.ok((bToLocal?.claimableAtHeight ?? 0) > confirmedAt, 'B waits out its to_self_delay');
  assert.equal(bOnchain.pendingSweepSat, PUSH_SAT);
  assert.equal((await nb.balance()).onchain.pendingSweepSat, PUSH_SAT);

  // A's claim goes out at the commitment's block; the next block confirms it.
  await waitFor(async () => (await mempool()).length === 1, {
    what: "A's to_remote claim in the mempool",
    timeoutMs: WAIT_MS,
  });
  await chain().mine(1);
  const aClaim = await spenderAt(confirmedAt + 1, commitmentTxid, toRemoteVout);
  assert.ok(aClaim, "A's to_remote claim confirmed in the next block");
  assert.equal(aClaim.outs.length, 1);
  assert.ok(na.wallet.isMine(aClaim.outs[0]?.script as Uint8Array), "it pays A's wallet");
  const aClaimFeeSat = (commitment.outs[toRemoteVout]?.value as bigint) - (aClaim.outs[0]?.value as bigint);
  await waitFor(() => na.wallet.balance().confirmedSat === aBefore + (aClaim.outs[0]?.value as bigint), {
    what: "A's wallet to hold its to_remote",
    timeoutMs: WAIT_MS,
  });
  assert.equal(
    na.wallet.balance().confirmedSat - aBefore,
    CAPACITY_SAT - PUSH_SAT - commitmentFeeSat - aClaimFeeSat,
  );
  assert.ok(aClaimFeeSat > 0n && aClaimFeeSat < 10_000n, `A's claim fee ${aClaimFeeSat} sat`);
  // A's to_remote: claimed, by that transaction at that height; nothing left for A to sweep.
  const aOnchain = await waitFor(
    async () => {
      const o = await onchainOf(na);
      return o?.outputs.some((x) => x.status === 'claimed') ? o : undefined;
    },
    { what: "A's claim in its on-chain state", timeoutMs: WAIT_MS },
  );
  assert.equal(aOnchain.kind, 'counterparty-commitment');
  assert.deepEqual(aOnchain.outputs, [
    {
      id: `${commitmentTxid}:${toRemoteVout}`,
      output: 'to_remote',
      valueSat: commitment.outs[toRemoteVout]?.value,
      status: 'claimed',
      spentByTxid: aClaim.getId(),
      spentAtHeight: confirmedAt + 1,
    },
  ]);
  assert.equal((await na.balance()).onchain.pendingSweepSat, 0n);

  // B's to_local, after the to_self_delay A asked of B: blocks one by one, each seen by B before
  // the next (bcoin would refuse the sweep before its CSV), until one holds B's sweep.
  let height = await chain().height();
  let bClaim: Transaction | undefined;
  while (!bClaim) {
    assert.ok(height < confirmedAt + 300, 'B sweeps within 300 blocks');
    await chain().mine(1);
    height += 1;
    const at = height;
    await waitFor(async () => (await nb.info()).blockHeight >= at, {
      what: `B at ${at}`,
      timeoutMs: WAIT_MS,
    });
    bClaim = await spenderAt(height, commitmentTxid, toLocalVout);
  }
  // BIP 68: its nSequence is the delay, and it confirmed no earlier than it allows.
  const sequence = bClaim.ins[0]?.sequence as number;
  assert.ok(sequence >= 1 && sequence < 0xffff, `to_self_delay ${sequence}`);
  assert.ok(height >= confirmedAt + sequence, `confirmed at ${height}, commitment at ${confirmedAt}`);
  assert.equal(bClaim.outs.length, 1);
  assert.ok(nb.wallet.isMine(bClaim.outs[0]?.script as Uint8Array), "it pays B's wallet");
  const bClaimFeeSat = PUSH_SAT - (bClaim.outs[0]?.value as bigint);
  await waitFor(() => nb.wallet.balance().confirmedSat === PUSH_SAT - bClaimFeeSat, {
    what: "B's wallet to hold its to_local",
    timeoutMs: WAIT_MS,
  });
  assert.ok(bClaimFeeSat > 0n && bClaimFeeSat < 10_000n, `B's claim fee ${bClaimFeeSat} sat`);
  assert.equal(bToLocal?.claimableAtHeight, confirmedAt + sequence, 'the height listChannels said');
  const bAfter = await waitFor(
    async () => {
      const o = await onchainOf(nb);
      return o?.outputs.every((x) => x.status === 'claimed') ? o : undefined;
    },
    { what: "B's sweep in its on-chain state", timeoutMs: WAIT_MS },
  );
  assert.equal(bAfter.outputs[0]?.spentByTxid, bClaim.getId());
  assert.equal(bAfter.pendingSweepSat, 0n);
  assert.equal((await nb.balance()).onchain.pendingSweepSat, 0n);
});
