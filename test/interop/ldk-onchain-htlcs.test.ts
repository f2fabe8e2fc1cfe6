/**
 * BOLT 5 on-chain enforcement with HTLCs in flight both ways, LDK 0.1.0 (WASM) as the peer on
 * the bcoin regtest chain. For each channel type (static_remotekey, anchors) and each closer
 * (LDK force-closes; lnkit force-closes), a ready channel LDK opened with a balance pushed to
 * lnkit carries four HTLCs when a commitment goes on chain:
 * - A, lnkit → LDK: LDK holds its PaymentClaimable and claims it (claim_funds) only after the
 *   close: LDK fulfils it on chain with the preimage; lnkit's ChainMonitor learns the preimage
 *   from that spend (PaymentPreimageLearnt) and lnkit's payment ends in PaymentSent.
 * - B, lnkit → LDK, to a payment hash LDK was given without its preimage, held: it times out
 *   and lnkit takes it back on chain after its cltv_expiry.
 * - C, LDK → lnkit: lnkit claims it, but the monitor update with the preimage is answered "in
 *   progress" (the ChainMonitor has it, the channel pauses), so update_fulfill_htlc never
 *   leaves: lnkit fulfils it on chain with the preimage; LDK gets PaymentSent from the chain.
 * - D, LDK → lnkit, held by lnkit (its PaymentClaimable sink never returns): it times out and
 *   LDK takes it back on chain; LDK gets PaymentFailed.
 * Blocks are mined one by one to each cltv_expiry and past each to_self_delay (second stages
 * and their delayed outputs); each HTLC output's spend is found on chain (by whom, with the
 * preimage or after its timelock), and the end is exact to the satoshi on both sides:
 * - lnkit: what its confirmed claims paid its wallet script, less the anchors fee inputs they
 *   spent, is its channel balance + B + C less those transactions' fees (inputs − outputs);
 *   each claim's ClaimBroadcast fee is that; its ChainMonitor says ChannelResolved.
 * - LDK: its SpendableOutputs are its channel balance + A + D less the fees of the
 *   transactions that made them (net of their wallet inputs and change: anchors HTLC
 *   transactions are funded by LDK's BumpTransactionEventHandler over the harness's wallet);
 *   its ChainMonitor's claimable balances are empty.
 * B's payment fails once its timeout on chain is 6 blocks deep (the monitor's HtlcFailedOnChain);
 * C is received (PaymentClaimed) once our claim of it is (HtlcClaimedOnChain).
 * Commitments at 2,500 sat/kw (bcoin's minimum relay fee), claims at 5,000.
 * Run: node scripts/test.mjs test/interop/ldk-onchain-htlcs.test.ts
 * (LNKIT_TEST_LOG=info shows lnkit's logs; LNKIT_LDK_LOG_FILE=path writes LDK's there when blocks run out.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomBytes, secp, sha256 } from '@lnkit/crypto';
import { decodeInvoice } from '@lnkit/invoice';
import { ChannelSignerPool, loadOrCreateSeed } from '@lnkit/keys';
import type { MonitorPersister, PaymentEvent } from '@lnkit/manager';
import type { ChainMonitor, ChannelMonitorUpdate, MonitorEvent } from '@lnkit/monitor';
import { PersistStatus } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { type FeeInput, Transaction } from '@lnkit/tx';
import { AccountKeys, networkParams, RECEIVE } from '@lnkit/wallet';
import { Subject } from 'rxjs';
import {
  chainBroadcaster,
  connectedPair,
  interopChain,
  openedChannel,
  WAIT_MS,
} from '../support/ldk/interop.ts';
import type { LdkNode, LdkSpendableOutput } from '../support/ldk/ldk-node.ts';
import type { LnkitNode } from '../support/ldk/lnkit-node.ts';
import { TestFunding } from '../support/ldk/test-funding.ts';

const env = interopChain();
const FEERATE_PER_KW = 2_500n;
const CLAIM_FEERATE_PER_KW = 5_000n;
const CAPACITY_SAT = 1_000_000n;
const PUSH_SAT = 300_000n;
/** Four distinct amounts: each HTLC output of the commitment is known by its value. */
const A_SAT = 30_000n;
const B_SAT = 20_000n;
const C_SAT = 25_000n;
const D_SAT = 15_000n;
const ANCHOR_SAT = 330n;
/** The min_final_cltv_expiry_delta of lnkit's invoices C and D (LDK pays them with no shadow offset). */
const C_CLTV_DELTA = 60;
const D_CLTV_DELTA = 30;
/** Enough blocks for the longest wait: a cltv_expiry, then to_self_delay (144), then 6 confirmations. */
const MAX_BLOCKS = 400;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

/**
 * The manager's persister over lnkit's ChainMonitor: from the first update of `holdChannel`
 * that carries a payment preimage on, each update is applied and written by the ChainMonitor
 * (so its monitor has the preimage) but answered in progress to the channel, which pauses and
 * sends nothing that depends on it: the preimage never leaves off chain.
 */
class HoldingPersister implements MonitorPersister {
  inner: ChainMonitor | undefined;
  holdChannel: string | undefined;
  holding = false;
  readonly #completed = new Subject<{ channelId: string; updateId: bigint }>();
  readonly completed$ = this.#completed.asObservable();
  follow(inner: ChainMonitor): void {
    this.inner = inner;
    inner.completed$.subscribe((c) => {
      if (!(this.holding && c.channelId === this.holdChannel)) this.#completed.next(c);
    });
  }
  async persist(update: ChannelMonitorUpdate): Promise<PersistStatus> {
    if (!this.inner) throw new Error('no ChainMonitor yet');
    const status = await this.inner.persist(update);
    if (hex(update.channelId) !== this.holdChannel) return status;
    if (update.steps.some((s) => s.kind === 'payment-preimage')) this.holding = true;
    return this.holding ? PersistStatus.inProgress() : status;
  }
}

interface Htlc {
  name: 'A' | 'B' | 'C' | 'D';
  amountSat: bigint;
  paymentHash: string;
  cltvExpiry: number;
}

interface Setup {
  ldk: LdkNode;
  lnkit: LnkitNode;
  channelId: string;
  destination: Uint8Array;
  monitorEvents: MonitorEvent[];
  payments: PaymentEvent[];
  /** PaymentClaimable of these hashes is held in lnkit's payment event sink (never returns). */
  lnkitHeld: Set<string>;
  /** What the sink saw (held or not). */
  sinkSeen: PaymentEvent[];
  persister: HoldingPersister;
  /** Anchors: lnkit's wallet coins for its HTLC transactions' fees, and those spent. */
  feeInputs: FeeInput[];
  spentFeeInputs: Set<string>;
}

const outpointKey = (txidInternal: Uint8Array, vout: number) => `${hex(txidInternal)}:${vout}`;

async function setup(anchors: boolean): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-onchain-htlcs-'));
  const { seed } = loadOrCreateSeed(dir);
  const pool = new ChannelSignerPool({ dataDir: dir, threads: 1 });
  env.defer(() => pool.close());
  // The node's wallet scheme (BIP 84 of keys_seed): claims pay receive key 0; keys 1.. are
  // the fee inputs of anchors HTLC transactions.
  const account = AccountKeys.fromSeed(seed, networkParams('regtest'));
  const destination = account.script(RECEIVE, 0);
  const destinationPath = `${account.path}/${RECEIVE}/0`;
  const persister = new HoldingPersister();
  const lnkitHeld = new Set<string>();
  const sinkSeen: PaymentEvent[] = [];
  const feeInputs: FeeInput[] = [];
  const spentFeeInputs = new Set<string>();
  const pair = await connectedPair(env, {
    lnkit: {
      from: { seed, dir, funding: new TestFunding(env.chain) },
      manager: {
        feeEstimator: { feeratePerKw: () => FEERATE_PER_KW },
        persister,
        paymentEventSink: async (e) => {
          sinkSeen.push(e);
          // Held: the claim waits for this sink before its fulfil, so the HTLC stays unanswered.
          if (e.type === 'PaymentClaimable' && lnkitHeld.has(e.paymentHash))
            await new Promise<never>(() => {});
        },
      },
      enforcement: {
        // A fee input it spends is not offered again (the mempool has it).
        broadcaster: chainBroadcaster(env, (raw) => {
          for (const i of Transaction.fromBuffer(Buffer.from(raw)).ins)
            spentFeeInputs.add(outpointKey(i.hash, i.index));
        }),
        feeEstimator: { feeratePerKw: () => CLAIM_FEERATE_PER_KW },
        destinationScript: () => destination,
        claimSigner: (m) =>
          pool.claimSigner(m.info.channelKeyIndex, (script) =>
            hex(script) === hex(destination) ? destinationPath : undefined,
          ),
        feeInputs: () => feeInputs.filter((f) => !spentFeeInputs.has(outpointKey(f.txid, f.vout))),
        feeInputSigner: {
          signFeeInput: async (input, sighash) => {
            const index = feeInputs.findIndex((f) => hex(f.pubkey) === hex(input.pubkey)) + 1;
            assert.ok(index >= 1, 'a fee input of the wallet');
            return secp.sign(sighash, account.privateKey(RECEIVE, index));
          },
        },
      },
    },
    ldk: { anchors, minimumDepth: 3, feeratePerKw: Number(FEERATE_PER_KW) },
  });
  const { ldk, lnkit } = pair;
  persister.follow(lnkit.chainMonitor);
  const monitorEvents: MonitorEvent[] = [];
  // As the node's step 9 does (the manager actor's preimageLearnt): a preimage the chain
  // revealed fulfils the forwards upstream and ends our own payment of that hash.
  lnkit.chainMonitor.events$.subscribe((e) => {
    monitorEvents.push(e);
    if (e.type === 'PaymentPreimageLearnt') {
      lnkit.manager.forwards.preimageLearnt(e.channelId, e.paymentHash, e.paymentPreimage);
      lnkit.manager.payments.preimageLearnt(e.paymentHash, e.paymentPreimage);
    }
    // And an HTLC of ours timed out on chain (final) fails the payment it carried.
    if (e.type === 'HtlcFailedOnChain') lnkit.manager.htlcFailedOnChain(e.channelId, e.htlcId, e.paymentHash);
    // And one to us our claim took on chain (final) is received.
    if (e.type === 'HtlcClaimedOnChain') lnkit.manager.htlcClaimedOnChain(e.channelId, e.htlcId);
  });
  const payments: PaymentEvent[] = [];
  lnkit.manager.payments.events$.subscribe((e) => payments.push(e));
  if (anchors) {
    // Wallet coins for the zero-fee HTLC transactions: lnkit's (fee inputs), LDK's (its bump handler).
    for (let i = 1; i <= 3; i++) {
      const coin = await env.chain.fundScript(account.script(RECEIVE, i), 30_000n);
      feeInputs.push({
        txid: Uint8Array.from(Buffer.from(coin.txid, 'hex')).reverse(),
        vout: coin.vout,
        valueSat: coin.valueSat,
        pubkey: account.publicKey(RECEIVE, i),
      });
    }
    await ldk.addWalletCoins(3, 50_000n);
  }
  // (openedChannel mines a block before the open: the coins above confirm in it.)
  await openedChannel(env, pair, { opener: 'ldk', capacitySat: CAPACITY_SAT, pushMsat: PUSH_SAT * 1000n });
  const channel = lnkit.manager.listChannels()[0];
  assert.equal(channel?.localBalanceMsat, PUSH_SAT * 1000n);
  return {
    ldk,
    lnkit,
    channelId: channel?.channelId as string,
    destination,
    monitorEvents,
    payments,
    lnkitHeld,
    sinkSeen,
    persister,
    feeInputs,
    spentFeeInputs,
  };
}

/** One block, fed to LDK then lnkit, and what each then broadcasts in the mempool. */
async function mineOne(s: Setup): Promise<void> {
  await env.chain.mine(1);
  await s.ldk.syncToTip();
  await s.lnkit.syncToTip();
  await s.ldk.settled();
  await s.lnkit.chainMonitor.settled();
  s.ldk.pump();
  await s.ldk.settled();
}

/** Mines block by block until `cond` holds (checked after each block's claims are out). */
async function mineUntil(s: Setup, cond: () => boolean | Promise<boolean>, what: string): Promise<number> {
  for (let i = 0; i < MAX_BLOCKS; i++) {
    if (await cond()) return env.chain.height();
    await mineOne(s);
  }
  const rejected = s.ldk.broadcasts.filter((b) => !b.accepted).map((b) => b.reason);
  if (process.env.LNKIT_LDK_LOG_FILE) writeFileSync(process.env.LNKIT_LDK_LOG_FILE, s.ldk.logs.join('\n'));
  throw new Error(
    `${MAX_BLOCKS} blocks and still not: ${what}; LDK's refused broadcasts: ${[...new Set(rejected)].join('; ')}; ` +
      `LDK said:\n${s.ldk.logs
        .filter((l) => /^(ERROR|WARN)/.test(l))
        .slice(-15)
        .join('\n')}`,
  );
}

async function rawTx(txid: string): Promise<{ tx: Transaction; confirmations: number; height?: number }> {
  const r = (await env.chain.rpc('getrawtransaction', [txid, true])) as {
    confirmations?: number;
    hex: string;
    blockhash?: string;
  };
  let height: number | undefined;
  if (r.blockhash) {
    const block = (await env.chain.rpc('getblockheader', [r.blockhash, true])) as { height: number };
    height = block.height;
  }
  return { tx: Transaction.fromHex(r.hex), confirmations: r.confirmations ?? 0, height };
}

const txidOf = (input: { hash: Uint8Array }) => hex(Uint8Array.from(input.hash).reverse());

/** Every spend the chain confirmed from some height on, by outpoint (display txid:vout): who spent it, where. */
class Spends {
  readonly #by = new Map<string, { tx: Transaction; height: number }>();
  #scanned: number;
  constructor(fromHeight: number) {
    this.#scanned = fromHeight - 1;
  }
  async spenderOf(txid: string, vout: number): Promise<{ tx: Transaction; height: number } | undefined> {
    const tip = await env.chain.height();
    for (let h = this.#scanned + 1; h <= tip; h++) {
      const hash = (await env.chain.rpc('getblockhash', [h])) as string;
      const raw = (await env.chain.rpc('getblock', [hash, true])) as { tx: string[] };
      for (const id of raw.tx) {
        const { tx } = await rawTx(id);
        for (const i of tx.ins) this.#by.set(`${txidOf(i)}:${i.index}`, { tx, height: h });
      }
      this.#scanned = h;
    }
    return this.#by.get(`${txid}:${vout}`);
  }
}

/** The value of each input of `tx` (from the transactions it spends). */
async function inputValues(tx: Transaction): Promise<bigint[]> {
  const out: bigint[] = [];
  for (const i of tx.ins) {
    const { tx: prev } = await rawTx(txidOf(i));
    out.push(prev.outs[i.index]?.value as bigint);
  }
  return out;
}

/** A 32-byte witness item of `tx` whose SHA-256 is `paymentHash`: the preimage the spend revealed. */
function revealedPreimage(tx: Transaction, paymentHash: string): string | undefined {
  for (const i of tx.ins)
    for (const w of i.witness) if (w.length === 32 && hex(sha256(w)) === paymentHash) return hex(w);
  return undefined;
}

/** The HTLCs pending in LDK’s channel, each way. */
function ldkHtlcs(ldk: LdkNode): { inbound: number; outbound: number } {
  const d = ldk.chanMan.list_channels()[0];
  return {
    inbound: d?.get_pending_inbound_htlcs().length ?? -1,
    outbound: d?.get_pending_outbound_htlcs().length ?? -1,
  };
}

/** BOLT 3: the commitment's fee (weight 724 / 1124 with anchors, 172 per HTLC output), in sat. */
function commitmentFeeSat(anchors: boolean, htlcOutputs: number): bigint {
  return (FEERATE_PER_KW * BigInt((anchors ? 1124 : 724) + 172 * htlcOutputs)) / 1000n;
}

for (const anchors of [false, true]) {
  const typeName = anchors ? 'anchors' : 'static-remotekey';
  for (const closer of ['ldk', 'lnkit'] as const) {
    test(`${typeName}: ${closer} force-closes with HTLCs in flight both ways: two fulfilled and two timed out on chain, every second stage swept, both sides exact to the satoshi`, async () => {
      const started = Date.now();
      const s = await setup(anchors);
      const { ldk, lnkit, channelId } = s;

      // A: lnkit pays LDK's invoice; LDK holds it (claims after the close).
      const invoiceA = ldk.createInvoice(A_SAT * 1000n, 'A: fulfilled on chain by LDK');
      const hashA = hex(decodeInvoice(invoiceA).paymentHash);
      ldk.held.add(hashA);
      const outcomes = new Map<string, string>();
      const pay = (bolt11: string, name: string) =>
        void lnkit.manager.payments.sendPayment(bolt11).then(
          (o) => outcomes.set(name, o.status),
          (err: Error) => outcomes.set(name, `rejected: ${err.message}`),
        );
      pay(invoiceA, 'A');
      await ldk.waitFor(
        () => ldk.events.some((e) => e.type === 'PaymentClaimable' && e.paymentHash === hashA),
        WAIT_MS,
        'A claimable at LDK',
      );
      const preimageA = ldk.events.find((e) => e.type === 'PaymentClaimable' && e.paymentHash === hashA)
        ?.preimage as string;
      assert.ok(preimageA, 'LDK knows A’s preimage (its own invoice)');

      // B: lnkit pays an invoice of LDK's for a hash whose preimage nobody has; LDK holds it.
      const hashB = randomBytes(32);
      const invoiceB = ldk.createInvoice(B_SAT * 1000n, 'B: timed out on chain', hashB);
      ldk.held.add(hex(hashB));
      pay(invoiceB, 'B');
      await ldk.waitFor(
        () => ldk.events.some((e) => e.type === 'PaymentClaimable' && e.paymentHash === hex(hashB)),
        WAIT_MS,
        'B claimable at LDK',
      );

      // D: LDK pays lnkit's invoice; lnkit's PaymentClaimable sink holds it: never answered.
      // C and D get different expiries (each invoice's min_final_cltv_expiry_delta, no shadow
      // offset): LDK 0.1.0 batches timeouts of one locktime into one package and does not prune
      // an input the other side spent first (rust-lightning #3859, fixed after 0.1.0 by #3860),
      // so with C claimed by lnkit, a C + D package would never confirm and D never time out.
      const invoiceD = await lnkit.manager.payments.createInvoice(D_SAT * 1000n, {
        description: 'D',
        minFinalCltvExpiryDelta: D_CLTV_DELTA,
      });
      s.lnkitHeld.add(invoiceD.paymentHash);
      ldk.payInvoice(invoiceD.bolt11, { maxTotalCltvExpiryDelta: D_CLTV_DELTA + 1 });
      await waitFor(
        () => s.sinkSeen.some((e) => e.type === 'PaymentClaimable' && e.paymentHash === invoiceD.paymentHash),
        { what: 'D claimable at lnkit (held)', timeoutMs: WAIT_MS },
      );

      // C: LDK pays lnkit's invoice; lnkit claims, its preimage update answered in progress.
      const invoiceC = await lnkit.manager.payments.createInvoice(C_SAT * 1000n, {
        description: 'C',
        minFinalCltvExpiryDelta: C_CLTV_DELTA,
      });
      s.persister.holdChannel = channelId;
      ldk.payInvoice(invoiceC.bolt11, { maxTotalCltvExpiryDelta: C_CLTV_DELTA + 1 });
      await waitFor(() => s.persister.holding, {
        what: 'lnkit’s monitor has C’s preimage, the channel paused',
        timeoutMs: WAIT_MS,
      });
      // The fulfil's commitment_signed is made too (its counterparty commitment is in the
      // monitor, as an in-progress update is in LDK's) but held behind the update: LDK's
      // commitment stays the one before it, which the monitor keeps as the previous one.
      const monitor = await waitFor(
        () => {
          const m = lnkit.chainMonitor.monitor(channelId);
          return m && m.counterpartyCommitments.length === 2 ? m : undefined;
        },
        { what: 'the fulfil’s counterparty commitment in lnkit’s monitor', timeoutMs: WAIT_MS },
      );
      assert.ok(monitor.preimages.some((p) => hex(sha256(p)) === invoiceC.paymentHash));
      await ldk.waitFor(
        () => ldkHtlcs(ldk).inbound === 2 && ldkHtlcs(ldk).outbound === 2,
        WAIT_MS,
        'four HTLCs in LDK’s channel',
      );
      assert.deepEqual(
        ldk.events.filter((e) => e.type === 'PaymentSent' || e.type === 'PaymentClaimed'),
        [],
        'nothing settled off chain',
      );
      const lnkitBalanceSat = PUSH_SAT - A_SAT - B_SAT;
      assert.equal(lnkit.manager.listChannels()[0]?.localBalanceMsat, lnkitBalanceSat * 1000n);
      const ldkBalanceSat =
        CAPACITY_SAT -
        PUSH_SAT -
        C_SAT -
        D_SAT -
        commitmentFeeSat(anchors, 4) -
        (anchors ? 2n * ANCHOR_SAT : 0n);

      // Each HTLC's cltv_expiry, as both commitments have it.
      const holderHtlcs = monitor.holderCommitment.htlcs ?? [];
      const htlcs: Htlc[] = (
        [
          ['A', A_SAT, hashA],
          ['B', B_SAT, hex(hashB)],
          ['C', C_SAT, invoiceC.paymentHash],
          ['D', D_SAT, invoiceD.paymentHash],
        ] as const
      ).map(([name, amountSat, paymentHash]) => {
        const h = holderHtlcs.find((x) => hex(x.paymentHash) === paymentHash);
        assert.ok(h, `HTLC ${name} in lnkit’s commitment`);
        assert.equal(h.amountMsat, amountSat * 1000n);
        return { name, amountSat, paymentHash, cltvExpiry: h.cltvExpiry };
      });
      const htlc = (name: Htlc['name']) => htlcs.find((h) => h.name === name) as Htlc;

      // The force close.
      let commitmentTxid: string;
      if (closer === 'ldk') {
        const before = ldk.broadcasts.length;
        const ldkChannel = ldk.chanMan.list_channels()[0];
        assert.ok(ldkChannel);
        const r = ldk.chanMan.force_close_broadcasting_latest_txn(
          ldkChannel.get_channel_id(),
          Buffer.from(lnkit.nodeId, 'hex'),
          'test: force close with HTLCs',
        );
        assert.ok(r.is_ok(), 'LDK force-closes');
        ldk.pump();
        await ldk.waitFor(
          () => ldk.broadcasts.slice(before).some((b) => b.accepted),
          WAIT_MS,
          'LDK broadcast its commitment',
        );
        commitmentTxid = ldk.broadcasts.slice(before).find((b) => b.accepted)?.txid as string;
      } else {
        const r = await lnkit.manager.closeChannel(channelId, { force: true });
        commitmentTxid = r.closingTxid as string;
        await waitFor(() => lnkit.broadcasts.find((b) => b.txid === commitmentTxid && b.accepted), {
          what: 'lnkit’s commitment in the mempool',
          timeoutMs: WAIT_MS,
        });
        await ldk.waitFor(() => ldk.events.some((e) => e.type === 'ChannelClosed'), WAIT_MS, 'closed at LDK');
      }
      await ldk.settled();
      // LDK claims A now that the channel is closed: the preimage goes to its monitor.
      ldk.claimFunds(preimageA);
      await mineOne(s);
      const commitment = await rawTx(commitmentTxid);
      assert.ok(commitment.confirmations >= 1, 'the commitment confirmed');
      const confirmedAt = commitment.height as number;
      const spend = await waitFor(() => lnkit.chainMonitor.monitor(channelId)?.fundingSpend, {
        what: 'lnkit’s ChainMonitor saw the funding spend',
        timeoutMs: WAIT_MS,
      });
      assert.equal(spend.kind, closer === 'ldk' ? 'counterparty-previous-commitment' : 'holder-commitment');
      // Its outputs: both balances, the four HTLCs, the anchors.
      const values = commitment.tx.outs.map((o) => o.value).sort((a, b) => (a < b ? -1 : 1));
      const expected = [lnkitBalanceSat, ldkBalanceSat, A_SAT, B_SAT, C_SAT, D_SAT];
      if (anchors) expected.push(ANCHOR_SAT, ANCHOR_SAT);
      assert.deepEqual(
        values,
        expected.sort((a, b) => (a < b ? -1 : 1)),
      );
      const voutOf = (valueSat: bigint) => commitment.tx.outs.findIndex((o) => o.value === valueSat);

      // Each HTLC output, until it is spent: by whom, with a preimage or after its expiry.
      const spends = new Spends(confirmedAt);
      const spentHtlc = async (h: Htlc) => {
        const sp = await spends.spenderOf(commitmentTxid, voutOf(h.amountSat));
        return sp && { ...sp, preimage: revealedPreimage(sp.tx, h.paymentHash) };
      };
      const lnkitClaimed = (txid: string) =>
        s.monitorEvents.some((e) => e.type === 'ClaimConfirmed' && e.byHolder && e.spentByTxidHex === txid);
      const resolved: Record<string, { txid: string; height: number; preimage?: string | undefined }> = {};
      for (const name of ['C', 'A', 'B', 'D'] as const) {
        const h = htlc(name);
        let found: Awaited<ReturnType<typeof spentHtlc>>;
        await mineUntil(
          s,
          async () => {
            found = await spentHtlc(h);
            return found !== undefined;
          },
          `HTLC ${name}'s output spent`,
        );
        assert.ok(found);
        resolved[name] = { txid: found.tx.getId(), height: found.height, preimage: found.preimage };
        if (name === 'A' || name === 'C') {
          // Fulfilled on chain: the receiver's spend reveals the preimage, before the expiry.
          assert.ok(found.preimage, `${name} claimed with its preimage`);
          assert.ok(found.height <= h.cltvExpiry, `${name} at ${found.height}, expiry ${h.cltvExpiry}`);
        } else {
          // Timed out: no preimage, nLockTime its cltv_expiry, in a block after it.
          assert.equal(found.preimage, undefined, `${name} timed out`);
          assert.equal(found.tx.locktime, h.cltvExpiry);
          assert.ok(found.height > h.cltvExpiry, `${name} at ${found.height}, expiry ${h.cltvExpiry}`);
        }
        // lnkit's own claims are C (fulfilled) and B (timed out); A and D are LDK's.
        await lnkit.chainMonitor.settled();
        assert.equal(
          lnkitClaimed(found.tx.getId()),
          name === 'B' || name === 'C',
          `HTLC ${name} spent by ${name === 'B' || name === 'C' ? 'lnkit' : 'LDK'}`,
        );
      }
      const learnt = s.monitorEvents.find((e) => e.type === 'PaymentPreimageLearnt');
      assert.ok(learnt?.type === 'PaymentPreimageLearnt', 'lnkit learnt A’s preimage on chain');
      assert.equal(hex(learnt.paymentHash), hashA);
      assert.equal(hex(learnt.paymentPreimage), preimageA);

      // LDK's payer outcomes from the chain: C sent (its preimage), D failed once its timeout is deep.
      await mineUntil(
        s,
        () =>
          ldk.events.some((e) => e.type === 'PaymentSent' && e.paymentHash === invoiceC.paymentHash) &&
          ldk.events.some((e) => e.type === 'PaymentFailed' && e.paymentHash === invoiceD.paymentHash) &&
          ldk.events.some((e) => e.type === 'PaymentClaimed' && e.paymentHash === hashA),
        'LDK: C sent, D failed, A claimed',
      );
      assert.equal(
        ldk.events.find((e) => e.type === 'PaymentSent' && e.paymentHash === invoiceC.paymentHash)?.preimage,
        resolved.C?.preimage,
      );

      // Every second stage and delayed output swept: lnkit's resolution done, LDK's balances empty.
      const ldkSpendable = () =>
        ldk.events.flatMap((e) => (e.type === 'SpendableOutputs' ? (e.outputs ?? []) : []));
      const ldkExpectedOutputs = 1 + 2; // its balance, A and D
      await mineUntil(
        s,
        () =>
          s.monitorEvents.some((e) => e.type === 'ChannelResolved') &&
          ldk.claimableBalances().length === 0 &&
          ldkSpendable().length >= ldkExpectedOutputs,
        'lnkit’s resolution done, LDK’s claimable balances empty',
      );

      // lnkit, to the satoshi: its claims' payments to its wallet script, less the fee inputs
      // they spent, are its balance + B + C less their fees (inputs − outputs, on chain).
      const claimTxids = [
        ...new Set(
          s.monitorEvents.flatMap((e) =>
            e.type === 'ClaimConfirmed' && e.byHolder ? [e.spentByTxidHex] : [],
          ),
        ),
      ];
      let paidSat = 0n;
      let feeInputSat = 0n;
      let feesSat = 0n;
      const feeInputKeys = new Set(s.feeInputs.map((f) => outpointKey(f.txid, f.vout)));
      for (const txid of claimTxids) {
        const { tx, confirmations } = await rawTx(txid);
        assert.ok(confirmations >= 1, `lnkit's claim ${txid} confirmed`);
        const ins = await inputValues(tx);
        const fee = sum(ins) - sum(tx.outs.map((o) => o.value));
        feesSat += fee;
        tx.ins.forEach((i, k) => {
          if (feeInputKeys.has(outpointKey(i.hash, i.index))) feeInputSat += ins[k] as bigint;
        });
        tx.outs.forEach((o, vout) => {
          if (hex(o.script) === hex(s.destination)) paidSat += o.value;
          // Any other output is a holder HTLC transaction's, itself swept by another claim.
          else
            assert.ok(
              claimTxids.some((other) => other !== txid) &&
                s.monitorEvents.some(
                  (e) => e.type === 'ClaimConfirmed' && e.byHolder && e.outputId === `${txid}:${vout}`,
                ),
              `output ${txid}:${vout} of lnkit's claim is swept into its wallet too`,
            );
        });
        const broadcast = s.monitorEvents.find((e) => e.type === 'ClaimBroadcast' && e.txidHex === txid);
        assert.ok(broadcast?.type === 'ClaimBroadcast', `ClaimBroadcast of ${txid}`);
        assert.equal(broadcast.feeSat, fee, `the fee of ${txid}`);
      }
      assert.equal(paidSat - feeInputSat, lnkitBalanceSat + B_SAT + C_SAT - feesSat);
      assert.ok(feesSat > 0n && feesSat < 30_000n, `lnkit's claims paid ${feesSat} sat`);

      // LDK, to the satoshi: its SpendableOutputs are its balance + A + D less the fees of the
      // transactions that made them (less what its wallet put in, plus the change it got back).
      const spendable = [
        ...new Map(ldkSpendable().map((o: LdkSpendableOutput) => [`${o.txid}:${o.vout}`, o])).values(),
      ];
      let ldkFeesSat = 0n;
      let walletNetSat = 0n;
      const walletCoins = new Set(ldk.walletCoins.map((c) => outpointKey(c.txid, c.vout)));
      for (const txid of new Set(spendable.map((o) => o.txid))) {
        if (txid === commitmentTxid) continue;
        const { tx } = await rawTx(txid);
        const ins = await inputValues(tx);
        ldkFeesSat += sum(ins) - sum(tx.outs.map((o) => o.value));
        tx.ins.forEach((i, k) => {
          if (walletCoins.has(outpointKey(i.hash, i.index))) walletNetSat += ins[k] as bigint;
        });
        for (const o of tx.outs) if (hex(o.script) === hex(ldk.walletScript)) walletNetSat -= o.value;
      }
      assert.equal(
        sum(spendable.map((o) => o.valueSat)),
        ldkBalanceSat + A_SAT + D_SAT - ldkFeesSat + walletNetSat,
        JSON.stringify(spendable, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
      );

      // The payers' outcomes. LDK: C sent (above), D failed. lnkit: A sent, from the preimage
      // its monitor learnt on chain (PaymentSent, and sendPayment's outcome).
      assert.ok(ldk.events.some((e) => e.type === 'PaymentFailed' && e.paymentHash === invoiceD.paymentHash));
      const endOf = (hash: string) =>
        s.payments.find(
          (e) => (e.type === 'PaymentSent' || e.type === 'PaymentFailed') && e.paymentHash === hash,
        );
      const sentA = endOf(hashA);
      assert.ok(sentA?.type === 'PaymentSent', 'lnkit: A sent');
      assert.equal(sentA.preimage, preimageA);
      await waitFor(() => outcomes.get('A'), { what: 'the outcome of A', timeoutMs: WAIT_MS });
      assert.equal(outcomes.get('A'), 'succeeded');
      const listed = (hash: string) =>
        lnkit.manager.payments.listPayments().find((p) => p.paymentHash === hash)?.status;
      assert.equal(listed(hashA), 'succeeded');
      console.log(
        `${typeName}, ${closer} closes: commitment at ${confirmedAt}; spent at ${Object.entries(resolved)
          .map(([n, r]) => `${n}:${r.height}${r.preimage ? ' (preimage)' : ''}`)
          .join(' ')}; expiries ${htlcs.map((h) => `${h.name}:${h.cltvExpiry}`).join(' ')}; ` +
          `lnkit's claims paid ${feesSat} sat of fees, LDK's ${ldkFeesSat} (${walletNetSat} from its wallet); ` +
          `${Date.now() - started} ms`,
      );
      // B timed out on chain: once that is 6 deep (HtlcFailedOnChain) the payment failed.
      assert.ok(
        s.monitorEvents.some((e) => e.type === 'HtlcFailedOnChain' && hex(e.paymentHash) === hex(hashB)),
        'the monitor said B failed on chain',
      );
      await waitFor(() => outcomes.get('B'), { what: 'the outcome of B', timeoutMs: WAIT_MS });
      assert.equal(endOf(hex(hashB))?.type, 'PaymentFailed');
      assert.equal(outcomes.get('B'), 'failed');
      assert.equal(listed(hex(hashB)), 'failed');
      // C, taken by our claim on chain: once that is 6 deep (HtlcClaimedOnChain) it is received.
      await waitFor(
        () => s.payments.find((e) => e.type === 'PaymentClaimed' && e.paymentHash === invoiceC.paymentHash),
        { what: 'PaymentClaimed for C', timeoutMs: WAIT_MS },
      );
    });
  }
}
