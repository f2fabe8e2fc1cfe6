// @lnkit/invoice — BOLT 11 invoices: encode, sign, decode, verify. Pure functions and a
// signer callback; no I/O.

export { fallbackAddress, fallbackFromAddress, fallbackScriptPubKey } from './address.ts';
export { type Bech32Decoded, type Bech32Variant, decodeBech32, encodeBech32 } from './bech32.ts';
export { decodeInvoice, type ParsedInvoice, parseInvoice } from './decode.ts';
export {
  compactSigner,
  createInvoice,
  encodeInvoice,
  type InvoiceRequest,
  type InvoiceSigner,
  plainKeySigner,
  requestFields,
  type UnsignedInvoice,
} from './encode.ts';
export { InvoiceError, type InvoiceErrorCode } from './errors.ts';
export {
  type Fallback,
  FIELD_TYPE,
  type FieldTag,
  fieldLetter,
  type RouteHint,
  type RouteHintHop,
  type TaggedField,
} from './fields.ts';
export {
  formatAmount,
  type HumanReadablePart,
  MAX_AMOUNT_MSAT,
  NETWORK_PREFIX,
  type Network,
  parseHrp,
} from './hrp.ts';
export {
  DEFAULT_EXPIRY_SECONDS,
  DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
  Invoice,
  type InvoiceData,
} from './invoice.ts';
export { type InvoiceJson, invoiceJson, type RouteHintHopJson } from './json.ts';
