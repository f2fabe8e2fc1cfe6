import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { WireError } from './errors.ts';
import { Features } from './features.ts';
import { decodeMessage, encodeMessage } from './message.ts';
import { init, initFeatures, ping, pong, printableData } from './setup.ts';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fx = JSON.parse(readFileSync(new URL('./fixtures/init-extension.json', import.meta.url), 'utf8')) as {
  valid: { hex: string; note: string }[];
  invalid: { hex: string; note: string }[];
};

test('BOLT 1 Appendix C: valid init messages decode and re-encode byte for byte', () => {
  assert.equal(fx.valid.length, 2);
  for (const v of fx.valid) {
    const m = decodeMessage(hex(v.hex));
    assert.equal(m.kind, 'init', v.note);
    if (m.kind !== 'init') continue;
    assert.ok(m.features.isEmpty() && m.globalFeatures.isEmpty());
    assert.equal(toHex(encodeMessage(m)), v.hex, v.note);
  }
  const withOdd = decodeMessage(hex(fx.valid[1]!.hex));
  assert.deepEqual(withOdd.kind === 'init' ? withOdd.unknownTlvs?.map((r) => r.type) : [], [0xc9n, 0xcbn]);
});

test('BOLT 1 Appendix C: invalid init messages fail with a WireError', () => {
  assert.equal(fx.invalid.length, 3);
  for (const v of fx.invalid) assert.throws(() => decodeMessage(hex(v.hex)), WireError, v.note);
});

test('init: networks and remote_addr TLVs', () => {
  const regtest = hex('06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f');
  const msg = {
    type: 16,
    kind: 'init',
    globalFeatures: Features.fromBits([1]),
    features: Features.of({ optional: ['var_onion_optin', 'option_static_remotekey'] }),
    networks: [regtest],
    remoteAddr: { kind: 'ipv4', addr: hex('7f000001'), port: 9735 },
  } as const;
  const bytes = init.encode({ ...msg, networks: [...msg.networks] });
  // type, gflen=1 0x02, flen=2 0x2200, networks(1) len 32, remote_addr(3) len 7
  assert.equal(
    toHex(bytes),
    `0010 0001 02 0002 2200 01 20 ${toHex(regtest)} 03 07 01 7f000001 2607`.replaceAll(' ', ''),
  );
  const back = init.decode(bytes);
  assert.deepEqual(back.networks, [regtest]);
  assert.deepEqual(back.remoteAddr, msg.remoteAddr);
  assert.deepEqual(initFeatures(back).bits(), [1, 9, 13]);
  // networks must be whole chain hashes
  assert.throws(() => init.decode(hex(`001000000000011f${'00'.repeat(31)}`)), WireError);
});

test('ping/pong and error text', () => {
  const p = ping.encode({ type: 18, kind: 'ping', numPongBytes: 4, ignored: new Uint8Array(2) });
  assert.equal(toHex(p), '0012000400020000');
  assert.deepEqual(decodeMessage(p), { type: 18, kind: 'ping', numPongBytes: 4, ignored: new Uint8Array(2) });
  assert.equal(
    toHex(pong.encode({ type: 19, kind: 'pong', ignored: new Uint8Array(4) })),
    '0013000400000000',
  );
  assert.equal(printableData(hex('68656c6c6f')), 'hello');
  assert.equal(printableData(hex('68000a')), undefined);
});

test('unknown types decode to UnknownMessage for the caller to apply even/odd', () => {
  assert.deepEqual(decodeMessage(hex('8001abcd')), { kind: 'unknown', type: 0x8001, payload: hex('abcd') });
  assert.deepEqual(encodeMessage({ kind: 'unknown', type: 0x8001, payload: hex('abcd') }), hex('8001abcd'));
  assert.throws(
    () => decodeMessage(hex('00')),
    (e: unknown) => e instanceof WireError && e.code === 'truncated',
  );
});
