import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FixedGraph } from './fixed-graph.ts';
import { EDGE_DISABLED, EDGE_HAS_UPDATE, EDGE_ROUTABLE, NO_INDEX } from './graph-view.ts';
import { nodeId, policy } from './route-fixtures.ts';

test('nodes ordered as BOLT 7 orders them, and each policy in its direction', () => {
  // nodeA is the greater id here: its policy is direction 1.
  const g = new FixedGraph({
    channels: [
      {
        shortChannelId: 7n,
        nodeA: nodeId(9),
        nodeB: nodeId(3),
        capacitySat: 1000n,
        aToB: policy({ feeBaseMsat: 9, htlcMaximumMsat: 1_000_000n }),
        bToA: policy({ feeBaseMsat: 3, htlcMaximumMsat: 1_000_000n }),
      },
    ],
  });
  const ch = g.channel(7n)!;
  assert.deepEqual(ch.nodeId1, nodeId(3));
  assert.deepEqual(ch.nodeId2, nodeId(9));
  assert.equal(ch.directions[0]!.feeBaseMsat, 3);
  assert.equal(ch.directions[1]!.feeBaseMsat, 9);
  const cols = g.columns();
  assert.equal(cols.channelNode1[0], g.nodeIndex(nodeId(3)));
  assert.equal(cols.feeBaseMsat[0], 3);
  assert.equal(cols.feeBaseMsat[1], 9);
  assert.equal(cols.channelCapacitySat[0], 1000);
  assert.deepEqual(g.channelIndexesOf(g.nodeIndex(nodeId(9))), [0]);
  assert.equal(g.nodeIndex(Buffer.from(nodeId(3)).toString('hex')), g.nodeIndex(nodeId(3)));
  assert.equal(g.nodeIndex(nodeId(4)), NO_INDEX);
  assert.equal(g.shortChannelIdAt(0), 7n);
  assert.equal(g.stats().routableDirections, 2);
});

test('the routable bit follows the network graph’s rules', () => {
  const g = new FixedGraph({
    channels: [
      // disabled
      { shortChannelId: 1n, nodeA: nodeId(1), nodeB: nodeId(2), aToB: policy({ disabled: true }) },
      // htlc_maximum_msat < htlc_minimum_msat
      {
        shortChannelId: 2n,
        nodeA: nodeId(1),
        nodeB: nodeId(3),
        aToB: policy({ htlcMinimumMsat: 10n, htlcMaximumMsat: 9n }),
      },
      // htlc_maximum_msat above the capacity; and a direction without an update
      {
        shortChannelId: 3n,
        nodeA: nodeId(1),
        nodeB: nodeId(4),
        capacitySat: 1n,
        aToB: policy({ htlcMaximumMsat: 1001n }),
      },
      // unknown capacity: any htlc_maximum_msat
      { shortChannelId: 4n, nodeA: nodeId(1), nodeB: nodeId(5), aToB: policy() },
    ],
  });
  const f = g.columns().edgeFlags;
  assert.equal(f[0], EDGE_HAS_UPDATE | EDGE_DISABLED);
  assert.equal(f[2], EDGE_HAS_UPDATE);
  assert.equal(f[4], EDGE_HAS_UPDATE);
  assert.equal(f[5], 0);
  assert.equal(f[6], EDGE_HAS_UPDATE | EDGE_ROUTABLE);
  assert.equal(g.channel(3n)!.directions[1], undefined);
  assert.equal(g.channel(1n)!.directions[0]!.routable, false);
});

test('bad channel data is refused', () => {
  assert.throws(
    () => new FixedGraph({ channels: [{ shortChannelId: 1n, nodeA: nodeId(1), nodeB: nodeId(1) }] }),
    /distinct/,
  );
  assert.throws(
    () =>
      new FixedGraph({
        channels: [
          { shortChannelId: 1n, nodeA: nodeId(1), nodeB: nodeId(2) },
          { shortChannelId: 1n, nodeA: nodeId(1), nodeB: nodeId(3) },
        ],
      }),
    /twice/,
  );
});
