/**
 * On-chain enforcement through the ChainMonitor's real block path, on bcoin: each block is read
 * from the chain and given to `blockConnected` (a reorg to `blockDisconnected`), the ChainMonitor
 * resolves the commitment, persists the resolution with the monitor (MonitorStore on a real
 * Store), signs and broadcasts its claims, and says when the channel is resolved. Each test ends
 * with every satoshi of the holder's at the destination script, less the fees its transactions
 * paid on chain. Commitments are those of the claims core's tests (BOLT 3 Appendix C HTLCs).
 * Run: node scripts/test.mjs packages/monitor/src/chain-monitor-claims.test.ts
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Store } from '@lnkit/store';
import { waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import {
  buildHtlcTransactions,
  ChannelKeysClaimSigner,
  type ChannelType,
  type FeeInput,
  finalizeHtlcTransaction,
  p2wpkh,
  signCounterpartyCommitment,
  signHolderCommitment,
  Transaction,
} from '@lnkit/tx';
import { Block } from 'bitcoinjs-lib';
import { ChainMonitor, type ClaimBroadcaster } from './chain-monitor.ts';
import type { ClaimEvent } from './claim-tracker.ts';
import {
  appendixCHtlcs,
  FUNDING_SAT,
  fundOnChain,
  HTLC_TOTAL_MSAT,
  monitorOf,
  preimageOf,
  sha256,
} from './claims/chain-test-kit.ts';
import { MonitorStore } from './monitor-store.ts';
import type { ChannelFixture } from './test-fixtures.ts';
import type { BestBlock, ChannelMonitor, MonitorEvent, MonitorUpdateStep } from './types.ts';

const COMMITMENT_FEERATE_PER_KW = 1000n;
const CLAIM_FEERATE_PER_KW = 1000n;
/** Wallet key indexes of the coins that pay anchors HTLC transactions' fees. */
const FEE_INPUT_KEYS = [10n, 11n, 12n, 13n, 14n];

let chain: TestChain;
const dirs: string[] = [];
before(async () => {
  chain = await startTestChain();
  await chain.activateSegwit();
});
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await chain?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A channel funded on chain by the holder, its best block the tip. */
async function fundedChannel(channelType: ChannelType = 'static_remotekey'): Promise<ChannelFixture> {
  const { fx, holderSeed } = await fundOnChain(chain, { channelType, atTip: true });
  seeds.set(fx, holderSeed);
  return fx;
}

/** The holder's seed of each channel: a child process derives its claim keys from it. */
const seeds = new WeakMap<ChannelFixture, Uint8Array>();

/** bcoin through the Broadcaster interface, recording what it was given. */
function chainBroadcaster(): ClaimBroadcaster & { sent: string[]; spent: Set<string>; rejected: string[] } {
  const sent: string[] = [];
  /** What bcoin refused, with its reason: the message of a failing assertion. */
  const rejected: string[] = [];
  /** Outpoints (display txid:vout) spent by what was accepted: a wallet marks its coins so. */
  const spent = new Set<string>();
  return {
    sent,
    spent,
    rejected,
    async broadcastTransactions(txs) {
      const out = [];
      for (const raw of txs) {
        const txid = Transaction.fromBuffer(Buffer.from(raw)).getId();
        sent.push(txid);
        try {
          await chain.sendRawTransaction(Buffer.from(raw).toString('hex'));
          for (const i of Transaction.fromBuffer(Buffer.from(raw)).ins)
            spent.add(`${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`);
          out.push({ txid, accepted: true as const });
        } catch (e) {
          rejected.push(`${txid}: ${(e as Error).message}`);
          out.push({ txid, accepted: false as const, reason: (e as Error).message });
        }
      }
      return out;
    },
  };
}

/**
 * The holder's node, as far as the chain goes: a ChainMonitor over a MonitorStore in its own data
 * dir, fed the chain's blocks from where it stands (its best block), as step 15 would; it can be
 * stopped and built again from the same store (a restart).
 */
class Node {
  readonly dir = mkdtempSync(join(tmpdir(), 'lnkit-claims-'));
  readonly events: MonitorEvent[] = [];
  readonly broadcaster = chainBroadcaster();
  readonly destination: Uint8Array;
  store!: Store;
  cm!: ChainMonitor;
  /** The blocks fed, by height: what a reorg is found against. */
  readonly fed = new Map<number, { hashHex: string; prevHashHex: string }>();

  /** Wallet coins for anchors HTLC transactions' fees: those not spent by what was broadcast. */
  feeCoins: FeeInput[] = [];
  /** The ChainMonitor's archiveAfterBlocks (its default when unset). */
  archiveAfterBlocks: number | undefined;
  /** What the fee estimator answers, by target: a test may raise it between blocks. */
  feerates = { normal: CLAIM_FEERATE_PER_KW, highPriority: CLAIM_FEERATE_PER_KW };

  /** Channels of this node besides `fx` (each fixture has its own holder seed). */
  readonly others: ChannelFixture[] = [];

  constructor(readonly fx: ChannelFixture) {
    dirs.push(this.dir);
    this.destination = p2wpkh(fx.holderKeys.walletPublicKey(1n));
  }

  fixtureOf(m: ChannelMonitor): ChannelFixture {
    const same = (f: ChannelFixture) =>
      Buffer.from(f.info.channelId).equals(Buffer.from(m.channel.channelId));
    return [this.fx, ...this.others].find(same) ?? this.fx;
  }

  async start(bestBlock: BestBlock, watch?: ChannelMonitor): Promise<void> {
    this.store = await Store.open(this.dir, { schemaVersion: 1 });
    const persister = new MonitorStore(this.store);
    const read = await persister.readAll();
    this.cm = new ChainMonitor({
      persister,
      bestBlock,
      ...(this.archiveAfterBlocks !== undefined ? { archiveAfterBlocks: this.archiveAfterBlocks } : {}),
      broadcaster: this.broadcaster,
      feeEstimator: {
        feeratePerKw: (target) =>
          target === 'highPriority' ? this.feerates.highPriority : this.feerates.normal,
      },
      destinationScript: async () => this.destination,
      claimSigner: (m) =>
        new ChannelKeysClaimSigner(this.fixtureOf(m).holderKeys.deriveChannelKeys(m.info.channelKeyIndex)),
      feeInputs: () =>
        this.feeCoins.filter(
          (c) => !this.broadcaster.spent.has(`${Buffer.from(c.txid).reverse().toString('hex')}:${c.vout}`),
        ),
      feeInputSigner: {
        signFeeInput: (input, sighash) => {
          const index = FEE_INPUT_KEYS.find((i) =>
            Buffer.from(this.fx.holderKeys.walletPublicKey(i)).equals(input.pubkey),
          );
          assert.ok(index !== undefined, 'a fee input of the wallet');
          return this.fx.holderKeys.signWithWalletKey(index, sighash);
        },
      },
    });
    this.cm.events$.subscribe((e) => this.events.push(e));
    for (const m of read) await this.cm.watchChannel(m);
    if (watch) await this.cm.watchChannel(watch);
    await this.cm.settled();
  }

  async stop(): Promise<void> {
    await this.cm.stop();
    await this.store.close();
  }

  /** Brings the ChainMonitor to the chain's tip: disconnects what a reorg replaced, connects the rest. */
  async sync(): Promise<void> {
    let at = this.cm.bestBlock.height;
    for (;;) {
      const fed = this.fed.get(at);
      if (!fed || at > (await chain.height()) || (await chain.rpc('getblockhash', [at])) === fed.hashHex)
        break;
      await this.cm.blockDisconnected(fed, at);
      this.fed.delete(at);
      at--;
    }
    const height = await chain.height();
    for (let h = at + 1; h <= height; h++) {
      const hashHex = (await chain.rpc('getblockhash', [h])) as string;
      const block = Block.fromHex((await chain.rpc('getblock', [hashHex, false])) as string);
      const header = {
        hashHex,
        prevHashHex: Buffer.from(block.prevHash as Uint8Array)
          .reverse()
          .toString('hex'),
      };
      await this.cm.blockConnected(header, h, block.transactions ?? []);
      this.fed.set(h, header);
    }
    await this.cm.settled();
  }

  /** Mines a block and feeds it. */
  async mine(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      await chain.mine(1);
      await this.sync();
    }
  }

  claimEvents<T extends ClaimEvent['type']>(type: T): Extract<ClaimEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ClaimEvent, { type: T }> => e.type === type);
  }

  resolved(): boolean {
    return this.claimEvents('ChannelResolved').length > 0;
  }

  /** Mines until the ChainMonitor says the channel is resolved (at most `limit` blocks). */
  async mineUntilResolved(limit = 400): Promise<void> {
    for (let i = 0; i < limit && !this.resolved(); i++) await this.mine();
    assert.ok(this.resolved(), `resolved within ${limit} blocks`);
  }
}

/**
 * Every spend on chain is one of our claims, and the outputs only we can spend that were due at
 * one block went in one sweep: some transaction took more than one of them.
 */
function assertSweptTogether(
  confirmed: Extract<ClaimEvent, { type: 'ClaimConfirmed' }>[],
  spends: ChainSpend[],
): void {
  const perTx = new Map<string, number>();
  for (const e of confirmed) perTx.set(e.spentByTxidHex, (perTx.get(e.spentByTxidHex) ?? 0) + 1);
  assert.equal(spends.length, perTx.size, 'one transaction on chain per claim or sweep');
  assert.ok(
    [...perTx.values()].some((n) => n >= 2),
    `outputs due together were swept together: ${JSON.stringify([...perTx.values()])}`,
  );
}

interface ChainSpend {
  txid: string;
  paidToDestinationSat: bigint;
  feeSat: bigint;
}

/**
 * What the active chain shows from `fromHeight` on: each transaction spending an output of
 * `parents` (the commitment, then what spends it, transitively), its fee from its inputs' values,
 * and what it paid the destination.
 */
async function spendsOnChain(
  fromHeight: number,
  rootTxid: string,
  destination: Uint8Array,
  known: ReadonlyMap<string, bigint> = new Map(),
): Promise<ChainSpend[]> {
  const outputs = new Map<string, bigint>(known);
  const out: ChainSpend[] = [];
  const height = await chain.height();
  for (let h = fromHeight; h <= height; h++) {
    const hashHex = (await chain.rpc('getblockhash', [h])) as string;
    const block = Block.fromHex((await chain.rpc('getblock', [hashHex, false])) as string);
    for (const tx of block.transactions ?? []) {
      const txid = tx.getId();
      const ins = tx.ins.map((i) =>
        outputs.get(`${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`),
      );
      const isRoot = txid === rootTxid;
      if (!isRoot && !ins.some((v) => v !== undefined)) continue;
      for (const [vout, o] of tx.outs.entries()) outputs.set(`${txid}:${vout}`, o.value);
      if (isRoot) continue;
      const paid = tx.outs
        .filter((o) => Buffer.from(o.script).equals(Buffer.from(destination)))
        .reduce((s, o) => s + o.value, 0n);
      const inSat = ins.reduce<bigint>((s, v) => s + (v ?? 0n), 0n);
      out.push({
        txid,
        paidToDestinationSat: paid,
        feeSat: inSat - tx.outs.reduce((s, o) => s + o.value, 0n),
      });
    }
  }
  return out;
}

test('our commitment through the ChainMonitor: HTLC-success and HTLC-timeout, to_local after to_self_delay and every delayed output, with a restart in the middle', async () => {
  const fx = await fundedChannel();
  const first = await fx.initialUpdate();
  const base = (await chain.height()) + 20;
  const toLocalMsat = 600_000_000n;
  const ours = await fx.holderCommitment(1n, {
    toLocalMsat,
    toRemoteMsat: FUNDING_SAT * 1000n - toLocalMsat - HTLC_TOTAL_MSAT,
    htlcs: appendixCHtlcs('holder', base),
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'holder-commitment', commitment: ours.commitment }],
    [
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x01) },
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x04) },
    ],
  ]);
  const node = new Node(fx);
  await node.start(fx.bestBlock, monitor);
  await node.sync();

  // The manager's force close: our commitment broadcast and mined.
  const commitment = await ours.signed();
  await chain.sendRawTransaction(commitment.toHex());
  await node.mine();
  const height = await chain.height();
  const [res] = node.cm.claimableBalances();
  assert.equal(res?.kind, 'holder-commitment');
  assert.equal(res?.commitmentHeight, height);
  // Persisted before anything was broadcast: the store already holds the resolution.
  const stored = (await new MonitorStore(node.store).readAll())[0];
  assert.equal(stored?.resolution?.resolution.commitmentTxidHex, commitment.getId());
  const toLocal = res?.pending.find((p) => p.output === 'to_local');
  assert.equal(toLocal?.claimableAtHeight, height + 144);
  // The two HTLC-success transactions (preimages held) went out at once.
  assert.equal(node.claimEvents('ClaimBroadcast').length, 2);
  await node.mine();
  assert.equal(node.claimEvents('ClaimConfirmed').filter((e) => e.byHolder).length, 2);

  // A restart in the middle: the node stops, blocks are mined while it is down (past the
  // HTLC-timeouts' expiries, whose claims it must make on its way back), and a new
  // ChainMonitor is built from the same store.
  const downAt = node.cm.bestBlock;
  await node.stop();
  await chain.mine(base + 4 - (await chain.height()));
  await node.start(downAt);
  assert.equal(
    node.cm.claimableBalances()[0]?.pending.length,
    5,
    'the to_local, two HTLCs and two HTLC outputs',
  );
  await node.sync();
  const timeouts = node.claimEvents('ClaimBroadcast').filter((e) => e.height >= base);
  assert.equal(timeouts.length, 2, 'both HTLC-timeouts broadcast after the restart');
  await node.mineUntilResolved();

  const spends = await spendsOnChain(height, commitment.getId(), node.destination);
  const confirmed = node.claimEvents('ClaimConfirmed');
  assert.ok(confirmed.every((e) => e.byHolder));
  assert.equal(new Set(confirmed.map((e) => e.outputId)).size, 9, 'to_local, 4 HTLCs, 4 HTLC outputs');
  assertSweptTogether(confirmed, spends);
  const outputs = (res?.pending ?? []).reduce((s, p) => s + p.valueSat, 0n);
  const fees = spends.reduce((s, x) => s + x.feeSat, 0n);
  const paid = spends.reduce((s, x) => s + x.paidToDestinationSat, 0n);
  assert.equal(paid, outputs - fees, 'every satoshi of ours at the destination, less the fees paid');
  // Each broadcast claim's fee is the one the chain shows.
  for (const b of node.claimEvents('ClaimBroadcast')) {
    const s = spends.find((x) => x.txid === b.txidHex);
    if (s) assert.equal(s.feeSat, b.feeSat);
  }
  const done = node.cm.claimableBalances()[0];
  assert.equal(done?.pending.length, 0);
  assert.ok(done?.doneAtHeight !== undefined);

  // Done, then archiveAfterBlocks later archived: out of what the store reads at start and no
  // longer watched, but kept whole in the archive; a restart does not bring it back.
  await node.stop();
  node.archiveAfterBlocks = 3;
  await node.start(node.cm.bestBlock);
  const doneAt = done.doneAtHeight;
  await chain.mine(Math.max(0, doneAt + 2 - (await chain.height())));
  await node.sync();
  assert.equal(node.cm.monitors().length, 1, 'still watched 2 blocks after done');
  await node.mine();
  assert.deepEqual(
    node.events.filter((e) => e.type === 'MonitorArchived').map((e) => (e as { height: number }).height),
    [doneAt + 3],
  );
  assert.equal(node.cm.monitors().length, 0);
  assert.deepEqual(node.cm.claimableBalances(), []);
  const persister = new MonitorStore(node.store);
  assert.deepEqual(await persister.readAll(), []);
  assert.equal(persister.archived(monitor.fundingKey)?.resolution?.doneAtHeight, doneAt);
  await node.stop();
  await node.start(node.cm.bestBlock);
  assert.equal(node.cm.monitors().length, 0, 'not read at the restart');
  await node.stop();
});

test('their commitment through the ChainMonitor: to_remote, their HTLCs with the preimage, ours after expiry; a depth-2 reorg under the to_remote claim', async () => {
  const { node, commitment, height } = await theirCommitmentConfirmed(12, [
    [
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x01) },
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x04) },
    ],
  ]);
  const res = node.cm.claimableBalances()[0];
  assert.equal(res?.kind, 'counterparty-commitment');
  assert.equal(node.claimEvents('ClaimBroadcast').length, 3, 'to_remote and the two preimage claims');
  const toRemote = res?.pending.find((p) => p.output === 'to_remote');
  const toRemoteClaim = node
    .claimEvents('ClaimBroadcast')
    .find((e) => e.outputIds.includes(toRemote?.outputId ?? ''));
  assert.ok(toRemoteClaim);
  await node.mine();
  assert.equal(node.claimEvents('ClaimConfirmed').length, 3);
  await node.mine();

  // A depth-2 reorg: the block with the claims and the one after are replaced by three empty
  // ones; the claims go back to pending and are broadcast again, the same transactions.
  await chain.reorg(2);
  await node.sync();
  const back = node.cm.claimableBalances()[0];
  assert.ok(
    back?.pending.some((p) => p.outputId === toRemote?.outputId),
    'to_remote pending again',
  );
  assert.ok(
    node.broadcaster.sent.filter((t) => t === toRemoteClaim.txidHex).length >= 2,
    'the same claim broadcast again',
  );
  await node.mineUntilResolved();
  const confirmedToRemote = node
    .claimEvents('ClaimConfirmed')
    .filter((e) => e.outputId === toRemote?.outputId);
  assert.equal(confirmedToRemote.length, 2, 'confirmed before the reorg and again after it');
  assert.ok(confirmedToRemote.every((e) => e.spentByTxidHex === toRemoteClaim.txidHex));

  const spends = await spendsOnChain(height, commitment.getId(), node.destination);
  assert.equal(spends.length, 5, 'to_remote, two preimage claims, two timeouts');
  const outputs = (res?.pending ?? []).reduce((s, p) => s + p.valueSat, 0n);
  const fees = spends.reduce((s, x) => s + x.feeSat, 0n);
  assert.equal(
    spends.reduce((s, x) => s + x.paidToDestinationSat, 0n),
    outputs - fees,
  );
  await node.stop();
});

/** A revoked counterparty commitment with the Appendix C HTLCs, and their HTLC-success of HTLC 2 to cheat with. */
async function revokedChannel(fx: ChannelFixture, base: number) {
  const first = await fx.initialUpdate();
  const holderMsat = 600_000_000n;
  const theirMsat = FUNDING_SAT * 1000n - holderMsat - HTLC_TOTAL_MSAT;
  const cheat = await fx.counterpartyCommitment(1n, {
    toLocalMsat: theirMsat,
    toRemoteMsat: holderMsat,
    htlcs: appendixCHtlcs('counterparty', base),
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const cheatTx = await cheat.signed();
  const htlcTxs = buildHtlcTransactions(cheat.built);
  const point = cheat.commitment.perCommitmentPoint;
  const ourSigs = (await signCounterpartyCommitment(fx.holder, cheat.built, htlcTxs, point)).htlcSignatures;
  const theirSigs = (await signHolderCommitment(fx.counterparty, cheat.built, htlcTxs)).htlcSignatures;
  const next = await fx.counterpartyCommitment(2n, {
    toLocalMsat: theirMsat + HTLC_TOTAL_MSAT,
    toRemoteMsat: holderMsat,
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'counterparty-commitment', commitment: cheat.commitment }],
    [{ kind: 'commitment-secret', commitmentNumber: 0n, secret: await fx.counterpartySecret(0n) }],
    [{ kind: 'counterparty-commitment', commitment: next.commitment }],
    [{ kind: 'commitment-secret', commitmentNumber: 1n, secret: await fx.counterpartySecret(1n) }],
  ]);
  const i = htlcTxs.findIndex((h) => h.kind === 'htlc-success' && h.htlc.id === 2n);
  const success = finalizeHtlcTransaction(
    htlcTxs[i] as (typeof htlcTxs)[number],
    theirSigs[i] as Uint8Array,
    ourSigs[i] as Uint8Array,
    preimageOf(0x02),
  );
  return { monitor, cheatTx, success, htlc2ValueSat: htlcTxs[i]?.htlcValueSat as bigint };
}

test('their revoked commitment through the ChainMonitor, their HTLC-success confirmed first: the preimage is learnt, justice takes everything else and their second stage', async () => {
  const fx = await fundedChannel();
  const { monitor, cheatTx, success, htlc2ValueSat } = await revokedChannel(fx, (await chain.height()) + 100);
  const node = new Node(fx);
  await node.start(fx.bestBlock, monitor);
  await node.sync();

  // They broadcast the revoked state, then their HTLC-success of HTLC 2 (one we offered) gets
  // in before the node sees either block.
  await chain.sendRawTransaction(cheatTx.toHex());
  await chain.mine(1);
  const height = await chain.height();
  await chain.sendRawTransaction(success.toHex());
  await chain.mine(1);
  await node.sync();

  const learnt = node.claimEvents('PaymentPreimageLearnt');
  assert.equal(learnt.length, 1);
  assert.deepEqual(learnt[0]?.paymentPreimage, preimageOf(0x02));
  assert.deepEqual(learnt[0]?.paymentHash, sha256(preimageOf(0x02)));
  assert.ok(
    node.cm.monitor(monitor.fundingKey)?.preimages.some((p) => Buffer.from(p).equals(preimageOf(0x02))),
    'the monitor keeps the preimage',
  );
  const theirSpend = node.claimEvents('ClaimConfirmed').find((e) => !e.byHolder);
  assert.equal(theirSpend?.spentByTxidHex, success.getId());
  await node.mineUntilResolved();
  const res = node.cm.claimableBalances()[0];
  assert.equal(res?.kind, 'counterparty-revoked-commitment');

  const spends = (await spendsOnChain(height, cheatTx.getId(), node.destination)).filter(
    (s) => s.txid !== success.getId(),
  );
  const outputs =
    cheatTx.outs.reduce((s, o) => s + o.value, 0n) - htlc2ValueSat + (success.outs[0]?.value as bigint);
  const fees = spends.reduce((s, x) => s + x.feeSat, 0n);
  assert.equal(
    spends.reduce((s, x) => s + x.paidToDestinationSat, 0n),
    outputs - fees,
    'everything but HTLC 2, and HTLC 2 from their second stage, at the destination less the fees',
  );
  await node.stop();
});

type ChildMessage =
  | { type: 'ready' | 'ack'; bestBlock: BestBlock }
  | { type: 'broadcast'; raws: Uint8Array[] }
  | { type: 'event'; event: MonitorEvent };

/**
 * The holder's ChainMonitor in a child process (testing/claims.child.ts) over its own data dir:
 * the parent feeds it blocks, sends what it broadcasts to the chain, and may SIGKILL it at a
 * message of its choosing (`killAt`), before acting on that message.
 */
class ChildNode {
  readonly dir = mkdtempSync(join(tmpdir(), 'lnkit-claims-kill-'));
  readonly events: MonitorEvent[] = [];
  /** Txids of what every run of the child broadcast, in order. */
  readonly broadcast: string[] = [];
  child: ChildProcess | undefined;
  bestBlock: BestBlock | undefined;
  acks = 0;
  killAt: ((m: ChildMessage) => boolean) | undefined;
  killed = false;
  #forwarding: Promise<unknown> = Promise.resolve();

  constructor(readonly fx: ChannelFixture) {
    dirs.push(this.dir);
  }

  async start(startBlock: BestBlock): Promise<void> {
    this.bestBlock = undefined;
    this.killed = false;
    const child = fork(
      fileURLToPath(new URL('./testing/claims.child.ts', import.meta.url)),
      [this.dir, Buffer.from(seeds.get(this.fx) as Uint8Array).toString('hex'), JSON.stringify(startBlock)],
      {
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    children.push(child);
    this.child = child;
    child.on('message', (m: ChildMessage) => {
      if (this.killed || this.child !== child) return;
      if (this.killAt?.(m)) {
        this.killAt = undefined;
        this.killed = true;
        child.kill('SIGKILL');
        return;
      }
      if (m.type === 'ready' || m.type === 'ack') {
        this.bestBlock = m.bestBlock;
        if (m.type === 'ack') this.acks++;
      } else if (m.type === 'event') this.events.push(m.event);
      else if (m.type === 'broadcast')
        for (const raw of m.raws) {
          this.broadcast.push(Transaction.fromBuffer(Buffer.from(raw)).getId());
          this.#forwarding = this.#forwarding.then(() =>
            chain.sendRawTransaction(Buffer.from(raw).toString('hex')).catch(() => undefined),
          );
        }
    });
    await waitFor(() => this.bestBlock, { what: 'the child ready', timeoutMs: 180_000 });
  }

  /** Waits for the child's exit after a SIGKILL. */
  async dead(): Promise<void> {
    const child = this.child as ChildProcess;
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, { what: 'the child killed' });
  }

  /** Feeds every block after the child's best block; false if the child was killed meanwhile. */
  async feed(): Promise<boolean> {
    const child = this.child as ChildProcess;
    const height = await chain.height();
    for (let h = (this.bestBlock as BestBlock).height + 1; h <= height; h++) {
      const hashHex = (await chain.rpc('getblockhash', [h])) as string;
      const block = Block.fromHex((await chain.rpc('getblock', [hashHex, false])) as string);
      const header = {
        hashHex,
        prevHashHex: Buffer.from(block.prevHash as Uint8Array)
          .reverse()
          .toString('hex'),
      };
      const acks = this.acks;
      child.send({
        type: 'block',
        header,
        height: h,
        rawTxs: (block.transactions ?? []).map((tx) => new Uint8Array(tx.toBuffer())),
      });
      await waitFor(() => this.killed || this.acks > acks, { what: `block ${h} taken`, timeoutMs: 180_000 });
      if (this.killed) return false;
    }
    await this.#forwarding;
    return true;
  }

  claimEvents<T extends ClaimEvent['type']>(type: T): Extract<ClaimEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ClaimEvent, { type: T }> => e.type === type);
  }

  async stop(): Promise<void> {
    const child = this.child as ChildProcess;
    child.send({ type: 'stop' });
    await waitFor(() => child.exitCode !== null, { what: 'the child stopped' });
  }
}

test('SIGKILL in the middle of a justice claim, twice: after the resolution is written but before the claim left, and as the claim confirms — the restarted node claims it once and everything arrives', async () => {
  const fx = await fundedChannel();
  const { monitor, cheatTx } = await revokedChannel(fx, (await chain.height()) + 100);
  const node = new ChildNode(fx);
  await node.start(fx.bestBlock);
  node.child?.send({ type: 'watch', monitor });
  await waitFor(() => node.acks > 0, { what: 'the monitor watched' });
  assert.ok(await node.feed());

  // Killed as it hands the justice transaction to the broadcaster: it never reached the chain.
  await chain.sendRawTransaction(cheatTx.toHex());
  await chain.mine(1);
  const height = await chain.height();
  node.killAt = (m) => m.type === 'broadcast';
  assert.equal(await node.feed(), false);
  await node.dead();
  assert.equal(node.broadcast.length, 0);

  // Restarted from its data dir: the resolution was on disk, so the claim is made again at
  // once, before any block (what a restart with no new block would do too).
  await node.start(fx.bestBlock);
  await waitFor(() => node.broadcast.length > 0, { what: 'the justice claim broadcast after the restart' });
  assert.ok(await node.feed());
  const justice = node.broadcast[0] as string;

  // Killed again as the justice transaction's confirmation is being written.
  await chain.mine(1);
  node.killAt = (m) => m.type === 'event' && m.event.type === 'ClaimConfirmed';
  assert.equal(await node.feed(), false);
  await node.dead();
  await node.start(fx.bestBlock);
  for (let i = 0; i < 20 && node.claimEvents('ChannelResolved').length === 0; i++) {
    assert.ok(await node.feed());
    await chain.mine(1);
  }
  assert.ok(await node.feed());
  assert.equal(node.claimEvents('ChannelResolved').length, 1, 'resolved after the restarts');
  assert.ok(
    node.broadcast.every((t) => t === justice),
    'one justice transaction, never a second claim',
  );

  const spends = await spendsOnChain(height, cheatTx.getId(), p2wpkh(fx.holderKeys.walletPublicKey(1n)));
  assert.deepEqual(
    spends.map((s) => s.txid),
    [justice],
  );
  const outputs = cheatTx.outs.reduce((s, o) => s + o.value, 0n);
  assert.equal(spends[0]?.paidToDestinationSat, outputs - (spends[0]?.feeSat as bigint));
  await node.stop();
});

test('anchors, our commitment through the ChainMonitor: zero-fee HTLC transactions paid by wallet coins, their change and every delayed output at the destination', async () => {
  const fx = await fundedChannel('anchors_zero_fee_htlc_tx');
  const first = await fx.initialUpdate();
  const base = (await chain.height()) + 20;
  const toLocalMsat = 600_000_000n;
  const ours = await fx.holderCommitment(1n, {
    toLocalMsat,
    toRemoteMsat: FUNDING_SAT * 1000n - toLocalMsat - HTLC_TOTAL_MSAT,
    htlcs: appendixCHtlcs('holder', base),
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'holder-commitment', commitment: ours.commitment }],
    [0x00, 0x01, 0x04].map((b) => ({ kind: 'payment-preimage', paymentPreimage: preimageOf(b) }) as const),
  ]);
  const node = new Node(fx);
  const known = new Map<string, bigint>();
  for (const index of FEE_INPUT_KEYS) {
    const pubkey = fx.holderKeys.walletPublicKey(index);
    const coin = await chain.fundScript(p2wpkh(pubkey), 20_000n);
    node.feeCoins.push({
      txid: Uint8Array.from(Buffer.from(coin.txid, 'hex')).reverse(),
      vout: coin.vout,
      valueSat: coin.valueSat,
      pubkey,
    });
    known.set(`${coin.txid}:${coin.vout}`, coin.valueSat);
  }
  await chain.mine(1);
  await node.start(fx.bestBlock, monitor);
  await node.sync();
  const commitment = await ours.signed();
  await chain.sendRawTransaction(commitment.toHex());
  await node.mine();
  const height = await chain.height();
  const res = node.cm.claimableBalances()[0];
  assert.equal(res?.pending.filter((p) => p.output === 'htlc').length, 5, 'zero-fee: no HTLC trimmed');
  const successes = node.claimEvents('ClaimBroadcast');
  assert.equal(successes.length, 1, 'the three HTLC-successes in one transaction, with one wallet coin');
  assert.equal(successes[0]?.outputIds.length, 3);
  await node.mineUntilResolved();

  const spends = await spendsOnChain(height, commitment.getId(), node.destination, known);
  const confirmed = node.claimEvents('ClaimConfirmed');
  assert.equal(
    new Set(confirmed.map((e) => e.outputId)).size,
    11,
    'five HTLCs, to_local and the five HTLC outputs',
  );
  assertSweptTogether(confirmed, spends);
  const usedCoins = [...known.keys()].filter((k) => node.broadcaster.spent.has(k));
  assert.equal(
    usedCoins.length,
    3,
    'one wallet coin for the successes, one for each timeout (its own nLockTime)',
  );
  const coinsSat = usedCoins.reduce((s, k) => s + (known.get(k) as bigint), 0n);
  const outputs = (res?.pending ?? []).reduce((s, p) => s + p.valueSat, 0n);
  const fees = spends.reduce((s, x) => s + x.feeSat, 0n);
  assert.equal(
    spends.reduce((s, x) => s + x.paidToDestinationSat, 0n),
    outputs + coinsSat - fees,
    'our outputs and the coins’ change at the destination, less every fee paid',
  );
  await node.stop();
});

/**
 * A channel whose counterparty's commitment (the Appendix C HTLCs from `base` + their offsets,
 * 600,000 sat ours) confirms in the next block, with the monitor given `steps` after it first.
 */
async function theirCommitmentConfirmed(
  baseOffset: number,
  steps: MonitorUpdateStep[][] = [],
): Promise<{ fx: ChannelFixture; node: Node; commitment: Transaction; height: number; base: number }> {
  const fx = await fundedChannel();
  const first = await fx.initialUpdate();
  const base = (await chain.height()) + baseOffset;
  const holderMsat = 600_000_000n;
  const theirs = await fx.counterpartyCommitment(1n, {
    toLocalMsat: FUNDING_SAT * 1000n - holderMsat - HTLC_TOTAL_MSAT,
    toRemoteMsat: holderMsat,
    htlcs: appendixCHtlcs('counterparty', base),
    feeratePerKw: COMMITMENT_FEERATE_PER_KW,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'counterparty-commitment', commitment: theirs.commitment }],
    ...steps,
  ]);
  const node = new Node(fx);
  await node.start(fx.bestBlock, monitor);
  await node.sync();
  const commitment = await theirs.signed();
  await chain.sendRawTransaction(commitment.toHex());
  await node.mine();
  return { fx, node, commitment, height: await chain.height(), base };
}

/** Whether bcoin's mempool holds `txid`. */
async function inMempool(txid: string): Promise<boolean> {
  return ((await chain.rpc('getrawmempool', [])) as string[]).includes(txid);
}

test('a claim racing the counterparty is bumped by replacement as its deadline nears, until a miner takes it; our own to_remote is not bumped', async () => {
  // Expiries a few blocks past the close: every preimage claim is within 12 blocks of its deadline.
  const { node, commitment, height } = await theirCommitmentConfirmed(10, [
    [
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x01) },
      { kind: 'payment-preimage', paymentPreimage: preimageOf(0x04) },
    ],
  ]);
  const res = node.cm.claimableBalances()[0];
  const toRemote = res?.pending.find((p) => p.output === 'to_remote')?.outputId as string;
  // A claim but to_remote's: an HTLC we have the preimage of.
  const atClose = node.claimEvents('ClaimBroadcast');
  assert.equal(atClose.length, 3, 'to_remote and the two preimage claims');
  const htlc = atClose.find((e) => !e.outputIds.includes(toRemote))?.outputIds[0] as string;
  assert.ok(res?.pending.find((p) => p.outputId === htlc)?.deadlineHeight, 'the HTLC has a deadline');
  const broadcasts = (id: string) =>
    node.claimEvents('ClaimBroadcast').filter((e) => e.outputIds.includes(id));
  assert.equal(broadcasts(htlc)[0]?.feeratePerKw, CLAIM_FEERATE_PER_KW);

  // Blocks take nothing under 1,600 sat/kw: each block the preimage claim is made again higher, replacing the last.
  chain.setMinerFeerateFloor(1_600);
  for (let i = 0; i < 6 && !node.claimEvents('ClaimConfirmed').some((e) => e.outputId === htlc); i++)
    await node.mine();
  const made = broadcasts(htlc);
  const feerates = made.map((e) => e.feeratePerKw as bigint);
  assert.deepEqual(feerates, [1_000n, 1_250n, 1_562n, 1_952n], 'a quarter more each block');
  const confirmed = node.claimEvents('ClaimConfirmed').find((e) => e.outputId === htlc);
  assert.equal(confirmed?.spentByTxidHex, made.at(-1)?.txidHex, 'the last replacement confirmed');
  // The replaced ones (of both preimage claims) can never confirm now: said so, for the wallet to forget them.
  const confirmedTxids = new Set(node.claimEvents('ClaimConfirmed').map((e) => e.spentByTxidHex));
  const confirmedOutputs = new Set(node.claimEvents('ClaimConfirmed').map((e) => e.outputId));
  const replaced = node
    .claimEvents('ClaimBroadcast')
    .filter((e) => e.outputIds.every((id) => confirmedOutputs.has(id)) && !confirmedTxids.has(e.txidHex))
    .map((e) => e.txidHex);
  assert.ok(made.slice(0, -1).every((e) => replaced.includes(e.txidHex)));
  assert.deepEqual(
    node
      .claimEvents('ClaimConflicted')
      .map((e) => e.txidHex)
      .sort(),
    replaced.sort(),
  );
  for (const e of made.slice(0, -1)) {
    assert.equal(await inMempool(e.txidHex), false, `${e.txidHex} was replaced`);
    assert.equal(await chain.rpc('getrawtransaction', [e.txidHex, true]).catch(() => undefined), undefined);
  }
  // to_remote has no deadline: made once at the estimate, waiting in the mempool for a block that takes it.
  assert.deepEqual(
    broadcasts(toRemote).map((e) => e.feeratePerKw),
    [CLAIM_FEERATE_PER_KW],
  );
  assert.equal(await inMempool(broadcasts(toRemote)[0]?.txidHex as string), true);
  chain.setMinerFeerateFloor(undefined);
  await node.mineUntilResolved();

  const spends = await spendsOnChain(height, commitment.getId(), node.destination);
  const final = node.cm.claimableBalances()[0];
  const claimed = (final?.claimed ?? []).filter((c) => c.byHolder).reduce((s, c) => s + c.valueSat, 0n);
  const ours = spends.filter((s) => s.paidToDestinationSat > 0n);
  assert.equal(
    ours.length,
    final?.claimed.filter((c) => c.byHolder).length,
    'one confirmed claim per output we took: no replaced claim confirmed too',
  );
  assert.equal(
    ours.reduce((s, x) => s + x.paidToDestinationSat, 0n),
    claimed - ours.reduce((s, x) => s + x.feeSat, 0n),
    'both outputs at the destination, less the fees paid',
  );
  await node.stop();
});

test('anchors, our commitment broadcast below the estimate: a child through our anchor pays for both (CPFP), is replaced when the estimate rises, and both confirm', async () => {
  const fx = await fundedChannel('anchors_zero_fee_htlc_tx');
  const first = await fx.initialUpdate();
  const toLocalMsat = 600_000_000n;
  // The commitment pays the relay minimum: no block under the floor below takes it alone.
  const ours = await fx.holderCommitment(1n, {
    toLocalMsat,
    toRemoteMsat: FUNDING_SAT * 1000n - toLocalMsat,
    htlcs: [],
    feeratePerKw: 253n,
  });
  const monitor = monitorOf(fx, first.update, [
    [{ kind: 'holder-commitment', commitment: ours.commitment }],
    [{ kind: 'channel-closed', reason: 'holder-force-closed', broadcastHolderCommitment: true }],
  ]);
  const node = new Node(fx);
  node.feerates = { normal: 5_000n, highPriority: 5_000n };
  const pubkey = fx.holderKeys.walletPublicKey(FEE_INPUT_KEYS[0] as bigint);
  const coin = await chain.fundScript(p2wpkh(pubkey), 50_000n);
  node.feeCoins.push({
    txid: Uint8Array.from(Buffer.from(coin.txid, 'hex')).reverse(),
    vout: coin.vout,
    valueSat: coin.valueSat,
    pubkey,
  });
  await chain.mine(1);
  await node.start(fx.bestBlock, monitor);
  await node.sync();
  const commitment = await ours.signed();
  await chain.sendRawTransaction(commitment.toHex());
  const commitmentFee = FUNDING_SAT - commitment.outs.reduce((s, o) => s + o.value, 0n);

  chain.setMinerFeerateFloor(2_500);
  await node.mine();
  assert.equal(await inMempool(commitment.getId()), true, 'the commitment alone is not mined');
  const [bump] = node.claimEvents('CommitmentBumped');
  assert.equal(bump?.commitmentTxidHex, commitment.getId());
  assert.ok(
    (bump?.packageFeeratePerKw as bigint) >= 5_000n,
    `package at ${bump?.packageFeeratePerKw} sat/kw`,
  );

  // The estimate rises past what the child paid, and so does the market: a new child replaces it.
  node.feerates = { normal: 9_000n, highPriority: 9_000n };
  chain.setMinerFeerateFloor(7_000);
  await node.mine();
  assert.equal(await inMempool(commitment.getId()), true, 'still waiting: the first child paid for 5,000');
  const bumps = node.claimEvents('CommitmentBumped');
  assert.equal(bumps.length, 2, `a second child: ${JSON.stringify(node.broadcaster.rejected)}`);
  const last = bumps[1];
  assert.ok((last?.packageFeeratePerKw as bigint) >= 9_000n);
  assert.equal(await inMempool(bump?.txidHex as string), false, 'the first child was replaced');
  assert.equal(await inMempool(last?.txidHex as string), true);

  await node.mine();
  chain.setMinerFeerateFloor(undefined);
  const spent = node.events.find((e) => e.type === 'FundingSpent');
  assert.equal(
    spent?.type === 'FundingSpent' && spent.txidHex,
    commitment.getId(),
    'the commitment confirmed',
  );
  const child = Transaction.fromHex(
    ((await chain.rpc('getrawtransaction', [last?.txidHex, true])) as { hex: string; confirmations: number })
      .hex,
  );
  const anchorSat = 330n;
  assert.equal(child.ins.length, 2, 'our anchor and the wallet coin');
  assert.equal(child.outs.length, 1);
  assert.equal(
    child.outs[0]?.value,
    anchorSat + coin.valueSat - (last?.feeSat as bigint),
    'the change is the wallet’s',
  );
  assert.equal(
    node.destination.length > 0 &&
      Buffer.from(child.outs[0]?.script as Uint8Array).equals(Buffer.from(node.destination)),
    true,
  );
  // What the pair really paid per weight unit, from the chain's transactions.
  const paid =
    ((commitmentFee + (last?.feeSat as bigint)) * 1000n) / BigInt(commitment.weight() + child.weight());
  assert.ok(paid >= 9_000n, `the pair paid ${paid} sat/kw`);
  await node.stop();
});

test('the sweeper: two channels closed in one block, their to_remote outputs swept to the wallet in one transaction', async () => {
  const channels = [await fundedChannel(), await fundedChannel()];
  const holderMsat = 400_000_000n;
  const monitors: ChannelMonitor[] = [];
  const commitments: Transaction[] = [];
  for (const fx of channels) {
    const first = await fx.initialUpdate();
    const theirs = await fx.counterpartyCommitment(1n, {
      toLocalMsat: FUNDING_SAT * 1000n - holderMsat,
      toRemoteMsat: holderMsat,
      htlcs: [],
      feeratePerKw: COMMITMENT_FEERATE_PER_KW,
    });
    monitors.push(
      monitorOf(fx, first.update, [[{ kind: 'counterparty-commitment', commitment: theirs.commitment }]]),
    );
    commitments.push(await theirs.signed());
  }
  const node = new Node(channels[0] as ChannelFixture);
  node.others.push(channels[1] as ChannelFixture);
  await node.start((channels[1] as ChannelFixture).bestBlock, monitors[0]);
  await node.cm.watchChannel(monitors[1] as ChannelMonitor);
  await node.sync();
  for (const c of commitments) await chain.sendRawTransaction(c.toHex());
  await node.mine();
  const toRemoteSat = node.cm
    .claimableBalances()
    .flatMap((b) => b.pending.filter((p) => p.output === 'to_remote'))
    .reduce((sum, p) => sum + p.valueSat, 0n);

  const broadcasts = node.claimEvents('ClaimBroadcast');
  assert.equal(broadcasts.length, 2, `one ClaimBroadcast per channel: ${node.broadcaster.rejected}`);
  assert.equal(broadcasts[0]?.txidHex, broadcasts[1]?.txidHex, 'of one transaction');
  await node.mine();
  const confirmed = node.claimEvents('ClaimConfirmed');
  assert.equal(confirmed.length, 2);
  assert.ok(confirmed.every((e) => e.byHolder && e.spentByTxidHex === broadcasts[0]?.txidHex));
  const raw = (await chain.rpc('getrawtransaction', [broadcasts[0]?.txidHex, true])) as { hex: string };
  const sweep = Transaction.fromHex(raw.hex);
  assert.equal(sweep.ins.length, 2, 'both channels’ outputs');
  assert.equal(sweep.outs.length, 1);
  assert.ok(Buffer.from(sweep.outs[0]?.script as Uint8Array).equals(Buffer.from(node.destination)));
  // What it spends: an output of each commitment, the to_remote each resolution listed.
  const inSat = sweep.ins.reduce((sum, i) => {
    const parent = commitments.find((c) => Buffer.from(c.getHash()).equals(Buffer.from(i.hash)));
    assert.ok(parent, 'it spends the commitments');
    return sum + (parent.outs[i.index]?.value as bigint);
  }, 0n);
  assert.equal(inSat, toRemoteSat, 'both to_remote outputs');
  const fee = inSat - (sweep.outs[0]?.value as bigint);
  assert.equal(fee, broadcasts[0]?.feeSat, 'the fee the sweeper said');
  assert.ok(fee * 1000n >= CLAIM_FEERATE_PER_KW * BigInt(sweep.weight()), 'at the estimator’s rate');
  assert.equal(sweep.outs[0]?.value, toRemoteSat - fee, 'every satoshi at the wallet, less the fee');
  for (let i = 0; i < 6 && node.claimEvents('ChannelResolved').length < 2; i++) await node.mine();
  assert.equal(node.claimEvents('ChannelResolved').length, 2, 'both channels resolved');
  await node.stop();
});

test('a preimage given after the close (a forward fulfilled downstream late): written with the monitor, then the HTLC claimed on chain at once', async () => {
  const { fx, node } = await theirCommitmentConfirmed(40, [
    [{ kind: 'channel-closed', reason: 'counterparty-force-closed', broadcastHolderCommitment: false }],
  ]);
  const pendingHtlcs = () =>
    node.cm.claimableBalances()[0]?.pending.filter((p) => p.output === 'htlc' && p.needsPreimage) ?? [];
  const claimsBefore = node.claimEvents('ClaimBroadcast').length;
  assert.equal(claimsBefore, 1, 'only to_remote: no preimage for any HTLC yet');

  const channelId = fx.info.channelId;
  assert.equal(await node.cm.providePaymentPreimage(channelId, preimageOf(0x01)), true);
  assert.equal(await node.cm.providePaymentPreimage(channelId, preimageOf(0x01)), false, 'known already');
  assert.equal(await node.cm.providePaymentPreimage(new Uint8Array(32).fill(7), preimageOf(0x01)), false);
  await node.cm.settled();
  const made = node.claimEvents('ClaimBroadcast').slice(claimsBefore);
  assert.equal(made.length, 1, 'the HTLC of that preimage claimed without waiting for a block');
  const claimedId = made[0]?.outputIds[0] as string;
  assert.ok(pendingHtlcs().some((p) => p.outputId === claimedId));

  // Written before it was used: a restart knows it, and the claim confirms.
  await node.stop();
  await node.start(node.cm.bestBlock);
  assert.ok(
    node.cm
      .monitors()
      .some((m) => m.preimages.some((p) => Buffer.from(p).equals(Buffer.from(preimageOf(0x01))))),
    'the preimage is on disk',
  );
  await node.mine();
  const confirmed = node.claimEvents('ClaimConfirmed').find((e) => e.outputId === claimedId && e.byHolder);
  assert.ok(confirmed, 'the HTLC claimed with the preimage on chain');
  // Received once that is 6 deep: the payments layer is told (HtlcClaimedOnChain).
  await node.mine(4);
  assert.equal(node.claimEvents('HtlcClaimedOnChain').length, 0, 'not before 6 deep');
  await node.mine();
  const received = node.claimEvents('HtlcClaimedOnChain');
  assert.equal(received.length, 1);
  assert.ok(
    Buffer.from(received[0]?.paymentHash as Uint8Array).equals(Buffer.from(sha256(preimageOf(0x01)))),
  );
  assert.equal(received[0]?.height, confirmed.height + 5);
  await node.stop();
});

test('HTLCs we offered, timed out on chain: each said failed once its timeout is 6 deep, and again to a restarted node', async () => {
  const { node, base } = await theirCommitmentConfirmed(8);
  // Ours are the ones they received (ids 2 and 3 of Appendix C), taken back after expiry.
  const ours = appendixCHtlcs('counterparty', base).filter((h) => h.direction === 'received');
  const failed = () => node.claimEvents('HtlcFailedOnChain');
  for (let i = 0; i < 40 && failed().length < ours.length; i++) {
    await node.mine();
    const timeouts = node
      .claimEvents('ClaimConfirmed')
      .filter(
        (e) =>
          e.byHolder &&
          node.cm
            .claimableBalances()[0]
            ?.claimed.some((c) => c.outputId === e.outputId && c.output === 'htlc'),
      );
    for (const e of failed()) {
      const confirmedAt = timeouts.map((t) => t.height);
      assert.ok(
        confirmedAt.some((h) => e.height - h + 1 === 6),
        'said when the timeout is 6 deep, not before',
      );
    }
  }
  assert.deepEqual(
    failed()
      .map((e) => e.htlcId)
      .sort(),
    ours.map((h) => h.id).sort(),
  );
  for (const e of failed()) {
    const h = ours.find((x) => x.id === e.htlcId);
    assert.ok(h && Buffer.from(e.paymentHash).equals(Buffer.from(h.paymentHash)));
  }
  await node.mine(3);
  assert.equal(failed().length, ours.length, 'each said once');
  assert.deepEqual(
    node.cm
      .htlcsFailedOnChain()
      .map((f) => f.htlcId)
      .sort(),
    ours.map((h) => h.id).sort(),
    'what a restarted node tells its manager again',
  );
  await node.stop();
});
