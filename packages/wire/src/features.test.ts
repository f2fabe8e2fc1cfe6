import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireError } from './errors.ts';
import { Features, featureProblems, knownFeature, validateFeatures } from './features.ts';

test('bit numbering: bit 0 is the least-significant bit of the last byte', () => {
  const f = Features.fromBits([0, 9, 17]);
  assert.equal(Buffer.from(f.toBytes()).toString('hex'), '020201');
  assert.deepEqual(Features.fromBytes(Uint8Array.from([0x02, 0x02, 0x01])).bits(), [0, 9, 17]);
  assert.ok(f.isSet(9) && !f.isSet(8) && !f.isSet(1000));
});

test('decoded bytes are kept as sent, built vectors are minimal', () => {
  const padded = Features.fromBytes(Uint8Array.from([0, 0, 0x02]));
  assert.equal(padded.byteLength, 3);
  assert.deepEqual([...padded.toMinimalBytes()], [0x02]);
  assert.equal(padded.set(1).byteLength, 1);
  assert.ok(padded.equals(Features.fromBits([1])));
});

test('required/optional pairs, supports and requires', () => {
  const f = Features.of({ required: ['option_static_remotekey'], optional: ['var_onion_optin'] });
  assert.deepEqual(f.bits(), [9, 12]);
  assert.ok(f.supports('var_onion_optin') && !f.requires('var_onion_optin'));
  assert.ok(f.requires('option_static_remotekey') && f.supports('option_static_remotekey'));
  // BOLT 9: both bits set => treated as mandatory
  assert.ok(Features.fromBits([22, 23]).requires('option_anchors'));
  assert.throws(() => knownFeature('no_such_feature'), WireError);
});

test('or / and / negotiatedWith', () => {
  const a = Features.fromBits([1, 13, 23]);
  const b = Features.fromBits([13, 22, 47]);
  assert.deepEqual(a.or(b).bits(), [1, 13, 22, 23, 47]);
  assert.deepEqual(a.and(b).bits(), [13]);
  // option_anchors offered by both (odd by a, even by b) -> negotiated; scid_alias only by b (odd) -> not
  assert.deepEqual(a.negotiatedWith(b), ['option_static_remotekey', 'option_anchors']);
  // BOLT 1: a feature the local node offered as even is negotiated
  assert.deepEqual(Features.fromBits([4]).negotiatedWith(Features.empty()), [
    'option_upfront_shutdown_script',
  ]);
});

test('BOLT 1/9: an unknown even (required) bit in init is rejected, an unknown odd bit ignored', () => {
  assert.throws(
    () => validateFeatures(Features.fromBits([100]), 'init'),
    (e: unknown) =>
      e instanceof WireError && e.code === 'invalid-feature' && /unknown required bit 100/.test(e.message),
  );
  validateFeatures(Features.fromBits([101]), 'init');
  assert.deepEqual(featureProblems(Features.fromBits([101, 9]), 'init'), []);
  // bits 2/3 and 20/21 are not assigned in BOLT 9
  assert.deepEqual(featureProblems(Features.fromBits([2, 21]), 'init'), [
    { reason: 'unknown-required', bit: 2 },
  ]);
});

test('BOLT 9 dependencies: basic_mpp needs payment_secret, zeroconf needs scid_alias, simple_close needs shutdown_anysegwit', () => {
  assert.deepEqual(featureProblems(Features.of({ optional: ['basic_mpp'] }), 'init'), [
    { reason: 'missing-dependency', feature: 'basic_mpp', dependency: 'payment_secret' },
  ]);
  validateFeatures(Features.of({ optional: ['basic_mpp', 'payment_secret'] }), 'init');
  validateFeatures(Features.of({ optional: ['basic_mpp'], required: ['payment_secret'] }), 'invoice');
  assert.throws(
    () => validateFeatures(Features.of({ optional: ['option_zeroconf'] }), 'init'),
    /option_zeroconf requires option_scid_alias/,
  );
  validateFeatures(Features.of({ optional: ['option_zeroconf', 'option_scid_alias'] }), 'node_announcement');
  assert.throws(
    () => validateFeatures(Features.of({ required: ['option_simple_close'] }), 'init'),
    /requires option_shutdown_anysegwit/,
  );
});

test('BOLT 9 contexts: a feature outside its Context column is rejected', () => {
  // option_payment_metadata is 9 only
  assert.deepEqual(featureProblems(Features.of({ optional: ['option_payment_metadata'] }), 'init'), [
    { reason: 'wrong-context', bit: 49, feature: 'option_payment_metadata' },
  ]);
  validateFeatures(Features.of({ optional: ['option_payment_metadata'] }), 'invoice');
  // gossip_queries_ex is IN: not in invoices, not in channel_type
  assert.throws(
    () => validateFeatures(Features.of({ optional: ['gossip_queries_ex'] }), 'invoice'),
    /not allowed in invoice/,
  );
  // channel_type (T): anchors, scid_alias, zeroconf (+ static_remotekey of the previous revision)
  validateFeatures(Features.of({ required: ['option_anchors', 'option_static_remotekey'] }), 'channel_type');
  validateFeatures(Features.of({ required: ['option_zeroconf'] }), 'channel_type'); // no dependency check for T
  assert.throws(
    () => validateFeatures(Features.of({ required: ['option_dual_fund'] }), 'channel_type'),
    WireError,
  );
  // nothing in BOLT 9 is presented in channel_announcement today
  assert.throws(
    () => validateFeatures(Features.of({ optional: ['option_anchors'] }), 'channel_announcement'),
    WireError,
  );
  validateFeatures(Features.fromBits([1001]), 'channel_announcement');
});

test('a typical init vector validates (assumed features still accepted)', () => {
  const f = Features.of({
    required: ['option_data_loss_protect', 'var_onion_optin', 'option_static_remotekey', 'payment_secret'],
    optional: [
      'gossip_queries',
      'basic_mpp',
      'option_support_large_channel',
      'option_anchors',
      'option_route_blinding',
      'option_channel_type',
      'option_scid_alias',
      'option_zeroconf',
    ],
  });
  validateFeatures(f, 'init');
  validateFeatures(f.clear(1), 'node_announcement');
});
