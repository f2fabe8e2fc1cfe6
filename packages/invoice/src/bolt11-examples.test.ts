/**
 * Every example of BOLT 11, valid and invalid (fixtures/ — copied from the BOLT by
 * scripts/extract-bolt11-examples.mjs, expected values typed from each example's breakdown):
 * decoded field by field, the signature breakdown reproduced, re-encoded with the BOLT's key to
 * the exact string, and each invalid one refused with the InvoiceError that names its fault.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatShortChannelId } from '@lnkit/wire';
import { decodeBech32 } from './bech32.ts';
import { signingPreimage } from './decode.ts';
import invalidExamples from './fixtures/bolt11-invalid.json' with { type: 'json' };
import validExamples from './fixtures/bolt11-valid.json' with { type: 'json' };
import {
  decodeInvoice,
  encodeInvoice,
  fallbackAddress,
  fallbackFromAddress,
  fieldLetter,
  InvoiceError,
  type InvoiceSigner,
  type Network,
  parseInvoice,
  plainKeySigner,
} from './index.ts';

const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * The BOLT's high-S example, made as it was made: the RFC 6979 signature with s negated and
 * the recovery id kept (so it recovers another key; see the extraction script).
 */
function highS(sign: InvoiceSigner): InvoiceSigner {
  return async (hash) => {
    const { signature, recoveryId } = await sign(hash);
    const s = BigInt(`0x${hex(signature.subarray(32))}`);
    const out = signature.slice();
    out.set(Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex'), 32);
    return { signature: out, recoveryId };
  };
}

for (const ex of validExamples) {
  test(`BOLT 11 valid: ${ex.title.slice(0, 90)}`, async () => {
    const e = ex.expected;
    const inv = decodeInvoice(ex.invoice);
    assert.equal(inv.network, e.network);
    assert.equal(inv.amountMsat, e.amountMsat === null ? null : BigInt(e.amountMsat));
    assert.equal(inv.timestamp, e.timestamp);
    assert.equal(hex(inv.payee), e.payee);
    assert.equal(inv.payeeFromField, false);
    assert.equal(hex(inv.paymentHash), e.paymentHash);
    assert.equal(hex(inv.paymentSecret), e.paymentSecret);
    assert.equal(inv.description, e.description);
    assert.equal(hex(inv.descriptionHash), e.descriptionHash);
    assert.equal(inv.expirySeconds, e.expirySeconds);
    assert.equal(inv.minFinalCltvExpiryDelta, e.minFinalCltvExpiryDelta);
    assert.deepEqual(inv.features.bits(), e.features);
    assert.equal(hex(inv.paymentMetadata), e.paymentMetadata);
    assert.deepEqual(
      inv.fields.map((f) => f.tag),
      e.fields,
    );
    assert.deepEqual(
      inv.fallbacks.map((f) => ({ version: f.version, address: fallbackAddress(f, inv.network as Network) })),
      e.fallbacks,
    );
    for (const f of e.fallbacks) {
      const back = fallbackFromAddress(f.address, inv.network);
      assert.equal(back.version, f.version);
      assert.ok(inv.fallbacks.some((g) => hex(g.program) === hex(back.program)));
    }
    assert.deepEqual(
      inv.routeHints.map((hint) =>
        hint.map((h) => ({
          nodeId: hex(h.nodeId),
          shortChannelId: formatShortChannelId(h.shortChannelId),
          feeBaseMsat: h.feeBaseMsat,
          feeProportionalMillionths: h.feeProportionalMillionths,
          cltvExpiryDelta: h.cltvExpiryDelta,
        })),
      ),
      e.routeHints,
    );
    if ('skipped' in e) {
      const skipped = inv.fields.flatMap((f) =>
        f.tag === 'skipped' ? [[fieldLetter(f.type), f.words.length]] : [],
      );
      assert.deepEqual(skipped, e.skipped);
    }
    // The signature breakdown: r || s, recovery flag, the signed bytes and their hash.
    const b = ex.signatureBreakdown;
    if (b) {
      assert.equal(hex(inv.signature), b.signature);
      assert.equal(inv.recoveryId, b.recoveryId);
      assert.equal(hex(inv.signedHash), b.signedHash);
      const { hrp, words } = decodeBech32(ex.invoice);
      assert.equal(hex(signingPreimage(hrp, words.subarray(0, words.length - 104))), b.signingData);
    }

    // Re-encoded from what was decoded, signed with the BOLT's key: the same string.
    let sign = plainKeySigner(Buffer.from(ex.privateKey, 'hex'));
    if ('highS' in e && e.highS) sign = highS(sign);
    const { invoice } = await encodeInvoice(
      { network: inv.network, amountMsat: inv.amountMsat, timestamp: inv.timestamp, fields: inv.fields },
      sign,
    );
    const upper = ex.invoice === ex.invoice.toUpperCase();
    assert.equal(upper ? invoice.toUpperCase() : invoice, ex.invoice);
  });
}

for (const ex of invalidExamples) {
  test(`BOLT 11 invalid: ${ex.title}`, () => {
    assert.throws(
      () => decodeInvoice(ex.invoice),
      (e: unknown) => {
        assert.ok(e instanceof InvoiceError, `not an InvoiceError: ${String(e)}`);
        assert.equal(e.code, ex.expectedCode, e.message);
        assert.ok(e.message.includes(ex.messageNames), `"${e.message}" does not name "${ex.messageNames}"`);
        return true;
      },
    );
  });
}

test('the invalid examples fail for their own reason, not an earlier one', () => {
  // Checksum-only faults: the rest of the string parses (so the check that fires is the checksum).
  const checksum = invalidExamples.find((x) => x.expectedCode === 'bad-checksum')!;
  assert.throws(() => parseInvoice(checksum.invoice), /checksum/);
  // The high-S example with n: the same string otherwise frames correctly.
  const hs = invalidExamples.find((x) => x.title.includes('high-S'))!;
  const parsed = parseInvoice(hs.invoice);
  assert.ok(parsed.fields.some((f) => f.tag === 'n'));
});
