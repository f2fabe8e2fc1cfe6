/**
 * decodeInvoice: bech32 → human-readable part → timestamp, tagged fields, signature → the
 * BOLT 11 reader rules → an Invoice whose payee is proven by its signature. Every failure is
 * an InvoiceError naming what is wrong; no input makes it throw anything else.
 */
import { sha256 } from '@lnkit/crypto';
import { type FeatureProblem, Features, featureProblems } from '@lnkit/wire';
import { decodeBech32, wordsToBytes, wordsToNumber } from './bech32.ts';
import { InvoiceError } from './errors.ts';
import { decodeField, type Fallback, fieldLetter, type RouteHint, type TaggedField } from './fields.ts';
import { parseHrp } from './hrp.ts';
import { DEFAULT_EXPIRY_SECONDS, DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA, Invoice } from './invoice.ts';
import { isHighS, recoverPublicKey, verifySignature } from './secp.ts';

/** 35-bit timestamp. */
export const TIMESTAMP_WORDS = 7;
/** 64-byte r || s and the recovery id: 520 bits. */
export const SIGNATURE_WORDS = 104;

/** Everything up to the reader rules: what the string says, not yet whether it is valid. */
export interface ParsedInvoice {
  readonly hrp: string;
  readonly timestamp: number;
  readonly fields: TaggedField[];
  readonly signature: Uint8Array;
  readonly recoveryId: number;
  readonly signedHash: Uint8Array;
}

/** The bytes a writer signs: the hrp as UTF-8, then the data words padded to a byte boundary. */
export function signingPreimage(hrp: string, dataWords: Uint8Array): Uint8Array {
  const hrpBytes = new TextEncoder().encode(hrp);
  const data = wordsToBytes(dataWords, 'data part', false);
  const out = new Uint8Array(hrpBytes.length + data.length);
  out.set(hrpBytes);
  out.set(data, hrpBytes.length);
  return out;
}

/** bech32 and the field framing, without the reader rules or signature check. */
export function parseInvoice(text: string): ParsedInvoice {
  const { hrp, words } = decodeBech32(stripScheme(text));
  if (words.length < TIMESTAMP_WORDS + SIGNATURE_WORDS)
    throw new InvoiceError(
      'truncated',
      `data part is ${words.length} characters, too short for a timestamp and a signature (${TIMESTAMP_WORDS + SIGNATURE_WORDS})`,
    );
  const end = words.length - SIGNATURE_WORDS;
  const fields: TaggedField[] = [];
  let pos = TIMESTAMP_WORDS;
  while (pos < end) {
    if (end - pos < 3)
      throw new InvoiceError(
        'truncated',
        `tagged field at character ${pos} is cut off before its data_length`,
      );
    const type = words[pos]!;
    const length = words[pos + 1]! * 32 + words[pos + 2]!;
    if (pos + 3 + length > end)
      throw new InvoiceError(
        'truncated',
        `${fieldLetter(type)} field has data_length ${length} but only ${end - pos - 3} characters are left before the signature`,
      );
    fields.push(decodeField(type, words.subarray(pos + 3, pos + 3 + length)));
    pos += 3 + length;
  }
  const sig = wordsToBytes(words.subarray(end), 'signature');
  return {
    hrp,
    timestamp: wordsToNumber(words.subarray(0, TIMESTAMP_WORDS)),
    fields,
    signature: sig.slice(0, 64),
    recoveryId: sig[64]!,
    signedHash: sha256(signingPreimage(hrp, words.subarray(0, end))),
  };
}

/** BOLT 11 "If a URI scheme is desired ... 'lightning:' as a prefix": accepted and dropped. */
function stripScheme(text: string): string {
  if (typeof text !== 'string') throw new InvoiceError('invalid-bech32', 'not a bech32 string: not a string');
  return /^lightning:/i.test(text) ? text.slice(10) : text;
}

function first<T extends TaggedField['tag']>(
  fields: TaggedField[],
  tag: T,
): Extract<TaggedField, { tag: T }> | undefined {
  return fields.find((f) => f.tag === tag) as Extract<TaggedField, { tag: T }> | undefined;
}

function all<T extends TaggedField['tag']>(
  fields: TaggedField[],
  tag: T,
): Extract<TaggedField, { tag: T }>[] {
  return fields.filter((f) => f.tag === tag) as Extract<TaggedField, { tag: T }>[];
}

/**
 * BOLT 11 "Feature Bits": unknown even bits fail ("MUST fail the payment"); so does a known
 * feature's even bit outside the invoice context (this reader does not know what it would
 * require there), and a feature without its dependency ("MUST NOT attempt the payment").
 */
function checkFeatures(features: Features): void {
  const problems: FeatureProblem[] = featureProblems(features, 'invoice');
  for (const p of problems) {
    if (p.reason === 'unknown-required')
      throw new InvoiceError('invalid-features', `9 field requires unknown feature bit ${p.bit}`);
    if (p.reason === 'wrong-context' && p.bit % 2 === 0)
      throw new InvoiceError(
        'invalid-features',
        `9 field requires ${p.feature} (bit ${p.bit}), not an invoice feature`,
      );
    if (p.reason === 'missing-dependency')
      throw new InvoiceError('invalid-features', `9 field sets ${p.feature} without ${p.dependency}`);
  }
}

/** Decodes and verifies an invoice; throws InvoiceError naming what is wrong. */
export function decodeInvoice(text: string): Invoice {
  const parsed = parseInvoice(text);
  const { network, amountMsat } = parseHrp(parsed.hrp);
  const { fields } = parsed;

  // BOLT 11 payer: "SHOULD use the first p field as the payment hash"; likewise the first of
  // every other single-valued field (a writer lists "the most-preferred field first").
  const p = first(fields, 'p');
  if (!p) throw new InvoiceError('missing-field', 'no p field (payment_hash)');
  const s = first(fields, 's');
  // BOLT 11: "if a valid s field is not provided: MUST fail the payment".
  if (!s) throw new InvoiceError('missing-field', 'no s field (payment_secret)');
  const d = first(fields, 'd');
  const h = first(fields, 'h');
  // BOLT 11: "MUST fail the payment if neither a d field nor a h field is present, or if both are".
  if (d && h)
    throw new InvoiceError(
      'conflicting-fields',
      'both a d field (description) and an h field (description hash)',
    );
  if (!d && !h)
    throw new InvoiceError(
      'missing-field',
      'neither a d field (description) nor an h field (description hash)',
    );
  const features = first(fields, '9')?.features;
  if (features) checkFeatures(features);

  const { signature, recoveryId, signedHash } = parsed;
  // BOLT 11: "followed by a trailing 1-byte recovery id in {0,1,2,3}".
  if (recoveryId > 3)
    throw new InvoiceError('invalid-signature', `signature recovery id is ${recoveryId}, not 0-3`);
  const n = first(fields, 'n');
  let payee: Uint8Array;
  if (n) {
    // BOLT 11: "if a valid n field is provided: MUST use the n field to validate the signature
    // instead of performing public-key recovery. If the signature is not compliant with the
    // low-S standard rule: MUST fail the payment".
    if (isHighS(signature))
      throw new InvoiceError('invalid-signature', 'signature is high-S, not allowed with an n field');
    if (!verifySignature(signature, signedHash, n.payee))
      throw new InvoiceError('invalid-signature', 'signature does not verify against the n field (payee)');
    payee = n.payee;
  } else {
    // "otherwise: MUST perform ECDSA public-key recovery and accept both high-S and low-S".
    const recovered = recoverPublicKey(signature, recoveryId, signedHash);
    if (!recovered)
      throw new InvoiceError('invalid-signature', 'signature is not recoverable to a public key');
    payee = recovered;
  }

  return new Invoice({
    network,
    amountMsat,
    timestamp: parsed.timestamp,
    payee,
    payeeFromField: n !== undefined,
    paymentHash: p.paymentHash,
    paymentSecret: s.paymentSecret,
    description: d?.description ?? null,
    descriptionHash: h?.descriptionHash ?? null,
    expirySeconds: first(fields, 'x')?.expirySeconds ?? DEFAULT_EXPIRY_SECONDS,
    minFinalCltvExpiryDelta:
      first(fields, 'c')?.minFinalCltvExpiryDelta ?? DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
    fallbacks: all(fields, 'f').map((f): Fallback => f.fallback),
    routeHints: all(fields, 'r').map((r): RouteHint => r.routeHint),
    features: features ?? Features.empty(),
    paymentMetadata: first(fields, 'm')?.paymentMetadata ?? null,
    signature,
    recoveryId,
    signedHash,
    fields,
  });
}
