/**
 * An invoice as JSON (hex for bytes, strings for msat amounts and channel ids), the shape
 * lnkitd's `POST /v1/decodeinvoice` answers and `lnkit-cli decodeinvoice --json` prints.
 * Absent optional fields are null; expiry and the cltv delta carry the BOLT's defaults.
 */
import { featureForBit } from '@lnkit/wire';
import { fallbackAddress } from './address.ts';
import type { Invoice } from './invoice.ts';

export interface RouteHintHopJson {
  nodeId: string;
  /** BOLT 7 form, block x tx x output. */
  shortChannelId: string;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
}

export interface InvoiceJson {
  network: string;
  payee: string;
  /** Decimal msat; null when the payer chooses the amount. */
  amountMsat: string | null;
  paymentHash: string;
  /** Always true for an invoice that decodes (BOLT 11: without `s` it "MUST fail"). */
  hasPaymentSecret: boolean;
  description: string | null;
  descriptionHash: string | null;
  timestamp: number;
  expirySeconds: number;
  /** The `c` field: min_final_cltv_expiry_delta, in blocks. */
  minFinalCltvExpiry: number;
  features: { hex: string; bits: number[]; names: string[] } | null;
  routeHints: RouteHintHopJson[][] | null;
  fallbacks: string[] | null;
  paymentMetadata: string | null;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function scid(v: bigint): string {
  return `${v >> 40n}x${(v >> 16n) & 0xffffffn}x${v & 0xffffn}`;
}

export function invoiceJson(invoice: Invoice): InvoiceJson {
  const bits = invoice.features.bits();
  return {
    network: invoice.network,
    payee: hex(invoice.payee),
    amountMsat: invoice.amountMsat === null ? null : invoice.amountMsat.toString(),
    paymentHash: hex(invoice.paymentHash),
    hasPaymentSecret: invoice.paymentSecret.length === 32,
    description: invoice.description,
    descriptionHash: invoice.descriptionHash === null ? null : hex(invoice.descriptionHash),
    timestamp: invoice.timestamp,
    expirySeconds: invoice.expirySeconds,
    minFinalCltvExpiry: invoice.minFinalCltvExpiryDelta,
    features:
      bits.length === 0
        ? null
        : {
            hex: hex(invoice.features.toMinimalBytes()),
            bits,
            names: bits.map((b) => {
              const k = featureForBit(b);
              return k ? `${k.name}/${b % 2 === 0 ? 'required' : 'optional'}` : `bit${b}`;
            }),
          },
    routeHints:
      invoice.routeHints.length === 0
        ? null
        : invoice.routeHints.map((hint) =>
            hint.map((h) => ({
              nodeId: hex(h.nodeId),
              shortChannelId: scid(h.shortChannelId),
              feeBaseMsat: h.feeBaseMsat,
              feeProportionalMillionths: h.feeProportionalMillionths,
              cltvExpiryDelta: h.cltvExpiryDelta,
            })),
          ),
    fallbacks:
      invoice.fallbacks.length === 0
        ? null
        : invoice.fallbacks.map((f) => fallbackAddress(f, invoice.network)),
    paymentMetadata: invoice.paymentMetadata === null ? null : hex(invoice.paymentMetadata),
  };
}
