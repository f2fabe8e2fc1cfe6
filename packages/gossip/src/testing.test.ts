// signTopology keeps each policy with the node that sends it in the topology file: `dir[0]` is
// the real graph's direction 0 (from the lesser real node id, whichever of node1 / node2 that
// is), and signed with test keys it must still be that node's update.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inThreadCrypto } from '@lnkit/crypto';
import { NetworkGraph } from './graph.ts';
import { REGTEST_CHAIN_HASH, signTopology, type Topology, testKey } from './testing.ts';
import { GossipValidator, runBatch } from './validate.ts';

const policy = (feeBaseMsat: number) => ({
  feeBaseMsat,
  feePpm: 1,
  cltvDelta: 40,
  htlcMinMsat: 1000,
  htlcMaxMsat: 100_000_000,
});

// Real ids: node 0 is the greatest, so channel 0's node1 (0) is NOT the lesser id; channel 1's
// node1 (1) is. Fees name the sender: 1000 + sender for dir[0], 2000 + sender for dir[1].
const topology: Topology = {
  nodes: [
    { idx: 0, id: `03${'ff'.repeat(32)}`, alias: 'greatest' },
    { idx: 1, id: `02${'11'.repeat(32)}`, alias: 'least' },
    { idx: 2, id: `02${'88'.repeat(32)}`, alias: 'middle' },
  ],
  channels: [
    // dir[0] from the lesser real id: node 1 here, node 2 in the next.
    { node1: 0, node2: 1, capacitySat: 1_000_000, dir: [policy(1001), policy(2000)] },
    { node1: 2, node2: 0, capacitySat: 1_000_000, dir: [policy(1002), policy(2000)] },
    { node1: 1, node2: 2, capacitySat: 1_000_000, dir: [policy(1001), null] },
  ],
};

test("signTopology: each update is signed by the node the file says sends it, whatever its test key's order", async () => {
  const signed = signTopology(topology, { timestamp: Math.floor(Date.now() / 1000) - 60 });
  assert.equal(signed.channelUpdates, 5);
  const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
  const validator = new GossipValidator(graph);
  const r = await runBatch(
    validator,
    signed.messages.map((raw) => ({ peer: 'p', raw })),
    { crypto: inThreadCrypto },
  );
  for (let i = 0; i < signed.messages.length; i++)
    assert.equal(r.batch.outcomeOf(i), 'accepted', `message ${i}`);
  const indexOf = (id: Uint8Array) =>
    [0, 1, 2].find((n) => Buffer.from(testKey(n).publicKey).equals(Buffer.from(id)))!;

  // For each channel: the fee of the edge leaving each topology node (undefined: no update).
  const sent = signed.scids.map((scid) => {
    const c = graph.channel(scid)!;
    return new Map<number, number | undefined>([
      [indexOf(c.nodeId1), c.directions[0]?.feeBaseMsat],
      [indexOf(c.nodeId2), c.directions[1]?.feeBaseMsat],
    ]);
  });
  assert.deepEqual(
    sent.map((m) => Object.fromEntries(m)),
    [
      { 1: 1001, 0: 2000 },
      { 2: 1002, 0: 2000 },
      { 1: 1001, 2: undefined },
    ],
  );
  // And the test keys do reorder some pair (else this would not tell the two readings apart).
  const keyOrder = (x: number, y: number) => Buffer.compare(testKey(x).publicKey, testKey(y).publicKey);
  const realOrder = (x: number, y: number) => (topology.nodes[x]!.id < topology.nodes[y]!.id ? -1 : 1);
  assert.ok(
    [
      [0, 1],
      [2, 0],
      [1, 2],
    ].some(([x, y]) => keyOrder(x!, y!) !== realOrder(x!, y!)),
  );
});
