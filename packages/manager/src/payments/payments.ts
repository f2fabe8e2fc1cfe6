/**
 * Payments over a direct channel (BOLT 11 + BOLT 4 with one hop): the payer's onion, the HTLC
 * through the channel, the outcome from the channel's HTLC events; the payee's invoices and
 * the checks of what arrives. The channel core keeps the durability rule (a preimage is in the
 * monitor before update_fulfill_htlc leaves, and before htlc-fulfilled reaches us); this layer
 * decides and keeps its books in a PaymentsStore (store.ts: lmdb in the node), so a payment id
 * answers its first outcome after a restart too, and never pays twice.
 *
 * Events, as the manager's channel events (ChannelManagerOptions.eventSink): each is awaited in
 * `eventSink` (the node's durable event log) before what follows from it happens — PaymentClaimable
 * before the fulfil leaves, PaymentSent / PaymentFailed before the caller hears the outcome — and
 * the books keep an outbox so a crash between the books and the sink loses none: an outcome is
 * stored `told: false` and a claimed HTLC as a `claimed` receipt, and `start()` tells again what
 * a crash left untold (at worst a repeat, never a loss).
 */
import { randomBytes, sha256 } from '@lnkit/crypto';
import {
  createInvoice,
  decodeInvoice,
  type Invoice,
  type InvoiceSigner,
  type Network,
  type RouteHint,
} from '@lnkit/invoice';
import {
  buildPaymentOnion,
  decodeFailureMessage,
  decryptFailurePacket,
  type FailureMessage,
  type ForwardPayment,
  failPeeledHtlc,
  failureName,
  type NodeEcdh,
  OnionError,
  type PeeledPayment,
  peelPaymentOnion,
  type Recipient,
  type RouteHop,
  replyForOnionError,
  routePayloads,
} from '@lnkit/onion';
import type { Logger } from '@lnkit/runtime';
import { Features } from '@lnkit/wire';
import { type Observable, Subject } from 'rxjs';
import type { ChannelInput, ChannelState } from '../channel-state.ts';
import type { Refusal } from '../checks.ts';
import { ManagerError } from '../errors.ts';
import { normalFromChannel } from '../htlc/from-channel.ts';
import { balancesOf, type HtlcEvent, sendableMsat } from '../htlc/index.ts';
import { decideReceive, type ReceiveDecision, type StoredInvoice } from './receive.ts';
import { MemoryPaymentsStore, type PaymentRecord, type PaymentsStore, type ReceiptRecord } from './store.ts';

/** What the payment layer says (the node's event log takes them as they are, hex and decimal). */
export type PaymentEvent =
  | {
      type: 'PaymentSent';
      paymentId: string;
      paymentHash: string;
      /** Hex: the proof of payment (the payer's, no longer a secret). */
      preimage: string;
      amountMsat: bigint;
      feeMsat: bigint;
    }
  | { type: 'PaymentFailed'; paymentId: string; paymentHash: string; reason: string }
  /** An HTLC to us passed the checks; it is being claimed with the invoice's preimage. */
  | { type: 'PaymentClaimable'; paymentHash: string; amountMsat: bigint; keysend: boolean }
  /** The HTLC is settled: our commitment pays us, the peer's too. */
  | { type: 'PaymentClaimed'; paymentHash: string; amountMsat: bigint; keysend: boolean }
  /**
   * LDK's: received HTLCs wait for process_pending_htlc_forwards. lnkit decides each HTLC to us
   * as soon as it is irrevocably committed (no batching delay: there is no forwarding queue to
   * hide timing behind yet), so it is raised once per batch of HTLCs committed together, with
   * `timeForwardableMs` 0, and handled here at once: a handler needs to do nothing with it.
   */
  | { type: 'PendingHTLCsForwardable'; htlcCount: number; timeForwardableMs: number };

/** What sendPayment / keysend answer once the payment ended. */
export interface PaymentOutcome {
  paymentId: string;
  paymentHash: string;
  status: 'succeeded' | 'failed';
  amountMsat: bigint;
  feeMsat: bigint;
  preimage: string | null;
  reason?: string | undefined;
}

export interface CreatedInvoice {
  bolt11: string;
  paymentHash: string;
  /** Seconds since 1970. */
  expiresAt: number;
}

/** One HTLC along a route, as the Forwarder's sendToRoute sends it: its preimage or its failure. */
export type RouteSender = (
  route: RouteHop[],
  paymentHash: Uint8Array,
  recipient: Recipient,
) => Promise<{
  status: 'succeeded' | 'failed';
  preimage?: Uint8Array;
  failure?: { hopIndex: number; name: string; message?: FailureMessage | undefined };
  malformed?: string;
}>;

/** Takes over an HTLC whose peeled onion asks to forward (the manager's Forwarder). */
export type ForwardHandler = (
  channel: number,
  e: Extract<HtlcEvent, { type: 'htlc-committed' }>,
  peeled: ForwardPayment,
) => Promise<void>;

/** What a payment through other nodes asks the router (the shape of @lnkit/gossip's RouteQuery). */
export interface PaymentRouteQuery {
  payer: Uint8Array;
  payee: Uint8Array;
  amountMsat: bigint;
  finalCltvExpiryDelta: number;
  currentBlockHeight: number;
  routeHints?: readonly RouteHint[];
  /** Our usable channels, with what each can send now: the only ways out of this node. */
  firstHops: { shortChannelId: bigint; nodeId: Uint8Array; outboundMsat: bigint; htlcMinimumMsat?: bigint }[];
  /** The channels this payment's earlier attempts failed at. */
  avoidChannels: bigint[];
}

/** A route as the router answers it: each hop the node that receives the HTLC, then the fee. */
export interface PaymentRoute {
  readonly hops: readonly RouteHop[];
  readonly feeMsat: bigint;
}

/**
 * The router a payment to a node we have no channel with goes through (the node's, over the
 * graph: @lnkit/gossip's Router and its scorer). `findRoute` rejects when there is no route.
 */
export interface PaymentRouter {
  findRoute(query: PaymentRouteQuery): Promise<PaymentRoute>;
  /**
   * One path when one carries the amount, else a split over several (basic_mpp): the last hops'
   * amounts add up to the query's. Without it, payments go over one path.
   */
  findRoutes?(query: PaymentRouteQuery): Promise<readonly PaymentRoute[]>;
  /** An attempt failed for want of liquidity at `failedShortChannelId` (the scorer learns). */
  pathFailed?(
    path: { payer: Uint8Array; hops: readonly RouteHop[] },
    failedShortChannelId: bigint,
  ): Promise<void>;
  pathSucceeded?(path: { payer: Uint8Array; hops: readonly RouteHop[] }): Promise<void>;
  /**
   * A channel_update a failure carried (the message, type 258 first): BOLT 4, the origin node
   * "SHOULD" apply it to its graph, so the next route sees the fee, delta or limits the node
   * wants. Resolves with whether the graph took it (valid, signed, newer).
   */
  applyChannelUpdate?(raw: Uint8Array): Promise<boolean>;
}

/** How long a routed payment keeps trying other paths. */
export interface PaymentRetry {
  /** Routes tried at most. Default 10. */
  attempts: number;
  /** No new attempt after this long since the payment started. Default 60 s. */
  timeoutMs: number;
}

export const DEFAULT_PAYMENT_RETRY: PaymentRetry = { attempts: 10, timeoutMs: 60_000 };

/** The channels as payments see them (the ChannelManager gives these). */
export interface PaymentChannels {
  /** The live channels with a peer. */
  channelsWith(nodeId: string): { id: number; state: ChannelState }[];
  /** Every live channel (a routed payment's first hops). */
  all?(): { id: number; state: ChannelState }[];
  /** The channel id of a live channel (hex), the same across restarts. */
  channelIdOf?(id: number): string | undefined;
  /** Hands a channel a command; resolves with what the core refused, if it did. */
  command(id: number, input: ChannelInput): Promise<Refusal | undefined>;
  bestHeight(): number;
}

export interface PaymentsOptions {
  channels: PaymentChannels;
  nodeId: Uint8Array;
  network: Network | undefined;
  /** The node key's signature of an invoice (KeysManager.signWithNodeKey through compactSigner). */
  signInvoice?: InvoiceSigner | undefined;
  /** The node key's ECDH, to peel the onions of HTLCs to us. */
  ecdh?: NodeEcdh | undefined;
  logger: Logger;
  now?: () => number;
  /** Where payments and invoices are kept; default in memory (a restart forgets them). */
  store?: PaymentsStore | undefined;
  /**
   * Where each event is made durable before what follows from it happens (the node's event
   * log); `events$` hears of it after. A sink that throws is logged, and the payment goes on.
   */
  eventSink?: ((event: PaymentEvent) => Promise<void>) | undefined;
  /** Payments to nodes we have no channel with: routed over the graph (without it, direct channels only). */
  router?: PaymentRouter | undefined;
  retry?: PaymentRetry | undefined;
  /** Our private channels a payer can reach us over, for the `r` fields of our invoices. */
  routeHints?: (() => RouteHint[]) | undefined;
  /** How long the parts of a multi-part payment to us may take to reach its total. Default 60 s. */
  mppTimeoutMs?: number | undefined;
}

/** One outgoing payment as listPayments shows it (`pending` while its HTLC is in flight). */
export interface PaymentView extends Omit<PaymentOutcome, 'status'> {
  status: PaymentRecord['status'];
  kind: PaymentRecord['kind'];
  createdAt: number;
  updatedAt: number;
}

interface PayRequest {
  kind: PaymentRecord['kind'];
  bolt11?: string;
  paymentId: string;
  payee: Uint8Array;
  paymentHash: Uint8Array;
  amountMsat: bigint;
  finalCltvDelta: number;
  recipient: Recipient;
  routeHints?: readonly RouteHint[] | undefined;
  /** The invoice offers basic_mpp: the payment may be split over several paths. */
  mpp?: boolean | undefined;
}

/** A multi-part payment to us being collected: its parts so far, until they reach the total. */
interface PartSet {
  totalMsat: bigint;
  sumMsat: bigint;
  parts: { channel: number; e: Extract<HtlcEvent, { type: 'htlc-committed' }>; peeled: PeeledPayment }[];
  timer: NodeJS.Timeout;
}

/** BOLT 4: "SHOULD fail all HTLCs in the HTLC set after some reasonable timeout" (at least 60 s). */
export const MPP_TIMEOUT_MS = 60_000;

/** A routed payment's attempts so far. */
interface Attempts {
  request: PayRequest;
  count: number;
  startedAt: number;
  avoid: Set<bigint>;
}

interface Outgoing {
  paymentId: string;
  paymentHash: Uint8Array;
  amountMsat: bigint;
  sharedSecrets: Uint8Array[];
  channel: number;
  settle(outcome: PaymentOutcome): void;
  /** Routed through other nodes: the route of this attempt, and the attempts so far. */
  route?: PaymentRoute | undefined;
  attempts?: Attempts | undefined;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Blocks above the invoice's min_final_cltv_expiry_delta, for the blocks found while the HTLC travels. */
const CLTV_MARGIN = 3;
/** BOLT 11: "if the c field (min_final_cltv_expiry_delta) is not provided: MUST use an expiry delta of at least 18". */
const KEYSEND_FINAL_CLTV_DELTA = 40;

export class Payments {
  readonly #o: PaymentsOptions;
  readonly #events = new Subject<PaymentEvent>();
  readonly #invoices = new Map<string, StoredInvoice>();
  /** By payment hash: one HTLC in flight per hash. */
  readonly #outgoing = new Map<string, Outgoing>();
  /** By payment id: a retried id answers the first outcome instead of paying twice. */
  readonly #byId = new Map<string, Promise<PaymentOutcome>>();
  /** Every payment of ours by id, as the store has it (loaded at start). */
  readonly #records = new Map<string, PaymentRecord>();
  /** The ids of those records by payment hash (hex): what a new payment of a hash is checked against. */
  readonly #idsByHash = new Map<string, Set<string>>();
  readonly #store: PaymentsStore;
  /** Received HTLCs being claimed: `<channel id hex>:<htlc id>` → their receipt (durable, store.ts). */
  readonly #claiming = new Map<string, ReceiptRecord>();
  /** What a crash left untold: outcomes stored `told: false`, receipts `claimed` (start() tells them). */
  readonly #untold: { payments: PaymentRecord[]; receipts: ReceiptRecord[] } = { payments: [], receipts: [] };
  /** HTLCs to us committed in this turn of the event loop: one PendingHTLCsForwardable for them. */
  #arriving: { count: number; raised: Promise<void> } | undefined;
  /** Fulfils and fails refused while the peer was away, by channel, to give again once connected. */
  readonly #waiting = new Map<number, ChannelInput[]>();
  /** Multi-part payments to us being collected, by payment hash (hex). */
  readonly #partSets = new Map<string, PartSet>();

  readonly events$: Observable<PaymentEvent> = this.#events.asObservable();

  constructor(o: PaymentsOptions) {
    this.#o = o;
    this.#store = o.store ?? new MemoryPaymentsStore();
    const { payments, invoices, receipts } = this.#store.load();
    for (const p of payments) {
      this.#keep(p);
      if (p.told === false) this.#untold.payments.push(p);
    }
    for (const i of invoices) this.#invoices.set(hex(i.paymentHash), i);
    for (const r of receipts) {
      if (r.status === 'claimed') {
        this.#untold.receipts.push(r);
        continue;
      }
      // Claimed before the restart, not settled yet: the restored channel's htlc-resolved ends it.
      this.#claiming.set(r.key, r);
      const invoice = this.#invoices.get(hex(r.paymentHash));
      // A second HTLC of the hash is refused as paid meanwhile (in memory; durable when settled).
      if (invoice) invoice.status = 'paid';
    }
  }

  /**
   * Tells what a crash left between the books and the sink: each outcome stored and not told
   * (PaymentSent / PaymentFailed), each HTLC settled to us whose PaymentClaimed was not told.
   * Call once at start, before the channels run (the ChannelManager's start does).
   */
  async start(): Promise<void> {
    const { payments, receipts } = this.#untold;
    this.#untold.payments = [];
    this.#untold.receipts = [];
    for (const record of payments) {
      await this.#tell(outcomeEvent(record));
      await this.#markTold(record);
    }
    for (const r of receipts) await this.#tellClaimed(r);
  }

  /**
   * After the channels are restored (the ChannelManager's start): what the books say is in
   * flight, against what the channels and monitors hold. A crash can cut between a channel's
   * step and the books' record of it, and the channel will not say that step again:
   * - a payment `pending` whose preimage a monitor learnt succeeded (the preimage is durable
   *   before htlc-fulfilled is said); one whose HTLC is in no channel or monitor, without one,
   *   never left in a commitment (BOLT 2: uncommitted updates are forgotten at reestablish) or
   *   was failed back: it failed;
   * - a receipt `claiming` whose HTLC left every channel was settled: claimed if the preimage is
   *   in a monitor (ours, durable before the fulfil left), else nothing was received.
   * Those still in flight end when their channel settles them.
   */
  async reconcile(view: {
    /** An HTLC of this payment hash (hex) is in a live channel's ledger or a monitor's commitment. */
    inFlight(paymentHashHex: string): boolean;
    /** The preimage of this payment hash (hex) if a monitor learnt it. */
    preimageFor(paymentHashHex: string): Uint8Array | undefined;
  }): Promise<void> {
    for (const record of [...this.#records.values()]) {
      if (record.status !== 'pending' || this.#byId.has(record.paymentId)) continue;
      const h = hex(record.paymentHash);
      const preimage = view.preimageFor(h);
      if (preimage) this.#finish(record, { status: 'succeeded', preimage }, undefined);
      else if (!view.inFlight(h))
        this.#finish(
          record,
          {
            status: 'failed',
            reason: 'its HTLC is in no channel after the restart (never committed, or failed back)',
          },
          undefined,
        );
    }
    for (const [key, claim] of [...this.#claiming]) {
      const h = hex(claim.paymentHash);
      if (view.inFlight(h)) continue;
      this.#claiming.delete(key);
      const invoice = this.#invoices.get(h);
      if (view.preimageFor(h)) {
        await this.#claimed(claim, invoice);
        continue;
      }
      if (invoice && invoice.paidAtSeconds === undefined) invoice.status = 'unpaid';
      await this.#store
        .removeReceipt(key)
        .catch((err: unknown) => this.#o.logger.warn({ err }, 'a receipt could not be removed'));
    }
  }

  /** Durable in the sink first, then live on events$. */
  async #tell(event: PaymentEvent): Promise<void> {
    const sink = this.#o.eventSink;
    if (sink)
      await sink(event).catch((err: unknown) =>
        this.#o.logger.error({ err, event: event.type }, `a ${event.type} event could not be made durable`),
      );
    this.#events.next(event);
  }

  /** The outbox emptied: the outcome's event is durable (a failed write only means a repeat at start). */
  #markTold(record: PaymentRecord): Promise<void> {
    record.told = undefined;
    return this.#store
      .savePayment({ ...record })
      .catch((err: unknown) => this.#o.logger.warn({ err }, 'a told payment outcome could not be marked'));
  }

  /** PaymentClaimed durable, then the receipt goes (a failed removal only means a repeat at start). */
  async #tellClaimed(r: ReceiptRecord): Promise<void> {
    await this.#tell({
      type: 'PaymentClaimed',
      paymentHash: hex(r.paymentHash),
      amountMsat: r.amountMsat,
      keysend: r.keysend,
    });
    await this.#store
      .removeReceipt(r.key)
      .catch((err: unknown) => this.#o.logger.warn({ err }, 'a told receipt could not be removed'));
  }

  #now(): number {
    return Math.floor((this.#o.now?.() ?? Date.now()) / 1000);
  }

  /** A BOLT 11 invoice of ours (`amountMsat` null: any amount), signed with the node key. */
  async createInvoice(
    amountMsat: bigint | null,
    options: { description?: string; expirySeconds?: number; minFinalCltvExpiryDelta?: number } = {},
  ): Promise<CreatedInvoice> {
    const { signInvoice, network } = this.#o;
    if (!signInvoice || !network)
      throw new ManagerError(
        'invalid-argument',
        'this node cannot sign invoices (no node key or unknown chain)',
      );
    if (amountMsat !== null && (typeof amountMsat !== 'bigint' || amountMsat <= 0n))
      throw new ManagerError('invalid-argument', 'an invoice amount must be a positive number of msat');
    const paymentPreimage = randomBytes(32);
    const paymentSecret = randomBytes(32);
    const paymentHash = sha256(paymentPreimage);
    const timestamp = this.#now();
    const expirySeconds = options.expirySeconds ?? 3600;
    const minFinalCltvExpiryDelta = options.minFinalCltvExpiryDelta ?? 18;
    const { invoice } = await createInvoice(
      {
        network,
        amountMsat,
        timestamp,
        paymentHash,
        paymentSecret,
        description: options.description ?? '',
        expirySeconds,
        minFinalCltvExpiryDelta,
        routeHints: this.#o.routeHints?.() ?? [],
        // var_onion_optin and payment_secret required, basic_mpp offered: we take payments in parts.
        features: Features.fromBits([8, 14, 17]),
      },
      signInvoice,
    );
    const stored: StoredInvoice = {
      bolt11: invoice,
      paymentHash,
      paymentPreimage,
      paymentSecret,
      amountMsat,
      expiresAt: timestamp + expirySeconds,
      minFinalCltvExpiryDelta,
      status: 'unpaid',
    };
    // Durable before the payer can have it: a payment to it after a restart is still claimed.
    await this.#store.saveInvoice(stored);
    this.#invoices.set(hex(paymentHash), stored);
    return { bolt11: invoice, paymentHash: hex(paymentHash), expiresAt: timestamp + expirySeconds };
  }

  listInvoices(): {
    bolt11: string;
    paymentHash: string;
    amountMsat: bigint | null;
    status: string;
    paidAt: number | null;
  }[] {
    return [...this.#invoices.values()].map((i) => ({
      bolt11: i.bolt11,
      paymentHash: hex(i.paymentHash),
      amountMsat: i.amountMsat,
      status: i.status === 'paid' ? 'paid' : this.#now() > i.expiresAt ? 'expired' : 'unpaid',
      paidAt: i.paidAtSeconds ?? null,
    }));
  }

  /**
   * Pays a BOLT 11 invoice over a direct channel to its payee; resolves with the outcome. A
   * refusal before anything is sent (expired, another network, no channel, too much) rejects
   * with ManagerError naming it.
   */
  sendPayment(
    bolt11: string,
    options: { amountMsat?: bigint; paymentId?: string } = {},
  ): Promise<PaymentOutcome> {
    let invoice: Invoice;
    try {
      invoice = decodeInvoice(bolt11);
    } catch (err) {
      return Promise.reject(
        new ManagerError('invalid-argument', `not a valid invoice: ${(err as Error).message}`),
      );
    }
    if (this.#o.network && invoice.network !== this.#o.network)
      return Promise.reject(
        new ManagerError(
          'invalid-argument',
          `the invoice is for ${invoice.network}, this node is on ${this.#o.network}`,
        ),
      );
    if (invoice.isExpired(this.#now()))
      return Promise.reject(
        new ManagerError(
          'invalid-argument',
          `the invoice expired at ${new Date(invoice.expiresAt * 1000).toISOString()}`,
        ),
      );
    const amountMsat = invoice.amountMsat ?? options.amountMsat;
    if (amountMsat === undefined)
      return Promise.reject(
        new ManagerError('invalid-argument', 'the invoice has no amount: give amountMsat'),
      );
    if (
      invoice.amountMsat !== null &&
      options.amountMsat !== undefined &&
      options.amountMsat < invoice.amountMsat
    )
      return Promise.reject(new ManagerError('invalid-argument', 'amountMsat is less than the invoice asks'));
    return this.#pay({
      kind: 'invoice',
      bolt11,
      paymentId: options.paymentId ?? hex(invoice.paymentHash),
      payee: invoice.payee,
      paymentHash: invoice.paymentHash,
      amountMsat: options.amountMsat ?? amountMsat,
      finalCltvDelta: invoice.minFinalCltvExpiryDelta,
      routeHints: invoice.routeHints,
      mpp: invoice.features.supports('basic_mpp'),
      recipient: {
        paymentSecret: invoice.paymentSecret,
        totalMsat: options.amountMsat ?? amountMsat,
        ...(invoice.paymentMetadata ? { paymentMetadata: invoice.paymentMetadata } : {}),
      },
    });
  }

  /** A spontaneous payment (keysend): our preimage in TLV 5482373484 of the final payload. */
  keysend(
    nodeIdHex: string,
    amountMsat: bigint,
    options: { paymentId?: string } = {},
  ): Promise<PaymentOutcome> {
    if (!/^0[23][0-9a-f]{64}$/.test(nodeIdHex))
      return Promise.reject(new ManagerError('invalid-argument', `${nodeIdHex} is not a node id`));
    if (typeof amountMsat !== 'bigint' || amountMsat <= 0n)
      return Promise.reject(
        new ManagerError('invalid-argument', 'a payment amount must be a positive number of msat'),
      );
    const preimage = randomBytes(32);
    const paymentHash = sha256(preimage);
    return this.#pay({
      kind: 'keysend',
      paymentId: options.paymentId ?? hex(paymentHash),
      payee: Buffer.from(nodeIdHex, 'hex'),
      paymentHash,
      amountMsat,
      finalCltvDelta: KEYSEND_FINAL_CLTV_DELTA,
      recipient: { keysendPreimage: preimage },
    });
  }

  /**
   * Stops the timers of the multi-part payments being collected (a set's HTLCs stay in their
   * channels; the restarted node collects them again). While a set waits, its timer keeps the
   * process alive: the HTLCs it holds must be answered.
   */
  stop(): void {
    for (const set of this.#partSets.values()) clearTimeout(set.timer);
    this.#partSets.clear();
  }

  /** Our payments, oldest first, in the shape sendPayment answers (`pending` while in flight). */
  listPayments(): PaymentView[] {
    return [...this.#records.values()]
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((r) => ({
        ...outcomeOf(r),
        status: r.status,
        kind: r.kind,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
      }));
  }

  #pay(p: PayRequest): Promise<PaymentOutcome> {
    const known = this.#records.get(p.paymentId);
    if (known) {
      // A keysend's hash is new at each try: its id alone says it is the same payment.
      if (known.kind !== p.kind || (p.kind === 'invoice' && hex(known.paymentHash) !== hex(p.paymentHash)))
        return Promise.reject(
          new ManagerError(
            'invalid-argument',
            `payment id ${p.paymentId} is already used by another payment (payment hash ${hex(known.paymentHash)})`,
          ),
        );
      const inFlight = this.#byId.get(p.paymentId);
      if (inFlight) return inFlight;
      if (known.status === 'pending')
        return Promise.reject(
          new ManagerError(
            'invalid-argument',
            `payment ${p.paymentId} is still in flight from before the restart: its outcome comes when the channel settles it`,
          ),
        );
      return Promise.resolve(outcomeOf(known));
    }
    if (p.kind === 'invoice') {
      // A new id for an invoice is a retry of one that failed; never a second payment of it.
      for (const r of this.#withHash(p.paymentHash))
        if (r.kind === 'invoice' && r.status !== 'failed')
          return Promise.reject(
            new ManagerError(
              'invalid-argument',
              r.status === 'succeeded'
                ? `the invoice is already paid (payment id ${r.paymentId})`
                : `the invoice is being paid (payment id ${r.paymentId})`,
            ),
          );
    }
    const now = this.#now();
    const record: PaymentRecord = {
      paymentId: p.paymentId,
      paymentHash: p.paymentHash,
      kind: p.kind,
      status: 'pending',
      amountMsat: p.amountMsat,
      feeMsat: 0n,
      bolt11: p.bolt11,
      createdAt: now,
      updatedAt: now,
    };
    // Taken at once (before any await), so a second call with the id waits for this one.
    this.#keep(record);
    const started = this.#start(p, record);
    this.#byId.set(p.paymentId, started);
    started.then(
      () => this.#byId.delete(p.paymentId),
      () => {
        this.#byId.delete(p.paymentId);
        // Refused before anything left: the id may be tried again.
        if (this.#records.get(p.paymentId) === record && record.status === 'pending') {
          this.#records.delete(p.paymentId);
          this.#idsByHash.get(hex(record.paymentHash))?.delete(p.paymentId);
        }
      },
    );
    return started;
  }

  async #start(p: PayRequest, record: PaymentRecord): Promise<PaymentOutcome> {
    const payeeHex = hex(p.payee);
    if (payeeHex === hex(this.#o.nodeId))
      throw new ManagerError('invalid-argument', 'the payee is this node');
    if (this.#outgoing.has(hex(p.paymentHash)))
      throw new ManagerError('invalid-argument', 'a payment with this payment hash is already in flight');
    const router = this.#o.router;
    // A payee we have a channel with is paid over it (or told why not: the peer away, say).
    if (router && this.#o.channels.channelsWith(payeeHex).length === 0)
      return this.#startRouted(p, record, router);
    const channel = this.#pickChannel(payeeHex, p.amountMsat);
    const cltvExpiry = this.#o.channels.bestHeight() + p.finalCltvDelta + CLTV_MARGIN;
    const onion = buildPaymentOnion({
      sessionKey: randomBytes(32),
      paymentHash: p.paymentHash,
      hops: routePayloads(
        [{ nodeId: p.payee, shortChannelId: 0n, amountMsat: p.amountMsat, cltvExpiry }],
        p.recipient,
      ),
    });
    const outcome = new Promise<PaymentOutcome>((settle) => {
      this.#outgoing.set(hex(p.paymentHash), {
        paymentId: p.paymentId,
        paymentHash: p.paymentHash,
        amountMsat: p.amountMsat,
        sharedSecrets: onion.sharedSecrets,
        channel,
        settle,
      });
    });
    // The id is durable before its HTLC can leave: after a crash a retry answers, never pays again.
    await this.#store.savePayment(record);
    const refused = await this.#o.channels.command(channel, {
      kind: 'add-htlc',
      amountMsat: p.amountMsat,
      paymentHash: p.paymentHash,
      cltvExpiry,
      onionRoutingPacket: onion.packet,
    });
    if (refused) {
      this.#outgoing.delete(hex(p.paymentHash));
      await this.#store.removePayment(p.paymentId);
      throw new ManagerError('invalid-argument', `the channel cannot send this payment: ${refused.reason}`);
    }
    await this.#o.channels.command(channel, { kind: 'commit' });
    return outcome;
  }

  /**
   * A payment through other nodes: a route from the router over our usable channels, the HTLC
   * offered on its first one; a failure on the way (not at the payee) teaches the scorer, and
   * another route avoiding the failed channel is tried, until it succeeds, runs out of routes,
   * attempts or time. The record is durable before the first HTLC leaves, as a direct one's.
   */
  async #startRouted(p: PayRequest, record: PaymentRecord, router: PaymentRouter): Promise<PaymentOutcome> {
    const attempts: Attempts = { request: p, count: 0, startedAt: Date.now(), avoid: new Set() };
    let settle!: (o: PaymentOutcome) => void;
    const outcome = new Promise<PaymentOutcome>((s) => {
      settle = s;
    });
    // The first attempt's refusals (no route, say) reject, with nothing stored; later ones end the payment.
    const routes =
      p.mpp && router.findRoutes && this.#sendRoute ? await this.#findRoutes(router, attempts) : undefined;
    if (routes && routes.length > 1) return this.#sendParts(router, p, record, routes);
    const route = routes?.[0] ?? (await this.#findRoute(router, attempts));
    await this.#store.savePayment(record);
    await this.#attempt(router, attempts, route, settle);
    return outcome;
  }

  async #findRoutes(router: PaymentRouter, a: Attempts): Promise<readonly PaymentRoute[]> {
    return this.#routeQuery(a, (q) => (router.findRoutes as NonNullable<PaymentRouter['findRoutes']>)(q));
  }

  async #findRoute(router: PaymentRouter, a: Attempts): Promise<PaymentRoute> {
    return this.#routeQuery(a, (q) => router.findRoute(q));
  }

  /**
   * A payment split over several paths (BOLT 4 basic_mpp): every part's HTLC carries the
   * invoice's payment_secret and the whole amount as total_msat, so the payee claims them all
   * once they add up. The record is durable before any part leaves. A part that fails on the way
   * (not at the payee) is sent again over another route for the same amount, avoiding the
   * channels that failed, while the payee holds the others (it waits for the total up to its
   * MPP timeout); attempts and time are the payment's. The payee's claim of one part is the
   * preimage of all; if no part is claimed, the payment fails with the failure of the first (the
   * payee fails the rest back together, mpp_timeout, when a part never arrives).
   */
  async #sendParts(
    router: PaymentRouter,
    p: PayRequest,
    record: PaymentRecord,
    routes: readonly PaymentRoute[],
  ): Promise<PaymentOutcome> {
    const send = this.#sendRoute;
    if (!send) throw new ManagerError('no-route', 'no way to send a payment in parts');
    await this.#store.savePayment(record);
    this.#o.logger.info({ paymentId: p.paymentId, parts: routes.length }, 'payment: sent in parts');
    const payer = this.#o.nodeId;
    const retry = this.#o.retry ?? DEFAULT_PAYMENT_RETRY;
    const startedAt = Date.now();
    const avoid = new Set<bigint>();
    let tries = routes.length;
    /** Once the payee has answered for the set (mpp_timeout, a wrong amount), no part is sent again. */
    let payeeAnswered = false;
    const sendPart = async (
      first: PaymentRoute,
    ): Promise<{ outcome: Awaited<ReturnType<RouteSender>>; route: PaymentRoute }> => {
      let route = first;
      for (;;) {
        const outcome = await send([...route.hops], p.paymentHash, p.recipient).catch(
          (err: unknown): Awaited<ReturnType<RouteSender>> => ({
            status: 'failed',
            failure: { hopIndex: -1, name: (err as Error).message },
          }),
        );
        if (outcome.status === 'succeeded') {
          void router.pathSucceeded?.({ payer, hops: route.hops })?.catch(() => {});
          return { outcome, route };
        }
        this.#learnFrom(outcome.failure?.message);
        const at = outcome.failure?.hopIndex;
        const last = route.hops.length - 1;
        if (at === last) payeeAnswered = true;
        // A forwarding node's failure: the channel out of it had too little (the payee's are not
        // the path's); refused at our end, or unreadable: our first channel.
        const failedScid =
          at === undefined || at < 0
            ? route.hops[0]?.shortChannelId
            : at < last
              ? route.hops[at + 1]?.shortChannelId
              : undefined;
        if (failedScid === undefined) return { outcome, route };
        avoid.add(failedScid);
        void router.pathFailed?.({ payer, hops: route.hops }, failedScid)?.catch(() => {});
        if (
          payeeAnswered ||
          tries >= retry.attempts + routes.length - 1 ||
          Date.now() - startedAt >= retry.timeoutMs
        )
          return { outcome, route };
        const amountMsat = route.hops[last]?.amountMsat as bigint;
        try {
          route = await this.#findRoute(router, {
            request: { ...p, amountMsat },
            count: tries,
            startedAt,
            avoid,
          });
        } catch {
          return { outcome, route };
        }
        tries++;
        this.#o.logger.info(
          { paymentId: p.paymentId, amountMsat: String(amountMsat), avoid: [...avoid].map(String) },
          'payment: a part sent again over another route',
        );
      }
    };
    const parts = await Promise.all(routes.map(sendPart));
    let preimage: Uint8Array | undefined;
    let firstFailure: string | undefined;
    for (const { outcome: o } of parts) {
      if (o.status === 'succeeded' && o.preimage) {
        preimage ??= o.preimage;
        continue;
      }
      const at = o.failure?.hopIndex;
      firstFailure ??= o.failure
        ? `${o.failure.name}${at !== undefined && at >= 0 ? ` at hop ${at}` : ''}`
        : (o.malformed ?? 'failed');
    }
    return new Promise<PaymentOutcome>((settle) => {
      if (preimage) record.feeMsat = parts.reduce((sum, { route }) => sum + route.feeMsat, 0n);
      this.#finish(
        record,
        preimage
          ? { status: 'succeeded', preimage }
          : { status: 'failed', reason: `${firstFailure ?? 'failed'} (${routes.length} parts)` },
        { settle } as Outgoing,
      );
    });
  }

  async #routeQuery<T>(a: Attempts, ask: (q: PaymentRouteQuery) => Promise<T>): Promise<T> {
    const p = a.request;
    const firstHops = (this.#o.channels.all?.() ?? [])
      .filter(({ state }) => state.phase === 'ready' && state.link !== 'disconnected')
      .map(({ state }) => ({
        shortChannelId: state.shortChannelId ?? state.localAlias,
        nodeId: Uint8Array.from(Buffer.from(state.counterpartyNodeId, 'hex')),
        // What one more HTLC can carry now (reserve, fee and its buffer, in-flight limit), not the balance.
        outboundMsat: sendableOf(state),
        ...(state.remote ? { htlcMinimumMsat: state.remote.htlcMinimumMsat } : {}),
      }));
    try {
      return await ask({
        payer: this.#o.nodeId,
        payee: p.payee,
        amountMsat: p.amountMsat,
        finalCltvExpiryDelta: p.finalCltvDelta + CLTV_MARGIN,
        currentBlockHeight: this.#o.channels.bestHeight(),
        ...(p.routeHints && p.routeHints.length > 0 ? { routeHints: p.routeHints } : {}),
        firstHops,
        avoidChannels: [...a.avoid],
      });
    } catch (err) {
      throw new ManagerError(
        'no-route',
        `no route to ${hex(p.payee)} for ${p.amountMsat} msat: ${(err as Error).message}`,
      );
    }
  }

  /** Offers one attempt's HTLC on the route's first channel (a refusal there ends the payment). */
  async #attempt(
    router: PaymentRouter,
    a: Attempts,
    route: PaymentRoute,
    settle: (o: PaymentOutcome) => void,
  ): Promise<void> {
    const p = a.request;
    const first = route.hops[0];
    const channel = (this.#o.channels.all?.() ?? []).find(
      ({ state }) => (state.shortChannelId ?? state.localAlias) === first?.shortChannelId,
    );
    if (!first || !channel)
      throw new ManagerError('no-route', 'the route found does not start on one of our usable channels');
    a.count++;
    const onion = buildPaymentOnion({
      sessionKey: randomBytes(32),
      paymentHash: p.paymentHash,
      hops: routePayloads([...route.hops], p.recipient),
    });
    this.#outgoing.set(hex(p.paymentHash), {
      paymentId: p.paymentId,
      paymentHash: p.paymentHash,
      amountMsat: p.amountMsat,
      sharedSecrets: onion.sharedSecrets,
      channel: channel.id,
      settle,
      route,
      attempts: a,
    });
    const refused = await this.#o.channels.command(channel.id, {
      kind: 'add-htlc',
      amountMsat: first.amountMsat,
      paymentHash: p.paymentHash,
      cltvExpiry: first.cltvExpiry,
      onionRoutingPacket: onion.packet,
    });
    if (refused) {
      // Nothing left: another route (not over this channel) may still go.
      this.#outgoing.delete(hex(p.paymentHash));
      a.avoid.add(first.shortChannelId);
      return this.#retry(router, a, settle, `our channel refused the HTLC: ${refused.reason}`);
    }
    await this.#o.channels.command(channel.id, { kind: 'commit' });
  }

  /** The next attempt, or the end of the payment with `reason` when none is left. */
  async #retry(
    router: PaymentRouter,
    a: Attempts,
    settle: (o: PaymentOutcome) => void,
    reason: string,
  ): Promise<void> {
    const record = this.#records.get(a.request.paymentId);
    if (record?.status !== 'pending') return;
    const fail = (why: string) =>
      this.#finish(record, { status: 'failed', reason: why }, { settle } as Outgoing);
    const retry = this.#o.retry ?? DEFAULT_PAYMENT_RETRY;
    if (a.count >= retry.attempts) return fail(`${reason} (gave up after ${a.count} attempts)`);
    if (Date.now() - a.startedAt >= retry.timeoutMs)
      return fail(`${reason} (gave up after ${Math.round((Date.now() - a.startedAt) / 1000)} s)`);
    let route: PaymentRoute;
    try {
      route = await this.#findRoute(router, a);
    } catch (err) {
      return fail(`${reason}; then ${(err as Error).message}`);
    }
    this.#o.logger.info(
      { paymentId: a.request.paymentId, attempt: a.count + 1, avoid: [...a.avoid].map(String), reason },
      'payment: trying another route',
    );
    await this.#attempt(router, a, route, settle).catch((err: unknown) => fail((err as Error).message));
  }

  /**
   * A routed attempt failed: at the payee it ends the payment (BOLT 4: the final node's answer);
   * on the way, the channel out of the erring node is avoided (and the scorer told), and the
   * payment goes on.
   */
  #routedFailed(out: Outgoing, failure: { hopIndex?: number; reason: string }): void {
    const router = this.#o.router;
    const a = out.attempts;
    const route = out.route;
    const record = this.#records.get(out.paymentId);
    if (!router || !a || !route || !record) return;
    const last = route.hops.length - 1;
    const at = failure.hopIndex;
    if (at === last) {
      this.#finish(record, { status: 'failed', reason: failure.reason }, out);
      return;
    }
    // Unreadable, or from a forwarding node: the channel after the erring node (the first one, when unknown).
    const failedScid = route.hops[at === undefined ? 0 : at + 1]?.shortChannelId;
    if (failedScid !== undefined) {
      a.avoid.add(failedScid);
      void router
        .pathFailed?.({ payer: this.#o.nodeId, hops: route.hops }, failedScid)
        ?.catch((err: unknown) => this.#o.logger.debug({ err }, 'the scorer could not be told'));
    }
    const where = at === undefined ? '' : ` at hop ${at} (${hex(route.hops[at]!.nodeId).slice(0, 16)}…)`;
    void this.#retry(router, a, out.settle, `${failure.reason}${where}`);
  }

  /** A live, connected channel to the payee that can send the amount (the largest balance first). */
  #pickChannel(payeeHex: string, amountMsat: bigint): number {
    const channels = this.#o.channels
      .channelsWith(payeeHex)
      // Reestablishing: the HTLC waits in the channel's outbox until the peer's channel_reestablish.
      .filter(({ state }) => state.phase === 'ready' && state.link !== 'disconnected');
    if (channels.length === 0)
      throw new ManagerError(
        'invalid-argument',
        `no ready channel with ${payeeHex}, the payee, whose peer is connected`,
      );
    const withBalance = channels
      .map((c) => ({ id: c.id, localMsat: localBalanceMsat(c.state) }))
      .sort((a, b) => (b.localMsat > a.localMsat ? 1 : b.localMsat < a.localMsat ? -1 : 0));
    const best = withBalance[0];
    if (!best || best.localMsat < amountMsat)
      throw new ManagerError(
        'invalid-argument',
        `${amountMsat} msat is more than the channel with the payee holds on our side (${best?.localMsat ?? 0n} msat)`,
      );
    return best.id;
  }

  /** The channel's HTLC events (channel.actor.ts, in the channel's order). */
  onHtlcEvent(channel: number, e: HtlcEvent): void {
    switch (e.type) {
      case 'htlc-committed':
        void this.#onReceived(channel, e, this.#forwardable()).catch((err: unknown) =>
          this.#o.logger.error({ err }, 'a received HTLC could not be handled'),
        );
        return;
      case 'htlc-fulfilled':
        this.#fulfilled(e.paymentHash, e.paymentPreimage);
        return;
      case 'htlc-resolved':
        if (e.direction === 'offered') this.#onOfferedResolved(e);
        else this.#onReceivedResolved(channel, e);
        return;
    }
  }

  /**
   * A preimage learnt on chain (the ChainMonitor's PaymentPreimageLearnt: the payee went on
   * chain and took our HTLC with it; the monitor holds it): our payment of that hash succeeded,
   * as the off-chain fulfil would have ended it (BOLT 5: the preimage "MUST" be extracted).
   */
  preimageLearnt(paymentHash: Uint8Array, preimage: Uint8Array): void {
    if (hex(sha256(preimage)) !== hex(paymentHash)) return;
    this.#fulfilled(paymentHash, preimage);
  }

  /**
   * Our HTLC of this hash on `channel` timed out on chain, or can never be claimed there, and
   * that is final (the ChainMonitor's HtlcFailedOnChain): the payment failed. After a restart,
   * a payment still pending of that hash fails the same way.
   */
  htlcFailedOnChain(channel: number | undefined, paymentHash: Uint8Array): void {
    const out = this.#outgoing.get(hex(paymentHash));
    if (out && channel !== undefined && out.channel !== channel) return;
    const record = out ? this.#records.get(out.paymentId) : this.#pendingOf(paymentHash);
    if (!record) return;
    this.#outgoing.delete(hex(paymentHash));
    this.#finish(record, { status: 'failed', reason: 'the HTLC timed out on chain' }, out);
  }

  /**
   * An HTLC to us that we were claiming was taken by our claim on chain, and that is final (the
   * ChainMonitor's HtlcClaimedOnChain): received, as an off-chain fulfil would be (PaymentClaimed).
   */
  htlcClaimedOnChain(channelId: Uint8Array, htlcId: bigint): void {
    const key = `${hex(channelId)}:${htlcId}`;
    const claim = this.#claiming.get(key);
    if (!claim) return;
    this.#claiming.delete(key);
    void this.#claimed(claim, this.#invoices.get(hex(claim.paymentHash)));
  }

  /** The channel_update a failure carried, to the router's graph (BOLT 4: "SHOULD apply"). */
  #learnFrom(message: FailureMessage | undefined): void {
    const router = this.#o.router;
    if (!router?.applyChannelUpdate || !message || !('channelUpdate' in message)) return;
    const raw = message.channelUpdate;
    if (raw.length === 0) return;
    // Most nodes send it with its type in front; BOLT 4 once said without.
    const typed = raw[0] === 0x01 && raw[1] === 0x02 ? raw : Uint8Array.from([0x01, 0x02, ...raw]);
    void router
      .applyChannelUpdate(typed)
      .then((taken) => {
        if (taken)
          this.#o.logger.debug({}, 'a channel_update from a payment failure was applied to the graph');
      })
      .catch((err: unknown) => this.#o.logger.debug({ err }, 'the channel_update could not be applied'));
  }

  /** Our HTLC of this hash was fulfilled (off chain, or on chain): the payment succeeded. */
  #fulfilled(paymentHash: Uint8Array, preimage: Uint8Array): void {
    const out = this.#outgoing.get(hex(paymentHash));
    const record = out ? this.#records.get(out.paymentId) : this.#pendingOf(paymentHash);
    if (!record) return;
    this.#outgoing.delete(hex(paymentHash));
    if (out?.route) {
      record.feeMsat = out.route.feeMsat;
      void this.#o.router
        ?.pathSucceeded?.({ payer: this.#o.nodeId, hops: out.route.hops })
        ?.catch((err: unknown) => this.#o.logger.debug({ err }, 'the scorer could not be told'));
    }
    this.#finish(record, { status: 'succeeded', preimage }, out);
  }

  /**
   * PendingHTLCsForwardable, once for the HTLCs committed to us in this turn of the event loop
   * (one channel step's, usually); resolves once it is handed to the sink. Its durability is
   * not waited for: the sink keeps call order, so it is durable before the PaymentClaimable of
   * any of them, which is; and the HTLCs are handled at once (see the event).
   */
  #forwardable(): Promise<void> {
    if (this.#arriving) {
      this.#arriving.count++;
      return this.#arriving.raised;
    }
    const batch = { count: 1, raised: Promise.resolve() };
    batch.raised = new Promise((resolve) =>
      setImmediate(() => {
        this.#arriving = undefined;
        void this.#tell({ type: 'PendingHTLCsForwardable', htlcCount: batch.count, timeForwardableMs: 0 });
        resolve();
      }),
    );
    this.#arriving = batch;
    return batch.raised;
  }

  /** `<channel id hex>:<htlc id>`: an HTLC's key in the books, the same after a restart. */
  #htlcKey(channel: number, id: bigint): string {
    return `${this.#o.channels.channelIdOf?.(channel) ?? `#${channel}`}:${id}`;
  }

  /** A payment of ours still pending with this hash (one in flight before a restart). */
  #pendingOf(paymentHash: Uint8Array): PaymentRecord | undefined {
    for (const r of this.#withHash(paymentHash))
      if (r.status === 'pending' && !this.#byId.has(r.paymentId)) return r;
    return undefined;
  }

  #keep(r: PaymentRecord): void {
    this.#records.set(r.paymentId, r);
    const h = hex(r.paymentHash);
    const ids = this.#idsByHash.get(h) ?? new Set<string>();
    ids.add(r.paymentId);
    this.#idsByHash.set(h, ids);
  }

  /** Our payment records of this hash (usually one; more after a failed try and a retry). */
  *#withHash(paymentHash: Uint8Array): Iterable<PaymentRecord> {
    for (const id of this.#idsByHash.get(hex(paymentHash)) ?? []) {
      const r = this.#records.get(id);
      if (r) yield r;
    }
  }

  /**
   * The outcome kept (durably, `told: false`), its PaymentSent / PaymentFailed made durable, then
   * the caller's promise; then the outbox emptied. A payment ends once: a second end is ignored.
   */
  #finish(
    record: PaymentRecord,
    end: { status: 'succeeded'; preimage: Uint8Array } | { status: 'failed'; reason: string },
    out: Outgoing | undefined,
  ): void {
    if (record.status !== 'pending') return;
    record.status = end.status;
    record.updatedAt = this.#now();
    record.told = false;
    if (end.status === 'succeeded') record.preimage = end.preimage;
    else record.reason = end.reason;
    const outcome = outcomeOf(record);
    void (async () => {
      await this.#store
        .savePayment({ ...record })
        .catch((err: unknown) => this.#o.logger.error({ err }, 'a payment outcome could not be stored'));
      await this.#tell(outcomeEvent(record));
      out?.settle(outcome);
      await this.#markTold(record);
    })();
  }

  #onOfferedResolved(e: Extract<HtlcEvent, { type: 'htlc-resolved' }>): void {
    if (e.removal.kind === 'fulfill') return; // htlc-fulfilled said it
    const out = this.#outgoing.get(hex(e.paymentHash));
    if (!out) {
      // In flight before a restart: the onion's shared secrets are gone with it.
      const record = this.#pendingOf(e.paymentHash);
      if (record)
        this.#finish(record, { status: 'failed', reason: 'failed by the peer (after a restart)' }, undefined);
      return;
    }
    this.#outgoing.delete(hex(e.paymentHash));
    const record = this.#records.get(out.paymentId);
    let reason: string;
    let hopIndex: number | undefined;
    if (e.removal.kind === 'fail') {
      try {
        const d = decryptFailurePacket(out.sharedSecrets, e.removal.reason);
        hopIndex = d.hopIndex;
        try {
          this.#learnFrom(decodeFailureMessage(d.message));
        } catch {
          // An unreadable failure message: its code still names it.
        }
        reason =
          d.failureCode === undefined
            ? 'an unreadable failure'
            : (failureName(d.failureCode) ?? `failure ${d.failureCode}`);
      } catch {
        reason = 'a failure that does not decrypt';
      }
    } else reason = `malformed (${failureName(e.removal.failureCode) ?? e.removal.failureCode})`;
    if (out.route) {
      this.#routedFailed(out, { ...(hopIndex !== undefined ? { hopIndex } : {}), reason });
      return;
    }
    if (record) this.#finish(record, { status: 'failed', reason }, out);
  }

  /**
   * Our fulfilled HTLC left both commitments (before a restart or after it: the receipt is
   * durable): the invoice marked paid and the receipt `claimed` in one write, PaymentClaimed
   * made durable, the receipt removed. Once per HTLC: the receipt is taken from #claiming first.
   */
  #onReceivedResolved(channel: number, e: Extract<HtlcEvent, { type: 'htlc-resolved' }>): void {
    const key = this.#htlcKey(channel, e.id);
    const claim = this.#claiming.get(key);
    if (!claim) return;
    this.#claiming.delete(key);
    const log = this.#o.logger;
    const invoice = this.#invoices.get(hex(claim.paymentHash));
    if (e.removal.kind !== 'fulfill') {
      // Our fulfil was never given (the channel failed it instead): nothing was received.
      if (invoice && invoice.paidAtSeconds === undefined) invoice.status = 'unpaid';
      void this.#store
        .removeReceipt(key)
        .catch((err: unknown) => log.warn({ err }, 'a receipt could not be removed'));
      return;
    }
    void this.#claimed(claim, invoice);
  }

  /** The invoice paid and the receipt `claimed` (one write), PaymentClaimed durable, the receipt gone. */
  async #claimed(claim: ReceiptRecord, invoice: StoredInvoice | undefined): Promise<void> {
    if (invoice) {
      // A multi-part payment's parts settle one by one: what was received adds up.
      invoice.receivedMsat =
        invoice.paidAtSeconds === undefined
          ? claim.amountMsat
          : (invoice.receivedMsat ?? 0n) + claim.amountMsat;
      invoice.status = 'paid';
      invoice.paidAtSeconds ??= this.#now();
    }
    const claimed: ReceiptRecord = { ...claim, status: 'claimed', updatedAt: this.#now() };
    await this.#store
      .saveClaimed(claimed, invoice)
      .catch((err: unknown) => this.#o.logger.error({ err }, 'a paid invoice could not be stored'));
    await this.#tellClaimed(claimed);
  }

  /** BOLT 4 at the final node: peel, check against the invoice, fulfill or fail. */
  async #onReceived(
    channel: number,
    e: Extract<HtlcEvent, { type: 'htlc-committed' }>,
    forwardable: Promise<void>,
  ): Promise<void> {
    const ecdh = this.#o.ecdh;
    const log = this.#o.logger;
    const fail = (input: ChannelInput) => this.#settle(channel, input);
    if (!ecdh) {
      log.warn({}, 'an HTLC to us, and no node key to peel its onion: failed');
      // Without the onion's key no failure can be encrypted for the payer: a malformed one (BADONION|PERM|5).
      await fail({
        kind: 'fail-malformed-htlc',
        id: e.id,
        sha256OfOnion: sha256(e.onionRoutingPacket),
        failureCode: 0xc005,
      });
      return;
    }
    const htlc = {
      onionRoutingPacket: e.onionRoutingPacket,
      paymentHash: e.paymentHash,
      amountMsat: e.amountMsat,
      cltvExpiry: e.cltvExpiry,
      ...(e.blindedPathKey ? { pathKey: e.blindedPathKey } : {}),
    };
    let peeled: Awaited<ReturnType<typeof peelPaymentOnion>>;
    try {
      peeled = await peelPaymentOnion(htlc, ecdh);
    } catch (err) {
      const reply = err instanceof OnionError ? replyForOnionError(err) : undefined;
      log.info({ reason: (err as Error).message }, 'an HTLC to us with a bad onion: failed');
      if (reply?.kind === 'malformed')
        await fail({
          kind: 'fail-malformed-htlc',
          id: e.id,
          sha256OfOnion: reply.sha256OfOnion,
          failureCode: reply.failureCode,
        });
      else if (reply) await fail({ kind: 'fail-htlc', id: e.id, reason: reply.reason });
      else
        await fail({
          kind: 'fail-malformed-htlc',
          id: e.id,
          sha256OfOnion: sha256(e.onionRoutingPacket),
          failureCode: 0xc005,
        });
      return;
    }
    const invoice = this.#invoices.get(hex(e.paymentHash));
    const key = this.#htlcKey(channel, e.id);
    if (this.#claiming.has(key)) {
      // Claimed before a restart (its receipt durable, PaymentClaimable told) and given to us
      // again by the restored channel: the fulfil again, no second event, no second check.
      const preimage =
        invoice?.paymentPreimage ?? (peeled.kind === 'receive' ? peeled.keysendPreimage : undefined);
      if (preimage) {
        await this.#settle(channel, { kind: 'fulfill-htlc', id: e.id, paymentPreimage: preimage });
        return;
      }
    }
    // Another hop's onion: the forwarder's (forward/), when the manager gave one.
    if (peeled.kind === 'forward' && this.#forwarder) return this.#forwarder(channel, e, peeled);
    const decision = decideReceive(e, peeled, invoice, this.#o.channels.bestHeight(), this.#now());
    if (decision.kind === 'fail') {
      log.info({ why: decision.why, failure: decision.failure.name }, 'an HTLC to us refused');
      const reply = failPeeledHtlc(peeled, e.onionRoutingPacket, decision.failure);
      if (reply.kind === 'malformed')
        await fail({
          kind: 'fail-malformed-htlc',
          id: e.id,
          sha256OfOnion: reply.sha256OfOnion,
          failureCode: reply.failureCode,
        });
      else await fail({ kind: 'fail-htlc', id: e.id, reason: reply.reason });
      return;
    }
    if (decision.totalMsat > e.amountMsat) {
      this.#onPart(channel, e, peeled, decision, forwardable);
      return;
    }
    await this.#claim([{ channel, e }], decision, forwardable, e.amountMsat);
  }

  /**
   * BOLT 4 basic_mpp, a part of a larger payment: kept in its payment hash's HTLC set until the
   * set reaches total_msat, then the whole set claimed; failed together with mpp_timeout if it
   * does not within `mppTimeoutMs`, or at once if a part names another total.
   */
  #onPart(
    channel: number,
    e: Extract<HtlcEvent, { type: 'htlc-committed' }>,
    peeled: PeeledPayment,
    decision: Extract<ReceiveDecision, { kind: 'claim' }>,
    forwardable: Promise<void>,
  ): void {
    const h = hex(e.paymentHash);
    let set = this.#partSets.get(h);
    if (!set) {
      const timer = setTimeout(
        () => this.#failSet(h, { name: 'mpp_timeout' }, 'the parts did not reach total_msat in time'),
        this.#o.mppTimeoutMs ?? MPP_TIMEOUT_MS,
      );

      set = { totalMsat: decision.totalMsat, sumMsat: 0n, parts: [], timer };
      this.#partSets.set(h, set);
    }
    set.parts.push({ channel, e, peeled });
    set.sumMsat += e.amountMsat;
    // "SHOULD fail the entire HTLC set if total_msat is not the same for all HTLCs in the set".
    if (decision.totalMsat !== set.totalMsat) {
      this.#failSet(
        h,
        {
          name: 'incorrect_or_unknown_payment_details',
          htlcMsat: e.amountMsat,
          height: this.#o.channels.bestHeight(),
        },
        'parts name different totals',
      );
      return;
    }
    if (set.sumMsat < set.totalMsat) return;
    // "if the total amount_msat of the HTLC set is equal to or greater than total_msat: SHOULD fulfill all HTLCs".
    clearTimeout(set.timer);
    this.#partSets.delete(h);
    void this.#claim(set.parts, decision, forwardable, set.sumMsat).catch((err: unknown) =>
      this.#o.logger.error({ err }, 'a multi-part payment could not be claimed'),
    );
  }

  /** Fails every HTLC of a payment hash's set (a part's failure is made for its own onion). */
  #failSet(hashHex: string, failure: FailureMessage, why: string): void {
    const set = this.#partSets.get(hashHex);
    if (!set) return;
    clearTimeout(set.timer);
    this.#partSets.delete(hashHex);
    this.#o.logger.info(
      { why, parts: set.parts.length, failure: failure.name },
      'a multi-part payment to us failed back',
    );
    for (const { channel, e, peeled } of set.parts) {
      const reply = failPeeledHtlc(peeled, e.onionRoutingPacket, failure);
      const input: ChannelInput =
        reply.kind === 'malformed'
          ? {
              kind: 'fail-malformed-htlc',
              id: e.id,
              sha256OfOnion: reply.sha256OfOnion,
              failureCode: reply.failureCode,
            }
          : { kind: 'fail-htlc', id: e.id, reason: reply.reason };
      void this.#settle(channel, input).catch((err: unknown) =>
        this.#o.logger.error({ err }, 'a part could not be failed back'),
      );
    }
  }

  /**
   * Claims HTLCs to us (one, or a multi-part payment's set): each one's receipt and one
   * PaymentClaimable for the whole amount durable before any fulfil leaves.
   */
  async #claim(
    parts: { channel: number; e: Extract<HtlcEvent, { type: 'htlc-committed' }> }[],
    decision: Extract<ReceiveDecision, { kind: 'claim' }>,
    forwardable: Promise<void>,
    amountMsat: bigint,
  ): Promise<void> {
    const log = this.#o.logger;
    const invoice = decision.invoice;
    const first = parts[0];
    if (!first) return;
    const receipts = parts.map(({ channel, e }) => ({
      channel,
      e,
      receipt: {
        key: this.#htlcKey(channel, e.id),
        paymentHash: e.paymentHash,
        amountMsat: e.amountMsat,
        keysend: decision.keysend,
        status: 'claiming',
        updatedAt: this.#now(),
      } satisfies ReceiptRecord as ReceiptRecord,
    }));
    // Kept before the invoice is marked, so a second HTLC of the same hash is refused as paid.
    if (invoice) invoice.status = 'paid';
    for (const r of receipts) this.#claiming.set(r.receipt.key, r.receipt);
    // Both durable before the fulfil can leave: the event, and the receipts a restart ends the claim from.
    await forwardable;
    await Promise.all([
      this.#tell({
        type: 'PaymentClaimable',
        paymentHash: hex(first.e.paymentHash),
        amountMsat,
        keysend: decision.keysend,
      }),
      ...receipts.map((r) =>
        this.#store
          .saveReceipt(r.receipt)
          .catch((err: unknown) => log.error({ err }, 'a receipt could not be stored')),
      ),
    ]);
    for (const { channel, e, receipt } of receipts) {
      const refused = await this.#settle(channel, {
        kind: 'fulfill-htlc',
        id: e.id,
        paymentPreimage: decision.paymentPreimage,
      });
      if (!refused) continue;
      log.warn({ refusal: refused }, 'the fulfill of an HTLC to us was refused');
      this.#claiming.delete(receipt.key);
      if (invoice && parts.length === 1) invoice.status = 'unpaid';
      await this.#store
        .removeReceipt(receipt.key)
        .catch((err: unknown) => log.warn({ err }, 'a receipt could not be removed'));
    }
  }

  /**
   * Fulfils or fails an HTLC to us and signs for it. While the peer is away the core refuses
   * (nothing may leave before channel_reestablish): the answer is kept and given again when the
   * channel is connected (`channelChanged`), so an HTLC we decided on is never left hanging.
   */
  async #settle(channel: number, input: ChannelInput): Promise<Refusal | undefined> {
    const refused = await this.#o.channels.command(channel, input);
    if (refused?.field === 'peer') {
      const waiting = this.#waiting.get(channel) ?? [];
      waiting.push(input);
      this.#waiting.set(channel, waiting);
      return undefined;
    }
    if (!refused) await this.#o.channels.command(channel, { kind: 'commit' });
    return refused;
  }

  /** Where HTLCs whose onion names a next hop go (forward/); without one they fail with unknown_next_peer. */
  #forwarder: ForwardHandler | undefined;

  setForwarder(forwarder: ForwardHandler): void {
    this.#forwarder = forwarder;
  }

  /** How the parts of a payment in parts are sent (the Forwarder's sendToRoute). */
  #sendRoute: RouteSender | undefined;

  setRouteSender(send: RouteSender): void {
    this.#sendRoute = send;
  }

  /** After each step of a channel: once it is connected again, the answers kept for it go. */
  channelChanged(channel: number, state: ChannelState): void {
    const waiting = this.#waiting.get(channel);
    if (!waiting || state.normal?.link !== 'connected') return;
    this.#waiting.delete(channel);
    void (async () => {
      for (const input of waiting) await this.#settle(channel, input);
    })().catch((err: unknown) => this.#o.logger.error({ err }, 'a kept HTLC answer could not be given'));
  }
}

function localBalanceMsat(s: ChannelState): bigint {
  // Spendable now: our side of our own commitment, in-flight HTLCs taken out.
  if (s.normal) return balancesOf(s.normal.ledger, 'local', true).toLocalMsat;
  return s.commitments?.toLocalMsat ?? 0n;
}

/** The event an ended payment's record says. */
function outcomeEvent(r: PaymentRecord): PaymentEvent {
  return r.status === 'succeeded'
    ? {
        type: 'PaymentSent',
        paymentId: r.paymentId,
        paymentHash: hex(r.paymentHash),
        preimage: r.preimage ? hex(r.preimage) : '',
        amountMsat: r.amountMsat,
        feeMsat: r.feeMsat,
      }
    : {
        type: 'PaymentFailed',
        paymentId: r.paymentId,
        paymentHash: hex(r.paymentHash),
        reason: r.reason ?? 'failed',
      };
}

/** What one more HTLC of ours can carry on a ready channel (before its first HTLC, from its commitments). */
function sendableOf(state: ChannelState): bigint {
  try {
    return sendableMsat(state.normal ?? normalFromChannel(state));
  } catch {
    return localBalanceMsat(state);
  }
}

function outcomeOf(r: PaymentRecord): PaymentOutcome {
  return {
    paymentId: r.paymentId,
    paymentHash: hex(r.paymentHash),
    status: r.status === 'succeeded' ? 'succeeded' : 'failed',
    amountMsat: r.amountMsat,
    feeMsat: r.feeMsat,
    preimage: r.preimage ? hex(r.preimage) : null,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
  };
}
