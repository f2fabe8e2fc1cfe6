/**
 * Writing invoices: the tagged fields of a request in a fixed order, the signature from a
 * signer function (so the node key can stay in the signer's pool), and a final read-back
 * through decodeInvoice so lnkit never hands out an invoice its own reader would refuse.
 */

import { sha256 } from '@lnkit/crypto';
import { Features } from '@lnkit/wire';
import { bytesToWords, encodeBech32, numberToWords } from './bech32.ts';
import { decodeInvoice, SIGNATURE_WORDS, signingPreimage, TIMESTAMP_WORDS } from './decode.ts';
import { checkBytes, checkInteger, InvoiceError } from './errors.ts';
import { encodeField, type Fallback, type RouteHint, type TaggedField } from './fields.ts';
import { formatHrp, type Network } from './hrp.ts';
import type { Invoice } from './invoice.ts';
import { DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA } from './invoice.ts';
import { publicKeyOf, recoverPublicKey, signRecoverable } from './secp.ts';

/**
 * Signs the 32-byte SHA-256 of an invoice's preimage: a compact 64-byte r || s and the
 * recovery id (0-3) that gives back the signer's public key.
 */
export type InvoiceSigner = (hash: Uint8Array) => Promise<{ signature: Uint8Array; recoveryId: number }>;

/** A signer over a private key held in this thread (tests, tools); nodes sign in the pool. */
export function plainKeySigner(privateKey: Uint8Array): InvoiceSigner {
  checkBytes(privateKey, 32, 'privateKey');
  try {
    publicKeyOf(privateKey); // refuses a key out of range now, not at the first invoice
  } catch {
    throw new InvoiceError('invalid-argument', 'privateKey is not a valid secp256k1 private key');
  }
  return async (hash) => signRecoverable(checkBytes(hash, 32, 'hash'), privateKey);
}

/**
 * An InvoiceSigner over a signer that returns only the 64-byte compact signature (as the node
 * key's signer in @lnkit/keys does): the recovery id is found by recovering each candidate
 * against the known `publicKey` (public data; at most four recoveries, ~70 µs each natively).
 */
export function compactSigner(
  sign: (digest: Uint8Array) => Promise<Uint8Array>,
  publicKey: Uint8Array,
): InvoiceSigner {
  checkBytes(publicKey, 33, 'publicKey');
  const want = Buffer.from(publicKey).toString('hex');
  return async (hash) => {
    const signature = await sign(hash);
    if (!(signature instanceof Uint8Array) || signature.length !== 64)
      throw new InvoiceError('signer-failed', 'the signer did not return a 64-byte compact signature');
    for (let recoveryId = 0; recoveryId < 4; recoveryId++) {
      const key = recoverPublicKey(signature, recoveryId, hash);
      if (key && Buffer.from(key).toString('hex') === want) return { signature, recoveryId };
    }
    throw new InvoiceError('signer-failed', "the signer's signature is not by the given public key");
  };
}

/** An invoice before its signature: the tagged fields in the order they are to be written. */
export interface UnsignedInvoice {
  readonly network: Network;
  readonly amountMsat: bigint | null;
  /** Seconds since 1970; 35 bits. */
  readonly timestamp: number;
  readonly fields: readonly TaggedField[];
}

const MAX_TIMESTAMP = 2 ** 35 - 1;

/** Signs and encodes `unsigned` exactly as given (field order, skipped fields and all). */
export async function encodeInvoice(
  unsigned: UnsignedInvoice,
  sign: InvoiceSigner,
): Promise<{ invoice: string; decoded: Invoice }> {
  const hrp = formatHrp(unsigned.network, unsigned.amountMsat);
  const parts: Uint8Array[] = [
    numberToWords(checkInteger(unsigned.timestamp, 0, MAX_TIMESTAMP, 'timestamp'), TIMESTAMP_WORDS),
  ];
  if (!Array.isArray(unsigned.fields)) throw new InvoiceError('invalid-argument', 'fields must be an array');
  for (const f of unsigned.fields) parts.push(encodeField(f));
  const data = concat(parts);
  const hash = sha256(signingPreimage(hrp, data));
  let signed: { signature: Uint8Array; recoveryId: number };
  try {
    signed = await sign(hash);
  } catch (e) {
    throw new InvoiceError('signer-failed', `the signer failed: ${(e as Error)?.message ?? String(e)}`);
  }
  if (!(signed?.signature instanceof Uint8Array) || signed.signature.length !== 64)
    throw new InvoiceError('signer-failed', 'the signer did not return a 64-byte compact signature');
  if (!Number.isInteger(signed.recoveryId) || signed.recoveryId < 0 || signed.recoveryId > 3)
    throw new InvoiceError('signer-failed', 'the signer did not return a recovery id 0-3');
  const sig = new Uint8Array(65);
  sig.set(signed.signature);
  sig[64] = signed.recoveryId;
  const sigWords = bytesToWords(sig);
  if (sigWords.length !== SIGNATURE_WORDS) throw new Error('unreachable: 65 bytes are 104 words');
  const invoice = encodeBech32(hrp, concat([data, sigWords]));
  let decoded: Invoice;
  try {
    decoded = decodeInvoice(invoice);
  } catch (e) {
    if (e instanceof InvoiceError && e.code === 'invalid-signature')
      throw new InvoiceError(
        'signer-failed',
        `the signer's signature does not sign this invoice: ${e.message}`,
      );
    throw e;
  }
  return { invoice, decoded };
}

/** What a payee asks for; createInvoice turns it into tagged fields. */
export interface InvoiceRequest {
  readonly network: Network;
  /** Omit (or null) for an invoice of any amount. */
  readonly amountMsat?: bigint | null;
  /** Seconds since 1970; default now. */
  readonly timestamp?: number;
  readonly paymentHash: Uint8Array;
  readonly paymentSecret: Uint8Array;
  /** Exactly one of description (`d`) and descriptionHash (`h`). */
  readonly description?: string;
  readonly descriptionHash?: Uint8Array;
  /** Written as `x` when given; readers assume 3600 without it. */
  readonly expirySeconds?: number;
  /** Always written as `c` (BOLT 11: "SHOULD include one c field"); default 18. */
  readonly minFinalCltvExpiryDelta?: number;
  /** Written as `n` when given (saves the payer a key recovery, costs 56 characters). */
  readonly payee?: Uint8Array;
  readonly fallbacks?: readonly Fallback[];
  readonly routeHints?: readonly RouteHint[];
  /** Default: var_onion_optin and payment_secret required (+ option_payment_metadata with `m`). */
  readonly features?: Features;
  readonly paymentMetadata?: Uint8Array;
}

/** The fields of `request` in lnkit's order: p s d|h n x c f* r* 9 m. */
export function requestFields(request: InvoiceRequest): TaggedField[] {
  const hasD = request.description !== undefined;
  const hasH = request.descriptionHash !== undefined;
  if (hasD === hasH)
    throw new InvoiceError('invalid-argument', 'give exactly one of description and descriptionHash');
  const fields: TaggedField[] = [
    { tag: 'p', paymentHash: request.paymentHash },
    { tag: 's', paymentSecret: request.paymentSecret },
    hasD
      ? { tag: 'd', description: request.description! }
      : { tag: 'h', descriptionHash: request.descriptionHash! },
  ];
  if (request.payee !== undefined) fields.push({ tag: 'n', payee: request.payee });
  if (request.expirySeconds !== undefined) fields.push({ tag: 'x', expirySeconds: request.expirySeconds });
  fields.push({
    tag: 'c',
    minFinalCltvExpiryDelta: request.minFinalCltvExpiryDelta ?? DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
  });
  for (const fallback of request.fallbacks ?? []) fields.push({ tag: 'f', fallback });
  for (const routeHint of request.routeHints ?? []) fields.push({ tag: 'r', routeHint });
  const features = request.features ?? defaultFeatures(request.paymentMetadata !== undefined);
  // BOLT 11: "if 9 contains non-zero bits ... otherwise: MUST omit the 9 field altogether".
  if (!features.isEmpty()) fields.push({ tag: '9', features });
  if (request.paymentMetadata !== undefined)
    fields.push({ tag: 'm', paymentMetadata: request.paymentMetadata });
  return fields;
}

/** var_onion_optin (8) and payment_secret (14) required, as the BOLT's examples set them. */
function defaultFeatures(withMetadata: boolean): Features {
  return Features.fromBits(withMetadata ? [8, 14, 48] : [8, 14]);
}

/** Builds, signs and encodes an invoice for `request`. */
export async function createInvoice(
  request: InvoiceRequest,
  sign: InvoiceSigner,
): Promise<{ invoice: string; decoded: Invoice }> {
  return encodeInvoice(
    {
      network: request.network,
      amountMsat: request.amountMsat ?? null,
      timestamp: request.timestamp ?? Math.floor(Date.now() / 1000),
      fields: requestFields(request),
    },
    sign,
  );
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
