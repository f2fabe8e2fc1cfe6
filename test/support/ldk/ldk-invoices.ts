/**
 * LDK (lightningdevkit 0.1.0, WASM) as a BOLT 11 writer and reader for interop tests: a
 * ChannelManager made only to create invoices (`create_bolt11_invoice`), a phantom-node
 * signer for invoices with route hints (LDK writes `r` only from channels or phantom hints),
 * and LDK's parser (`Bolt11Invoice.constructor_from_str`), each reduced to plain values.
 * Test code only.
 */
import * as ldk from 'lightningdevkit';
import { initLdk } from './ldk-peer.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export { initLdk };

/** What LDK's parser reports of an invoice, as plain values. */
export interface LdkParsedInvoice {
  payee: string;
  /** The key LDK recovers from the signature (equal to payee when there is no n). */
  recoveredPayee: string;
  signatureValid: boolean;
  amountMsat: bigint | null;
  paymentHash: string;
  paymentSecret: string;
  paymentMetadata: string | null;
  timestamp: bigint;
  expirySeconds: bigint;
  minFinalCltvExpiryDelta: bigint;
  currency: string;
  fallbackAddresses: string[];
  featuresLe: string;
  routeHints: {
    nodeId: string;
    shortChannelId: bigint;
    feeBaseMsat: number;
    feeProportionalMillionths: number;
    cltvExpiryDelta: number;
  }[][];
  description: string | null;
  /** LDK's Sha256 has no byte accessor in the bindings: compare through its eq(). */
  hasDescriptionHash: (hash: Uint8Array) => boolean;
  /** LDK's own encoding of what it parsed. */
  text: string;
}

/** LDK's parser: the invoice's fields, or LDK's error text. */
export function ldkParse(
  invoice: string,
): { ok: true; value: LdkParsedInvoice } | { ok: false; error: string } {
  const r = ldk.Bolt11Invoice.constructor_from_str(invoice);
  if (!(r instanceof ldk.Result_Bolt11InvoiceParseOrSemanticErrorZ_OK)) {
    return { ok: false, error: (r as ldk.Result_Bolt11InvoiceParseOrSemanticErrorZ_Err).err.to_str() };
  }
  const inv = r.res;
  const raw = inv.into_signed_raw();
  const amount = inv.amount_milli_satoshis();
  const metadata = inv.payment_metadata();
  const recovered = raw.recover_payee_pub_key();
  const rawInvoice = raw.raw_invoice();
  const direct = rawInvoice.description();
  const hashed = rawInvoice.description_hash();
  return {
    ok: true,
    value: {
      payee: hex(inv.get_payee_pub_key()),
      recoveredPayee:
        recovered instanceof ldk.Result_PayeePubKeySecp256k1ErrorZ_OK
          ? hex(recovered.res.get_a())
          : 'not recoverable',
      signatureValid: inv.check_signature() instanceof ldk.Result_NoneBolt11SemanticErrorZ_OK,
      amountMsat: amount instanceof ldk.Option_u64Z_Some ? amount.some : null,
      paymentHash: hex(inv.payment_hash()),
      paymentSecret: hex(inv.payment_secret()),
      paymentMetadata: metadata instanceof ldk.Option_CVec_u8ZZ_Some ? hex(metadata.some) : null,
      timestamp: inv.duration_since_epoch(),
      expirySeconds: inv.expiry_time(),
      minFinalCltvExpiryDelta: inv.min_final_cltv_expiry_delta(),
      currency: ldk.Currency[inv.currency()] ?? String(inv.currency()),
      fallbackAddresses: inv.fallback_addresses(),
      featuresLe: hex(inv.features().le_flags()),
      routeHints: inv.route_hints().map((hint) =>
        hint.get_a().map((hop) => ({
          nodeId: hex(hop.get_src_node_id()),
          shortChannelId: hop.get_short_channel_id(),
          feeBaseMsat: hop.get_fees().get_base_msat(),
          feeProportionalMillionths: hop.get_fees().get_proportional_millionths(),
          cltvExpiryDelta: hop.get_cltv_expiry_delta(),
        })),
      ),
      description: isNull(direct) ? null : direct.to_str(),
      hasDescriptionHash: (hash) => !isNull(hashed) && hashed.eq(ldk.Sha256.constructor_from_bytes(hash)),
      text: inv.to_str(),
    },
  };
}

/** The bindings hand back a wrapper around a null pointer for an absent field. */
function isNull(o: object): boolean {
  const ptr = (o as unknown as { ptr: bigint | number }).ptr;
  return ptr === 0n || ptr === 0;
}

/**
 * The key LDK's raw parser recovers from an invoice's signature (SignedRawBolt11Invoice:
 * bech32 and fields only, no semantic or signature checks), or null.
 */
export function ldkRecoverPayee(invoice: string): string | null {
  const r = ldk.SignedRawBolt11Invoice.constructor_from_str(invoice);
  if (!(r instanceof ldk.Result_SignedRawBolt11InvoiceBolt11ParseErrorZ_OK)) return null;
  const key = r.res.recover_payee_pub_key();
  return key instanceof ldk.Result_PayeePubKeySecp256k1ErrorZ_OK ? hex(key.res.get_a()) : null;
}

export interface LdkInvoiceRequest {
  amountMsat?: bigint;
  description?: string;
  descriptionHash?: Uint8Array;
  expirySeconds?: number;
  minFinalCltvExpiryDelta?: number;
  paymentHash?: Uint8Array;
}

/** An LDK node on regtest that writes invoices (no peers, no chain). */
export class LdkInvoicer {
  readonly nodeId: string;
  private readonly chanMan: ldk.ChannelManager;
  private readonly phantomKeys: ldk.PhantomKeysManager;
  private readonly logger: ldk.Logger;
  readonly phantomNodeId: string;

  private constructor(seed: Uint8Array) {
    const logger = ldk.Logger.new_impl({ log: () => {} });
    this.logger = logger;
    const feeEstimator = ldk.FeeEstimator.new_impl({ get_est_sat_per_1000_weight: () => 253 });
    const broadcaster = ldk.BroadcasterInterface.new_impl({ broadcast_transactions: () => {} });
    const completed = ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed;
    const persister = ldk.Persist.new_impl({
      persist_new_channel: () => completed,
      update_persisted_channel: () => completed,
      archive_persisted_channel: () => {},
    });
    const chainMonitor = ldk.ChainMonitor.constructor_new(
      ldk.Option_FilterZ.constructor_none(),
      broadcaster,
      logger,
      feeEstimator,
      persister,
    );
    const now = Date.now();
    const secs = BigInt(Math.floor(now / 1000));
    const nanos = (now % 1000) * 1e6;
    const keys = ldk.KeysManager.constructor_new(seed, secs, nanos);
    const network = ldk.Network.LDKNetwork_Regtest;
    const graph = ldk.NetworkGraph.constructor_new(network, logger);
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
    this.chanMan = ldk.ChannelManager.constructor_new(
      feeEstimator,
      chainMonitor.as_Watch(),
      broadcaster,
      router.as_Router(),
      messageRouter.as_MessageRouter(),
      logger,
      keys.as_EntropySource(),
      keys.as_NodeSigner(),
      keys.as_SignerProvider(),
      ldk.UserConfig.constructor_default(),
      ldk.ChainParameters.constructor_new(network, ldk.BestBlock.constructor_from_network(network)),
      Math.floor(now / 1000),
    );
    this.nodeId = hex(this.chanMan.get_our_node_id());
    const crossNodeSeed = new Uint8Array(32).fill(0x42);
    this.phantomKeys = ldk.PhantomKeysManager.constructor_new(seed, secs, nanos, crossNodeSeed);
    const phantomId = this.phantomKeys.as_NodeSigner().get_node_id(ldk.Recipient.LDKRecipient_PhantomNode);
    if (!(phantomId instanceof ldk.Result_PublicKeyNoneZ_OK)) throw new Error('LDK has no phantom node id');
    this.phantomNodeId = hex(phantomId.res);
  }

  static async create(seed: Uint8Array = crypto.getRandomValues(new Uint8Array(32))): Promise<LdkInvoicer> {
    await initLdk();
    return new LdkInvoicer(seed);
  }

  private static description(r: LdkInvoiceRequest): ldk.Bolt11InvoiceDescription {
    if (r.descriptionHash)
      return ldk.Bolt11InvoiceDescription.constructor_hash(
        ldk.Sha256.constructor_from_bytes(r.descriptionHash),
      );
    const d = ldk.Description.constructor_new(r.description ?? '');
    if (!(d instanceof ldk.Result_DescriptionCreationErrorZ_OK))
      throw new Error('LDK refused the description');
    return ldk.Bolt11InvoiceDescription.constructor_direct(d.res);
  }

  /** ChannelManager::create_bolt11_invoice (its own payment hash and secret unless a hash is given). */
  createInvoice(r: LdkInvoiceRequest): string {
    const res = this.chanMan.create_bolt11_invoice(
      r.amountMsat === undefined
        ? ldk.Option_u64Z.constructor_none()
        : ldk.Option_u64Z.constructor_some(r.amountMsat),
      LdkInvoicer.description(r),
      r.expirySeconds === undefined
        ? ldk.Option_u32Z.constructor_none()
        : ldk.Option_u32Z.constructor_some(r.expirySeconds),
      r.minFinalCltvExpiryDelta === undefined
        ? ldk.Option_u16Z.constructor_none()
        : ldk.Option_u16Z.constructor_some(r.minFinalCltvExpiryDelta),
      r.paymentHash
        ? ldk.Option_ThirtyTwoBytesZ.constructor_some(r.paymentHash)
        : ldk.Option_ThirtyTwoBytesZ.constructor_none(),
    );
    if (!(res instanceof ldk.Result_Bolt11InvoiceSignOrCreationErrorZ_OK))
      throw new Error(
        `LDK could not create the invoice: ${(res as ldk.Result_Bolt11InvoiceSignOrCreationErrorZ_Err).err.to_str()}`,
      );
    return res.res.to_str();
  }

  /**
   * A phantom-node invoice (UtilMethods::create_phantom_invoice): with no channels, LDK writes
   * one route hint, the hop from this node to the phantom node over `phantomScid`.
   */
  createPhantomInvoice(r: LdkInvoiceRequest & { phantomScid: bigint }): string {
    const hints = [ldk.PhantomRouteHints.constructor_new([], r.phantomScid, Buffer.from(this.nodeId, 'hex'))];
    const res = ldk.UtilMethods.constructor_create_phantom_invoice(
      r.amountMsat === undefined
        ? ldk.Option_u64Z.constructor_none()
        : ldk.Option_u64Z.constructor_some(r.amountMsat),
      r.paymentHash
        ? ldk.Option_ThirtyTwoBytesZ.constructor_some(r.paymentHash)
        : ldk.Option_ThirtyTwoBytesZ.constructor_none(),
      r.description ?? '',
      r.expirySeconds ?? 3600,
      hints,
      this.phantomKeys.as_EntropySource(),
      this.phantomKeys.as_NodeSigner(),
      this.logger,
      ldk.Currency.LDKCurrency_Regtest,
      r.minFinalCltvExpiryDelta === undefined
        ? ldk.Option_u16Z.constructor_none()
        : ldk.Option_u16Z.constructor_some(r.minFinalCltvExpiryDelta),
      BigInt(Math.floor(Date.now() / 1000)),
    );
    if (!(res instanceof ldk.Result_Bolt11InvoiceSignOrCreationErrorZ_OK))
      throw new Error(
        `LDK could not create the phantom invoice: ${(res as ldk.Result_Bolt11InvoiceSignOrCreationErrorZ_Err).err.to_str()}`,
      );
    return res.res.to_str();
  }
}
