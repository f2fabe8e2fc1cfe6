/**
 * Fuzzing the decoder: random strings, and valid invoices mutated (characters flipped, cut
 * short, case changed, and — so that the parser past the checksum is reached — 5-bit words
 * flipped, inserted, dropped or cut and the checksum recomputed). The only failure allowed
 * is an InvoiceError; what decodes must re-encode to the very same field words.
 * LNKIT_FUZZ_COUNT sets the number of inputs (default 20,000, about 4 s here; 100,000 for the full run); LNKIT_FUZZ_SEED the seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Features } from '@lnkit/wire';
import { decodeBech32, encodeBech32 } from './bech32.ts';
import { SIGNATURE_WORDS, TIMESTAMP_WORDS } from './decode.ts';
import { encodeField } from './fields.ts';
import validExamples from './fixtures/bolt11-valid.json' with { type: 'json' };
import { createInvoice, decodeInvoice, fallbackFromAddress, InvoiceError, plainKeySigner } from './index.ts';

const COUNT = Number(process.env.LNKIT_FUZZ_COUNT ?? 20_000);
const SEED = Number(process.env.LNKIT_FUZZ_SEED ?? 0x1b011);

/** xorshift32: reproducible from the seed printed with any failure. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return { int: (n: number) => next() % n, next };
}

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

async function seeds(): Promise<string[]> {
  const key = new Uint8Array(32).fill(5);
  const sign = plainKeySigner(key);
  const hop = {
    nodeId: Buffer.from('029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255', 'hex'),
    shortChannelId: 1n << 40n,
    feeBaseMsat: 1,
    feeProportionalMillionths: 2,
    cltvExpiryDelta: 3,
  };
  const made = await createInvoice(
    {
      network: 'regtest',
      amountMsat: 1234n,
      paymentHash: new Uint8Array(32).fill(1),
      paymentSecret: new Uint8Array(32).fill(2),
      descriptionHash: new Uint8Array(32).fill(3),
      expirySeconds: 60,
      fallbacks: [fallbackFromAddress('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 'regtest')],
      routeHints: [[hop, hop]],
      features: Features.fromBits([8, 14, 17, 49]),
      paymentMetadata: Uint8Array.from([9, 9]),
    },
    sign,
  );
  const withN = await createInvoice(
    {
      network: 'signet',
      paymentHash: new Uint8Array(32),
      paymentSecret: new Uint8Array(32).fill(1),
      description: 'n',
      payee: (await import('./secp.ts')).publicKeyOf(key),
    },
    sign,
  );
  return [...validExamples.map((e) => e.invoice), made.invoice, withN.invoice];
}

type Mutator = (s: string, r: ReturnType<typeof rng>) => string;

const charFlip: Mutator = (s, r) => {
  const i = r.int(s.length);
  return s.slice(0, i) + CHARSET[r.int(32)] + s.slice(i + 1);
};
const truncate: Mutator = (s, r) => s.slice(0, r.int(s.length));
const caseChange: Mutator = (s, r) => {
  if (r.int(4) === 0) return s.toUpperCase();
  const i = r.int(s.length);
  return s.slice(0, i) + s[i]!.toUpperCase() + s.slice(i + 1);
};
const randomString: Mutator = (_s, r) => {
  const alphabet = r.int(2) ? CHARSET : ASCII;
  let out = r.int(2) ? 'lnbc' : '';
  if (r.int(2)) out += `${r.int(100000)}${'munpx'[r.int(5)]}1`;
  for (let n = r.int(400); n > 0; n--) out += alphabet[r.int(alphabet.length)];
  return out;
};
/** Mutates the 5-bit words and recomputes the checksum, so decoding goes past bech32. */
const wordMutation: Mutator = (s, r) => {
  const { hrp, words } = decodeBech32(s);
  const w = Array.from(words);
  const rounds = 1 + r.int(3);
  for (let k = 0; k < rounds; k++) {
    if (w.length === 0) w.push(r.int(32));
    const i = r.int(w.length);
    switch (r.int(6)) {
      case 0:
        w[i] = w[i]! ^ (1 << r.int(5));
        break;
      case 1:
        w.splice(i, 0, r.int(32));
        break;
      case 2:
        w.splice(i, 1);
        break;
      case 3:
        w.length = r.int(w.length);
        break;
      case 4:
        // A field's data_length: the words right after a type.
        w[TIMESTAMP_WORDS + 1 + r.int(Math.max(1, w.length - TIMESTAMP_WORDS - 1))] = r.int(32);
        break;
      default:
        w[i] = r.int(32);
    }
  }
  const hrps = [
    hrp,
    'lnbc',
    'lntb',
    'lntbs',
    'lnbcrt',
    'lnbc1p',
    'lnbc10p',
    'lnbc25x',
    'lnbc0',
    'lnxyz',
    'ln',
    'bc',
  ];
  return encodeBech32(r.int(4) === 0 ? hrps[r.int(hrps.length)]! : hrp, w);
};

const MUTATORS: [string, Mutator][] = [
  ['random string', randomString],
  ['character flip', charFlip],
  ['truncation', truncate],
  ['case change', caseChange],
  ['word mutation (valid checksum)', wordMutation],
  ['word mutation (valid checksum)', wordMutation],
];

test(`fuzz: ${COUNT} random and mutated invoices give only InvoiceError`, async () => {
  const inputs = await seeds();
  const r = rng(SEED);
  const codes = new Map<string, number>();
  const byMutator = new Map<string, number>();
  let accepted = 0;
  const started = performance.now();
  for (let n = 0; n < COUNT; n++) {
    const [name, mutate] = MUTATORS[r.int(MUTATORS.length)]!;
    const input = mutate(inputs[r.int(inputs.length)]!, r);
    byMutator.set(name, (byMutator.get(name) ?? 0) + 1);
    let inv: ReturnType<typeof decodeInvoice>;
    try {
      inv = decodeInvoice(input);
    } catch (e) {
      if (!(e instanceof InvoiceError))
        assert.fail(
          `input ${n} (seed ${SEED}, ${name}) threw ${String(e)}:\n${input}\n${(e as Error).stack}`,
        );
      assert.ok(e.message.length > 0);
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      continue;
    }
    accepted++;
    // What decodes re-encodes to its own field words (nothing read is lost or changed).
    const { words } = decodeBech32(input.replace(/^lightning:/i, ''));
    const fieldWords = words.subarray(TIMESTAMP_WORDS, words.length - SIGNATURE_WORDS);
    const again = inv.fields.flatMap((f) => Array.from(encodeField(f)));
    assert.deepEqual(again, Array.from(fieldWords), `input ${n} (seed ${SEED}) did not re-encode: ${input}`);
  }
  const seconds = (performance.now() - started) / 1000;
  // Printed so a run shows how far the mutations reach (which rules refused them).
  console.log(
    JSON.stringify({
      fuzz: 'invoice decode',
      inputs: COUNT,
      seconds: Number(seconds.toFixed(2)),
      perSecond: Math.round(COUNT / seconds),
      accepted,
      refused: Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])),
      mutators: Object.fromEntries(byMutator),
    }),
  );
  // The word mutations must get past the checksum and reach the field and signature rules.
  for (const code of ['invalid-signature', 'truncated', 'invalid-field', 'missing-field'])
    assert.ok((codes.get(code) ?? 0) > 0, `no input reached ${code}`);
});
