/**
 * A decoded, signature-checked BOLT 11 invoice: the fields a payer acts on, with the BOLT's
 * defaults applied, and the tagged fields as they came (for exact re-encoding).
 */
import type { Features } from '@lnkit/wire';
import type { Fallback, RouteHint, TaggedField } from './fields.ts';
import type { Network } from './hrp.ts';

/** BOLT 11 `x`: "Default is 3600 (1 hour) if not specified". */
export const DEFAULT_EXPIRY_SECONDS = 3600;
/** BOLT 11 `c`: "Default is 18 if not specified". */
export const DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA = 18;

export interface InvoiceData {
  readonly network: Network;
  /** Null when the invoice has no amount (the payer chooses). */
  readonly amountMsat: bigint | null;
  /** Seconds since 1970 (35 bits). */
  readonly timestamp: number;
  /** The payee's node id: from the `n` field, or recovered from the signature. */
  readonly payee: Uint8Array;
  /** True when `n` gave the payee (and the signature was verified against it). */
  readonly payeeFromField: boolean;
  readonly paymentHash: Uint8Array;
  readonly paymentSecret: Uint8Array;
  /** Exactly one of description / descriptionHash is set. */
  readonly description: string | null;
  readonly descriptionHash: Uint8Array | null;
  /** `x`, or 3600. */
  readonly expirySeconds: number;
  /** `c`, or 18. */
  readonly minFinalCltvExpiryDelta: number;
  /** Known `f` fields, most preferred first. */
  readonly fallbacks: readonly Fallback[];
  /** Every `r` field, most preferred first. */
  readonly routeHints: readonly RouteHint[];
  /** `9`, empty when absent. */
  readonly features: Features;
  /** `m`, used as BOLT 4 payment_metadata. */
  readonly paymentMetadata: Uint8Array | null;
  /** Compact r || s. */
  readonly signature: Uint8Array;
  readonly recoveryId: number;
  /** SHA-256 of the human-readable part and the data part, as signed. */
  readonly signedHash: Uint8Array;
  /** Every tagged field in invoice order, skipped ones included. */
  readonly fields: readonly TaggedField[];
}

export class Invoice implements InvoiceData {
  readonly network!: Network;
  readonly amountMsat!: bigint | null;
  readonly timestamp!: number;
  readonly payee!: Uint8Array;
  readonly payeeFromField!: boolean;
  readonly paymentHash!: Uint8Array;
  readonly paymentSecret!: Uint8Array;
  readonly description!: string | null;
  readonly descriptionHash!: Uint8Array | null;
  readonly expirySeconds!: number;
  readonly minFinalCltvExpiryDelta!: number;
  readonly fallbacks!: readonly Fallback[];
  readonly routeHints!: readonly RouteHint[];
  readonly features!: Features;
  readonly paymentMetadata!: Uint8Array | null;
  readonly signature!: Uint8Array;
  readonly recoveryId!: number;
  readonly signedHash!: Uint8Array;
  readonly fields!: readonly TaggedField[];

  constructor(data: InvoiceData) {
    Object.assign(this, data);
    Object.freeze(this);
  }

  /** Seconds since 1970 after which the payer "SHOULD NOT attempt a payment". */
  get expiresAt(): number {
    return this.timestamp + this.expirySeconds;
  }

  /** BOLT 11: expired once "the timestamp plus expiry has passed". */
  isExpired(nowSeconds: number = Date.now() / 1000): boolean {
    return nowSeconds > this.expiresAt;
  }
}
