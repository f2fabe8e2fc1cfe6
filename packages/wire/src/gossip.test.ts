import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { decodeAddresses, encodeAddresses, formatAddress } from './address.ts';
import { crc32c } from './crc32c.ts';
import { WireError } from './errors.ts';
import { Features } from './features.ts';
import {
  aliasBytes,
  aliasText,
  type ChannelUpdate,
  channelAnnouncementSignedBytes,
  channelUpdate,
  channelUpdateChecksum,
  channelUpdateSignedBytes,
  type NodeAnnouncement,
  nodeAnnouncement,
  nodeAnnouncementSignedBytes,
} from './gossip.ts';
import { decodeMessage, encodeMessage } from './message.ts';
import { type EncodedList, queryChannelRange, queryShortChannelIds, replyChannelRange } from './query.ts';
import { formatShortChannelId, parseShortChannelId, scidParts, shortChannelId } from './scid.ts';
import { GENERATORS, Rng } from './test-support/random.ts';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Vector {
  hex: string;
  msg: Record<string, unknown> & { type: string };
}
const vectors = (
  JSON.parse(readFileSync(new URL('./fixtures/extended-queries.json', import.meta.url), 'utf8')) as {
    vectors: Vector[];
  }
).vectors;

/** The vector's view of an encoded list: the uncompressed items, or zlib data inflated here (the codec never inflates). */
function items(list: EncodedList<bigint> | undefined): { encoding: string; items: bigint[] } {
  assert.ok(list);
  if (list.encoding === 'uncompressed') return { encoding: 'UNCOMPRESSED', items: list.items };
  assert.equal(list.encodingType, 1);
  const raw = inflateSync(list.data);
  const out: bigint[] = [];
  for (let i = 0; i < raw.length; i += 8) out.push(raw.readBigUInt64BE(i));
  return { encoding: 'COMPRESSED_ZLIB', items: out };
}

test('BOLT 7 extended-queries.json: every vector decodes to the listed fields and re-encodes byte for byte', () => {
  assert.equal(vectors.length, 10);
  for (const v of vectors) {
    const m = decodeMessage(hex(v.hex));
    assert.equal(toHex(encodeMessage(m)), v.hex);
    const want = v.msg;
    if (want.type === 'QueryChannelRange') {
      assert.equal(m.kind, 'query_channel_range');
      if (m.kind !== 'query_channel_range') continue;
      assert.equal(toHex(m.chainHash), want.chainHash);
      assert.equal(m.firstBlocknum, want.firstBlockNum);
      assert.equal(m.numberOfBlocks, want.numberOfBlocks);
      const records = (want.tlvStream as { records: string[] }).records;
      assert.equal(m.queryOptionFlags, records.length === 0 ? undefined : 3n); // WANT_TIMESTAMPS | WANT_CHECKSUMS
    } else if (want.type === 'ReplyChannelRange') {
      assert.equal(m.kind, 'reply_channel_range');
      if (m.kind !== 'reply_channel_range') continue;
      assert.equal(toHex(m.chainHash), want.chainHash);
      assert.equal(m.firstBlocknum, want.firstBlockNum);
      assert.equal(m.numberOfBlocks, want.numberOfBlocks);
      assert.equal(m.syncComplete, want.complete);
      const scids = want.shortChannelIds as { array: string[]; encoding: string };
      const got = items(m.encodedShortIds);
      assert.equal(got.encoding, scids.encoding);
      assert.deepEqual(got.items.map(formatShortChannelId), scids.array);
      if (want.timestamps) {
        const ts = want.timestamps as {
          encoding: string;
          timestamps: { timestamp1: number; timestamp2: number }[];
        };
        const t = m.timestamps;
        assert.ok(t);
        let pairs: number[][];
        if (t.encoding === 'uncompressed') {
          assert.equal(ts.encoding, 'UNCOMPRESSED');
          pairs = t.items.map((p) => [p.timestampNodeId1, p.timestampNodeId2]);
        } else {
          assert.equal(ts.encoding, 'COMPRESSED_ZLIB');
          const raw = inflateSync(t.data);
          pairs = [];
          for (let i = 0; i < raw.length; i += 8) pairs.push([raw.readUInt32BE(i), raw.readUInt32BE(i + 4)]);
        }
        assert.deepEqual(
          pairs,
          ts.timestamps.map((p) => [p.timestamp1, p.timestamp2]),
        );
      }
      if (want.checksums) {
        const cs = (want.checksums as { checksums: { checksum1: number; checksum2: number }[] }).checksums;
        assert.deepEqual(
          m.checksums?.map((c) => [c.checksumNodeId1, c.checksumNodeId2]),
          cs.map((c) => [c.checksum1, c.checksum2]),
        );
      }
    } else {
      assert.equal(want.type, 'QueryShortChannelIds');
      assert.equal(m.kind, 'query_short_channel_ids');
      if (m.kind !== 'query_short_channel_ids') continue;
      assert.equal(toHex(m.chainHash), want.chainHash);
      const scids = want.shortChannelIds as { array: string[]; encoding: string };
      const got = items(m.encodedShortIds);
      assert.equal(got.encoding, scids.encoding);
      assert.deepEqual(got.items.map(formatShortChannelId), scids.array);
      const records = (want.tlvStream as { records: { array: number[]; encoding: string }[] }).records;
      if (records.length === 0) assert.equal(m.queryFlags, undefined);
      else {
        // zlib-compressed bigsize flags; the vector's flags are all < 0xfd, one byte each
        const f = m.queryFlags;
        assert.ok(f && f.encoding === 'unsupported' && records[0]?.encoding === 'COMPRESSED_ZLIB');
        assert.deepEqual([...inflateSync(f.data)], records[0].array);
      }
    }
  }
});

test('BOLT 7 encoded_short_ids: not a whole number of scids, or no encoding byte, is a WireError', () => {
  const chain = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206';
  assert.throws(
    () => decodeMessage(hex(`0105${chain}000a00000000000000008e00`)),
    (e: unknown) => e instanceof WireError && e.code === 'invalid-value',
  );
  assert.throws(
    () => decodeMessage(hex(`0105${chain}0000`)),
    (e: unknown) => e instanceof WireError && e.code === 'truncated',
  );
  // an uncompressed list with no ids is fine
  const m = queryShortChannelIds.decode(hex(`0105${chain}000100`));
  assert.deepEqual(m.encodedShortIds, { encoding: 'uncompressed', items: [] });
  // query flags must be minimal bigsizes
  assert.throws(
    () => decodeMessage(hex(`0105${chain}00090000000000000000010104 00fd0001`.replaceAll(' ', ''))),
    WireError,
  );
});

test('query_channel_range / reply_channel_range encode from values', () => {
  const chainHash = hex('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206');
  const q = queryChannelRange.encode({
    type: 263,
    kind: 'query_channel_range',
    chainHash,
    firstBlocknum: 35000,
    numberOfBlocks: 100,
    queryOptionFlags: 3n,
  });
  assert.equal(toHex(q), vectors[1]?.hex);
  const r = replyChannelRange.encode({
    type: 264,
    kind: 'reply_channel_range',
    chainHash,
    firstBlocknum: 756230,
    numberOfBlocks: 1500,
    syncComplete: 1,
    encodedShortIds: {
      encoding: 'uncompressed',
      items: ['0x0x142', '0x0x15465', '0x69x42692'].map(parseShortChannelId),
    },
  });
  assert.equal(toHex(r), vectors[2]?.hex);
});

test('short_channel_id helpers (BOLT 7 definition)', () => {
  const scid = shortChannelId(539268, 845, 1);
  assert.equal(formatShortChannelId(scid), '539268x845x1');
  assert.deepEqual(scidParts(scid), { block: 539268, txIndex: 845, outputIndex: 1 });
  assert.equal(scid, (539268n << 40n) | (845n << 16n) | 1n);
  assert.throws(() => shortChannelId(1 << 24, 0, 0), WireError);
  assert.throws(() => parseShortChannelId('1x2'), WireError);
});

test('address descriptors: each type, unknown kept to the end, truncated known type is a WireError', () => {
  const bytes = hex(
    (
      '01 7f000001 2607' +
      '02 00000000000000000000000000000001 2607' +
      '04 ' +
      'aa'.repeat(35) +
      ' 2607' +
      '05 0b 6578616d706c652e636f6d 2607' +
      '09 0102030405'
    ).replaceAll(' ', ''),
  );
  const list = decodeAddresses(bytes);
  assert.deepEqual(
    list.map((a) => formatAddress(a)),
    [
      '127.0.0.1:9735',
      '[0:0:0:0:0:0:0:1]:9735',
      `torv3:${'aa'.repeat(35)}:9735`,
      'example.com:9735',
      'unknown(9)',
    ],
  );
  assert.deepEqual(list[4], { kind: 'unknown', addrType: 9, data: hex('0102030405') });
  assert.equal(toHex(encodeAddresses(list)), toHex(bytes));
  assert.throws(
    () => decodeAddresses(hex('017f0000')),
    (e: unknown) => e instanceof WireError && e.code === 'truncated',
  );
  assert.throws(
    () => decodeAddresses(hex('0502ff002607')),
    (e: unknown) => e instanceof WireError && e.code === 'invalid-value',
  );
});

test('aliases: UTF-8, zero padded', () => {
  const a = aliasBytes('IRATEMONK ⚡');
  assert.equal(a.length, 32);
  assert.equal(aliasText(a), 'IRATEMONK ⚡');
  assert.throws(() => aliasBytes('x'.repeat(33)), WireError);
});

// secp256k1 ECDSA from node:crypto: sign(sha256, x) signs sha256(x); BOLT 7 signs the
// double-SHA256, so we hand it sha256(signedBytes).
function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x as string, 'base64url');
  const y = Buffer.from(jwk.y as string, 'base64url');
  const compressed = new Uint8Array(33);
  compressed[0] = (y[31] ?? 0) & 1 ? 3 : 2;
  compressed.set(x, 1);
  return { privateKey, compressed };
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const signDsha = (key: ReturnType<typeof keyPair>['privateKey'], data: Uint8Array) =>
  new Uint8Array(sign('sha256', sha256(data), { key, dsaEncoding: 'ieee-p1363' }));
function verifyDsha(compressedPub: Uint8Array, data: Uint8Array, sig: Uint8Array): boolean {
  const spki = Buffer.concat([
    Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex'),
    compressedPub,
  ]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return verify('sha256', sha256(data), { key, dsaEncoding: 'ieee-p1363' }, sig);
}

test('signed bytes: node_announcement and channel_update signatures verify after decode and re-encode, unknown trailing fields included', () => {
  const rng = new Rng(42);
  const k = keyPair();
  const na = GENERATORS.node_announcement(rng) as NodeAnnouncement;
  const unsigned: NodeAnnouncement = { ...na, nodeId: k.compressed, extraData: hex('0102030405') };
  const signedNa: NodeAnnouncement = {
    ...unsigned,
    signature: signDsha(k.privateKey, nodeAnnouncementSignedBytes(unsigned)),
  };
  const wire = nodeAnnouncement.encode(signedNa);
  // signed region = everything after type + signature
  assert.equal(toHex(nodeAnnouncementSignedBytes(wire)), toHex(wire.subarray(66)));
  const received = decodeMessage(wire);
  assert.ok(received.kind === 'node_announcement');
  assert.deepEqual(received.extraData, hex('0102030405'));
  assert.ok(verifyDsha(received.nodeId, nodeAnnouncementSignedBytes(wire), received.signature));
  assert.ok(verifyDsha(received.nodeId, nodeAnnouncementSignedBytes(received), received.signature));
  // dropping the unknown trailing field breaks the signature: it is covered
  const { extraData: _dropped, ...withoutExtra } = received;
  assert.ok(!verifyDsha(received.nodeId, nodeAnnouncementSignedBytes(withoutExtra), received.signature));

  const cu = GENERATORS.channel_update(rng) as ChannelUpdate;
  const withTail: ChannelUpdate = { ...cu, extraData: hex('ff') };
  const signedCu = { ...withTail, signature: signDsha(k.privateKey, channelUpdateSignedBytes(withTail)) };
  const cuWire = channelUpdate.encode(signedCu);
  const cuBack = channelUpdate.decode(cuWire);
  assert.ok(verifyDsha(k.compressed, channelUpdateSignedBytes(cuBack), cuBack.signature));
});

test('channel_announcement signed bytes start after the four signatures (BOLT 7: offset 256)', () => {
  const rng = new Rng(3);
  const ca = GENERATORS.channel_announcement(rng);
  assert.ok(ca.kind === 'channel_announcement');
  const wire = encodeMessage(ca);
  const signed = channelAnnouncementSignedBytes(wire);
  assert.equal(signed.length, wire.length - 2 - 4 * 64);
  // the signed region starts with the features length
  assert.equal((signed[0]! << 8) | signed[1]!, ca.features.byteLength);
  assert.throws(() => channelAnnouncementSignedBytes(hex('0101')), WireError);
});

test('channel_update checksum: CRC32C of the update without signature and timestamp', () => {
  // RFC 3720 B.4 check value
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  const rng = new Rng(9);
  const cu = GENERATORS.channel_update(rng) as ChannelUpdate;
  // signature and timestamp do not change the checksum, any other field does
  const base = channelUpdateChecksum(cu);
  assert.equal(
    channelUpdateChecksum({ ...cu, signature: new Uint8Array(64), timestamp: cu.timestamp + 1 }),
    base,
  );
  assert.notEqual(channelUpdateChecksum({ ...cu, feeBaseMsat: cu.feeBaseMsat ^ 1 }), base);
});

test('gossip features: unknown even bits do not stop decoding (BOLT 7 leaves that to routing)', () => {
  const rng = new Rng(5);
  const ca = GENERATORS.channel_announcement(rng);
  assert.ok(ca.kind === 'channel_announcement');
  const m = decodeMessage(encodeMessage({ ...ca, features: Features.fromBits([200]) }));
  assert.ok(m.kind === 'channel_announcement' && m.features.isSet(200));
});
