/**
 * A line A–B–C of private channels with LDK 0.1.0 (WASM) in it, over TCP loopback on the bcoin
 * regtest chain, payments routed from the payee's invoice (lnkit's router: no graph, only A's
 * channels and the invoice's route hint):
 * - LDK as B: lnkit C's invoice names LDK's channel with the policy LDK sent C in its
 *   channel_update; lnkit A pays it through LDK, which forwards for its fee;
 * - LDK as C: LDK's invoice names lnkit B's channel with the policy lnkit B sent LDK (so LDK
 *   took lnkit's channel_update); lnkit A pays it through lnkit B, which earns its fee and says
 *   PaymentForwarded; LDK claims it.
 * LDK logs no error or warning.
 * Run: node scripts/test.mjs test/interop/ldk-line.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DefaultRouter, FixedGraph } from '@lnkit/gossip';
import { decodeInvoice } from '@lnkit/invoice';
import type { PaymentRouter } from '@lnkit/manager';
import { waitFor } from '@lnkit/test-support';
import { interopChain, WAIT_MS } from '../support/ldk/interop.ts';
import { LdkNode } from '../support/ldk/ldk-node.ts';
import { LnkitNode } from '../support/ldk/lnkit-node.ts';

const env = interopChain();
const AMOUNT_MSAT = 3_000_000n;
/** lnkit's and LDK's default relay fee and delta. */
const FEE_BASE_MSAT = 1000;
const CLTV_DELTA = 72;

/** lnkit's DefaultRouter over no graph at all: A's own channels and the invoice's hints only. */
const hintsOnly = (): PaymentRouter => ({
  findRoute: async (q) => new DefaultRouter({ graph: new FixedGraph({ channels: [] }) }).findRoute(q),
});

function assertLdkQuiet(ldk: LdkNode): void {
  const loud = ldk.logs.filter((l) => /^(ERROR|WARN)|Received message Error/.test(l));
  if (process.env.LNKIT_SHOW_LDK_LOGS) console.log(ldk.logs.join('\n'));
  assert.deepEqual(loud, []);
}

async function mineAll(n: number, nodes: (LnkitNode | LdkNode)[]): Promise<void> {
  await env.chain.mine(n);
  for (const node of nodes) await node.syncToTip();
}

async function lnkitNode(router?: PaymentRouter): Promise<LnkitNode> {
  const n = await LnkitNode.create({ chain: env.chain, ...(router ? { manager: { router } } : {}) });
  env.defer(() => n.stop());
  return n;
}

async function ldkNode(funding: LnkitNode['funding']): Promise<LdkNode> {
  const n = await LdkNode.create({
    chain: env.chain,
    funding,
    minimumDepth: 3,
    forwardToPrivateChannels: true,
  });
  env.defer(() => n.stop());
  await n.start();
  return n;
}

const readyAt = (n: LnkitNode, peer: string) =>
  waitFor(() => n.manager.listChannels().find((c) => c.peer === peer && c.state === 'ready' && c.usable), {
    what: `lnkit ready with ${peer.slice(0, 8)}`,
    timeoutMs: WAIT_MS,
  });

test('LDK as B: lnkit C hints LDK’s channel with the policy LDK sent it; lnkit A pays through LDK', async () => {
  const a = await lnkitNode(hintsOnly());
  const c = await lnkitNode();
  const b = await ldkNode(a.funding);
  await b.connect(a.nodeId, '127.0.0.1', a.port);
  await b.connect(c.nodeId, '127.0.0.1', c.port);
  await a.funding.addCoins(2, 1_200_000n);
  await mineAll(1, [a, b, c]);
  await a.manager.openChannel(b.nodeId, 1_000_000n);
  b.openChannel(c.nodeId, 1_000_000n);
  await b.waitFor(
    () => b.events.filter((e) => e.type === 'ChannelPending').length === 2,
    WAIT_MS,
    'both pending at LDK',
  );
  await b.settled();
  await mineAll(3, [a, b, c]);
  await readyAt(a, b.nodeId);
  await readyAt(c, b.nodeId);
  await b.waitFor(() => b.channels().filter((x) => x.isUsable).length === 2, WAIT_MS, 'both usable at LDK');

  const bc = b.channels().find((x) => x.counterparty === c.nodeId);
  const invoice = await waitFor(
    async () => {
      const inv = await c.manager.payments.createInvoice(AMOUNT_MSAT, { description: 'through LDK' });
      return decodeInvoice(inv.bolt11).routeHints.length > 0 ? inv.bolt11 : undefined;
    },
    { what: "LDK's channel_update at lnkit C", timeoutMs: WAIT_MS },
  );
  const [hop] = decodeInvoice(invoice).routeHints[0] ?? [];
  assert.deepEqual(
    [
      hop && Buffer.from(hop.nodeId).toString('hex'),
      hop?.shortChannelId,
      hop?.feeBaseMsat,
      hop?.cltvExpiryDelta,
    ],
    [b.nodeId, bc?.shortChannelId, FEE_BASE_MSAT, CLTV_DELTA],
  );
  const out = await a.manager.payments.sendPayment(invoice);
  assert.equal(out.status, 'succeeded', out.reason);
  assert.equal(out.feeMsat, BigInt(FEE_BASE_MSAT));
  await waitFor(() => c.manager.listChannels()[0]?.localBalanceMsat === AMOUNT_MSAT || undefined, {
    what: 'C paid',
    timeoutMs: WAIT_MS,
  });
  await b.waitFor(
    () => b.events.some((e) => e.type === 'PaymentForwarded'),
    WAIT_MS,
    'PaymentForwarded at LDK',
  );
  assertLdkQuiet(b);
});

test('LDK as C: LDK’s invoice hints lnkit B’s channel with the policy lnkit sent it; lnkit A pays through lnkit B', async () => {
  const a = await lnkitNode(hintsOnly());
  const b = await lnkitNode();
  const c = await ldkNode(a.funding);
  // lnkit B funds both channels' second leg: its own coins.
  const bFunding = b.funding;
  await c.connect(b.nodeId, '127.0.0.1', b.port);
  await a.pm.connect(b.nodeId, '127.0.0.1', b.port);
  await a.funding.addCoins(1, 1_200_000n);
  await bFunding.addCoins(1, 1_200_000n);
  await mineAll(1, [a, b, c]);
  await a.manager.openChannel(b.nodeId, 1_000_000n);
  await b.manager.openChannel(c.nodeId, 1_000_000n);
  await c.waitFor(() => c.events.some((e) => e.type === 'ChannelPending'), WAIT_MS, 'pending at LDK');
  await mineAll(3, [a, b, c]);
  await readyAt(a, b.nodeId);
  await readyAt(b, c.nodeId);
  await c.waitFor(() => c.channels()[0]?.isUsable === true, WAIT_MS, 'usable at LDK');

  const bcScid = b.manager.listChannels().find((x) => x.peer === c.nodeId)?.shortChannelId;
  // LDK puts a channel in its hints once it has the counterparty's channel_update for it.
  const invoice = await waitFor(
    () => {
      const inv = c.createInvoice(AMOUNT_MSAT, 'through lnkit');
      return decodeInvoice(inv).routeHints.length > 0 ? inv : undefined;
    },
    { what: "lnkit B's channel_update taken by LDK", timeoutMs: WAIT_MS },
  );
  const [hop] = decodeInvoice(invoice).routeHints[0] ?? [];
  // LDK names the channel by the alias lnkit B gave it (B forwards by its aliases and the real
  // short_channel_id alike): the payment below shows B took it.
  assert.deepEqual(
    [hop && Buffer.from(hop.nodeId).toString('hex'), hop?.feeBaseMsat, hop?.cltvExpiryDelta],
    [b.nodeId, FEE_BASE_MSAT, CLTV_DELTA],
  );
  assert.ok(hop && bcScid, 'a hint, and B has a short_channel_id for the channel');
  const forwarded = new Promise((resolve) => {
    b.manager.forwards.events$.subscribe((e) => {
      if (e.type === 'PaymentForwarded') resolve(e);
    });
  });
  const out = await a.manager.payments.sendPayment(invoice);
  assert.equal(out.status, 'succeeded', out.reason);
  assert.equal(out.feeMsat, BigInt(FEE_BASE_MSAT));
  const f = (await forwarded) as { feeMsat: bigint; amountOutMsat: bigint };
  assert.deepEqual([f.feeMsat, f.amountOutMsat], [BigInt(FEE_BASE_MSAT), AMOUNT_MSAT]);
  await c.waitFor(() => c.events.some((e) => e.type === 'PaymentClaimed'), WAIT_MS, 'PaymentClaimed at LDK');
  assertLdkQuiet(c);
});
