/**
 * The two readings of `../shared/data/graph/mainnet-*.json` agree: the graph the gossip tests and
 * benchmarks sign with test keys (@lnkit/gossip/testing's signTopology) and the one the route
 * benchmark searches (test/support/graph-topology.ts's fixedGraphOf, with the real node ids)
 * give every node the same policy on the same channel. `dir[0]` is the real graph's direction 0
 * (from the lesser real node id), which is `node1` for only about half the file's channels.
 * Run: node scripts/test.mjs test/gossip
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inThreadCrypto } from '@lnkit/crypto';
import { type ChannelInfo, GossipValidator, NetworkGraph, runBatch } from '@lnkit/gossip';
import { REGTEST_CHAIN_HASH, signTopology, testKey } from '@lnkit/gossip/testing';
import { fixedGraphOf, readTopology } from '../support/graph-topology.ts';

const GRAPH = fileURLToPath(new URL('../../../shared/data/graph/mainnet-2026-02-03.json', import.meta.url));
/** Enough channels for hundreds of each ordering, few enough to sign and check in seconds. */
const CHANNELS = 2000;

/** "fee/ppm/cltv/min/max" of the edge leaving each end, by topology index. */
function policiesByNode(c: ChannelInfo, indexOf: (id: Uint8Array) => number): Map<number, string> {
  const text = (d: ChannelInfo['directions'][0]) =>
    d
      ? `${d.feeBaseMsat}/${d.feeProportionalMillionths}/${d.cltvExpiryDelta}/${d.htlcMinimumMsat}/${d.htlcMaximumMsat}`
      : 'none';
  return new Map([
    [indexOf(c.nodeId1), text(c.directions[0])],
    [indexOf(c.nodeId2), text(c.directions[1])],
  ]);
}

test('signTopology and the route bench read the same policy for every node of every channel', {
  skip: existsSync(GRAPH) ? false : `no ${GRAPH}`,
  timeout: 120_000,
}, async () => {
  const full = readTopology(GRAPH);
  const topology = { ...full, channels: full.channels.slice(0, CHANNELS) };
  const fixed = fixedGraphOf(topology);
  const signed = signTopology(topology, { timestamp: Math.floor(Date.now() / 1000) - 60 });
  const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
  const validator = new GossipValidator(graph);
  for (let i = 0; i < signed.messages.length; i += 1000) {
    const chunk = signed.messages.slice(i, i + 1000).map((raw) => ({ peer: 'p', raw }));
    await runBatch(validator, chunk, { crypto: inThreadCrypto });
  }
  assert.equal(graph.stats().channels, CHANNELS);

  const realIndex = new Map(full.nodes.map((n) => [n.id, n.idx]));
  const testIndex = new Map<string, number>();
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  for (const ch of topology.channels)
    for (const n of [ch.node1, ch.node2]) testIndex.set(hex(testKey(n).publicKey), n);

  let node1Lesser = 0;
  for (let i = 0; i < CHANNELS; i++) {
    const ch = topology.channels[i]!;
    if (full.nodes[ch.node1]!.id < full.nodes[ch.node2]!.id) node1Lesser++;
    const scid = signed.scids[i]!;
    const want = policiesByNode(fixed.channel(scid)!, (id) => realIndex.get(hex(id))!);
    const got = policiesByNode(graph.channel(scid)!, (id) => testIndex.get(hex(id))!);
    assert.deepEqual(got, want, `channel ${i} (node1 ${ch.node1}, node2 ${ch.node2})`);
  }
  // Both orderings were checked, many times each.
  assert.ok(node1Lesser > 200 && CHANNELS - node1Lesser > 200, String(node1Lesser));
});
