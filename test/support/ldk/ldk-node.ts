/**
 * An LDK node (lightningdevkit 0.1.0, WASM) that opens and accepts channels on the bcoin test
 * chain: ChannelManager, ChainMonitor, an in-memory persister, a fixed fee estimator, a
 * broadcaster into the chain's mempool, blocks fed from the chain's RPC, a PeerManager over TCP
 * loopback, and its events collected and acted on (funding, inbound channel requests; payments
 * claimed unless `held`; with anchors, BumpTransaction events handled by LDK's
 * BumpTransactionEventHandler over a one-key test wallet, `addWalletCoins`). Test code only.
 * The transport-only peer is ldk-peer.ts.
 */
import net from 'node:net';
import { randomBytes, secp } from '@lnkit/crypto';
import type { TestChain } from '@lnkit/testchain';
import { encodeSignature, p2wpkh, SIGHASH_ALL, Transaction } from '@lnkit/tx';
import { script as bscript, crypto as btcCrypto, opcodes as OPS, Psbt } from 'bitcoinjs-lib';
import * as ldk from 'lightningdevkit';
import { initLdk } from './ldk-peer.ts';
import type { TestFunding } from './test-funding.ts';

export { initLdk };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export interface LdkNodeOptions {
  chain: TestChain;
  /** Builds LDK's funding transactions (segwit inputs only, as LDK requires). */
  funding: TestFunding;
  /** negotiate_anchors_zero_fee_htlc_tx (inbound anchors channels are then accepted by hand, as LDK asks). */
  anchors?: boolean;
  /** LDK's minimum_depth as fundee (its default is 6). */
  minimumDepth?: number;
  /** sat per 1000 weight for every target (default 253). */
  feeratePerKw?: number;
  /** LDK's monitor persister (default: in memory, every update completed at once). */
  persister?: ldk.Persist;
  /**
   * Public channels: announce_for_forwarding (LDK then also takes only public channels), and
   * LDK's own P2PGossipSync over its NetworkGraph as the routing handler, so what it and its
   * peers announce lands in its graph (`graphChannel`, `graphNode`).
   */
  publicChannels?: boolean;
  /** UserConfig.accept_forwards_to_priv_channels: LDK forwards over private channels (its default: no). */
  forwardToPrivateChannels?: boolean;
}

/** What LDK's NetworkGraph has of one channel. */
export interface LdkGraphChannel {
  nodeOne: string;
  nodeTwo: string;
  /** The fee base of each direction's latest channel_update (undefined: none yet). */
  oneToTwoFeeBaseMsat: number | undefined;
  twoToOneFeeBaseMsat: number | undefined;
}

/** What the test looks at in one of LDK's events. */
export interface LdkEvent {
  type: string;
  channelId?: string;
  counterparty?: string;
  reason?: string;
  channelTypeLe?: string;
  /** Payment events: hex hash and preimage, msat. */
  paymentHash?: string;
  preimage?: string;
  amountMsat?: bigint;
  feeMsat?: bigint;
  /** SpendableOutputs: each output LDK says is its own to spend (display-order txid). */
  outputs?: LdkSpendableOutput[];
}

/** One output of a SpendableOutputs event. */
export interface LdkSpendableOutput {
  kind: 'static' | 'delayed-payment' | 'static-payment';
  txid: string;
  vout: number;
  valueSat: bigint;
}

/** One of LDK's ChainMonitor claimable balances (Balance_*, less the prefix). */
export interface LdkBalance {
  kind: string;
  amountSat: bigint;
}

export interface LdkChannel {
  channelId: string;
  counterparty: string;
  isOutbound: boolean;
  isReady: boolean;
  isUsable: boolean;
  confirmations: number | undefined;
  confirmationsRequired: number | undefined;
  shortChannelId: bigint | undefined;
  /** The alias LDK received from its peer (the one the peer chose) and the one LDK sent. */
  inboundScidAlias: bigint | undefined;
  outboundScidAlias: bigint | undefined;
  valueSat: bigint;
  outboundCapacityMsat: bigint;
  inboundCapacityMsat: bigint;
  anchors: boolean;
  fundingTxid: string | undefined;
  /** The commitment feerate the channel is at (sat per 1000 weight). */
  feeratePerKw: number | undefined;
}

let nextDescriptorId = 1_000_000n;

const optNumber = (o: ldk.Option_u32Z): number | undefined =>
  o instanceof ldk.Option_u32Z_Some ? o.some : undefined;
function spendableOutput(d: ldk.SpendableOutputDescriptor): LdkSpendableOutput {
  const of = (kind: LdkSpendableOutput['kind'], outpoint: ldk.OutPoint, output: ldk.TxOut) => ({
    kind,
    txid: hex(Uint8Array.from(outpoint.get_txid()).reverse()),
    vout: outpoint.get_index(),
    valueSat: output.value,
  });
  if (d instanceof ldk.SpendableOutputDescriptor_StaticOutput) return of('static', d.outpoint, d.output);
  if (d instanceof ldk.SpendableOutputDescriptor_DelayedPaymentOutput)
    return of(
      'delayed-payment',
      d.delayed_payment_output.get_outpoint(),
      d.delayed_payment_output.get_output(),
    );
  if (d instanceof ldk.SpendableOutputDescriptor_StaticPaymentOutput)
    return of('static-payment', d.static_payment_output.get_outpoint(), d.static_payment_output.get_output());
  throw new Error('an unknown SpendableOutputDescriptor');
}

/** The bindings hand a u64 back as a signed 64-bit bigint: an alias above 2^63 comes out negative. */
const optU64 = (o: ldk.Option_u64Z): bigint | undefined =>
  o instanceof ldk.Option_u64Z_Some ? BigInt.asUintN(64, o.some) : undefined;

export class LdkNode {
  pm!: ldk.PeerManager;
  chanMan!: ldk.ChannelManager;
  private graph!: ldk.NetworkGraph;
  private chainMonitor!: ldk.ChainMonitor;
  readonly logs: string[] = [];
  readonly events: LdkEvent[] = [];
  readonly broadcasts: { txid: string; accepted: boolean; reason?: string }[] = [];
  nodeId = '';
  port = 0;
  height = 0;
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly checks = new Set<() => void>();
  private work: Promise<unknown> = Promise.resolve();
  /** What LDK's fee estimator answers for every target; change it, then `timerTick()` for an update_fee. */
  feeratePerKw = 253;
  /**
   * Payment hashes (hex) whose PaymentClaimable is held: neither claimed nor failed back, so the
   * HTLC stays in the channel (`claimFunds` claims it later, on chain after a close).
   */
  readonly held = new Set<string>();
  /** The BumpTransaction events' handler (anchors: the zero-fee HTLC transactions need a wallet input). */
  private bumper: ldk.BumpTransactionEventHandler | undefined;
  /** LDK's on-chain wallet for those: P2WPKH coins of one key (`addWalletCoins`). */
  readonly #walletSecret = randomBytes(32);
  readonly walletPubkey = secp.publicKey(this.#walletSecret);
  readonly walletScript = p2wpkh(this.walletPubkey);
  /** Its coins (internal-order txid), `spent` once a transaction LDK had signed spends them. */
  readonly walletCoins: { txid: Uint8Array; vout: number; valueSat: bigint; spent: boolean }[] = [];

  private constructor(private readonly o: LdkNodeOptions) {}

  static async create(o: LdkNodeOptions): Promise<LdkNode> {
    await initLdk();
    const n = new LdkNode(o);
    await n.build();
    return n;
  }

  private async build(): Promise<void> {
    const { chain } = this.o;
    const logger = ldk.Logger.new_impl({
      log: (r: ldk.Record) => {
        const level = (ldk.Level[r.get_level()] ?? '').replace('LDKLevel_', '').toUpperCase();
        this.logs.push(`${level} ${r.get_args()}`);
      },
    });
    this.feeratePerKw = this.o.feeratePerKw ?? 253;
    const feeEstimator = ldk.FeeEstimator.new_impl({ get_est_sat_per_1000_weight: () => this.feeratePerKw });
    const broadcaster = ldk.BroadcasterInterface.new_impl({
      broadcast_transactions: (txs: Uint8Array[]) => {
        for (const tx of txs) this.broadcast(tx);
      },
    });
    const completed = ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed;
    const persister =
      this.o.persister ??
      ldk.Persist.new_impl({
        persist_new_channel: () => completed,
        update_persisted_channel: () => completed,
        archive_persisted_channel: () => {},
      });
    this.chainMonitor = ldk.ChainMonitor.constructor_new(
      ldk.Option_FilterZ.constructor_none(),
      broadcaster,
      logger,
      feeEstimator,
      persister,
    );
    const now = Date.now();
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const keys = ldk.KeysManager.constructor_new(seed, BigInt(Math.floor(now / 1000)), (now % 1000) * 1e6);
    const network = ldk.Network.LDKNetwork_Regtest;
    const graph = ldk.NetworkGraph.constructor_new(network, logger);
    this.graph = graph;
    const scorer = ldk.ProbabilisticScorer.constructor_new(
      ldk.ProbabilisticScoringDecayParameters.constructor_default(),
      graph,
      logger,
    );
    const score = ldk.MultiThreadedLockableScore.constructor_new(scorer.as_Score());
    const router = ldk.DefaultRouter.constructor_new(
      graph,
      logger,
      keys.as_EntropySource(),
      score.as_LockableScore(),
      ldk.ProbabilisticScoringFeeParameters.constructor_default(),
    );
    const messageRouter = ldk.DefaultMessageRouter.constructor_new(graph, keys.as_EntropySource());
    // LDK starts from the chain's current tip: BestBlock takes the hash in internal byte order.
    this.height = await chain.height();
    const tipHash = (await chain.rpc('getblockhash', [this.height])) as string;
    const params = ldk.ChainParameters.constructor_new(
      network,
      ldk.BestBlock.constructor_new(Buffer.from(tipHash, 'hex').reverse(), this.height),
    );
    const config = ldk.UserConfig.constructor_default();
    const handshake = config.get_channel_handshake_config();
    if (this.o.anchors) handshake.set_negotiate_anchors_zero_fee_htlc_tx(true);
    if (this.o.minimumDepth !== undefined) handshake.set_minimum_depth(this.o.minimumDepth);
    if (this.o.publicChannels) handshake.set_announce_for_forwarding(true);
    config.set_channel_handshake_config(handshake);
    if (this.o.forwardToPrivateChannels) config.set_accept_forwards_to_priv_channels(true);
    // LDK accepts an inbound anchors channel only by hand (it must be able to pay for CPFP).
    if (this.o.anchors) config.set_manually_accept_inbound_channels(true);
    this.chanMan = ldk.ChannelManager.constructor_new(
      feeEstimator,
      this.chainMonitor.as_Watch(),
      broadcaster,
      router.as_Router(),
      messageRouter.as_MessageRouter(),
      logger,
      keys.as_EntropySource(),
      keys.as_NodeSigner(),
      keys.as_SignerProvider(),
      config,
      params,
      Math.floor(now / 1000),
    );
    const ignorer = ldk.IgnoringMessageHandler.constructor_new();
    const routing = this.o.publicChannels
      ? ldk.P2PGossipSync.constructor_new(
          graph,
          ldk.Option_UtxoLookupZ.constructor_none(),
          logger,
        ).as_RoutingMessageHandler()
      : ignorer.as_RoutingMessageHandler();
    this.pm = ldk.PeerManager.constructor_new(
      this.chanMan.as_ChannelMessageHandler(),
      routing,
      ignorer.as_OnionMessageHandler(),
      ignorer.as_CustomMessageHandler(),
      Math.floor(now / 1000),
      keys.as_EntropySource().get_secure_random_bytes(),
      logger,
      keys.as_NodeSigner(),
    );
    this.nodeId = hex(this.chanMan.get_our_node_id());
    if (this.o.anchors) {
      const wallet = ldk.Wallet.constructor_new(
        ldk.WalletSource.new_impl({
          list_confirmed_utxos: () =>
            ldk.Result_CVec_UtxoZNoneZ.constructor_ok(
              this.walletCoins
                .filter((c) => !c.spent)
                .map((c) =>
                  // P2WPKH: an empty script_sig (4 weight units) and a 109-unit witness.
                  ldk.Utxo.constructor_new(
                    ldk.OutPoint.constructor_new(c.txid, c.vout),
                    ldk.TxOut.constructor_new(c.valueSat, this.walletScript),
                    113n,
                  ),
                ),
            ),
          get_change_script: () => ldk.Result_CVec_u8ZNoneZ.constructor_ok(this.walletScript),
          sign_psbt: (psbt: Uint8Array) => {
            try {
              return ldk.Result_TransactionNoneZ.constructor_ok(this.signWalletInputs(psbt));
            } catch (err) {
              this.logs.push(`ERROR sign_psbt: ${(err as Error).message}`);
              return ldk.Result_TransactionNoneZ.constructor_err();
            }
          },
        }),
        logger,
      );
      this.bumper = ldk.BumpTransactionEventHandler.constructor_new(
        broadcaster,
        wallet.as_CoinSelectionSource(),
        keys.as_SignerProvider(),
        logger,
      );
    }
    this.timers.push(setInterval(() => this.pump(), 50));
  }

  /** Delivers LDK's queued messages and handles its events (never from inside an LDK callback). */
  pump(): void {
    this.pm.process_events();
    const events: ldk.Event[] = [];
    const handler = ldk.EventHandler.new_impl({
      handle_event: (e: ldk.Event) => {
        events.push(e);
        return ldk.Result_NoneReplayEventZ.constructor_ok();
      },
    });
    this.chanMan.as_EventsProvider().process_pending_events(handler);
    this.chainMonitor.as_EventsProvider().process_pending_events(handler);
    for (const e of events) this.onEvent(e);
    this.pm.process_events();
    this.notify();
  }

  private onEvent(e: ldk.Event): void {
    if (e instanceof ldk.Event_FundingGenerationReady) {
      const tmp = e.temporary_channel_id;
      const peer = e.counterparty_node_id;
      this.events.push({
        type: 'FundingGenerationReady',
        channelId: hex(tmp.get_a()),
        counterparty: hex(peer),
      });
      this.serial(async () => {
        const tx = await this.o.funding.build(e.output_script, e.channel_value_satoshis);
        const r = this.chanMan.funding_transaction_generated(tmp, peer, new Uint8Array(tx.toBuffer()));
        if (!(r instanceof ldk.Result_NoneAPIErrorZ_OK))
          this.logs.push('ERROR funding_transaction_generated refused');
        this.pump();
      });
    } else if (e instanceof ldk.Event_OpenChannelRequest) {
      this.events.push({
        type: 'OpenChannelRequest',
        channelId: hex(e.temporary_channel_id.get_a()),
        counterparty: hex(e.counterparty_node_id),
        channelTypeLe: hex(e.channel_type.le_flags()),
      });
      this.chanMan.accept_inbound_channel(e.temporary_channel_id, e.counterparty_node_id, 0n);
    } else if (e instanceof ldk.Event_ChannelPending) {
      this.events.push({
        type: 'ChannelPending',
        channelId: hex(e.channel_id.get_a()),
        counterparty: hex(e.counterparty_node_id),
      });
    } else if (e instanceof ldk.Event_ChannelReady) {
      this.events.push({
        type: 'ChannelReady',
        channelId: hex(e.channel_id.get_a()),
        counterparty: hex(e.counterparty_node_id),
        channelTypeLe: hex(e.channel_type.le_flags()),
      });
    } else if (e instanceof ldk.Event_ChannelClosed) {
      this.events.push({
        type: 'ChannelClosed',
        channelId: hex(e.channel_id.get_a()),
        reason: e.reason.to_str(),
      });
    } else if (e instanceof ldk.Event_PendingHTLCsForwardable) {
      this.events.push({ type: 'PendingHTLCsForwardable' });
      this.chanMan.process_pending_htlc_forwards();
    } else if (e instanceof ldk.Event_PaymentClaimable) {
      const preimage = e.purpose.preimage();
      this.events.push({
        type: 'PaymentClaimable',
        paymentHash: hex(e.payment_hash),
        amountMsat: e.amount_msat,
        preimage: preimage instanceof ldk.Option_ThirtyTwoBytesZ_Some ? hex(preimage.some) : undefined,
      });
      // An invoice of LDK's own: it knows the preimage, and claims; one for a hash it was given
      // (no preimage) is failed back (incorrect_or_unknown_payment_details). A held one: neither.
      if (this.held.has(hex(e.payment_hash))) return;
      if (preimage instanceof ldk.Option_ThirtyTwoBytesZ_Some) this.chanMan.claim_funds(preimage.some);
      else this.chanMan.fail_htlc_backwards(e.payment_hash);
    } else if (e instanceof ldk.Event_PaymentClaimed) {
      this.events.push({
        type: 'PaymentClaimed',
        paymentHash: hex(e.payment_hash),
        amountMsat: e.amount_msat,
      });
    } else if (e instanceof ldk.Event_PaymentSent) {
      const fee = e.fee_paid_msat;
      this.events.push({
        type: 'PaymentSent',
        paymentHash: hex(e.payment_hash),
        preimage: hex(e.payment_preimage),
        feeMsat: fee instanceof ldk.Option_u64Z_Some ? fee.some : undefined,
      });
    } else if (e instanceof ldk.Event_PaymentFailed) {
      const h = e.payment_hash;
      const r = e.reason;
      this.events.push({
        type: 'PaymentFailed',
        paymentHash: h instanceof ldk.Option_ThirtyTwoBytesZ_Some ? hex(h.some) : undefined,
        reason:
          r instanceof ldk.Option_PaymentFailureReasonZ_Some
            ? String(ldk.PaymentFailureReason[r.some])
            : undefined,
      });
    } else if (e instanceof ldk.Event_SpendableOutputs) {
      this.events.push({ type: 'SpendableOutputs', outputs: e.outputs.map(spendableOutput) });
    } else if (e instanceof ldk.Event_BumpTransaction) {
      this.events.push({ type: `BumpTransaction:${e.bump_transaction.constructor.name}` });
      if (this.bumper) this.bumper.handle_event(e.bump_transaction);
      else this.logs.push('ERROR a BumpTransaction event and no wallet to bump with');
    } else {
      this.events.push({ type: e.constructor.name.replace(/^Event_/, '') });
    }
  }

  /** WalletSource::sign_psbt: our P2WPKH inputs signed (SIGHASH_ALL), the others left to LDK. */
  private signWalletInputs(psbtBytes: Uint8Array): Uint8Array {
    const psbt = Psbt.fromBuffer(Buffer.from(psbtBytes));
    const tx = new Transaction();
    tx.version = psbt.version;
    tx.locktime = psbt.locktime;
    for (const i of psbt.txInputs) tx.addInput(i.hash, i.index, i.sequence);
    for (const o of psbt.txOutputs) tx.addOutput(o.script, o.value);
    const scriptCode = bscript.compile([
      OPS.OP_DUP,
      OPS.OP_HASH160,
      btcCrypto.hash160(this.walletPubkey),
      OPS.OP_EQUALVERIFY,
      OPS.OP_CHECKSIG,
    ]);
    tx.ins.forEach((input, i) => {
      const coin = this.walletCoins.find((c) => hex(c.txid) === hex(input.hash) && c.vout === input.index);
      if (!coin) return;
      const sighash = tx.hashForWitnessV0(i, scriptCode, coin.valueSat, SIGHASH_ALL);
      tx.setWitness(i, [
        encodeSignature(secp.sign(sighash, this.#walletSecret), SIGHASH_ALL),
        this.walletPubkey,
      ]);
      coin.spent = true;
    });
    return new Uint8Array(tx.toBuffer());
  }

  /** Sends `count` coins of `valueSat` to LDK's wallet key from the chain's wallet (anchors); mine a block after. */
  async addWalletCoins(count: number, valueSat: bigint): Promise<void> {
    for (let i = 0; i < count; i++) {
      const f = await this.o.chain.fundScript(this.walletScript, valueSat);
      this.walletCoins.push({
        txid: Uint8Array.from(Buffer.from(f.txid, 'hex')).reverse(),
        vout: f.vout,
        valueSat,
        spent: false,
      });
    }
  }

  /** ChannelManager::claim_funds: claims a held payment (the preimage goes to the monitor if the channel is closed). */
  claimFunds(preimageHex: string): void {
    this.chanMan.claim_funds(Buffer.from(preimageHex, 'hex'));
    this.pump();
  }

  /** ChainMonitor::get_claimable_balances of every channel (none ignored). */
  claimableBalances(): LdkBalance[] {
    return this.chainMonitor.get_claimable_balances([]).map((b) => ({
      kind: b.constructor.name.replace(/^Balance_/, ''),
      amountSat: b.claimable_amount_satoshis(),
    }));
  }

  private serial(fn: () => Promise<void>): void {
    this.work = this.work.then(fn).catch((err: unknown) => this.logs.push(`ERROR ${(err as Error).message}`));
  }

  private broadcast(raw: Uint8Array): void {
    this.serial(async () => {
      const txHex = Buffer.from(raw).toString('hex');
      try {
        const txid = await this.o.chain.sendRawTransaction(txHex);
        this.broadcasts.push({ txid, accepted: true });
      } catch (err) {
        this.broadcasts.push({ txid: '', accepted: false, reason: (err as Error).message });
      }
      this.notify();
    });
  }

  /** Connects the chain's blocks above LDK's height, in order, to its ChainMonitor and ChannelManager. */
  async syncToTip(): Promise<void> {
    const tip = await this.o.chain.height();
    for (let h = this.height + 1; h <= tip; h++) {
      const hash = (await this.o.chain.rpc('getblockhash', [h])) as string;
      const raw = Buffer.from((await this.o.chain.rpc('getblock', [hash, false])) as string, 'hex');
      this.chainMonitor.as_Listen().block_connected(raw, h);
      this.chanMan.as_Listen().block_connected(raw, h);
      this.height = h;
    }
    this.pump();
  }

  /** Waits until LDK's own work (funding, broadcasts) queued so far is done. */
  async settled(): Promise<void> {
    await this.work;
  }

  /** The channel as LDK's NetworkGraph has it (undefined: not in it). */
  graphChannel(shortChannelId: bigint): LdkGraphChannel | undefined {
    const ro = this.graph.read_only();
    try {
      const c = ro.channel(shortChannelId);
      if (!c) return undefined;
      // The bindings answer a zeroed update (last_update 0) for a direction with none.
      const fee = (u: ldk.ChannelUpdateInfo | null) =>
        u && u.get_last_update() > 0 ? u.get_fees().get_base_msat() : undefined;
      return {
        nodeOne: hex(c.get_node_one().as_slice()),
        nodeTwo: hex(c.get_node_two().as_slice()),
        oneToTwoFeeBaseMsat: fee(c.get_one_to_two()),
        twoToOneFeeBaseMsat: fee(c.get_two_to_one()),
      };
    } finally {
      ro.free();
    }
  }

  /** The channel_announcement LDK's NetworkGraph keeps for a channel (payload, no type), if any. */
  graphAnnouncement(shortChannelId: bigint): Uint8Array | undefined {
    const ro = this.graph.read_only();
    try {
      // The bindings may give a zero-filled message (as for a missing ChannelUpdateInfo) before
      // LDK has the real one: that is no announcement.
      const raw = ro.channel(shortChannelId)?.get_announcement_message()?.write();
      return raw?.some((b) => b !== 0) ? raw : undefined;
    } finally {
      ro.free();
    }
  }

  /** A node's announcement as LDK's NetworkGraph has it (undefined: no node_announcement). */
  graphNode(nodeIdHex: string): { alias: string; rgb: string } | undefined {
    const ro = this.graph.read_only();
    try {
      const n = ro.node(ldk.NodeId.constructor_from_pubkey(Buffer.from(nodeIdHex, 'hex')));
      const info = n?.get_announcement_info();
      if (!(info instanceof ldk.Option_NodeAnnouncementInfoZ_Some)) return undefined;
      const alias = Buffer.from(info.some.alias().get_a()).toString('utf8').replace(/\0+$/, '');
      return { alias, rgb: hex(info.some.rgb()) };
    } finally {
      ro.free();
    }
  }

  /** create_channel: returns LDK's temporary channel id (hex). */
  openChannel(nodeId: string, amountSat: bigint, pushMsat = 0n): string {
    const r = this.chanMan.create_channel(Buffer.from(nodeId, 'hex'), amountSat, pushMsat, 42n, null, null);
    if (!(r instanceof ldk.Result_ChannelIdAPIErrorZ_OK)) throw new Error('LDK refused create_channel');
    this.pump();
    return hex(r.res.get_a());
  }

  /** close_channel: LDK's cooperative close of one of its channels (hex channel id). */
  closeChannel(channelIdHex: string): void {
    const c = this.chanMan.list_channels().find((d) => hex(d.get_channel_id().get_a()) === channelIdHex);
    if (!c) throw new Error(`LDK has no channel ${channelIdHex}`);
    const r = this.chanMan.close_channel(c.get_channel_id(), c.get_counterparty().get_node_id());
    if (!(r instanceof ldk.Result_NoneAPIErrorZ_OK)) throw new Error('LDK refused close_channel');
    this.pump();
  }

  /** ChannelManager::create_bolt11_invoice: LDK's own payment hash and secret; PaymentClaimable is claimed. */
  createInvoice(amountMsat: bigint, description = '', paymentHash?: Uint8Array): string {
    const d = ldk.Description.constructor_new(description);
    if (!(d instanceof ldk.Result_DescriptionCreationErrorZ_OK))
      throw new Error('LDK refused the description');
    const res = this.chanMan.create_bolt11_invoice(
      ldk.Option_u64Z.constructor_some(amountMsat),
      ldk.Bolt11InvoiceDescription.constructor_direct(d.res),
      ldk.Option_u32Z.constructor_none(),
      ldk.Option_u16Z.constructor_none(),
      paymentHash
        ? ldk.Option_ThirtyTwoBytesZ.constructor_some(paymentHash)
        : ldk.Option_ThirtyTwoBytesZ.constructor_none(),
    );
    if (!(res instanceof ldk.Result_Bolt11InvoiceSignOrCreationErrorZ_OK))
      throw new Error('LDK could not create the invoice');
    return res.res.to_str();
  }

  /**
   * Pays a BOLT 11 invoice (payment_parameters_from_invoice + send_payment, no retries); the
   * payment id is the hash. `maxTotalCltvExpiryDelta` caps the route's CLTV delta (LDK wants it
   * above the invoice's min_final_cltv_expiry_delta: one more leaves its random shadow offset
   * at most a block, the HTLC's expiry known).
   */
  payInvoice(bolt11: string, o: { maxTotalCltvExpiryDelta?: number } = {}): string {
    const parsed = ldk.Bolt11Invoice.constructor_from_str(bolt11);
    if (!(parsed instanceof ldk.Result_Bolt11InvoiceParseOrSemanticErrorZ_OK))
      throw new Error('LDK could not parse the invoice');
    const params = ldk.UtilMethods.constructor_payment_parameters_from_invoice(parsed.res);
    if (!(params instanceof ldk.Result_C3Tuple_ThirtyTwoBytesRecipientOnionFieldsRouteParametersZNoneZ_OK))
      throw new Error('LDK found no payment parameters in the invoice');
    const hash = params.res.get_a();
    const routeParams = params.res.get_c();
    if (o.maxTotalCltvExpiryDelta !== undefined) {
      const pp = routeParams.get_payment_params();
      pp.set_max_total_cltv_expiry_delta(o.maxTotalCltvExpiryDelta);
      routeParams.set_payment_params(pp);
    }
    const r = this.chanMan.send_payment(
      hash,
      params.res.get_b(),
      hash,
      routeParams,
      ldk.Retry.constructor_attempts(0),
    );
    if (!(r instanceof ldk.Result_NoneRetryableSendFailureZ_OK))
      throw new Error(
        `LDK refused send_payment: ${ldk.RetryableSendFailure[(r as ldk.Result_NoneRetryableSendFailureZ_Err).err]}`,
      );
    this.pump();
    return hex(hash);
  }

  /** send_spontaneous_payment (keysend, LDK's own preimage, no retries): returns the payment hash (hex). */
  keysend(nodeId: string, amountMsat: bigint): string {
    const params = ldk.PaymentParameters.constructor_for_keysend(Buffer.from(nodeId, 'hex'), 40, false);
    const id = crypto.getRandomValues(new Uint8Array(32));
    const r = this.chanMan.send_spontaneous_payment(
      ldk.Option_ThirtyTwoBytesZ.constructor_none(),
      ldk.RecipientOnionFields.constructor_spontaneous_empty(),
      id,
      ldk.RouteParameters.constructor_from_payment_params_and_value(params, amountMsat),
      ldk.Retry.constructor_attempts(0),
    );
    if (!(r instanceof ldk.Result_ThirtyTwoBytesRetryableSendFailureZ_OK))
      throw new Error('LDK refused send_spontaneous_payment');
    this.pump();
    return hex(r.res);
  }

  /** ChannelManager::timer_tick_occurred: as funder, LDK sends update_fee when its estimate moved. */
  timerTick(): void {
    this.chanMan.timer_tick_occurred();
    this.pump();
  }

  /** Drops the connection to a peer (LDK closes the socket). */
  disconnect(nodeId: string): void {
    this.pm.disconnect_by_node_id(Buffer.from(nodeId, 'hex'));
    this.pump();
  }

  channels(): LdkChannel[] {
    return this.chanMan.list_channels().map((c) => {
      const txo = c.get_funding_txo();
      const type = c.get_channel_type();
      return {
        channelId: hex(c.get_channel_id().get_a()),
        counterparty: hex(c.get_counterparty().get_node_id()),
        isOutbound: Boolean(c.get_is_outbound()),
        isReady: Boolean(c.get_is_channel_ready()),
        isUsable: Boolean(c.get_is_usable()),
        confirmations: optNumber(c.get_confirmations()),
        confirmationsRequired: optNumber(c.get_confirmations_required()),
        shortChannelId: optU64(c.get_short_channel_id()),
        inboundScidAlias: optU64(c.get_inbound_scid_alias()),
        outboundScidAlias: optU64(c.get_outbound_scid_alias()),
        valueSat: c.get_channel_value_satoshis(),
        outboundCapacityMsat: c.get_outbound_capacity_msat(),
        inboundCapacityMsat: c.get_inbound_capacity_msat(),
        anchors: Boolean(type?.supports_anchors_zero_fee_htlc_tx()),
        fundingTxid: txo ? hex(Uint8Array.from(txo.get_txid()).reverse()) : undefined,
        feeratePerKw: optNumber(c.get_feerate_sat_per_1000_weight()),
      };
    });
  }

  async start(): Promise<number> {
    const server = net.createServer((socket) => this.attach(socket, undefined));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Dials a node; resolves when LDK lists it as a peer. */
  async connect(nodeId: string, host: string, port: number): Promise<void> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    this.attach(socket, nodeId);
    await this.waitFor(
      () => this.pm.list_peers().some((p) => hex(p.get_counterparty_node_id()) === nodeId),
      30_000,
      `LDK connected to ${nodeId}`,
    );
  }

  /** One socket wired to LDK's PeerManager (LDK does no I/O itself; see ldk-wasm-notes.md). */
  private attach(socket: net.Socket, outboundTo: string | undefined): void {
    const id = nextDescriptorId++;
    let ldkClosed = false;
    this.sockets.add(socket);
    const descriptor = ldk.SocketDescriptor.new_impl({
      send_data(data: Uint8Array, resumeRead: boolean): number {
        if (socket.destroyed) return 0;
        socket.write(data);
        if (resumeRead) socket.resume();
        return data.length;
      },
      disconnect_socket(): void {
        ldkClosed = true;
        socket.destroy();
      },
      eq: (other: ldk.SocketDescriptor) => other.hash() === id,
      hash: () => id,
    });
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      if (ldkClosed) return;
      const r = this.pm.read_event(descriptor, new Uint8Array(data.buffer, data.byteOffset, data.length));
      if (r instanceof ldk.Result_boolPeerHandleErrorZ_OK) {
        if (r.res) socket.pause();
      } else {
        ldkClosed = true;
        socket.destroy();
      }
      this.pump();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (!ldkClosed) {
        ldkClosed = true;
        this.pm.socket_disconnected(descriptor);
      }
      this.pump();
    });
    if (outboundTo) {
      const r = this.pm.new_outbound_connection(
        Buffer.from(outboundTo, 'hex'),
        descriptor,
        ldk.Option_SocketAddressZ.constructor_none(),
      );
      if (!(r instanceof ldk.Result_CVec_u8ZPeerHandleErrorZ_OK)) {
        socket.destroy();
        throw new Error('LDK refused the outbound connection');
      }
      socket.write(r.res);
    } else {
      const r = this.pm.new_inbound_connection(descriptor, ldk.Option_SocketAddressZ.constructor_none());
      if (!(r instanceof ldk.Result_NonePeerHandleErrorZ_OK)) socket.destroy();
    }
  }

  /** Resolves when `cond` holds (checked after every socket event and every pump), or rejects after `timeoutMs`. */
  waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        this.checks.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.checks.delete(check);
        if (cond()) resolve();
        else
          reject(
            new Error(
              `timed out waiting for ${what}; LDK said:\n${this.logs
                .filter((l) => /^(ERROR|WARN)/.test(l))
                .slice(-10)
                .join('\n')}`,
            ),
          );
      }, timeoutMs);
      this.checks.add(check);
    });
  }

  private notify(): void {
    for (const c of [...this.checks]) c();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.pm.disconnect_all_peers();
    for (const s of this.sockets) s.destroy();
    await this.work;
    if (this.server) {
      const server = this.server;
      this.server = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
