/**
 * On-chain enforcement with LDK 0.1.0 (WASM) as the peer, on the bcoin regtest chain: lnkit's
 * ChainMonitor claims what a force close leaves it, signed by the signer pool's workers
 * (packages/keys claim-policy.ts: every output must pay a BIP 84 key of lnkit's seed).
 * - LDK force-closes (force_close_broadcasting_latest_txn): its commitment confirms, and
 *   lnkit's to_remote is swept into lnkit's wallet script at once.
 * - lnkit force-closes (closeChannel with force): its commitment confirms, nothing is claimable
 *   for to_self_delay blocks (BIP 68: bcoin enforces CSV), then the to_local sweep confirms.
 * Each ends with the wallet script holding lnkit's channel balance to the satoshi, less the
 * claim's fee as the chain shows it (input value − output value). LDK opens (static_remotekey
 * and anchors: there to_remote waits one block, its CSV) and pushes lnkit its balance, so LDK
 * pays the commitment fee and the anchors and lnkit's output is exactly the push. Feerates 2,500 sat/kw for the commitment (bcoin's minimum fee) and 5,000 for claims.
 * Run: node scripts/test.mjs test/interop/ldk-onchain.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChannelSignerPool, loadOrCreateSeed } from '@lnkit/keys';
import type { MonitorEvent } from '@lnkit/monitor';
import { waitFor } from '@lnkit/test-support';
import { Transaction } from '@lnkit/tx';
import { AccountKeys, networkParams, RECEIVE } from '@lnkit/wallet';
import {
  chainBroadcaster,
  connectedPair,
  interopChain,
  mine,
  openedChannel,
  WAIT_MS,
} from '../support/ldk/interop.ts';
import type { LdkNode } from '../support/ldk/ldk-node.ts';
import type { LnkitNode } from '../support/ldk/lnkit-node.ts';
import { TestFunding } from '../support/ldk/test-funding.ts';

const env = interopChain();
const FEERATE_PER_KW = 2_500;
const CLAIM_FEERATE_PER_KW = 5_000n;
const CAPACITY_SAT = 1_000_000n;
const PUSH_SAT = 50_000n;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Setup {
  ldk: LdkNode;
  lnkit: LnkitNode;
  channelId: string;
  /** lnkit's wallet script every claim pays. */
  destination: Uint8Array;
  monitorEvents: MonitorEvent[];
}

/** lnkit with its seed in a data dir (the signer pool's workers read it) and a ready channel LDK opened. */
async function setup(anchors: boolean): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'lnkit-onchain-'));
  const { seed } = loadOrCreateSeed(dir);
  const pool = new ChannelSignerPool({ dataDir: dir, threads: 1 });
  env.defer(() => pool.close());
  // The node's wallet scheme (BIP 84 of keys_seed): the script claims pay, and its path.
  const account = AccountKeys.fromSeed(seed, networkParams('regtest'));
  const destination = account.script(RECEIVE, 0);
  const destinationPath = `${account.path}/${RECEIVE}/0`;
  const pair = await connectedPair(env, {
    lnkit: {
      from: { seed, dir, funding: new TestFunding(env.chain) },
      manager: { feeEstimator: { feeratePerKw: () => BigInt(FEERATE_PER_KW) } },
      enforcement: {
        broadcaster: chainBroadcaster(env),
        feeEstimator: { feeratePerKw: () => CLAIM_FEERATE_PER_KW },
        destinationScript: () => destination,
        claimSigner: (m) =>
          pool.claimSigner(m.info.channelKeyIndex, (script) =>
            hex(script) === hex(destination) ? destinationPath : undefined,
          ),
      },
    },
    ldk: { anchors, minimumDepth: 3, feeratePerKw: FEERATE_PER_KW },
  });
  const { ldk, lnkit } = pair;
  const monitorEvents: MonitorEvent[] = [];
  lnkit.chainMonitor.events$.subscribe((e) => monitorEvents.push(e));
  await openedChannel(env, pair, { opener: 'ldk', capacitySat: CAPACITY_SAT, pushMsat: PUSH_SAT * 1000n });
  const channel = lnkit.manager.listChannels()[0];
  assert.equal(channel?.localBalanceMsat, PUSH_SAT * 1000n);
  return { ldk, lnkit, channelId: channel?.channelId as string, destination, monitorEvents };
}

/** The confirmed claim paying `destination`: its value, the commitment output it spent, and its fee. */
async function confirmedSweep(
  txid: string,
  commitment: Transaction,
  destination: Uint8Array,
): Promise<{ paidSat: bigint; spentSat: bigint; feeSat: bigint }> {
  const raw = (await env.chain.rpc('getrawtransaction', [txid, true])) as {
    confirmations?: number;
    hex: string;
  };
  assert.ok((raw.confirmations ?? 0) >= 1, `the claim ${txid} confirmed`);
  const tx = Transaction.fromHex(raw.hex);
  assert.equal(tx.ins.length, 1);
  assert.equal(
    Buffer.from(tx.ins[0]?.hash ?? [])
      .reverse()
      .toString('hex'),
    commitment.getId(),
  );
  const spentSat = commitment.outs[tx.ins[0]?.index as number]?.value as bigint;
  assert.equal(tx.outs.length, 1);
  assert.equal(hex(tx.outs[0]?.script as Uint8Array), hex(destination), 'it pays lnkit’s wallet script');
  const paidSat = tx.outs[0]?.value as bigint;
  return { paidSat, spentSat, feeSat: spentSat - paidSat };
}

async function minedTx(txid: string): Promise<Transaction> {
  const raw = (await env.chain.rpc('getrawtransaction', [txid, true])) as {
    confirmations?: number;
    hex: string;
  };
  assert.ok((raw.confirmations ?? 0) >= 1, `${txid} confirmed`);
  return Transaction.fromHex(raw.hex);
}

for (const anchors of [false, true]) {
  const typeName = anchors ? 'anchors' : 'static-remotekey';
  test(`${typeName}: LDK force-closes: its commitment confirms and lnkit sweeps its to_remote into its wallet, exact to the satoshi less the fee`, async () => {
    const s = await setup(anchors);
    const { ldk, lnkit, channelId } = s;
    const ldkChannel = ldk.chanMan.list_channels().find((c) => hex(c.get_channel_id().get_a()) === channelId);
    assert.ok(ldkChannel, 'LDK has the channel');
    // LDK's funding transaction is in its broadcasts already: the commitment is the next one.
    const before = ldk.broadcasts.length;
    const r = ldk.chanMan.force_close_broadcasting_latest_txn(
      ldkChannel.get_channel_id(),
      Buffer.from(lnkit.nodeId, 'hex'),
      'test: force close',
    );
    assert.ok(r.is_ok(), 'LDK force-closes');
    ldk.pump();
    await ldk.waitFor(
      () => ldk.broadcasts.slice(before).some((b) => b.accepted),
      WAIT_MS,
      'LDK broadcast its commitment',
    );
    await ldk.settled();
    const commitmentTxid = ldk.broadcasts.slice(before).find((b) => b.accepted)?.txid as string;
    await mine(env, s.ldk, s.lnkit, 1);
    const commitment = await minedTx(commitmentTxid);
    const spend = await waitFor(() => lnkit.chainMonitor.monitor(channelId)?.fundingSpend, {
      what: 'the ChainMonitor saw the funding spend',
      timeoutMs: WAIT_MS,
    });
    assert.equal(spend.kind, 'counterparty-commitment');
    assert.equal(spend.txidHex, commitmentTxid);
    // static_remotekey: to_remote is lnkit's at once; its claim goes out at this block.
    const broadcast = await waitFor(
      () =>
        s.monitorEvents.find((e) => e.type === 'ClaimBroadcast' && e.source === 'counterparty-commitment'),
      { what: 'the to_remote claim broadcast', timeoutMs: WAIT_MS },
    );
    assert.equal(broadcast.type, 'ClaimBroadcast');
    const claimTxid = broadcast.type === 'ClaimBroadcast' ? broadcast.txidHex : '';
    await mine(env, s.ldk, s.lnkit, 1);
    const sweep = await confirmedSweep(claimTxid, commitment, s.destination);
    // lnkit's output of LDK's commitment is its whole balance (LDK opened and pays the fee).
    assert.equal(sweep.spentSat, PUSH_SAT);
    assert.equal(sweep.paidSat + sweep.feeSat, PUSH_SAT);
    assert.equal(broadcast.type === 'ClaimBroadcast' && broadcast.feeSat, sweep.feeSat);
    assert.ok(sweep.feeSat > 0n && sweep.feeSat < 5_000n, `a fee of ${sweep.feeSat} sat`);
    await waitFor(
      () =>
        s.monitorEvents.some(
          (e) => e.type === 'ClaimConfirmed' && e.byHolder && e.spentByTxidHex === claimTxid,
        ),
      { what: 'ClaimConfirmed', timeoutMs: WAIT_MS },
    );
  });

  test(`${typeName}: lnkit force-closes: after to_self_delay blocks its to_local sweep confirms, exact to the satoshi less the fee`, async () => {
    const s = await setup(anchors);
    const { lnkit, channelId } = s;
    const r = await lnkit.manager.closeChannel(channelId, { force: true });
    const closingTxid = r.closingTxid as string;
    await waitFor(() => lnkit.broadcasts.find((b) => b.txid === closingTxid && b.accepted), {
      what: 'our commitment in the mempool',
      timeoutMs: WAIT_MS,
    });
    await mine(env, s.ldk, s.lnkit, 1);
    const commitment = await minedTx(closingTxid);
    const confirmedAt = await env.chain.height();
    const pending = await waitFor(
      () =>
        lnkit.chainMonitor
          .monitor(channelId)
          ?.resolution?.resolution.pending.find((p) => p.output === 'to_local'),
      { what: 'a to_local to claim', timeoutMs: WAIT_MS },
    );
    assert.equal(pending.valueSat, PUSH_SAT);
    const delay = pending.spendableAtHeight - confirmedAt;
    assert.ok(delay >= 1, `to_self_delay ${delay}`);
    // Up to the block before the claim may be in one: nothing sent.
    await mine(env, s.ldk, s.lnkit, pending.spendableAtHeight - 1 - confirmedAt - 1);
    await lnkit.chainMonitor.settled();
    assert.equal(
      s.monitorEvents.some((e) => e.type === 'ClaimBroadcast'),
      false,
      'no sweep before to_self_delay',
    );
    await mine(env, s.ldk, s.lnkit, 1);
    const broadcast = await waitFor(
      () => s.monitorEvents.find((e) => e.type === 'ClaimBroadcast' && e.source === 'holder-commitment'),
      { what: 'the to_local sweep broadcast', timeoutMs: WAIT_MS },
    );
    const claimTxid = broadcast.type === 'ClaimBroadcast' ? broadcast.txidHex : '';
    await mine(env, s.ldk, s.lnkit, 1);
    const sweep = await confirmedSweep(claimTxid, commitment, s.destination);
    assert.equal(sweep.spentSat, PUSH_SAT);
    assert.equal(sweep.paidSat + sweep.feeSat, PUSH_SAT);
    assert.equal(broadcast.type === 'ClaimBroadcast' && broadcast.feeSat, sweep.feeSat);
    assert.ok(sweep.feeSat > 0n && sweep.feeSat < 5_000n, `a fee of ${sweep.feeSat} sat`);
    // BIP 68: the sweep's input waits to_self_delay blocks.
    const tx = await minedTx(claimTxid);
    assert.equal(tx.ins[0]?.sequence, delay);
  });
}
