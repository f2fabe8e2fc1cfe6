// BOLT 7 staggered broadcast: what a flush sends to whom.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StaggeredBroadcast } from './broadcast.ts';
import { NetworkGraph } from './graph.ts';
import { REGTEST_CHAIN_HASH, signChannelAnnouncement, testKey } from './testing.ts';
import type { RelayItem } from './validate.ts';

const item = (
  type: 256 | 257 | 258,
  index: number,
  timestamp: number,
  origin = 'x',
  direction: 0 | 1 = 0,
): RelayItem => ({
  type,
  raw: Uint8Array.of(type >> 8, type & 255, index, timestamp & 255, direction),
  origin,
  index,
  direction,
  timestamp,
});

function graphWithChannels(n: number): NetworkGraph {
  const g = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
  for (let i = 0; i < n; i++)
    g.addChannel(
      signChannelAnnouncement({
        scid: BigInt(i + 1) << 40n,
        nodeA: testKey(2 * i),
        nodeB: testKey(2 * i + 1),
      }),
      { receivedAt: 0 },
    );
  return g;
}

/** type:index:timestamp as the queued raw bytes carry them (an announcement's own bytes have no timestamp). */
const tags = (list: Uint8Array[] | undefined) =>
  (list ?? []).map((r) => (r[1] === 0 ? `256:${r[2]}` : `${256 + r[1]!}:${r[2]}:${r[3]}`));

test('an announcement waits for its first update, takes its timestamp, and goes before it; a newer update replaces the queued one', () => {
  const g = graphWithChannels(2);
  const b = new StaggeredBroadcast();
  b.queue([item(256, 0, 0), item(256, 1, 0), item(258, 0, 10), item(258, 0, 11)]);
  const out = b.flush(g, [{ id: 'peer', filter: { firstTimestamp: 0, timestampRange: 0xffff_ffff } }]);
  // Channel 1 has no update yet: "MUST NOT send the channel_announcement".
  assert.deepEqual(tags(out.get('peer')), ['256:0', '258:0:11']);
  assert.equal(b.size, 0, 'a flush empties the queue');
  // Channel 1's update comes: its announcement goes with it.
  b.queue([item(258, 1, 20)]);
  assert.deepEqual(
    tags(
      b.flush(g, [{ id: 'peer', filter: { firstTimestamp: 0, timestampRange: 0xffff_ffff } }]).get('peer'),
    ),
    ['256:1', '258:1:20'],
  );
});

test("nothing before a peer's gossip_timestamp_filter; then only what it admits; never back to the sender", () => {
  const g = graphWithChannels(3);
  const b = new StaggeredBroadcast();
  b.queue([item(256, 0, 0), item(258, 0, 50), item(258, 1, 150), item(258, 2, 60, 'origin')]);
  const out = b.flush(g, [
    { id: 'no-filter', filter: undefined },
    { id: 'recent', filter: { firstTimestamp: 100, timestampRange: 100 } },
    { id: 'origin', filter: { firstTimestamp: 0, timestampRange: 1000 } },
  ]);
  assert.equal(out.has('no-filter'), false);
  assert.deepEqual(tags(out.get('recent')), ['258:1:150']);
  assert.deepEqual(tags(out.get('origin')), ['256:0', '258:0:50', '258:1:150']);
});

test('what left the graph before the flush is not sent', () => {
  const g = graphWithChannels(1);
  const b = new StaggeredBroadcast();
  b.queue([item(256, 0, 0), item(258, 0, 5)]);
  g.removeChannel(0);
  assert.equal(b.flush(g, [{ id: 'p', filter: { firstTimestamp: 0, timestampRange: 100 } }]).size, 0);
});
