/**
 * A forward whose downstream peer goes on chain (issue 17's "the preimage learned on chain
 * fulfils upstream"), LDK 0.1.0 A → lnkit B → LDK 0.1.0 C on bcoin regtest: C claims the HTLC
 * B forwarded, but the fulfil never completes off chain — B's monitor updates for B–C are held
 * in progress from C's update_fulfill_htlc on (a monitor whose persists stall: B neither
 * revokes nor signs) — so C, holding the preimage of an HTLC still in its commitment, goes on
 * chain as the expiry nears (LDK: CLTV_CLAIM_BUFFER) and claims it with the HTLC-success
 * transaction. B's ChainMonitor finds the preimage in that spend (PaymentPreimageLearnt), the
 * forwarder fulfils A upstream off chain, and A gets PaymentSent with B's fee.
 * The test wires the ChainMonitor's event to the manager as the node's step 9 does.
 * Commitments at 2,500 sat/kw (bcoin's minimum relay fee), non-anchor channels.
 * Run: node scripts/test.mjs test/interop/ldk-forward-onchain.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeInvoice } from '@lnkit/invoice';
import { ChannelSignerPool, loadOrCreateSeed } from '@lnkit/keys';
import type { ForwardEvent, MonitorPersister } from '@lnkit/manager';
import type { ChannelMonitorUpdate, MonitorEvent } from '@lnkit/monitor';
import { PersistStatus } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { AccountKeys, networkParams, RECEIVE } from '@lnkit/wallet';
import { parseShortChannelId } from '@lnkit/wire';
import * as ldk from 'lightningdevkit';
import { Subject } from 'rxjs';
import { chainBroadcaster, interopChain, WAIT_MS } from '../support/ldk/interop.ts';
import { LdkNode } from '../support/ldk/ldk-node.ts';
import { LnkitNode } from '../support/ldk/lnkit-node.ts';
import { TestFunding } from '../support/ldk/test-funding.ts';

const env = interopChain();
const FEERATE_PER_KW = 2_500;
const CAPACITY_SAT = 1_000_000n;
const PUSH_MSAT = 50_000_000n;
const FEE_BASE_MSAT = 1000;
const CLTV_DELTA = 72;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * The manager's persister over B's ChainMonitor, which holds (answers in progress, never
 * completes) every update of one channel from the first that carries a payment preimage on.
 */
class StallingPersister implements MonitorPersister {
  inner: MonitorPersister | undefined;
  stallChannel: string | undefined;
  stalled = false;
  readonly held: ChannelMonitorUpdate[] = [];
  readonly #completed = new Subject<{ channelId: string; updateId: bigint }>();
  readonly completed$ = this.#completed.asObservable();
  follow(inner: MonitorPersister): void {
    this.inner = inner;
    inner.completed$?.subscribe((c) => {
      if (!(this.stalled && c.channelId === this.stallChannel)) this.#completed.next(c);
    });
  }
  async persist(update: ChannelMonitorUpdate): Promise<PersistStatus> {
    if (
      hex(update.channelId) === this.stallChannel &&
      update.steps.some((s) => s.kind === 'payment-preimage')
    )
      this.stalled = true;
    if (this.stalled && hex(update.channelId) === this.stallChannel) {
      this.held.push(update);
      return PersistStatus.inProgress();
    }
    if (!this.inner) throw new Error('no ChainMonitor yet');
    return this.inner.persist(update);
  }
}

test('the downstream peer claims on chain: the preimage B learns from the chain fulfils A upstream, A gets PaymentSent with B’s fee', async () => {
  // B: its seed in a data dir (the signer pool's workers read it), claims paying its wallet.
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-forward-onchain-'));
  const { seed } = loadOrCreateSeed(dir);
  const pool = new ChannelSignerPool({ dataDir: dir, threads: 1 });
  env.defer(() => pool.close());
  const account = AccountKeys.fromSeed(seed, networkParams('regtest'));
  const destination = account.script(RECEIVE, 0);
  const destinationPath = `${account.path}/${RECEIVE}/0`;
  const persister = new StallingPersister();
  const b = await LnkitNode.create({
    chain: env.chain,
    from: { seed, dir, funding: new TestFunding(env.chain) },
    manager: { feeEstimator: { feeratePerKw: () => BigInt(FEERATE_PER_KW) }, persister },
    enforcement: {
      broadcaster: chainBroadcaster(env),
      feeEstimator: { feeratePerKw: () => 5_000n },
      destinationScript: () => destination,
      claimSigner: (m) =>
        pool.claimSigner(m.info.channelKeyIndex, (script) =>
          hex(script) === hex(destination) ? destinationPath : undefined,
        ),
    },
  });
  env.defer(() => b.stop());
  persister.follow(b.chainMonitor);
  const monitorEvents: MonitorEvent[] = [];
  // As the node's step 9 does: a preimage the chain revealed goes to the forwarder.
  b.chainMonitor.events$.subscribe((e) => {
    monitorEvents.push(e);
    if (e.type === 'PaymentPreimageLearnt')
      b.manager.forwards.preimageLearnt(e.channelId, e.paymentHash, e.paymentPreimage);
  });
  const forwards: ForwardEvent[] = [];
  b.manager.forwards.events$.subscribe((e) => forwards.push(e));
  const a = await LdkNode.create({
    chain: env.chain,
    funding: b.funding,
    minimumDepth: 3,
    feeratePerKw: FEERATE_PER_KW,
  });
  env.defer(() => a.stop());
  const c = await LdkNode.create({
    chain: env.chain,
    funding: b.funding,
    minimumDepth: 3,
    feeratePerKw: FEERATE_PER_KW,
  });
  env.defer(() => c.stop());
  const mine = async (n: number) => {
    await env.chain.mine(n);
    await a.syncToTip();
    await c.syncToTip();
    await b.syncToTip();
  };
  for (const n of [a, c]) {
    await n.connect(b.nodeId, '127.0.0.1', b.port);
    await waitFor(() => b.pm.listPeers().some((p) => p.nodeId === n.nodeId), { what: 'lnkit sees LDK' });
  }
  await b.funding.addCoins(2, 1_200_000n);
  await mine(1);
  a.openChannel(b.nodeId, CAPACITY_SAT, PUSH_MSAT);
  await b.manager.openChannel(c.nodeId, CAPACITY_SAT, { pushMsat: PUSH_MSAT });
  await waitFor(() => b.events.filter((e) => e.type === 'ChannelPending').length === 2, {
    what: 'both channels pending at lnkit',
    timeoutMs: WAIT_MS,
  });
  for (const n of [a, c]) {
    await n.waitFor(
      () => n.events.some((e) => e.type === 'ChannelPending'),
      WAIT_MS,
      'ChannelPending at LDK',
    );
    await n.settled();
  }
  await mine(3);
  await waitFor(
    () => b.manager.listChannels().length === 2 && b.manager.listChannels().every((ch) => ch.usable),
    {
      what: 'both channels usable at lnkit',
      timeoutMs: WAIT_MS,
    },
  );
  for (const n of [a, c]) await n.waitFor(() => n.channels()[0]?.isUsable === true, WAIT_MS, 'usable at LDK');
  const bc = b.manager.listChannels().find((ch) => ch.peer === c.nodeId);
  const ab = b.manager.listChannels().find((ch) => ch.peer === a.nodeId);
  assert.ok(bc && ab);
  persister.stallChannel = bc.channelId;

  // A pays C's invoice through B (one route hint: B's B–C scid, fee and delta).
  const amount = 20_000_000n;
  const bolt11 = c.createInvoice(amount, 'claimed on chain');
  const inv = decodeInvoice(bolt11);
  const params = ldk.PaymentParameters.constructor_from_node_id(inv.payee, inv.minFinalCltvExpiryDelta);
  params.set_payee(
    ldk.Payee.constructor_clear(
      inv.payee,
      [
        ldk.RouteHint.constructor_new([
          ldk.RouteHintHop.constructor_new(
            Buffer.from(b.nodeId, 'hex'),
            parseShortChannelId(bc.shortChannelId ?? ''),
            ldk.RoutingFees.constructor_new(FEE_BASE_MSAT, 0),
            CLTV_DELTA,
            ldk.Option_u64Z.constructor_none(),
            ldk.Option_u64Z.constructor_none(),
          ),
        ]),
      ],
      ldk.Bolt11InvoiceFeatures.constructor_empty(),
      inv.minFinalCltvExpiryDelta,
    ),
  );
  const sent = a.chanMan.send_payment(
    inv.paymentHash,
    ldk.RecipientOnionFields.constructor_secret_only(inv.paymentSecret),
    inv.paymentHash,
    ldk.RouteParameters.constructor_from_payment_params_and_value(params, amount),
    ldk.Retry.constructor_attempts(0),
  );
  assert.ok(sent instanceof ldk.Result_NoneRetryableSendFailureZ_OK, 'LDK A sends');
  a.pump();
  const hash = hex(inv.paymentHash);

  // C claims; B's update of B–C with the preimage is held: the fulfil goes no further off chain.
  await c.waitFor(
    () => c.events.some((e) => e.type === 'PaymentClaimable'),
    WAIT_MS,
    'PaymentClaimable at C',
  );
  await waitFor(() => persister.stalled, { what: 'B–C stalled at the preimage update', timeoutMs: WAIT_MS });
  assert.ok(!a.events.some((e) => e.type === 'PaymentSent'), 'A has no preimage yet');

  // Blocks until C goes on chain with its commitment and the HTLC-success transaction.
  const cBroadcasts = c.broadcasts.length;
  for (let i = 0; i < 200 && !c.broadcasts.slice(cBroadcasts).some((x) => x.accepted); i++) {
    await mine(1);
    await c.settled();
  }
  assert.ok(
    c.broadcasts.slice(cBroadcasts).some((x) => x.accepted),
    'C went on chain',
  );
  // Mined: B's ChainMonitor sees C's commitment, then the success transaction with the preimage.
  for (let i = 0; i < 6 && !monitorEvents.some((e) => e.type === 'PaymentPreimageLearnt'); i++) {
    await mine(1);
    await c.settled();
  }
  const learnt = await waitFor(() => monitorEvents.find((e) => e.type === 'PaymentPreimageLearnt'), {
    what: 'B learnt the preimage on chain',
    timeoutMs: WAIT_MS,
  });
  assert.ok(learnt.type === 'PaymentPreimageLearnt');
  assert.equal(hex(learnt.paymentHash), hash);
  assert.equal(hex(learnt.channelId), bc.channelId);

  // Upstream, off chain: A gets the preimage and B's fee is earned on A–B.
  await a.waitFor(
    () => a.events.some((e) => e.type === 'PaymentSent' && e.paymentHash === hash),
    WAIT_MS,
    'PaymentSent at A',
  );
  const paid = a.events.find((e) => e.type === 'PaymentSent' && e.paymentHash === hash);
  assert.equal(paid?.preimage, hex(learnt.paymentPreimage));
  assert.equal(paid?.feeMsat, BigInt(FEE_BASE_MSAT));
  await waitFor(() => forwards.some((e) => e.type === 'PaymentForwarded'), {
    what: 'PaymentForwarded at B',
    timeoutMs: WAIT_MS,
  });
  await waitFor(
    () =>
      b.manager.listChannels().find((ch) => ch.peer === a.nodeId)?.localBalanceMsat ===
      PUSH_MSAT + amount + 1000n,
    { what: 'A–B settled with the HTLC paid to B', timeoutMs: WAIT_MS },
  );
  const history = b.manager.forwards.listForwards();
  assert.equal(history.length, 1);
  assert.equal(history[0]?.status, 'settled');
  assert.equal(history[0]?.feeMsat, 1000n);
});
