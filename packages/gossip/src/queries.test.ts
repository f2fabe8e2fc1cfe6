// BOLT 7 gossip queries in both roles: the replies lnkit gives (query_channel_range,
// query_short_channel_ids, gossip_timestamp_filter), the range sync it runs against a peer, and
// the BOLT's extended-queries vectors fed to both sides.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { inThreadCrypto } from '@lnkit/crypto';
import {
  decodeMessage,
  type Message,
  type QueryChannelRange,
  type QueryShortChannelIds,
  queryChannelRange,
  queryShortChannelIds,
  type ReplyChannelRange,
  replyChannelRange,
  replyShortChannelIdsEnd,
  scidBlock,
} from '@lnkit/wire';
import { NetworkGraph } from './graph.ts';
import { messageType } from './layout.ts';
import {
  answerShortChannelIds,
  gossipInTimestampRange,
  maxScidsPerReply,
  replyChannelRanges,
} from './queries.ts';
import { RangeSync } from './query-sync.ts';
import {
  orderedNodes,
  signChannelAnnouncement,
  signChannelUpdate,
  signNodeAnnouncement,
  testKey,
} from './testing.ts';
import { GossipValidator, runBatch } from './validate.ts';

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;
/** The vectors' chain hash, as raw bytes. */
const CHAIN = Uint8Array.from(
  Buffer.from('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206', 'hex'),
);

interface Channel {
  block: number;
  tx: number;
  out?: number;
  feeBaseMsat?: number;
  /** Which updates: 0, 1, both, none. */
  dirs?: (0 | 1)[];
  timestamp?: number;
}

async function graphWith(channels: Channel[], announceNodes = true) {
  const graph = new NetworkGraph({ chainHash: CHAIN });
  const raws: Uint8Array[] = [];
  const nodes = new Set<number>();
  channels.forEach((ch, i) => {
    const scid = (BigInt(ch.block) << 40n) | (BigInt(ch.tx) << 16n) | BigInt(ch.out ?? 0);
    const a = testKey(2 * i);
    const b = testKey(2 * i + 1);
    nodes.add(2 * i).add(2 * i + 1);
    const [n1, n2] = orderedNodes({ nodeA: a, nodeB: b });
    raws.push(signChannelAnnouncement({ scid, nodeA: a, nodeB: b, chainHash: CHAIN }));
    for (const d of ch.dirs ?? [0, 1])
      raws.push(
        signChannelUpdate({
          scid,
          signer: d === 0 ? n1 : n2,
          direction: d,
          timestamp: ch.timestamp ?? NOW,
          chainHash: CHAIN,
          ...(ch.feeBaseMsat !== undefined ? { feeBaseMsat: ch.feeBaseMsat } : {}),
        }),
      );
  });
  if (announceNodes)
    for (const n of nodes) raws.push(signNodeAnnouncement({ node: testKey(n), timestamp: NOW - n }));
  const r = await runBatch(
    new GossipValidator(graph),
    raws.map((raw) => ({ peer: 'p', raw })),
    { crypto: inThreadCrypto, now: () => NOW_MS },
  );
  assert.equal(r.accepted, raws.length);
  return graph;
}

const query = (first: number, count: number, flags?: bigint): QueryChannelRange => ({
  type: 263,
  kind: 'query_channel_range',
  chainHash: CHAIN,
  firstBlocknum: first,
  numberOfBlocks: count,
  ...(flags !== undefined ? { queryOptionFlags: flags } : {}),
});

const decodeReplies = (raws: Uint8Array[]) => raws.map((r) => replyChannelRange.decode(r));
const ids = (r: ReplyChannelRange) =>
  r.encodedShortIds.encoding === 'uncompressed' ? r.encodedShortIds.items : [];

describe('answering query_channel_range', () => {
  test('one reply covering the query, only the channels in its blocks, sync_complete set', async () => {
    const graph = await graphWith([
      { block: 100, tx: 1 },
      { block: 150, tx: 2 },
      { block: 300, tx: 3 },
    ]);
    const [r, ...more] = decodeReplies(replyChannelRanges(graph, query(100, 200)));
    assert.equal(more.length, 0);
    assert.equal(r!.firstBlocknum, 100);
    assert.equal(r!.numberOfBlocks, 200);
    assert.equal(r!.syncComplete, 1);
    assert.deepEqual(ids(r!).map(scidBlock), [100, 150]);
    assert.equal(r!.timestamps, undefined, 'nothing extra unless asked');
  });

  test('split replies: in order, at block boundaries, the first starting the query and the last ending it', async () => {
    const chans: Channel[] = [];
    for (let b = 0; b < 10; b++) for (let t = 0; t < 3; t++) chans.push({ block: 1000 + b, tx: t });
    const graph = await graphWith(chans, false);
    const replies = decodeReplies(
      replyChannelRanges(graph, query(900, 0xffff_ffff - 900), { maxScidsPerReply: 7 }),
    );
    assert.ok(replies.length > 3);
    // "the first reply_channel_range message: MUST set first_blocknum less than or equal to the
    // first_blocknum in query_channel_range".
    assert.equal(replies[0]!.firstBlocknum, 900);
    let seen: bigint[] = [];
    replies.forEach((r, i) => {
      if (i > 0) {
        // "successive reply_channel_range message: MUST have first_blocknum equal or greater than the previous first_blocknum".
        assert.ok(r.firstBlocknum >= replies[i - 1]!.firstBlocknum);
        // Split at block boundaries: no block in two replies.
        assert.equal(r.firstBlocknum, replies[i - 1]!.firstBlocknum + replies[i - 1]!.numberOfBlocks);
      }
      assert.ok(ids(r).length <= 7);
      for (const s of ids(r)) {
        assert.ok(scidBlock(s) >= r.firstBlocknum && scidBlock(s) < r.firstBlocknum + r.numberOfBlocks);
      }
      // "MUST set sync_complete to false if this is not the final reply_channel_range".
      assert.equal(r.syncComplete, i === replies.length - 1 ? 1 : 0);
      seen = seen.concat(ids(r));
    });
    const last = replies[replies.length - 1]!;
    assert.equal(last.firstBlocknum + last.numberOfBlocks, 0xffff_ffff);
    assert.equal(seen.length, 30);
  });

  test('timestamps and checksums when asked ("if bit 0 in query_option_flags is set, the receiver MAY append a timestamps_tlv")', async () => {
    const graph = await graphWith([{ block: 10, tx: 0, dirs: [1], timestamp: NOW - 5 }]);
    const [r] = decodeReplies(replyChannelRanges(graph, query(0, 100, 3n)));
    assert.deepEqual(r!.timestamps, {
      encoding: 'uncompressed',
      items: [{ timestampNodeId1: 0, timestampNodeId2: NOW - 5 }],
    });
    const sums = r!.checksums!;
    assert.equal(sums.length, 1);
    assert.equal(sums[0]!.checksumNodeId1, 0, '0 for a direction without an update');
    assert.notEqual(sums[0]!.checksumNodeId2, 0);
  });

  test('another chain: one empty reply with sync_complete 0', async () => {
    const graph = await graphWith([{ block: 10, tx: 0 }]);
    const [r, ...more] = decodeReplies(
      replyChannelRanges(graph, { ...query(0, 100), chainHash: new Uint8Array(32) }),
    );
    assert.equal(more.length, 0);
    assert.equal(r!.syncComplete, 0);
    assert.deepEqual(ids(r!), []);
  });

  test('each reply fits in a message', () => {
    for (const [t, c] of [
      [false, false],
      [true, false],
      [true, true],
    ] as const) {
      const n = maxScidsPerReply(t, c);
      const bytes = replyChannelRange.encode({
        type: 264,
        kind: 'reply_channel_range',
        chainHash: CHAIN,
        firstBlocknum: 0,
        numberOfBlocks: 1,
        syncComplete: 1,
        encodedShortIds: { encoding: 'uncompressed', items: Array.from({ length: n }, (_, i) => BigInt(i)) },
        ...(t
          ? {
              timestamps: {
                encoding: 'uncompressed',
                items: Array.from({ length: n }, () => ({ timestampNodeId1: 1, timestampNodeId2: 2 })),
              },
            }
          : {}),
        ...(c
          ? { checksums: Array.from({ length: n }, () => ({ checksumNodeId1: 1, checksumNodeId2: 2 })) }
          : {}),
      });
      assert.ok(bytes.length <= 65_535, `${bytes.length} bytes`);
    }
  });
});

describe('answering query_short_channel_ids', () => {
  const scidOf = (block: number, tx: number) => (BigInt(block) << 40n) | (BigInt(tx) << 16n);
  const q = (items: bigint[], flags?: bigint[]): QueryShortChannelIds => ({
    type: 261,
    kind: 'query_short_channel_ids',
    chainHash: CHAIN,
    encodedShortIds: { encoding: 'uncompressed', items },
    ...(flags ? { queryFlags: { encoding: 'uncompressed', items: flags } } : {}),
  });
  const kinds = (raws: Iterable<Uint8Array>) => [...raws].map(messageType);

  test("without flags: each known channel's announcement, its updates, then its nodes' announcements once; then the end", async () => {
    const graph = await graphWith([
      { block: 5, tx: 0 },
      { block: 6, tx: 0 },
    ]);
    const a = answerShortChannelIds(graph, q([scidOf(5, 0), scidOf(99, 9), scidOf(6, 0)]));
    assert.equal(a.problem, undefined);
    assert.deepEqual(kinds(a.messages), [256, 258, 258, 257, 257, 256, 258, 258, 257, 257, 262]);
    const end = replyShortChannelIdsEnd.decode([...answerShortChannelIds(graph, q([])).messages][0]!);
    assert.equal(end.fullInformation, 1);
  });

  test('with query_flags: only what each flag asks ("if bit 1 of query_flag is set ...")', async () => {
    const graph = await graphWith([{ block: 5, tx: 0, dirs: [0] }]);
    // Both updates asked for, only direction 0 exists; node 2's announcement.
    const a = answerShortChannelIds(graph, q([scidOf(5, 0)], [2n | 4n | 16n]));
    assert.deepEqual(kinds(a.messages), [258, 257, 262]);
  });

  test('"if encoded_query_flags does not decode to exactly one flag per short_channel_id: MAY send a warning"', async () => {
    const graph = await graphWith([{ block: 5, tx: 0 }]);
    const a = answerShortChannelIds(graph, q([scidOf(5, 0)], [1n, 1n]));
    assert.equal(a.problem, 'flags-mismatch');
    assert.deepEqual(kinds(a.messages), [262]);
  });

  test('another chain: just the end, with full_information 0 ("MUST set full_information to 0")', async () => {
    const graph = await graphWith([{ block: 5, tx: 0 }]);
    const [end] = [
      ...answerShortChannelIds(graph, { ...q([scidOf(5, 0)]), chainHash: new Uint8Array(32) }).messages,
    ];
    assert.equal(replyShortChannelIdsEnd.decode(end!).fullInformation, 0);
  });
});

describe('answering gossip_timestamp_filter', () => {
  test("only gossip in [first, first + range); announcements take their updates' time and go first; none without an update", async () => {
    const graph = await graphWith([
      { block: 1, tx: 0, timestamp: NOW - 100 },
      { block: 2, tx: 0, timestamp: NOW - 10 },
      { block: 3, tx: 0, dirs: [] },
    ]);
    const all = [...gossipInTimestampRange(graph, 0, 0xffff_ffff)].map(messageType);
    // Channel 3 has no update: never sent; its nodes' announcements come last.
    assert.deepEqual(all, [256, 258, 258, 257, 257, 256, 258, 258, 257, 257, 257, 257]);
    const recent = [...gossipInTimestampRange(graph, NOW - 50, 100)].map(messageType);
    // Channel 2 and its updates; node announcements at NOW - n for n < 50 (all six nodes).
    assert.deepEqual(recent, [256, 258, 258, 257, 257, 257, 257, 257, 257]);
    assert.deepEqual([...gossipInTimestampRange(graph, 0xffff_ffff, 0)], []);
  });
});

describe('the range sync (asking side)', () => {
  test('asks for everything, then the ids it lacks, one query at a time, and finishes', async () => {
    const ours = await graphWith([{ block: 5, tx: 0 }]);
    const theirs = await graphWith([
      { block: 5, tx: 0 },
      { block: 6, tx: 0 },
      { block: 7, tx: 0 },
    ]);
    const sync = new RangeSync(ours, { scidsPerQuery: 1 });
    const q1 = queryChannelRange.decode(sync.start());
    assert.equal(q1.firstBlocknum, 0);
    assert.equal(q1.numberOfBlocks, 0xffff_ffff);
    let steps = replyChannelRanges(theirs, q1, { maxScidsPerReply: 1 }).flatMap((r) =>
      sync.onReplyChannelRange(replyChannelRange.decode(r)),
    );
    // The two unknown ids, one per query.
    assert.equal(steps.length, 1);
    const asked: bigint[] = [];
    for (;;) {
      const step = steps[0]!;
      if (step.kind !== 'send') {
        assert.deepEqual(step, { kind: 'done', requested: 2 });
        break;
      }
      const m = queryShortChannelIds.decode(step.message);
      assert.ok(m.encodedShortIds.encoding === 'uncompressed');
      asked.push(...m.encodedShortIds.items);
      const answer = [...answerShortChannelIds(theirs, m).messages];
      steps = sync.onReplyShortChannelIdsEnd(replyShortChannelIdsEnd.decode(answer[answer.length - 1]!));
    }
    assert.deepEqual(asked.map(scidBlock), [6, 7]);
  });

  test('with timestamps: a known channel with a newer update is asked for that update only', async () => {
    const ours = await graphWith([{ block: 5, tx: 0, timestamp: NOW - 100 }]);
    // Newer, saying the same (equal checksums): not worth asking for while ours is fresh.
    const same = await graphWith([{ block: 5, tx: 0, timestamp: NOW - 1 }]);
    const s0 = new RangeSync(ours, { extended: true, nowSec: NOW });
    const q0 = queryChannelRange.decode(s0.start());
    assert.deepEqual(
      replyChannelRanges(same, q0).flatMap((r) => s0.onReplyChannelRange(replyChannelRange.decode(r))),
      [{ kind: 'done', requested: 0 }],
    );
    const theirs = await graphWith([{ block: 5, tx: 0, timestamp: NOW - 1, feeBaseMsat: 5 }]);
    const sync = new RangeSync(ours, { extended: true, nowSec: NOW });
    const q1 = queryChannelRange.decode(sync.start());
    assert.equal(q1.queryOptionFlags, 3n);
    const [step] = replyChannelRanges(theirs, q1).flatMap((r) =>
      sync.onReplyChannelRange(replyChannelRange.decode(r)),
    );
    assert.equal(step!.kind, 'send');
    const m = queryShortChannelIds.decode((step as { message: Uint8Array }).message);
    assert.deepEqual(m.queryFlags, { encoding: 'uncompressed', items: [2n | 4n] });
  });

  const reply = (over: Partial<ReplyChannelRange>): ReplyChannelRange => ({
    type: 264,
    kind: 'reply_channel_range',
    chainHash: CHAIN,
    firstBlocknum: 0,
    numberOfBlocks: 0xffff_ffff,
    syncComplete: 1,
    encodedShortIds: { encoding: 'uncompressed', items: [] },
    ...over,
  });
  const fresh = async () => {
    const s = new RangeSync(await graphWith([]), { firstBlocknum: 100, numberOfBlocks: 100 });
    s.start();
    return s;
  };

  for (const [name, bad] of [
    ['another chain', { chainHash: new Uint8Array(32) }],
    ["a first reply after the query's start", { firstBlocknum: 101, numberOfBlocks: 100 }],
    ["a first reply ending before the query's start", { firstBlocknum: 0, numberOfBlocks: 100 }],
    [
      "an id outside the reply's blocks",
      {
        firstBlocknum: 100,
        numberOfBlocks: 100,
        encodedShortIds: { encoding: 'uncompressed', items: [5n << 40n] },
      },
    ],
    [
      'a zlib list ("this encoding MUST NOT be used")',
      {
        firstBlocknum: 100,
        numberOfBlocks: 100,
        encodedShortIds: { encoding: 'unsupported', encodingType: 1, data: new Uint8Array(3) },
      },
    ],
    [
      'timestamps not matching the ids',
      {
        firstBlocknum: 100,
        numberOfBlocks: 100,
        encodedShortIds: { encoding: 'uncompressed', items: [] },
        timestamps: { encoding: 'uncompressed', items: [{ timestampNodeId1: 1, timestampNodeId2: 2 }] },
      },
    ],
  ] as const) {
    test(`a malformed reply ends the sync with a warning: ${name}`, async () => {
      const s = await fresh();
      const steps = s.onReplyChannelRange(reply(bad as Partial<ReplyChannelRange>));
      assert.equal(steps.length, 1);
      assert.equal(steps[0]!.kind, 'failed');
      assert.equal((steps[0] as { warn: boolean }).warn, true);
    });
  }

  test('replies out of order, and replies nobody asked for, are refused', async () => {
    const s = await fresh();
    assert.deepEqual(
      s.onReplyChannelRange(reply({ firstBlocknum: 100, numberOfBlocks: 50, syncComplete: 0 })),
      [],
    );
    assert.equal(s.onReplyChannelRange(reply({ firstBlocknum: 99, numberOfBlocks: 50 }))[0]!.kind, 'failed');
    const idle = new RangeSync(await graphWith([]));
    assert.equal(idle.onReplyChannelRange(reply({}))[0]!.kind, 'failed');
    assert.equal(
      idle.onReplyShortChannelIdsEnd({
        type: 262,
        kind: 'reply_short_channel_ids_end',
        chainHash: CHAIN,
        fullInformation: 1,
      })[0]!.kind,
      'failed',
    );
  });

  test('sync_complete alone does not end it: the replies must cover the query', async () => {
    const s = await fresh();
    assert.deepEqual(
      s.onReplyChannelRange(reply({ firstBlocknum: 100, numberOfBlocks: 10, syncComplete: 1 })),
      [],
    );
    assert.equal(s.onReplyChannelRange(reply({ firstBlocknum: 110, numberOfBlocks: 90 }))[0]!.kind, 'done');
  });
});

describe('the BOLT 7 extended-queries vectors', () => {
  const vectors = (
    JSON.parse(readFileSync(new URL('./fixtures/extended-queries.json', import.meta.url), 'utf8')) as {
      vectors: { hex: string; msg: { type: string } }[];
    }
  ).vectors.map((v) => ({ type: v.msg.type, message: decodeMessage(Buffer.from(v.hex, 'hex')) as Message }));

  test('both query_channel_range vectors are answered: a reply for the queried blocks, with timestamps and checksums where asked', async () => {
    const graph = await graphWith([
      { block: 35_050, tx: 1 },
      { block: 100_100, tx: 2 },
    ]);
    const queries = vectors.filter((v) => v.type === 'QueryChannelRange');
    assert.equal(queries.length, 2);
    for (const { message } of queries) {
      assert.equal(message.kind, 'query_channel_range');
      if (message.kind !== 'query_channel_range') continue;
      const replies = decodeReplies(replyChannelRanges(graph, message));
      assert.equal(replies.length, 1);
      const r = replies[0]!;
      assert.equal(r.firstBlocknum, message.firstBlocknum);
      assert.equal(ids(r).length, 1);
      assert.equal(r.timestamps !== undefined, message.queryOptionFlags === 3n);
      assert.equal(r.checksums !== undefined, message.queryOptionFlags === 3n);
    }
  });

  test('reply_channel_range vectors: the zlib ones are refused for their encoding, the others for ids outside their own range', async () => {
    const replies = vectors.filter((v) => v.type === 'ReplyChannelRange');
    assert.equal(replies.length, 4);
    for (const { message } of replies) {
      if (message.kind !== 'reply_channel_range') assert.fail('not a reply_channel_range');
      const sync = new RangeSync(await graphWith([]), {
        firstBlocknum: message.firstBlocknum,
        numberOfBlocks: message.numberOfBlocks,
      });
      sync.start();
      const [step] = sync.onReplyChannelRange(message);
      assert.equal(step?.kind, 'failed');
      const reason = (step as { reason: string }).reason;
      if (message.encodedShortIds.encoding === 'unsupported') assert.match(reason, /encoding 1/);
      else assert.match(reason, /outside/, 'the vectors list block-0 ids under ranges that start far later');
    }
  });

  test('query_short_channel_ids vectors: uncompressed ones answered, zlib ones (ids or flags) refused', async () => {
    // The vectors ask for 0x0x142, 0x0x15465, 0x69x42692 and others: the graph knows 0x69x42692.
    const graph = await graphWith([{ block: 0, tx: 69, out: 42_692 }]);
    assert.ok(graph.channelIndex((69n << 16n) | 42_692n) >= 0);
    const qs = vectors.filter((v) => v.type === 'QueryShortChannelIds');
    assert.equal(qs.length, 4);
    const outcomes = qs.map(({ message }) => {
      if (message.kind !== 'query_short_channel_ids') assert.fail('not a query_short_channel_ids');
      const a = answerShortChannelIds(graph, message);
      return a.problem ?? [...a.messages].map(messageType).join(',');
    });
    assert.deepEqual(outcomes, [
      '256,258,258,257,257,262',
      'unknown-encoding',
      'unknown-encoding',
      'unknown-encoding',
    ]);
  });
});
