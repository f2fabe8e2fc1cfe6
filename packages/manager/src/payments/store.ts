/**
 * The payments' books: our outgoing payments (by payment id) and our invoices (by payment
 * hash). `LmdbPaymentsStore` keeps them in the node's lmdb Store as versioned TLV records
 * (@lnkit/store's defineRecord; even = required, odd = optional), so a payment id answers its
 * outcome after a restart instead of paying again, and an invoice is still claimable.
 * `MemoryPaymentsStore` is the same books in memory, for tests.
 *
 * An invoice record holds its preimage and payment secret: they leave this store only to the
 * final-node checks (receive.ts), never to a log or the API.
 */
import { defineRecord, fieldCodec as f, type NamedDb, recordDb, type Store } from '@lnkit/store';
import { crashPoint } from '../crash-point.ts';
import type { StoredInvoice } from './receive.ts';

export type PaymentStatus = 'pending' | 'succeeded' | 'failed';

/** One outgoing payment as kept. */
export interface PaymentRecord {
  paymentId: string;
  paymentHash: Uint8Array;
  kind: 'invoice' | 'keysend';
  status: PaymentStatus;
  amountMsat: bigint;
  feeMsat: bigint;
  /** Once succeeded: the proof of payment. */
  preimage?: Uint8Array | undefined;
  /** Once failed: BOLT 4's name of the failure, or what else ended it. */
  reason?: string | undefined;
  /** The invoice paid (none for keysend). */
  bolt11?: string | undefined;
  /** Seconds since 1970. */
  createdAt: number;
  updatedAt: number;
  /**
   * false: the outcome is kept but PaymentSent / PaymentFailed may not have reached the event
   * sink yet (the outbox): a start tells it again. Absent once told (and in records from before).
   */
  told?: boolean | undefined;
}

/**
 * An HTLC to us being claimed (`claiming`: the fulfil decided, the HTLC not yet out of both
 * commitments) or claimed with PaymentClaimed not yet told: what a restart needs to mark the
 * invoice paid and raise PaymentClaimed once. Removed once PaymentClaimed is durable.
 */
export interface ReceiptRecord {
  /** `<channel id hex>:<htlc id>`: the HTLC, the same across restarts. */
  key: string;
  paymentHash: Uint8Array;
  amountMsat: bigint;
  keysend: boolean;
  status: 'claiming' | 'claimed';
  /** Seconds since 1970. */
  updatedAt: number;
}

export interface PaymentsStore {
  load(): { payments: PaymentRecord[]; invoices: StoredInvoice[]; receipts: ReceiptRecord[] };
  /** Resolves once the record is durable. */
  savePayment(p: PaymentRecord): Promise<void>;
  /** A payment refused before its HTLC left: the id is free again. */
  removePayment(paymentId: string): Promise<void>;
  saveInvoice(i: StoredInvoice): Promise<void>;
  saveReceipt(r: ReceiptRecord): Promise<void>;
  /** The invoice marked paid and the receipt `claimed`, together (one durable write): never one without the other. */
  saveClaimed(r: ReceiptRecord, invoice: StoredInvoice | undefined): Promise<void>;
  removeReceipt(key: string): Promise<void>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const clone = <T extends object>(v: T): T => ({ ...v });

export class MemoryPaymentsStore implements PaymentsStore {
  readonly payments = new Map<string, PaymentRecord>();
  readonly invoices = new Map<string, StoredInvoice>();
  readonly receipts = new Map<string, ReceiptRecord>();

  load() {
    return {
      payments: [...this.payments.values()].map(clone),
      invoices: [...this.invoices.values()].map(clone),
      receipts: [...this.receipts.values()].map(clone),
    };
  }

  async savePayment(p: PaymentRecord): Promise<void> {
    this.payments.set(p.paymentId, clone(p));
  }

  async removePayment(paymentId: string): Promise<void> {
    this.payments.delete(paymentId);
  }

  async saveInvoice(i: StoredInvoice): Promise<void> {
    this.invoices.set(hex(i.paymentHash), clone(i));
  }

  async saveReceipt(r: ReceiptRecord): Promise<void> {
    this.receipts.set(r.key, clone(r));
  }

  async saveClaimed(r: ReceiptRecord, invoice: StoredInvoice | undefined): Promise<void> {
    if (invoice) this.invoices.set(hex(invoice.paymentHash), clone(invoice));
    this.receipts.set(r.key, clone(r));
  }

  async removeReceipt(key: string): Promise<void> {
    this.receipts.delete(key);
  }
}

const paymentRecord = defineRecord<PaymentRecord>({
  kind: 'payment',
  version: 1,
  minReadVersion: 1,
  fields: {
    paymentId: { type: 0, codec: f.utf8 },
    paymentHash: { type: 2, codec: f.bytes32 },
    kind: { type: 4, codec: f.enum('payment kind', ['invoice', 'keysend'] as const) },
    status: { type: 6, codec: f.enum('payment status', ['pending', 'succeeded', 'failed'] as const) },
    amountMsat: { type: 8, codec: f.u64 },
    feeMsat: { type: 10, codec: f.u64 },
    createdAt: { type: 12, codec: f.u32 },
    updatedAt: { type: 14, codec: f.u32 },
    preimage: { type: 17, codec: f.bytes32, optional: true },
    reason: { type: 19, codec: f.utf8, optional: true },
    bolt11: { type: 21, codec: f.utf8, optional: true },
    told: { type: 23, codec: f.bool, optional: true },
  },
});

const receiptRecord = defineRecord<ReceiptRecord>({
  kind: 'receipt',
  version: 1,
  minReadVersion: 1,
  fields: {
    key: { type: 0, codec: f.utf8 },
    paymentHash: { type: 2, codec: f.bytes32 },
    amountMsat: { type: 4, codec: f.u64 },
    keysend: { type: 6, codec: f.bool },
    status: { type: 8, codec: f.enum('receipt status', ['claiming', 'claimed'] as const) },
    updatedAt: { type: 10, codec: f.u32 },
  },
});

/** StoredInvoice with its nullable amount as an optional field (absent: any amount). */
interface InvoiceRow {
  bolt11: string;
  paymentHash: Uint8Array;
  paymentPreimage: Uint8Array;
  paymentSecret: Uint8Array;
  amountMsat?: bigint | undefined;
  expiresAt: number;
  minFinalCltvExpiryDelta: number;
  paid: boolean;
  paidAtSeconds?: number | undefined;
  receivedMsat?: bigint | undefined;
}

const invoiceRecord = defineRecord<InvoiceRow>({
  kind: 'invoice',
  version: 1,
  minReadVersion: 1,
  fields: {
    bolt11: { type: 0, codec: f.utf8 },
    paymentHash: { type: 2, codec: f.bytes32 },
    paymentPreimage: { type: 4, codec: f.bytes32 },
    paymentSecret: { type: 6, codec: f.bytes32 },
    expiresAt: { type: 8, codec: f.u32 },
    minFinalCltvExpiryDelta: { type: 10, codec: f.u32 },
    paid: { type: 12, codec: f.bool },
    amountMsat: { type: 15, codec: f.u64, optional: true },
    paidAtSeconds: { type: 17, codec: f.u32, optional: true },
    receivedMsat: { type: 19, codec: f.u64, optional: true },
  },
});

/** The database the payments' books are in: `payment/<id>`, `invoice/<hash hex>` and `receipt/<channel id hex>:<htlc id>`. */
export const PAYMENTS_DB = 'payments';

export class LmdbPaymentsStore implements PaymentsStore {
  readonly #payments: NamedDb<PaymentRecord>;
  readonly #invoices: NamedDb<InvoiceRow>;
  readonly #receipts: NamedDb<ReceiptRecord>;
  readonly #store: Store;
  readonly #durably: <T>(write: () => Promise<T>) => Promise<T>;

  /** `durably`: how each write is made durable (the node's waits out a full disk). */
  constructor(store: Store, durably: <T>(write: () => Promise<T>) => Promise<T> = (w) => w()) {
    this.#payments = recordDb(store.db(PAYMENTS_DB), paymentRecord);
    this.#invoices = recordDb(store.db(PAYMENTS_DB), invoiceRecord);
    this.#receipts = recordDb(store.db(PAYMENTS_DB), receiptRecord);
    this.#store = store;
    // Each write's end is a crash point (crash-point.ts), for the crash matrix.
    this.#durably = async (write) => {
      const done = await durably(write);
      crashPoint('payments-written');
      return done;
    };
  }

  load() {
    const payments = this.#payments.entries({ start: 'payment/', end: 'payment0' }).map((e) => e.value);
    const invoices = this.#invoices.entries({ start: 'invoice/', end: 'invoice0' }).map(
      ({ value: r }): StoredInvoice => ({
        bolt11: r.bolt11,
        paymentHash: r.paymentHash,
        paymentPreimage: r.paymentPreimage,
        paymentSecret: r.paymentSecret,
        amountMsat: r.amountMsat ?? null,
        expiresAt: r.expiresAt,
        minFinalCltvExpiryDelta: r.minFinalCltvExpiryDelta,
        status: r.paid ? 'paid' : 'unpaid',
        paidAtSeconds: r.paidAtSeconds,
        receivedMsat: r.receivedMsat,
      }),
    );
    const receipts = this.#receipts.entries({ start: 'receipt/', end: 'receipt0' }).map((e) => e.value);
    return { payments, invoices, receipts };
  }

  savePayment(p: PaymentRecord): Promise<void> {
    return this.#durably(() => this.#payments.put(`payment/${p.paymentId}`, p));
  }

  removePayment(paymentId: string): Promise<void> {
    return this.#durably(() => this.#payments.remove(`payment/${paymentId}`));
  }

  saveInvoice(i: StoredInvoice): Promise<void> {
    return this.#durably(() => this.#invoices.put(`invoice/${hex(i.paymentHash)}`, invoiceRow(i)));
  }

  saveReceipt(r: ReceiptRecord): Promise<void> {
    return this.#durably(() => this.#receipts.put(`receipt/${r.key}`, r));
  }

  saveClaimed(r: ReceiptRecord, invoice: StoredInvoice | undefined): Promise<void> {
    const receipt = receiptRecord.encode(r);
    const row = invoice && invoiceRecord.encode(invoiceRow(invoice));
    return this.#durably(() =>
      this.#store.transaction((txn) => {
        if (invoice && row) txn.put(PAYMENTS_DB, `invoice/${hex(invoice.paymentHash)}`, row);
        txn.put(PAYMENTS_DB, `receipt/${r.key}`, receipt);
      }),
    );
  }

  removeReceipt(key: string): Promise<void> {
    return this.#durably(() => this.#receipts.remove(`receipt/${key}`));
  }
}

function invoiceRow(i: StoredInvoice): InvoiceRow {
  return {
    bolt11: i.bolt11,
    paymentHash: i.paymentHash,
    paymentPreimage: i.paymentPreimage,
    paymentSecret: i.paymentSecret,
    amountMsat: i.amountMsat ?? undefined,
    expiresAt: i.expiresAt,
    minFinalCltvExpiryDelta: i.minFinalCltvExpiryDelta,
    paid: i.status === 'paid',
    paidAtSeconds: i.paidAtSeconds,
    receivedMsat: i.receivedMsat,
  };
}
