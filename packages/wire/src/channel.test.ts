import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelIdFromFunding, type OpenChannel, openChannel } from './channel.ts';
import { WireError } from './errors.ts';
import { Features } from './features.ts';
import { commitmentSigned, type UpdateFulfillHtlc, updateAddHtlc, updateFulfillHtlc } from './htlc.ts';
import { decodeMessage, encodeMessage } from './message.ts';
import { GENERATORS, Rng } from './test-support/random.ts';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('BOLT 2 channel_id: funding txid XOR output index in the last 2 bytes', () => {
  const txid = hex(`${'00'.repeat(30)}ffff`);
  assert.equal(toHex(channelIdFromFunding(txid, 0x0102)), `${'00'.repeat(30)}fefd`);
  assert.equal(toHex(channelIdFromFunding(txid, 0)), toHex(txid));
  assert.throws(() => channelIdFromFunding(txid, 65536), WireError);
});

test('open_channel: TLV layout of upfront_shutdown_script (0) and channel_type (1)', () => {
  const base = GENERATORS.open_channel(new Rng(1)) as OpenChannel;
  const { upfrontShutdownScript: _u, channelType: _c, unknownTlvs: _x, ...fixed } = base;
  const fixedBytes = openChannel.encode(fixed);
  assert.equal(fixedBytes.length, 2 + 32 + 32 + 8 * 6 + 4 + 2 + 2 + 33 * 6 + 1);
  // empty upfront script is meaningful (opt out), so it is sent as a zero-length record
  const anchors = Features.of({ required: ['option_static_remotekey', 'option_anchors'] });
  const bytes = openChannel.encode({
    ...fixed,
    upfrontShutdownScript: new Uint8Array(0),
    channelType: anchors,
  });
  assert.equal(toHex(bytes.subarray(fixedBytes.length)), `0000 0103 401000`.replaceAll(' ', ''));
  const back = openChannel.decode(bytes);
  assert.deepEqual(back.upfrontShutdownScript, new Uint8Array(0));
  assert.ok(back.channelType?.requires('option_anchors'));
  // an unknown even TLV fails the message (BOLT 1), an unknown odd one is kept
  assert.throws(
    () => decodeMessage(new Uint8Array([...fixedBytes, 0x02, 0x00])),
    (e: unknown) => e instanceof WireError && e.code === 'invalid-tlv' && e.messageName === 'open_channel',
  );
  const odd = decodeMessage(new Uint8Array([...fixedBytes, 0x03, 0x01, 0xaa]));
  assert.deepEqual(odd.kind === 'open_channel' ? odd.unknownTlvs : undefined, [
    { type: 3n, value: hex('aa') },
  ]);
});

test('update_add_htlc: the onion is exactly 1366 bytes; blinded path key is TLV 0', () => {
  const m = GENERATORS.update_add_htlc(new Rng(2));
  assert.ok(m.kind === 'update_add_htlc');
  assert.throws(() => updateAddHtlc.encode({ ...m, onionRoutingPacket: new Uint8Array(1365) }), WireError);
  const { blindedPathKey: _b, unknownTlvs: _u, ...plain } = m;
  const key = hex(`02${'11'.repeat(32)}`);
  const bytes = updateAddHtlc.encode({ ...plain, blindedPathKey: key });
  assert.equal(bytes.length, 2 + 32 + 8 + 8 + 32 + 4 + 1366 + 2 + 33);
  assert.equal(toHex(bytes.subarray(bytes.length - 35, bytes.length - 33)), '0021');
});

test('commitment_signed carries num_htlcs signatures', () => {
  const sigs = [new Uint8Array(64).fill(1), new Uint8Array(64).fill(2)];
  const bytes = commitmentSigned.encode({
    type: 132,
    kind: 'commitment_signed',
    channelId: new Uint8Array(32),
    signature: new Uint8Array(64),
    htlcSignatures: sigs,
  });
  assert.equal(toHex(bytes.subarray(2 + 32 + 64, 2 + 32 + 64 + 2)), '0002');
  assert.deepEqual(commitmentSigned.decode(bytes).htlcSignatures, sigs);
  // claims 3 signatures, carries 2
  const lying = bytes.slice();
  lying[2 + 32 + 64 + 1] = 3;
  assert.throws(
    () => decodeMessage(lying),
    (e: unknown) => e instanceof WireError && e.code === 'truncated',
  );
});

test('attribution_data must be 20 hold times + 840 bytes', () => {
  const m = GENERATORS.update_fulfill_htlc(new Rng(4)) as UpdateFulfillHtlc;
  assert.throws(
    () =>
      updateFulfillHtlc.encode({
        ...m,
        attributionData: { htlcHoldTimes: [1, 2], truncatedHmacs: new Uint8Array(840) },
      }),
    WireError,
  );
  const ok = updateFulfillHtlc.encode({
    ...m,
    unknownTlvs: undefined,
    attributionData: { htlcHoldTimes: new Array(20).fill(7), truncatedHmacs: new Uint8Array(840) },
  });
  assert.equal(ok.length, 2 + 32 + 8 + 32 + 1 + 3 + 920); // type 1, length fd0398
  assert.equal(decodeMessage(ok).kind, 'update_fulfill_htlc');
});

test('encoding refuses values the wire cannot carry', () => {
  const m = GENERATORS.update_fee(new Rng(6));
  assert.ok(m.kind === 'update_fee');
  assert.throws(
    () => encodeMessage({ ...m, feeratePerKw: 2 ** 32 }),
    (e: unknown) => e instanceof WireError && e.messageName === 'update_fee',
  );
  // The message name is added once, the code once: the text reads cleanly in a log.
  assert.throws(
    () => encodeMessage({ type: 18, kind: 'ping', numPongBytes: 70000, ignored: new Uint8Array(0) }),
    (e: unknown) =>
      e instanceof WireError &&
      e.code === 'invalid-value' &&
      e.message === 'ping: invalid-value: numPongBytes out of range',
  );
  assert.throws(() => encodeMessage({ ...m, channelId: new Uint8Array(31) }), WireError);
});
