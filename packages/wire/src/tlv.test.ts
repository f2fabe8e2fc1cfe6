import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ByteReader } from './bytes.ts';
import { WireError } from './errors.ts';
import { parseShortChannelId } from './scid.ts';
import { decodeTlvs, encodeTlvs, readTlvStream, type TlvSchema, tlv, type WithUnknownTlvs } from './tlv.ts';

interface Vec {
  section: string;
  namespace: 'any' | 'n1' | 'n2';
  stream: string;
  reason?: string;
  explanation?: string;
  values?: string;
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/tlv.json', import.meta.url), 'utf8')) as {
  failures: Vec[];
  successes: Vec[];
};
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// BOLT 1 Appendix B namespaces.
interface N1 {
  tlv1?: bigint;
  tlv2?: bigint;
  tlv3?: { nodeId: Uint8Array; amountMsat1: bigint; amountMsat2: bigint };
  tlv4?: number;
}
const n1: TlvSchema<N1> = {
  tlv1: tlv.tu64(1n),
  tlv2: tlv.shortChannelId(2n),
  tlv3: tlv.struct(
    3n,
    33 + 8 + 8,
    (r: ByteReader) => ({ nodeId: r.point(), amountMsat1: r.u64(), amountMsat2: r.u64() }),
    (w, v) => w.point(v.nodeId).u64(v.amountMsat1).u64(v.amountMsat2),
  ),
  tlv4: tlv.u16(254n),
};
interface N2 {
  tlv1?: bigint;
  tlv2?: number;
}
const n2: TlvSchema<N2> = { tlv1: tlv.tu64(0n), tlv2: tlv.tu32(11n) };

const decodeIn = (ns: 'n1' | 'n2', bytes: Uint8Array) =>
  ns === 'n1' ? decodeTlvs(n1, bytes, 'n1') : decodeTlvs(n2, bytes, 'n2');
const namespaces = (v: Vec): ('n1' | 'n2')[] => (v.namespace === 'any' ? ['n1', 'n2'] : [v.namespace]);

test('BOLT 1 Appendix B: every decoding-failure vector fails with a WireError', () => {
  assert.equal(fx.failures.length, 38);
  for (const v of fx.failures) {
    for (const ns of namespaces(v)) {
      assert.throws(
        () => decodeIn(ns, hex(v.stream)),
        (e: unknown) => e instanceof WireError && (e.code === 'invalid-tlv' || e.code === 'invalid-value'),
        `${ns} ${v.stream}: ${v.reason}`,
      );
    }
  }
});

test('BOLT 1 Appendix B: the specific failure reasons map to the right codes', () => {
  const codeOf = (ns: 'n1' | 'n2', h: string) => {
    try {
      decodeIn(ns, hex(h));
    } catch (e) {
      return e instanceof WireError ? e.code : 'not-wire-error';
    }
    return 'no-error';
  };
  assert.equal(
    codeOf(
      'n1',
      '0331043da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb00000000000000010000000000000002',
    ),
    'invalid-value',
  );
  assert.equal(codeOf('n1', 'fd000100'), 'invalid-tlv'); // not minimal type
  assert.equal(codeOf('n2', '1200'), 'invalid-tlv'); // unknown even
});

test('BOLT 1 Appendix B: every success vector decodes; n1 values match the spec', () => {
  assert.equal(fx.successes.length, 19);
  for (const v of fx.successes) {
    for (const ns of namespaces(v)) {
      const got = decodeIn(ns, hex(v.stream)) as N1 & WithUnknownTlvs;
      if (v.namespace === 'any') {
        // "should correctly decode, and be ignored": nothing known, odd records kept.
        assert.deepEqual(
          Object.keys(got).filter((k) => k !== 'unknownTlvs'),
          [],
          v.stream,
        );
        assert.equal(got.unknownTlvs?.length ?? 0, v.stream === '' ? 0 : 1, v.stream);
        // kept records re-encode to the same bytes
        assert.equal(
          toHex(ns === 'n1' ? encodeTlvs(n1, got as never) : encodeTlvs(n2, got as never)),
          v.stream,
        );
        continue;
      }
      const values = v.values ?? '';
      let m = /`tlv1` `amount_msat`=(\d+)/.exec(values);
      if (m) assert.equal(got.tlv1, BigInt(m[1] as string), v.stream);
      m = /`tlv2` `scid`=(\S+)/.exec(values);
      if (m) assert.equal(got.tlv2, parseShortChannelId(m[1] as string), v.stream);
      m = /`node_id`=([0-9a-f]+) `amount_msat_1`=(\d+) `amount_msat_2`=(\d+)/.exec(values);
      if (m) {
        assert.equal(toHex(got.tlv3?.nodeId ?? new Uint8Array()), m[1]);
        assert.equal(got.tlv3?.amountMsat1, BigInt(m[2] as string));
        assert.equal(got.tlv3?.amountMsat2, BigInt(m[3] as string));
      }
      m = /`cltv_delta`=(\d+)/.exec(values);
      if (m) assert.equal(got.tlv4, Number(m[1]));
      assert.ok(/`tlv[1-4]`/.test(values), 'every n1 success vector names a value');
      assert.equal(toHex(encodeTlvs(n1, got)), v.stream, `re-encode ${v.stream}`);
    }
  }
});

test('BOLT 1 Appendix B: appending an invalid stream to a valid one fails; higher after lower succeeds', () => {
  const valid = fx.successes
    .filter((v) => v.namespace === 'n1' || v.namespace === 'any')
    .filter((v) => v.stream !== '');
  const invalid = fx.failures.filter((v) => v.namespace !== 'n2');
  const firstType = (h: string) => readTlvStream(hex(h))[0]?.type ?? -1n;
  for (const a of valid) {
    for (const b of invalid) {
      assert.throws(() => decodeIn('n1', hex(a.stream + b.stream)), WireError, `${a.stream} + ${b.stream}`);
    }
    for (const b of valid) {
      const ok = firstType(b.stream) > firstType(a.stream);
      if (ok) decodeIn('n1', hex(a.stream + b.stream));
      else assert.throws(() => decodeIn('n1', hex(a.stream + b.stream)), WireError);
    }
  }
});

test('encodeTlvs orders records and refuses duplicates with unknown records', () => {
  const bytes = encodeTlvs(n1, { tlv4: 550, tlv1: 1n, unknownTlvs: [{ type: 33n, value: hex('') }] });
  assert.equal(toHex(bytes), '010101' + '2100' + 'fd00fe020226');
  assert.throws(() => encodeTlvs(n1, { tlv1: 1n, unknownTlvs: [{ type: 1n, value: hex('01') }] }), WireError);
});
