/**
 * The reader rules and the writer one at a time, on invoices built here: amounts and
 * multipliers, networks, every field, the defaults, skipping, and each way to be refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '@lnkit/crypto';
import { Features } from '@lnkit/wire';
import { bytesToWords, decodeBech32, encodeBech32 } from './bech32.ts';
import { signingPreimage } from './decode.ts';
import {
  compactSigner,
  createInvoice,
  decodeInvoice,
  encodeInvoice,
  fallbackFromAddress,
  fallbackScriptPubKey,
  formatAmount,
  InvoiceError,
  type InvoiceRequest,
  type InvoiceSigner,
  type Network,
  parseHrp,
  plainKeySigner,
} from './index.ts';
import { publicKeyOf, recoverPublicKey } from './secp.ts';

const KEY = Buffer.from('e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734', 'hex');
const PAYEE = publicKeyOf(KEY);
const sign = plainKeySigner(KEY);
const T = 1_700_000_000;
const hash = new Uint8Array(32).fill(7);
const secret = new Uint8Array(32).fill(0x11);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const base: InvoiceRequest = {
  network: 'regtest',
  timestamp: T,
  paymentHash: hash,
  paymentSecret: secret,
  description: 'tea',
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InvoiceError, `not an InvoiceError: ${String(e)}`);
    return e.code;
  }
  return 'no error';
}
async function codeOfAsync(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof InvoiceError, `not an InvoiceError: ${String(e)}`);
    return `${e.code}: ${e.message}`;
  }
  return 'no error';
}

/** Signs raw data words as a writer would, with no checks: for invoices that break rules. */
function rawInvoice(hrp: string, dataWords: Uint8Array, recoveryIdOverride?: number): string {
  const digest = sha256(signingPreimage(hrp, dataWords));
  const { signature, recoveryId } = signRaw(digest);
  const sig = new Uint8Array(65);
  sig.set(signature);
  sig[64] = recoveryIdOverride ?? recoveryId;
  return encodeBech32(hrp, Uint8Array.from([...dataWords, ...bytesToWords(sig)]));
}
let signRaw: (d: Uint8Array) => { signature: Uint8Array; recoveryId: number };
{
  const { signRecoverable } = await import('./secp.ts');
  signRaw = (d) => signRecoverable(d, KEY);
}
const ts = Uint8Array.from([0, 0, 0, 0, 0, 0, 1]);
/** A field's words: type, data_length, data. */
function field(type: number, data: ArrayLike<number>): number[] {
  return [type, data.length >> 5, data.length & 31, ...Array.from(data)];
}
const P = field(1, bytesToWords(hash));
const S = field(16, bytesToWords(secret));
const D = field(13, bytesToWords(new TextEncoder().encode('x')));
const raw = (...fields: number[][]) => rawInvoice('lnbcrt', Uint8Array.from([...ts, ...fields.flat()]));

test('amounts: every multiplier, the pico rule, zero and range', () => {
  const msat = (hrp: string) => parseHrp(hrp).amountMsat;
  assert.equal(msat('lnbc'), null);
  assert.equal(msat('lnbc1'), 100_000_000_000n);
  assert.equal(msat('lnbc1m'), 100_000_000n);
  assert.equal(msat('lnbc1u'), 100_000n);
  assert.equal(msat('lnbc1n'), 100n);
  assert.equal(msat('lnbc10p'), 1n);
  assert.equal(msat('lnbc0025m'), 2_500_000_000n); // leading zeros: not forbidden to a reader
  assert.equal(
    codeOf(() => parseHrp('lnbc1p')),
    'invalid-amount',
  ); // sub-millisatoshi
  assert.equal(
    codeOf(() => parseHrp('lnbc25x')),
    'invalid-amount',
  );
  assert.equal(
    codeOf(() => parseHrp('lnbc2m5')),
    'invalid-amount',
  );
  assert.equal(
    codeOf(() => parseHrp('lnbc0m')),
    'invalid-amount',
  );
  assert.equal(
    codeOf(() => parseHrp('lnbc200000000')),
    'invalid-amount',
  ); // over 2^64-1 msat
  assert.equal(formatAmount(1n), '10p');
  assert.equal(formatAmount(100n), '1n');
  assert.equal(formatAmount(250_000_000n), '2500u');
  assert.equal(formatAmount(100_000_000_000n), '1');
  assert.equal(formatAmount(967_878_534n), '9678785340p');
  for (const a of [
    1n,
    9n,
    10n,
    999n,
    1000n,
    123_456_789n,
    2_100_000_000_000_000_000n,
    0xffff_ffff_ffff_ffffn,
  ])
    assert.equal(parseHrp(`lnbc${formatAmount(a)}`).amountMsat, a);
});

test('networks: lnbc, lntb, lntbs, lnbcrt; any other prefix is refused', async () => {
  const prefixes: Record<Network, string> = {
    bitcoin: 'lnbc',
    testnet: 'lntb',
    signet: 'lntbs',
    regtest: 'lnbcrt',
  };
  for (const [network, prefix] of Object.entries(prefixes) as [Network, string][]) {
    const { invoice } = await createInvoice({ ...base, network, amountMsat: 1000n }, sign);
    assert.ok(invoice.startsWith(`${prefix}10n1`), invoice);
    assert.equal(decodeInvoice(invoice).network, network);
  }
  assert.equal(
    codeOf(() => parseHrp('lnxy10n')),
    'unknown-prefix',
  );
  assert.equal(
    codeOf(() => parseHrp('lnbcm')),
    'unknown-prefix',
  ); // a multiplier with no digits
  assert.equal(
    codeOf(() => parseHrp('bc10n')),
    'unknown-prefix',
  );
  assert.equal(
    codeOf(() => decodeInvoice(raw(P, S, D).replace(/^lnbcrt/, 'lnsb'))),
    'bad-checksum',
  );
});

test('every field round-trips through createInvoice and decodeInvoice', async () => {
  const hop = (b: number) => ({
    nodeId: PAYEE,
    shortChannelId: (BigInt(b) << 40n) | 7n,
    feeBaseMsat: 1000 + b,
    feeProportionalMillionths: 0xffffffff,
    cltvExpiryDelta: 0xffff,
  });
  const request: InvoiceRequest = {
    ...base,
    network: 'bitcoin',
    amountMsat: 123_456_789n,
    description: 'ナンセンス 1杯 — "quoted"',
    expirySeconds: 86_400,
    minFinalCltvExpiryDelta: 144,
    payee: PAYEE,
    fallbacks: [
      fallbackFromAddress('1RustyRX2oai4EYYDpQGWvEL62BBGqN9T', 'bitcoin'),
      fallbackFromAddress('bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm', 'bitcoin'),
    ],
    routeHints: [[hop(1), hop(2)], [hop(3)]],
    features: Features.fromBits([9, 15, 17, 49, 255]),
    paymentMetadata: Uint8Array.from([1, 2, 3]),
  };
  const { invoice, decoded } = await createInvoice(request, sign);
  const inv = decodeInvoice(invoice);
  assert.deepEqual(inv, decoded);
  assert.equal(inv.amountMsat, 123_456_789n);
  assert.equal(inv.description, request.description);
  assert.equal(inv.descriptionHash, null);
  assert.equal(inv.expirySeconds, 86_400);
  assert.equal(inv.minFinalCltvExpiryDelta, 144);
  assert.equal(hex(inv.payee), hex(PAYEE));
  assert.equal(inv.payeeFromField, true);
  assert.deepEqual(inv.fallbacks, request.fallbacks);
  assert.deepEqual(inv.routeHints, request.routeHints);
  assert.deepEqual(inv.features.bits(), [9, 15, 17, 49, 255]); // unknown odd 255 is kept, not refused
  assert.deepEqual(inv.paymentMetadata, Uint8Array.from([1, 2, 3]));
  assert.deepEqual(
    inv.fields.map((f) => f.tag),
    ['p', 's', 'd', 'n', 'x', 'c', 'f', 'f', 'r', 'r', '9', 'm'],
  );
  assert.equal(
    hex(fallbackScriptPubKey(inv.fallbacks[0]!)),
    '76a91404b61f7dc1ea0dc99424464cc4064dc564d91e8988ac',
  );
  assert.equal(hex(fallbackScriptPubKey(inv.fallbacks[1]!)).slice(0, 4), '5120');
});

test('defaults: expiry 3600, min_final_cltv_expiry_delta 18, no features; isExpired', async () => {
  const { decoded } = await encodeInvoice(
    {
      network: 'regtest',
      amountMsat: null,
      timestamp: T,
      fields: [
        { tag: 'p', paymentHash: hash },
        { tag: 's', paymentSecret: secret },
        { tag: 'h', descriptionHash: sha256(new TextEncoder().encode('long terms')) },
      ],
    },
    sign,
  );
  assert.equal(decoded.expirySeconds, 3600);
  assert.equal(decoded.minFinalCltvExpiryDelta, 18);
  assert.ok(decoded.features.isEmpty());
  assert.equal(decoded.amountMsat, null);
  assert.equal(decoded.expiresAt, T + 3600);
  assert.equal(decoded.isExpired(T + 3600), false);
  assert.equal(decoded.isExpired(T + 3601), true);
  assert.equal(decoded.isExpired(), true); // T is in 2023
  const { decoded: withX } = await createInvoice(
    { ...base, timestamp: Math.floor(Date.now() / 1000), expirySeconds: 600 },
    sign,
  );
  assert.equal(withX.isExpired(), false);
  // createInvoice always writes c (BOLT 11: SHOULD include one c field).
  assert.ok(withX.fields.some((f) => f.tag === 'c'));
  assert.deepEqual(withX.features.bits(), [8, 14]);
});

test('skipped: unknown types, f of unknown version, p/h/s/n of the wrong length; the first valid one is used', () => {
  const otherHash = new Uint8Array(32).fill(9);
  const inv = decodeInvoice(
    raw(
      field(1, bytesToWords(new Uint8Array(33))), // p of 53 words: skipped
      field(1, bytesToWords(hash)),
      field(1, bytesToWords(otherHash)), // a second p: the first is used
      S,
      D,
      field(10, [1, 2, 3]), // type 10 ('2') is not defined
      field(9, [19, ...bytesToWords(new Uint8Array(20))]), // fallback version 19
      field(19, bytesToWords(new Uint8Array(32))), // n of 52 words
    ),
  );
  assert.equal(hex(inv.paymentHash), hex(hash));
  assert.deepEqual(
    inv.fields.map((f) => (f.tag === 'skipped' ? f.reason : f.tag)),
    [
      'data_length 53, not 52',
      'p',
      'p',
      's',
      'd',
      'unknown type',
      'fallback version 19',
      'data_length 52, not 53',
    ],
  );
  assert.deepEqual(inv.fallbacks, []);
  assert.equal(inv.payeeFromField, false);
  assert.equal(hex(inv.payee), hex(PAYEE));
  // Only a wrong-length p: there is no payment hash.
  assert.match(
    codeOfAsyncSync(() => decodeInvoice(raw(field(1, bytesToWords(new Uint8Array(31))), S, D))),
    /missing-field/,
  );
});

function codeOfAsyncSync(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InvoiceError);
    return `${e.code}: ${e.message}`;
  }
  return 'no error';
}
const refused = (fields: number[][]) => codeOfAsyncSync(() => decodeInvoice(raw(...fields)));

test('required fields: p, s, and exactly one of d and h', () => {
  const H = field(23, bytesToWords(hash));
  assert.match(refused([S, D]), /^missing-field: no p field/);
  assert.match(refused([P, D]), /^missing-field: no s field/);
  assert.match(refused([P, S]), /^missing-field: neither a d field/);
  assert.match(refused([P, S, D, H]), /^conflicting-fields: both a d field/);
});

test('field values that break their rule are refused, naming the field', () => {
  const pad = Array.from(bytesToWords(hash));
  pad[51] = 1; // 4 padding bits at the end of 52 words
  assert.match(refused([field(1, pad), S, D]), /^invalid-field: p field has non-zero padding/);
  assert.match(
    refused([P, S, field(13, bytesToWords(Uint8Array.from([0xff, 0xfe])))]),
    /^invalid-field: d field is not valid UTF-8/,
  );
  assert.match(
    refused([P, S, D, field(19, bytesToWords(Uint8Array.from([4, ...new Array(32).fill(1)])))]),
    /^invalid-field: n field is not a valid public key/,
  );
  assert.match(refused([P, S, D, field(9, [])]), /^invalid-field: f field is empty/);
  assert.match(
    refused([P, S, D, field(9, [17, ...bytesToWords(new Uint8Array(19))])]),
    /^invalid-field: f field version 17 needs a 20-byte hash/,
  );
  assert.match(
    refused([P, S, D, field(9, [0, ...bytesToWords(new Uint8Array(25))])]),
    /^invalid-field: f field version 0 needs/,
  );
  assert.match(
    refused([P, S, D, field(3, bytesToWords(new Uint8Array(50)))]),
    /^invalid-field: r field is 50 bytes/,
  );
  const badHop = new Uint8Array(51);
  badHop[0] = 2; // x = 0 is not on the curve
  assert.match(
    refused([P, S, D, field(3, bytesToWords(badHop))]),
    /^invalid-field: r field hop 1 has an invalid public key/,
  );
  assert.match(refused([P, S, D, field(6, new Array(11).fill(1))]), /^invalid-field: x field has 55 bits/);
});

test('c, x and 9 that begin with a zero field element are refused (SHOULD treat as invalid)', () => {
  assert.match(refused([P, S, D, field(6, [0, 1])]), /^non-minimal-field: x field/);
  assert.match(refused([P, S, D, field(24, [0, 9])]), /^non-minimal-field: c field/);
  assert.match(refused([P, S, D, field(5, [0, 16, 8, 0])]), /^non-minimal-field: 9 field/);
  // Zero-length x and c are minimal: the value 0.
  const inv = decodeInvoice(raw(P, S, D, field(6, []), field(24, [])));
  assert.equal(inv.expirySeconds, 0);
  assert.equal(inv.minFinalCltvExpiryDelta, 0);
});

test('features: unknown even bits, known even bits outside invoices and missing dependencies are refused', () => {
  const nine = (...bits: number[]) => {
    const max = Math.max(...bits);
    const words = new Array(Math.floor(max / 5) + 1).fill(0);
    for (const b of bits) words[words.length - 1 - Math.floor(b / 5)] |= 1 << (b % 5);
    return field(5, words);
  };
  assert.match(
    refused([P, S, D, nine(8, 14, 100)]),
    /^invalid-features: 9 field requires unknown feature bit 100/,
  );
  assert.match(refused([P, S, D, nine(12, 14)]), /^invalid-features: .*option_static_remotekey \(bit 12\)/);
  assert.match(
    refused([P, S, D, nine(8, 17)]),
    /^invalid-features: 9 field sets basic_mpp without payment_secret/,
  );
  assert.deepEqual(
    decodeInvoice(raw(P, S, D, nine(8, 13, 15, 17, 101))).features.bits(),
    [8, 13, 15, 17, 101],
  );
});

test('signatures: recovery id 0-3; not recoverable; n must verify and be low-S; high-S without n recovers', async () => {
  const words = Uint8Array.from([...ts, ...P, ...S, ...D]);
  assert.match(
    codeOfAsyncSync(() => decodeInvoice(rawInvoice('lnbcrt', words, 7))),
    /^invalid-signature: signature recovery id is 7/,
  );
  // r = 0 is no signature at all.
  const zeroSig = encodeBech32('lnbcrt', Uint8Array.from([...words, ...bytesToWords(new Uint8Array(65))]));
  assert.match(
    codeOfAsyncSync(() => decodeInvoice(zeroSig)),
    /^invalid-signature: signature is not recoverable/,
  );
  // With n: a signature by another key, and the same signature made high-S, are refused.
  const other = plainKeySigner(new Uint8Array(32).fill(3));
  assert.match(
    await codeOfAsync(() => createInvoice({ ...base, payee: PAYEE }, other)),
    /^signer-failed: .*does not verify against the n field/,
  );
  const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const mirror: InvoiceSigner = async (h) => {
    const { signature, recoveryId } = await sign(h);
    const s = N - BigInt(`0x${hex(signature.subarray(32))}`);
    const out = signature.slice();
    out.set(Buffer.from(s.toString(16).padStart(64, '0'), 'hex'), 32);
    return { signature: out, recoveryId: recoveryId ^ 1 };
  };
  assert.match(
    await codeOfAsync(() => createInvoice({ ...base, payee: PAYEE }, mirror)),
    /high-S, not allowed with an n field/,
  );
  // Without n the mirrored (high-S) signature, with its recovery id flipped, recovers the payee.
  const { decoded } = await createInvoice(base, mirror);
  assert.equal(hex(decoded.payee), hex(PAYEE));
  assert.equal(hex(recoverPublicKey(decoded.signature, decoded.recoveryId, decoded.signedHash)!), hex(PAYEE));
});

test('the signer: its failures and wrong answers are InvoiceError signer-failed', async () => {
  assert.match(
    await codeOfAsync(() => createInvoice(base, async () => Promise.reject(new Error('pool closed')))),
    /^signer-failed: the signer failed: pool closed/,
  );
  assert.match(
    await codeOfAsync(() =>
      createInvoice(base, async () => ({ signature: new Uint8Array(63), recoveryId: 0 })),
    ),
    /64-byte/,
  );
  assert.match(
    await codeOfAsync(() =>
      createInvoice(base, async () => ({ signature: new Uint8Array(64), recoveryId: 4 })),
    ),
    /recovery id 0-3/,
  );
  assert.equal(
    codeOf(() => plainKeySigner(new Uint8Array(32))),
    'invalid-argument',
  );
});

test('compactSigner: a signer of bare 64-byte signatures (the node key signer) gets its recovery id found', async () => {
  const { secp } = await import('@lnkit/crypto');
  const nodeKeySign = async (digest: Uint8Array) => secp.sign(digest, KEY);
  for (let i = 0; i < 8; i++) {
    const { decoded } = await createInvoice({ ...base, timestamp: T + i }, compactSigner(nodeKeySign, PAYEE));
    assert.equal(hex(decoded.payee), hex(PAYEE));
  }
  const otherKey = publicKeyOf(new Uint8Array(32).fill(4));
  assert.match(
    await codeOfAsync(() => createInvoice(base, compactSigner(nodeKeySign, otherKey))),
    /^signer-failed: .*not by the given public key/,
  );
});

test('the encoder refuses what it cannot write, naming it', async () => {
  const bad = (r: Partial<InvoiceRequest>) =>
    codeOfAsync(() => createInvoice({ ...base, ...r } as InvoiceRequest, sign));
  assert.match(
    await bad({ paymentHash: new Uint8Array(31) }),
    /^invalid-argument: paymentHash must be 32 bytes/,
  );
  assert.match(await bad({ descriptionHash: hash }), /exactly one of description and descriptionHash/);
  assert.match(await bad({ description: 'x'.repeat(640) }), /data_length is at most 1023/);
  assert.match(await bad({ amountMsat: 0n }), /amountMsat must be a bigint from 1/);
  assert.match(await bad({ timestamp: 2 ** 35 }), /timestamp must be a whole number/);
  assert.match(await bad({ expirySeconds: -1 }), /expirySeconds/);
  assert.match(await bad({ routeHints: [[]] }), /at least one hop/);
  assert.match(
    await bad({ fallbacks: [{ version: 17, program: new Uint8Array(21) }] }),
    /fallback version 17 needs a 20-byte hash/,
  );
  assert.match(await bad({ network: 'litecoin' as Network }), /unknown network/);
  // A description of 639 bytes is the most one d field holds.
  const { decoded } = await createInvoice({ ...base, description: 'x'.repeat(639) }, sign);
  assert.equal(decoded.description?.length, 639);
});

test('lightning: URIs and upper case are read; the checksum guards every character', async () => {
  const { invoice } = await createInvoice(base, sign);
  assert.equal(hex(decodeInvoice(`lightning:${invoice}`).paymentHash), hex(hash));
  assert.equal(hex(decodeInvoice(`LIGHTNING:${invoice.toUpperCase()}`).paymentHash), hex(hash));
  assert.equal(
    codeOf(() =>
      decodeInvoice(`${invoice.slice(0, 20)}${invoice[20] === 'q' ? 'p' : 'q'}${invoice.slice(21)}`),
    ),
    'bad-checksum',
  );
  const { words } = decodeBech32(invoice);
  // A tagged field that claims more data than is left before the signature.
  const cut = Uint8Array.from([...words.subarray(0, 7), 13, 31, 31]);
  assert.match(
    codeOfAsyncSync(() => decodeInvoice(rawInvoice('lnbcrt', cut))),
    /^truncated: d field has data_length 1023/,
  );
  assert.match(
    codeOfAsyncSync(() => decodeInvoice(rawInvoice('lnbcrt', Uint8Array.from([...ts, 13])))),
    /^truncated: tagged field at character 7/,
  );
});

test('fallback addresses of each network, and what is not one', () => {
  const f = fallbackFromAddress('mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP', 'testnet');
  assert.equal(f.version, 17);
  assert.equal(
    codeOf(() => fallbackFromAddress('mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP', 'bitcoin')),
    'invalid-argument',
  );
  assert.equal(
    codeOf(() => fallbackFromAddress('1RustyRX2oai4EYYDpQGWvEL62BBGqN9U', 'bitcoin')),
    'invalid-argument',
  );
  // bech32m for v0 and bech32 for v1 are refused (BIP 350).
  assert.equal(
    codeOf(() => fallbackFromAddress('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh', 'bitcoin')),
    'invalid-argument',
  );
  assert.equal(
    codeOf(() =>
      fallbackFromAddress(
        'bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx',
        'bitcoin',
      ),
    ),
    'invalid-argument',
  );
  const rt = fallbackFromAddress('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 'regtest');
  assert.equal(rt.version, 0);
  assert.equal(rt.program.length, 20);
});
