import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  defineRecord,
  fieldCodec as f,
  readRecordHeader,
  recordDb,
  Store,
  StoreError,
  type StoreErrorCode,
} from './index.ts';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function codeOf(fn: () => unknown): StoreErrorCode | 'no error' {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StoreError, `expected a StoreError, got ${e}`);
    return e.code;
  }
  return 'no error';
}

function errorOf(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StoreError, `expected a StoreError, got ${e}`);
    return e;
  }
  assert.fail('expected a StoreError');
}

interface ChainTip {
  height: number;
  hashHex: string;
}
const chainTip = defineRecord<ChainTip>({
  kind: 'chain-tip',
  version: 1,
  minReadVersion: 1,
  fields: { height: { type: 0, codec: f.u32 }, hashHex: { type: 2, codec: f.hex(32) } },
});
const tip: ChainTip = { height: 800_000, hashHex: `00000000${'ab'.repeat(28)}` };

interface Htlc {
  id: bigint;
  amountMsat: bigint;
  paymentHash: Uint8Array;
}
interface Everything {
  count: number;
  amountMsat: bigint;
  small: number;
  big: bigint;
  flag: boolean;
  note?: string;
  key?: Uint8Array;
  blob: Uint8Array;
  htlcs: Htlc[];
  ids: number[];
  delta: bigint;
  port: number;
  addedLater: number;
}
const htlc = f.struct<Htlc>('htlc', {
  id: { type: 0, codec: f.u64 },
  amountMsat: { type: 2, codec: f.tu64 },
  paymentHash: { type: 4, codec: f.bytes32 },
});
const everythingFields = {
  count: { type: 0, codec: f.tu32 },
  amountMsat: { type: 2, codec: f.tu64 },
  small: { type: 4, codec: f.u8 },
  big: { type: 6, codec: f.bigSize },
  flag: { type: 8, codec: f.bool },
  note: { type: 9, codec: f.utf8, optional: true },
  key: { type: 11, codec: f.point, optional: true },
  blob: { type: 12, codec: f.bytes },
  htlcs: { type: 14, codec: f.list(htlc) },
  ids: { type: 16, codec: f.list(f.u32, { itemBytes: 4 }) },
  delta: { type: 18, codec: f.s64 },
  port: { type: 20, codec: f.u16 },
  addedLater: { type: 1001, codec: f.u32, default: 7 },
} as const;
const everything = defineRecord<Everything>({
  kind: 'everything',
  version: 2,
  minReadVersion: 1,
  fields: everythingFields,
});
const sample: Everything = {
  count: 3,
  amountMsat: 1_000_000_000n,
  small: 255,
  big: 2n ** 64n - 1n,
  flag: true,
  note: 'été ⚡',
  key: hex(`02${'11'.repeat(32)}`),
  blob: hex('00ff00'),
  htlcs: [
    { id: 0n, amountMsat: 0n, paymentHash: new Uint8Array(32).fill(1) },
    { id: 7n, amountMsat: 5000n, paymentHash: new Uint8Array(32).fill(2) },
  ],
  ids: [1, 2, 0xffff_ffff],
  delta: -5n,
  port: 9735,
  addedLater: 42,
};

describe('record codec', () => {
  test('the byte layout: writer version, minimum reader version, then the TLV stream', () => {
    const bytes = chainTip.encode(tip);
    // 01 01 | type 0, length 4, u32 800000 | type 2, length 32, the hash
    const layout = ['0101', '0004000c3500', `0220${tip.hashHex}`];
    assert.equal(toHex(bytes), layout.join(''));
    assert.deepEqual(readRecordHeader(bytes), { writerVersion: 1, minReadVersion: 1 });
    assert.deepEqual(chainTip.decode(bytes), tip);
  });

  test('every field codec round-trips, optional fields may be absent', () => {
    const bytes = everything.encode(sample);
    assert.deepEqual(everything.decode(bytes), sample);
    const { note: _n, key: _k, ...bare } = sample;
    const plain = { ...bare, htlcs: [], ids: [] };
    assert.deepEqual(everything.decode(everything.encode(plain)), plain);
    const read = everything.read(bytes);
    assert.equal(read.writerVersion, 2);
    assert.equal(read.minReadVersion, 1);
    assert.deepEqual(read.unknownFields, []);
  });

  test('a required field added later takes its default when an older record lacks it', () => {
    const { addedLater: _a, ...older } = sample;
    const { addedLater: _f, ...v1Fields } = everythingFields;
    const v1 = defineRecord<Omit<Everything, 'addedLater'>>({
      kind: 'everything',
      version: 1,
      minReadVersion: 1,
      fields: v1Fields,
    });
    assert.deepEqual(everything.decode(v1.encode(older)), { ...older, addedLater: 7 });
  });

  test('a record cut at any byte is refused with a StoreError', () => {
    // Every field required, so no shorter prefix is a valid record.
    for (const value of [tip]) {
      const bytes = chainTip.encode(value);
      for (let n = 0; n < bytes.length; n++) {
        const code = codeOf(() => chainTip.decode(bytes.subarray(0, n)));
        assert.equal(code, 'record-malformed', `cut at ${n}`);
      }
    }
    // The one prefix that is a whole record: the last field (type 1001, 8 bytes) has a default.
    const bytes = everything.encode(sample);
    const decodable: number[] = [];
    for (let n = 0; n < bytes.length; n++) {
      const code = codeOf(() => everything.decode(bytes.subarray(0, n)));
      if (code === 'no error') decodable.push(n);
      else assert.equal(code, 'record-malformed', `cut at ${n}`);
    }
    assert.deepEqual(decodable, [bytes.length - 8]);
  });

  test('an unknown odd field is skipped, and kept for a rewrite that wants it', () => {
    interface TipV2 extends ChainTip {
      work?: Uint8Array;
    }
    const v2 = defineRecord<TipV2>({
      kind: 'chain-tip',
      version: 2,
      minReadVersion: 1,
      fields: {
        height: { type: 0, codec: f.u32 },
        hashHex: { type: 2, codec: f.hex(32) },
        work: { type: 3, codec: f.bytes32, optional: true },
      },
    });
    const work = new Uint8Array(32).fill(9);
    const newer = v2.encode({ ...tip, work });
    const read = chainTip.read(newer);
    assert.deepEqual(read.value, tip);
    assert.equal(read.writerVersion, 2);
    assert.deepEqual(
      read.unknownFields.map((r) => r.type),
      [3n],
    );
    // The older version rewrites the tip (a new height) and carries the field it does not know.
    const rewritten = chainTip.encode(
      { ...read.value, height: 800_001 },
      { unknownFields: read.unknownFields },
    );
    assert.deepEqual(v2.decode(rewritten), { ...tip, height: 800_001, work });
    assert.equal(rewritten[0], 1, 'written by version 1');
    // Without them, the field is gone.
    assert.deepEqual(v2.decode(chainTip.encode(read.value)), tip);
    // Only odd, undeclared types can be kept.
    assert.equal(
      codeOf(() => chainTip.encode(tip, { unknownFields: [{ type: 4n, value: new Uint8Array(0) }] })),
      'record-invalid-value',
    );
    assert.equal(
      codeOf(() => chainTip.encode(tip, { unknownFields: [{ type: 2n, value: new Uint8Array(32) }] })),
      'record-invalid-value',
    );
  });

  test('an unknown even field is refused, naming the type', () => {
    const v2 = defineRecord<ChainTip & { chainHashHex: string }>({
      kind: 'chain-tip',
      version: 2,
      minReadVersion: 1,
      fields: {
        height: { type: 0, codec: f.u32 },
        hashHex: { type: 2, codec: f.hex(32) },
        chainHashHex: { type: 4, codec: f.hex(32) },
      },
    });
    const e = errorOf(() => chainTip.decode(v2.encode({ ...tip, chainHashHex: '00'.repeat(32) })));
    assert.equal(e.code, 'record-unknown-required-field');
    assert.match(e.message, /chain-tip record/);
    assert.match(e.message, /type 4\b/);
    // Inside a nested struct too.
    const htlcV2 = f.struct<Htlc & { extra: number }>('htlc', {
      id: { type: 0, codec: f.u64 },
      amountMsat: { type: 2, codec: f.tu64 },
      paymentHash: { type: 4, codec: f.bytes32 },
      extra: { type: 6, codec: f.u8 },
    });
    const wrapped = defineRecord<{ htlcs: (Htlc & { extra: number })[] }>({
      kind: 'wrapped',
      version: 1,
      minReadVersion: 1,
      fields: { htlcs: { type: 0, codec: f.list(htlcV2) } },
    });
    const older = defineRecord<{ htlcs: Htlc[] }>({
      kind: 'wrapped',
      version: 1,
      minReadVersion: 1,
      fields: { htlcs: { type: 0, codec: f.list(htlc) } },
    });
    const inner = wrapped.encode({
      htlcs: [{ id: 1n, amountMsat: 2n, paymentHash: new Uint8Array(32), extra: 3 }],
    });
    const ie = errorOf(() => older.decode(inner));
    assert.equal(ie.code, 'record-unknown-required-field');
    assert.match(ie.message, /field htlcs .*type 6\b/);
  });

  test('a record needing a newer reader is refused with both versions and the kind', () => {
    const v3 = defineRecord<{ host: string; port: number }>({
      kind: 'peer',
      version: 3,
      minReadVersion: 2,
      fields: { host: { type: 0, codec: f.utf8 }, port: { type: 2, codec: f.u16 } },
    });
    const v1 = defineRecord<{ host: string; port: number }>({
      kind: 'peer',
      version: 1,
      minReadVersion: 1,
      fields: { host: { type: 0, codec: f.utf8 }, port: { type: 2, codec: f.u16 } },
    });
    const bytes = v3.encode({ host: 'example.com', port: 9735 });
    const e = errorOf(() => v1.decode(bytes));
    assert.equal(e.code, 'record-too-new');
    assert.equal(
      e.message,
      'peer record written by version 3 needs a reader of version 2 or newer; this lnkit reads up to version 1. Upgrade lnkit.',
    );
    // Refused before its body is looked at: a newer format need not be a TLV stream at all.
    assert.equal(
      codeOf(() => v1.decode(Uint8Array.of(3, 2, 0xff))),
      'record-too-new',
    );
    // A newer writer that says version 1 can read it is read by version 1.
    const v2 = defineRecord<{ host: string; port: number }>({
      kind: 'peer',
      version: 2,
      minReadVersion: 1,
      fields: { host: { type: 0, codec: f.utf8 }, port: { type: 2, codec: f.u16 } },
    });
    assert.deepEqual(v1.decode(v2.encode({ host: 'h', port: 1 })), { host: 'h', port: 1 });
  });

  test('impossible headers and broken TLV streams are malformed', () => {
    for (const h of ['', '01', '0001', '0100', '0102', '000000']) {
      assert.equal(
        codeOf(() => chainTip.decode(hex(h))),
        'record-malformed',
        h,
      );
    }
    const good = toHex(chainTip.encode(tip));
    const body = good.slice(4);
    // Types out of order, duplicated, a non-minimal length, a length past the end.
    for (const b of [
      `0220${tip.hashHex}0004000c3500`,
      `0004000c35000004000c3500`,
      `00fd0004000c3500`,
      `0005000c3500`,
    ]) {
      assert.equal(
        codeOf(() => chainTip.decode(hex(`0101${b}`))),
        'record-malformed',
        b,
      );
    }
    // A field whose value is not its codec's encoding (u32 of 3 bytes), or missing.
    assert.equal(
      codeOf(() => chainTip.decode(hex(`0101000300c350${body.slice(12)}`))),
      'record-malformed',
    );
    const missing = errorOf(() => chainTip.decode(hex(`01010004000c3500`)));
    assert.equal(missing.code, 'record-malformed');
    assert.match(missing.message, /field hashHex \(type 2\) is required and missing/);
    // Non-minimal truncated integer, a bool that is not 0/1, invalid UTF-8.
    const one = (fields: object) =>
      defineRecord({ kind: 'one', version: 1, minReadVersion: 1, fields } as never);
    assert.equal(
      codeOf(() => one({ v: { type: 0, codec: f.tu64 } }).decode(hex('0101000200ff'))),
      'record-malformed',
    );
    assert.equal(
      codeOf(() => one({ v: { type: 0, codec: f.bool } }).decode(hex('0101000102'))),
      'record-malformed',
    );
    assert.equal(
      codeOf(() => one({ v: { type: 0, codec: f.utf8 } }).decode(hex('01010001ff'))),
      'record-malformed',
    );
    assert.equal(
      codeOf(() => one({ v: { type: 0, codec: f.point } }).decode(hex(`01010021${'04'.repeat(33)}`))),
      'record-malformed',
    );
  });

  test('values that cannot be written are refused when encoding, naming the field', () => {
    const e = errorOf(() => chainTip.encode({ height: -1, hashHex: tip.hashHex }));
    assert.equal(e.code, 'record-invalid-value');
    assert.match(e.message, /chain-tip record: field height \(type 0\)/);
    assert.equal(
      codeOf(() => chainTip.encode({ height: 1, hashHex: 'zz' })),
      'record-invalid-value',
    );
    assert.equal(
      codeOf(() => chainTip.encode({ height: 1 } as ChainTip)),
      'record-invalid-value',
    );
    assert.equal(
      codeOf(() => everything.encode({ ...sample, big: -1n })),
      'record-invalid-value',
    );
    assert.equal(
      codeOf(() => everything.encode({ ...sample, note: '\ud800' })),
      'record-invalid-value',
    );
    assert.equal(
      codeOf(() => everything.encode({ ...sample, ids: [1.5] })),
      'record-invalid-value',
    );
  });

  test("an enum field is the value's index in one byte; others are refused both ways", () => {
    const side = f.enum('side', ['local', 'remote'] as const);
    assert.deepEqual(side.encode('remote'), Uint8Array.of(1));
    assert.equal(side.decode(Uint8Array.of(0)), 'local');
    assert.throws(() => side.encode('neither' as 'local'), /not a side/);
    assert.throws(() => side.decode(Uint8Array.of(2)), /not a known side/);
    assert.throws(() => side.decode(Uint8Array.of(0, 0)), /not a known side/);
  });

  test('a wrong declaration is refused when it is made', () => {
    const bad = (def: object) => codeOf(() => defineRecord(def as never));
    const fields = { a: { type: 0, codec: f.u8 } };
    assert.equal(bad({ kind: 'x', version: 0, minReadVersion: 0, fields }), 'record-bad-definition');
    assert.equal(bad({ kind: 'x', version: 1, minReadVersion: 2, fields }), 'record-bad-definition');
    assert.equal(bad({ kind: 'x', version: 256, minReadVersion: 1, fields }), 'record-bad-definition');
    assert.equal(
      bad({
        kind: 'x',
        version: 1,
        minReadVersion: 1,
        fields: { a: { type: 0, codec: f.u8 }, b: { type: 0, codec: f.u8 } },
      }),
      'record-bad-definition',
    );
    assert.equal(
      bad({ kind: 'x', version: 1, minReadVersion: 1, fields: { a: { type: -1, codec: f.u8 } } }),
      'record-bad-definition',
    );
  });

  test('the declaration types optional fields', () => {
    defineRecord<{ a: number; b?: number }>({
      kind: 'typed',
      version: 1,
      minReadVersion: 1,
      fields: {
        a: { type: 0, codec: f.u8 },
        // @ts-expect-error an optional property must be declared optional
        b: { type: 2, codec: f.u8 },
      },
    });
    defineRecord<{ a: number }>({
      kind: 'typed',
      version: 1,
      minReadVersion: 1,
      // @ts-expect-error a required property cannot be declared optional
      fields: { a: { type: 0, codec: f.u8, optional: true } },
    });
  });

  test('fuzz: random and mutated bytes only ever fail with a StoreError', () => {
    // A fixed-seed PRNG, so a failure can be replayed.
    let s = 0x1234_5678;
    const rand = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 2 ** 32;
    };
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
    const valid = [chainTip.encode(tip), everything.encode(sample)];
    let decoded = 0;
    for (let i = 0; i < 20_000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = randomBytes(Math.floor(rand() * 64));
        if (rand() < 0.5 && bytes.length >= 2) bytes.set([1, 1]); // get past the header
      } else {
        bytes = (valid[i % 4 === 1 ? 0 : 1] as Uint8Array).slice();
        for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
          bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        }
      }
      for (const codec of [chainTip, everything]) {
        try {
          codec.read(bytes);
          decoded++;
        } catch (e) {
          if (!(e instanceof StoreError)) throw new Error(`${toHex(bytes)}: ${e}`);
        }
      }
    }
    assert.ok(decoded > 0, 'some mutations still decode (the fuzz reached the field codecs)');
  });
});

describe('recordDb', () => {
  const root = mkdtempSync(join(tmpdir(), 'lnkit-records-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a database of structured values migrates to records in place, through two handles', async () => {
    const dir = join(root, 'm');
    let store = await Store.open(dir, { schemaVersion: 1 });
    await store.db<ChainTip>('meta', 'structured').put('chain-tip', tip);
    await store.close();
    const migrate = async (s: Store, from: number) => {
      assert.equal(from, 1);
      const value = s.db<ChainTip>('meta', 'structured').get('chain-tip') as ChainTip;
      await recordDb(s.db('meta'), chainTip).put('chain-tip', value);
    };
    store = await Store.open(dir, { schemaVersion: 2, migrate });
    await store.close();
    store = await Store.open(dir, { schemaVersion: 2 });
    try {
      assert.deepEqual(store.db('meta').get('chain-tip'), chainTip.encode(tip), 'stored as the record bytes');
      const old = store.db<ChainTip>('meta', 'structured');
      assert.deepEqual(recordDb(store.db('meta'), chainTip).get('chain-tip'), tip);
      // A removal staged in a transaction finds the database whichever handle wrote it.
      await old.put('stale', tip);
      await store.transaction((t) => t.remove('meta', 'stale'));
      assert.equal(old.get('stale'), undefined);
    } finally {
      await store.close();
    }
  });

  test('a named database of records: put encodes, get and entries decode', async () => {
    const store = await Store.open(join(root, 'a'), { schemaVersion: 1 });
    try {
      const raw = store.db('meta');
      const tips = recordDb(raw, chainTip);
      await tips.put('chain-tip', tip);
      assert.deepEqual(tips.get('chain-tip'), tip);
      assert.equal(tips.get('nothing'), undefined);
      assert.deepEqual(raw.get('chain-tip'), chainTip.encode(tip));
      assert.deepEqual(tips.entries(), [{ key: 'chain-tip', value: tip }]);
      assert.equal(tips.count(), 1);
      await assert.rejects(tips.put('bad', { height: -1, hashHex: tip.hashHex }), (e: unknown) => {
        return e instanceof StoreError && e.code === 'record-invalid-value';
      });
      await tips.remove('chain-tip');
      assert.equal(tips.count(), 0);
    } finally {
      await store.close();
    }
  });
});
