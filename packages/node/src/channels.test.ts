/**
 * Channels in the node (step 9): two lnkit nodes on one bcoin chain, the funder's wallet paying
 * the funding. Every refusal of openChannel before anything is sent, then an open with a push,
 * ready on both sides after the depth with the balances exact, the events in each node's log,
 * and a cooperative close the chain confirms.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { randomBytes } from '@lnkit/crypto';
import { KeysManager, readSeed } from '@lnkit/keys';
import { createRootLogger } from '@lnkit/runtime';
import { waitFor } from '@lnkit/test-support';
import { type LnkitNode, NodeBuilder, NodeError } from './index.ts';
import { nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();
const silent = () =>
  createRootLogger({ level: (process.env.LNKIT_TEST_LOG as 'info' | undefined) ?? 'silent' });
const build = (name: string) =>
  new NodeBuilder(nodeConfig(chain(), dir(name), { listen: { host: '127.0.0.1', port: 0 } }))
    .withLogger(silent())
    .build();

let a: LnkitNode;
let b: LnkitNode;
const FUNDED_SAT = 5_000_000n;

/** Once, in the first test that needs it (after the file's test chain has started). */
let setup: Promise<void> | undefined;
const twoNodes = () => {
  setup ??= start();
  return setup;
};

async function start(): Promise<void> {
  await chain().activateSegwit();
  [a, b] = await Promise.all([build('a'), build('b')]);
  const script = await a.coinbaseScript();
  await chain().fundScript(script, FUNDED_SAT);
  await chain().mine(1);
  await waitFor(() => a.wallet.balance().spendableSat === FUNDED_SAT, {
    what: "A's wallet to hold the coins",
  });
  const { port } = (await b.info()).listening!;
  await a.connect(b.nodeId, '127.0.0.1', port);
  await waitFor(async () => (await b.listPeers()).some((p) => p.nodeId === a.nodeId), { what: 'B to see A' });
}

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const refused = (code: string, message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof NodeError, `a NodeError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  return true;
};

test('openChannel refuses a bad node id, an amount out of range, a push above it, an unconnected peer and too little in the wallet, before anything is sent', async () => {
  await twoNodes();
  await assert.rejects(
    a.openChannel('02abc', 100_000n),
    refused('invalid-argument', /nodeId must be a 33-byte/),
  );
  // Both lnkit nodes offer option_support_large_channel: the limit is the money supply.
  await assert.rejects(
    a.openChannel(b.nodeId, 999n),
    refused('invalid-argument', /from 1000 to 2100000000000000 sat; got 999/),
  );
  await assert.rejects(
    a.openChannel(b.nodeId, 2_100_000_000_000_001n),
    refused('invalid-argument', /from 1000 to 2100000000000000 sat/),
  );
  await assert.rejects(
    a.openChannel(b.nodeId, 100_000n, { type: 'legacy' as 'anchors' }),
    refused('invalid-argument', /type must be anchors or static-remotekey/),
  );
  await assert.rejects(
    a.openChannel(b.nodeId, 100_000n, { pushMsat: 100_000_001n }),
    refused('invalid-argument', /at most the channel's amount, 100000000 msat/),
  );
  const stranger = `02${'11'.repeat(32)}`;
  await assert.rejects(a.openChannel(stranger, 100_000n), refused('peer-not-connected', /is not connected/));
  await assert.rejects(
    a.openChannel(b.nodeId, FUNDED_SAT),
    refused(
      'insufficient-funds',
      new RegExp(`can spend ${FUNDED_SAT} sat; the channel needs ${FUNDED_SAT} sat plus at least \\d+ sat`),
    ),
  );
  await assert.rejects(b.openChannel(a.nodeId, 100_000n), refused('insufficient-funds', /can spend 0 sat/));
  assert.deepEqual(await a.listChannels(), [], 'no channel was started');
  assert.deepEqual(await b.listChannels(), []);
  assert.equal(a.wallet.reservations().length, 0, 'no coins reserved');
});

test('an open with a push: pending, then ready on both sides after the depth, balances exact, every event in the log; then a cooperative close', async () => {
  await twoNodes();
  const pushMsat = 10_000_000n;
  const opened = await a.openChannel(b.nodeId, 1_000_000n, { pushMsat, type: 'static-remotekey' });
  assert.match(opened.channelId, /^[0-9a-f]{64}$/);
  assert.match(opened.fundingTxid, /^[0-9a-f]{64}$/);

  const [ca] = await a.listChannels();
  assert.equal(ca?.channelId, opened.channelId);
  assert.equal(ca?.fundingTxid, opened.fundingTxid);
  assert.equal(ca?.peer, b.nodeId);
  assert.equal(ca?.state, 'awaiting-confirmation');
  assert.equal(ca?.type, 'static-remotekey');
  assert.equal(ca?.capacitySat, 1_000_000n);
  assert.equal(ca?.isFunder, true);
  const pending = (await a.events.since(0)).filter((e) => e.kind === 'ChannelPending');
  assert.equal(pending.length, 1);
  assert.deepEqual(
    {
      channelId: pending[0]?.data.channelId,
      fundingTxid: pending[0]?.data.fundingTxid,
      peer: pending[0]?.data.peer,
    },
    { channelId: opened.channelId, fundingTxid: opened.fundingTxid, peer: b.nodeId },
  );

  await chain().mine(3);
  for (const n of [a, b])
    await waitFor(async () => (await n.listChannels())[0]?.state === 'ready', {
      what: `the channel ready on ${n === a ? 'A' : 'B'}`,
      timeoutMs: 60_000,
    });
  const [ra] = await a.listChannels();
  const [rb] = await b.listChannels();
  assert.equal(rb?.channelId, opened.channelId);
  assert.equal(rb?.localBalanceMsat, pushMsat, 'B holds exactly the push');
  assert.equal(ra?.remoteBalanceMsat, pushMsat);
  assert.equal(
    ra?.localBalanceMsat,
    1_000_000_000n - pushMsat,
    'A holds the rest (the commitment fee is not counted against it here)',
  );
  assert.match(ra?.shortChannelId ?? '', /^\d+x\d+x\d+$/);
  assert.equal((await a.balance()).lightning.localMsat, ra?.localBalanceMsat);
  assert.equal((await b.balance()).lightning.localMsat, pushMsat);

  for (const n of [a, b]) {
    const ready = await waitFor(
      async () => (await n.events.since(0)).find((e) => e.kind === 'ChannelReady'),
      { what: 'ChannelReady in the log' },
    );
    assert.equal(ready.data.channelId, opened.channelId);
    assert.equal(ready.data.shortChannelId, ra?.shortChannelId);
    // The node's own handler took every event.
    await waitFor(async () => (await n.events.pending()).length === 0, { what: 'every event handled' });
  }

  await assert.rejects(a.closeChannel('00'.repeat(32)), refused('unknown-channel', /no open channel/));
  await assert.rejects(a.closeChannel('xyz'), refused('invalid-argument', /channelId must be 32 bytes/));

  const closing = await a.closeChannel(opened.channelId);
  assert.equal(closing.channelId, opened.channelId);
  const closingTxid = await waitFor(async () => (await a.listChannels())[0]?.closingTxid, {
    what: 'the closing transaction agreed',
    timeoutMs: 60_000,
  });
  await chain().mine(1);
  for (const n of [a, b]) {
    const closed = await waitFor(
      async () => (await n.events.since(0)).find((e) => e.kind === 'ChannelClosed'),
      { what: 'ChannelClosed in the log', timeoutMs: 60_000 },
    );
    assert.equal(closed.data.channelId, opened.channelId);
    assert.equal(closed.data.reason, 'cooperative');
    assert.equal(closed.data.closingTxid, closingTxid);
    assert.equal((await n.listChannels())[0]?.state, 'closed');
    assert.equal((await n.balance()).lightning.localMsat, 0n, 'a closed channel holds nothing');
  }
  assert.equal((await b.listChannels())[0]?.closingTxid, closingTxid);
  // The fundee pays no closing fee: its wallet holds exactly the push, at the script it gave.
  await waitFor(() => b.wallet.balance().confirmedSat === pushMsat / 1000n, {
    what: "B's wallet to hold its side of the close",
  });
});

test("a node built with the user's signer provider signs its channels with it; one of another node is refused", async () => {
  await twoNodes();
  const name = 'own-signer';
  // The first start makes the data dir's seed; the user's signer is built from it.
  await (await build(name)).stop();
  const found = readSeed(dir(name));
  assert.ok(found);
  const keys = new KeysManager(found.seed);
  const asked: bigint[] = [];
  const provider = {
    nodeId: keys.nodeId,
    getSecureRandomBytes: () => keys.getSecureRandomBytes(),
    createChannelSigner: (index: bigint) => {
      asked.push(index);
      return keys.createChannelSigner(index);
    },
  };
  const config = nodeConfig(chain(), dir(name), { listen: { host: '127.0.0.1', port: 0 } });
  const c = await new NodeBuilder(config).withLogger(silent()).withSignerProvider(provider).build();
  try {
    await chain().fundScript(await c.coinbaseScript(), 500_000n);
    await chain().mine(1);
    await waitFor(() => c.wallet.balance().spendableSat === 500_000n, { what: "C's wallet funded" });
    await c.connect(b.nodeId, '127.0.0.1', (await b.info()).listening!.port);
    const opened = await c.openChannel(b.nodeId, 200_000n);
    assert.equal(asked.length, 1, 'the channel signer came from the provider');
    const monitor = await c.chainMonitor.monitor(opened.channelId);
    assert.equal(monitor?.info.channelKeyIndex, asked[0], "the monitor keeps the provider's key index");
  } finally {
    await c.stop();
  }

  const other = new KeysManager(randomBytes(32));
  await assert.rejects(
    new NodeBuilder(config).withLogger(silent()).withSignerProvider(other).build(),
    refused('invalid-config', /the signer provider is of node [0-9a-f]{66}, not of this node/),
  );
});

test('a channel survives a restart of both nodes: the same channel, ready again after reestablish with the same balances; then a force close the chain confirms', async () => {
  await twoNodes();
  const opened = await a.openChannel(b.nodeId, 300_000n, { pushMsat: 1_000_000n, type: 'anchors' });
  await chain().mine(3);
  const ready = async (n: LnkitNode) =>
    (await n.listChannels()).find((c) => c.channelId === opened.channelId && c.state === 'ready');
  for (const n of [a, b]) await waitFor(() => ready(n), { what: 'the channel ready', timeoutMs: 60_000 });
  const before = await Promise.all([ready(a), ready(b)]);
  const seqBefore = (await b.events.since(0)).at(-1)?.seq ?? 0;

  await Promise.all([a.stop(), b.stop()]);
  // Mined while both are down: the manager's snapshot is behind, and is brought to the tip at start.
  await chain().mine(2);
  [a, b] = await Promise.all([build('a'), build('b')]);
  // A redials B (a persistent peer); each channel reestablishes.
  const after = await Promise.all(
    [a, b].map((n) => waitFor(() => ready(n), { what: 'ready again after the restart', timeoutMs: 60_000 })),
  );
  for (const [i, was] of before.entries()) {
    const now = after[i];
    assert.equal(now?.type, 'anchors');
    assert.equal(now?.localBalanceMsat, was?.localBalanceMsat);
    assert.equal(now?.remoteBalanceMsat, was?.remoteBalanceMsat);
    assert.equal(now?.shortChannelId, was?.shortChannelId);
    assert.equal(now?.confirmations, (was?.confirmations ?? 0) + 2, 'the blocks mined while down were seen');
  }
  assert.equal((await b.balance()).lightning.localMsat, 1_000_000n);
  assert.ok(
    (await b.events.since(0)).some((e) => e.seq <= seqBefore && e.kind === 'ChannelReady'),
    "B's log kept its events across the restart",
  );

  await assert.rejects(
    a.closeChannel(opened.channelId, { force: 'yes' as unknown as boolean }),
    refused('invalid-argument', /force must be true or false/),
  );
  const forced = await a.closeChannel(opened.channelId, { force: true });
  assert.match(forced.closingTxid ?? '', /^[0-9a-f]{64}$/, 'our commitment is broadcast at once');
  await chain().mine(1);
  const confirmed = (await chain().rpc('getrawtransaction', [forced.closingTxid, true])) as {
    confirmations?: number;
  };
  assert.ok((confirmed.confirmations ?? 0) >= 1, 'bcoin took our commitment into a block');
  for (const n of [a, b])
    await waitFor(
      async () => (await n.listChannels()).find((c) => c.channelId === opened.channelId)?.state === 'closed',
      { what: 'the channel closed once its funding is spent', timeoutMs: 60_000 },
    );
  const closed = await waitFor(
    async () =>
      (await a.events.since(0)).find(
        (e) => e.kind === 'ChannelClosed' && e.data.channelId === opened.channelId,
      ),
    { what: "A's ChannelClosed" },
  );
  assert.equal(closed.data.reason, 'holder-force-closed');
});
