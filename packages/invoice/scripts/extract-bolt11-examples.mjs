// Copies the examples of BOLT 11 ("Examples" and "Examples of Invalid Invoices") into JSON
// fixtures, once, so that lnkit tests without the BOLT checkout. Run from /work/main:
//   node packages/invoice/scripts/extract-bolt11-examples.mjs /work/shared/bolts/11-payment-encoding.md
// The invoice strings and signature breakdowns are copied verbatim. The expected field values
// below were typed by hand from each example's heading and "Breakdown" text; every one that
// the text prints (hex, descriptions, addresses, channel ids) is checked here to occur in that
// example's own text, so a typo stops the script instead of becoming a fixture.
import { readFileSync, writeFileSync } from 'node:fs';

const path = process.argv[2] ?? '/work/shared/bolts/11-payment-encoding.md';
const lines = readFileSync(path, 'utf8').split('\n');
const SOURCE = 'lightning/bolts 11-payment-encoding.md at commit a3772650d8ebc06acf457fcadf97968ebfc4dfff';
const OUT = new URL('../src/fixtures/', import.meta.url);

const KEY = 'e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734';
const PAYEE = '03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad';
const SECRET = '1111111111111111111111111111111111111111111111111111111111111111';
const HASH = '0001020304050607080900010203040506070809000102030405060708090102';
const CAKE = '3925b6f67e2c340036ed12093dd44e0368df1b6ea26c53dbe4811f58fd5db8c1';
const T = 1496314658;

// Common to most examples (the text: "All invoices contain a payment_secret=1111... unless
// otherwise noted", "all the following examples are signed with priv_key=e126...").
const base = {
  network: 'bitcoin',
  timestamp: T,
  payee: PAYEE,
  paymentHash: HASH,
  paymentSecret: SECRET,
  description: null,
  descriptionHash: null,
  expirySeconds: 3600,
  minFinalCltvExpiryDelta: 18,
  features: [8, 14],
  fallbacks: [],
  routeHints: [],
  paymentMetadata: null,
};
const cake = { amountMsat: '2000000000', descriptionHash: CAKE };
const coffeeBeans = {
  amountMsat: '2500000000',
  description: 'coffee beans',
  features: [8, 14, 99],
  fields: ['p', 'd', 's', '9'],
};

/** Expected values by heading, in the order of the BOLT. */
const VALID = [
  [
    'Please make a donation of any amount',
    {
      amountMsat: null,
      description: 'Please consider supporting this project',
      fields: ['s', 'p', 'd', '9'],
    },
  ],
  [
    'Please send $3 for a cup of coffee',
    {
      amountMsat: '250000000',
      description: '1 cup coffee',
      expirySeconds: 60,
      fields: ['s', 'p', 'd', 'x', '9'],
    },
  ],
  [
    'Please send 0.0025 BTC for a cup of nonsense',
    {
      amountMsat: '250000000',
      description: 'ナンセンス 1杯',
      expirySeconds: 60,
      fields: ['s', 'p', 'd', 'x', '9'],
    },
  ],
  ['Now send $24 for an entire list of things (hashed)', { ...cake, fields: ['s', 'p', 'h', '9'] }],
  [
    'The same, on testnet, with a fallback address',
    {
      ...cake,
      network: 'testnet',
      fallbacks: [{ version: 17, address: 'mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP' }],
      fields: ['s', 'h', 'p', 'f', '9'],
    },
  ],
  [
    'On mainnet, with fallback address 1RustyRX2oai4EYYDpQGWvEL62BBGqN9T with extra routing info',
    {
      ...cake,
      fallbacks: [{ version: 17, address: '1RustyRX2oai4EYYDpQGWvEL62BBGqN9T' }],
      routeHints: [
        [
          {
            nodeId: '029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255',
            shortChannelId: '66051x263430x1800',
            feeBaseMsat: 1,
            feeProportionalMillionths: 20,
            cltvExpiryDelta: 3,
          },
          {
            nodeId: '039e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255',
            shortChannelId: '197637x395016x2314',
            feeBaseMsat: 2,
            feeProportionalMillionths: 30,
            cltvExpiryDelta: 4,
          },
        ],
      ],
      fields: ['s', 'p', 'h', 'f', 'r', '9'],
    },
  ],
  [
    'On mainnet, with fallback (P2SH) address',
    {
      ...cake,
      fallbacks: [{ version: 18, address: '3EktnHQD7RiAE6uzMj2ZifT9YgRrkSgzQX' }],
      fields: ['s', 'h', 'p', 'f', '9'],
    },
  ],
  [
    'On mainnet, with fallback (P2WPKH) address',
    {
      ...cake,
      fallbacks: [{ version: 0, address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4' }],
      fields: ['s', 'h', 'p', 'f', '9'],
    },
  ],
  [
    'On mainnet, with fallback (P2WSH) address',
    {
      ...cake,
      fallbacks: [{ version: 0, address: 'bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3' }],
      fields: ['s', 'h', 'p', 'f', '9'],
    },
  ],
  [
    'On mainnet, with fallback (P2TR) address',
    {
      ...cake,
      fallbacks: [{ version: 1, address: 'bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm' }],
      fields: ['s', 'p', 'h', 'f', '9'],
    },
  ],
  [
    'Please send 0.00967878534 BTC for a list of items within one week, amount in pico-BTC',
    {
      amountMsat: '967878534',
      timestamp: 1572468703,
      paymentHash: '462264ede7e14047e9b249da94fefc47f41f7d02ee9b091815a5506bc8abf75f',
      // The text shows the quotes escaped (\"); the string has plain ones.
      description:
        'Blockstream Store: 88.85 USD for Blockstream Ledger Nano S x 1, "Back In My Day" Sticker x 2, "I Got Lightning Working" Sticker x 2 and 1 more items',
      expirySeconds: 604800,
      minFinalCltvExpiryDelta: 10,
      routeHints: [
        [
          {
            nodeId: '03d06758583bb5154774a6eb221b1276c9e82d65bbaceca806d90e20c108f4b1c7',
            shortChannelId: '589390x3312x1',
            feeBaseMsat: 1000,
            feeProportionalMillionths: 2500,
            cltvExpiryDelta: 40,
          },
        ],
      ],
      fields: ['p', 'd', 's', 'x', 'c', 'r', '9'],
    },
  ],
  ['Please send $30 for coffee beans to the same peer, which supports features 8, 14 and 99', coffeeBeans],
  // "Same, but all upper case." has no breakdown of its own: its values are in the one before.
  ['Same, but all upper case.', { ...coffeeBeans, textOf: 'Please send $30 for coffee beans' }],
  [
    'Same, but including fields which must be ignored.',
    {
      ...coffeeBeans,
      fields: [
        'p',
        'd',
        's',
        '9',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
      ],
      // type letter, data_length, why, from the breakdown ("unknown field", "fallback
      // address type 19 (ignored)", "data_length ... (ignored)").
      skipped: [
        ['2', 3],
        ['f', 33],
        ['p', 51],
        ['p', 53],
        ['h', 51],
        ['h', 53],
        ['s', 51],
        ['s', 53],
        ['n', 52],
        ['n', 54],
      ],
    },
  ],
  [
    'Please send 0.01 BTC with payment metadata 0x01fafaf0',
    {
      amountMsat: '1000000000',
      description: 'payment metadata inside',
      paymentMetadata: '01fafaf0',
      features: [8, 14, 48],
      fields: ['p', 'd', 'm', 's', '9'],
    },
  ],
  [
    'Public-key recovery with high-S signature',
    {
      amountMsat: null,
      description: 'Please consider supporting this project',
      fields: ['s', 'p', 'd', '9'],
      highS: true,
      // The text does not say which payee this recovers. Its signature is the first example's
      // with s negated and the same recovery flag (1); negating s mirrors R, so recovery with
      // that flag gives another key than the signer's: this one, as libsecp256k1's recovery
      // (used by LDK, lnd, CLN) gives too — test/interop checks it against LDK.
      payee: '02d0139ce7427d6dfffd26a326c18be754ef1e64672b42694ba5b23ef6e6e7803d',
      note: 'payee computed, not printed by the BOLT: see the extraction script',
    },
  ],
];

/** Expected refusal by heading: the InvoiceError code and what the message must name. */
const INVALID = [
  ['Same, but adding invalid unknown feature 100', 'invalid-features', 'feature bit 100'],
  ['Bech32 checksum is invalid.', 'bad-checksum', 'checksum'],
  ['Malformed bech32 string (no 1)', 'invalid-bech32', 'separator'],
  ['Malformed bech32 string (mixed case)', 'invalid-bech32', 'upper and lower case'],
  ['Signature is not recoverable.', 'invalid-signature', 'not recoverable'],
  ['String is too short.', 'truncated', 'too short'],
  ['Invalid multiplier', 'invalid-amount', 'multiplier "x"'],
  ['Invalid sub-millisatoshi precision.', 'invalid-amount', 'millisatoshi'],
  ['Missing required `s` field.', 'missing-field', 's field'],
  ["Non canonical signature (high-S) with 'n' field defined", 'invalid-signature', 'high-S'],
];

const examplesStart = lines.indexOf('# Examples');
const invalidStart = lines.indexOf('# Examples of Invalid Invoices');
const headings = [];
lines.forEach((l, i) => {
  if (i > examplesStart && /^> #+ /.test(l)) headings.push(i);
});

function example(title) {
  const at = headings.find((i) => lines[i].replace(/^> #+ /, '').startsWith(title));
  if (at === undefined) throw new Error(`no example headed "${title}"`);
  const next = headings.find((i) => i > at) ?? lines.findIndex((l, i) => i > at && l === '# Authors');
  const body = lines.slice(at, next);
  // The invoice is the first line after the heading (the P2TR one is not quoted with "> ").
  const invoiceLine = body.slice(1).find((l) => /^(> )?(ln|LN|pv)[0-9A-Za-z]+$/.test(l));
  if (!invoiceLine) throw new Error(`no invoice under "${title}"`);
  const invoice = invoiceLine.replace(/^> /, '');
  const text = body.join('\n');
  const hex = (what) => new RegExp(`\`([0-9a-f]+)\` ${what}`).exec(text)?.[1];
  const recovery = /\* `(\d)` \(int\) recovery flag/.exec(text)?.[1];
  return {
    at,
    title: lines[at].replace(/^> #+ /, ''),
    invoice,
    text,
    signatureBreakdown: hex('hex of signature data')
      ? {
          signature: hex('hex of signature data'),
          recoveryId: Number(recovery),
          signingData: hex('hex of data for signing'),
          signedHash: hex('hex of SHA256 of the preimage'),
        }
      : null,
  };
}

function mustOccur(text, value, title) {
  if (!text.includes(value)) throw new Error(`"${value}" does not occur in the text of "${title}"`);
}

const valid = VALID.map(([title, expect]) => {
  const e = example(title);
  if (e.at > invalidStart) throw new Error(`"${title}" is not among the valid examples`);
  const { textOf, ...own } = expect;
  const expected = { ...base, ...own };
  const occurs = (v) => mustOccur(textOf ? example(textOf).text : e.text, v, title);
  // Values shared by all examples are printed once, in the intro and the first heading.
  const intro = lines.slice(examplesStart, headings[0] + 1).join('\n');
  for (const v of [KEY, SECRET, HASH, PAYEE]) mustOccur(intro, v, 'Examples');
  if (expected.paymentHash !== HASH) occurs(expected.paymentHash);
  // The text escapes the quotes of a description (\").
  if (expected.description) occurs(expected.description.replaceAll('"', '\\"'));
  // The later examples say "hash of description...": the one printed in the $24 example.
  if (expected.descriptionHash) mustOccur(example('Now send $24').text, expected.descriptionHash, title);
  if (expected.paymentMetadata) occurs(expected.paymentMetadata);
  for (const f of expected.fallbacks) occurs(f.address);
  for (const hop of expected.routeHints.flat()) {
    occurs(hop.nodeId);
    occurs(hop.shortChannelId);
  }
  if (expected.expirySeconds !== 3600) occurs(`${expected.expirySeconds} seconds`);
  if (expected.timestamp !== T) occurs(`timestamp (${expected.timestamp})`);
  return {
    source: `${SOURCE}, section "Examples", "${e.title}"`,
    title: e.title,
    invoice: e.invoice,
    privateKey: KEY,
    signatureBreakdown: e.signatureBreakdown,
    expected,
  };
});

const invalid = INVALID.map(([title, code, names]) => {
  const e = example(title);
  if (e.at < invalidStart) throw new Error(`"${title}" is not among the invalid examples`);
  return {
    source: `${SOURCE}, section "Examples of Invalid Invoices", "${e.title}"`,
    title: e.title,
    invoice: e.invoice,
    expectedCode: code,
    messageNames: names,
  };
});

const seen = valid.length + invalid.length;
if (seen !== headings.length) throw new Error(`${headings.length} examples in the BOLT, ${seen} extracted`);
writeFileSync(new URL('bolt11-valid.json', OUT), `${JSON.stringify(valid, null, 2)}\n`);
writeFileSync(new URL('bolt11-invalid.json', OUT), `${JSON.stringify(invalid, null, 2)}\n`);
console.log(`wrote ${valid.length} valid and ${invalid.length} invalid examples`);
