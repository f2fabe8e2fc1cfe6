// BOLT 7 pruning: stale channels after two weeks, spent funding outputs from the block stream
// (forgotten 72 blocks later, taken back when the spending block is disconnected).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BlockData } from '@lnkit/chain-sync';
import { inThreadCrypto } from '@lnkit/crypto';
import { NetworkGraph } from './graph.ts';
import { CHANNEL_SPENT, EDGE_ROUTABLE } from './graph-view.ts';
import { forgetSpent, fundingSpent, pruneStale, spentOutpoints, unspendFrom } from './prune.ts';
import {
  orderedNodes,
  REGTEST_CHAIN_HASH,
  signChannelAnnouncement,
  signChannelUpdate,
  testKey,
} from './testing.ts';
import type { UtxoLookup } from './utxo.ts';
import { fundingScriptPubKey } from './utxo.ts';
import { GossipValidator, runBatch } from './validate.ts';

const DAY = 86_400;
const T0 = 1_800_000_000;
const scid = (i: number) => (BigInt(700_000 + i) << 40n) | 1n;
const txid = (i: number) => new Uint8Array(32).fill(i + 1);

/** Channels 0..n-1 between testKey(2i) and testKey(2i+1), announced at T0, funding txid txid(i). */
async function graphOf(n: number, updates: (i: number) => { ts0?: number; ts1?: number }) {
  const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
  const utxo: UtxoLookup = {
    async lookup(s) {
      const i = Number((s >> 40n) - 700_000n);
      const ca = signChannelAnnouncement({ scid: s, nodeA: testKey(2 * i), nodeB: testKey(2 * i + 1) });
      const o = 258 + 2 + 32 + 8 + 66;
      return {
        status: 'unspent',
        scriptPubKey: fundingScriptPubKey(ca, o, ca, o + 33),
        valueSat: 10_000_000n,
        txid: txid(i),
        confirmations: 10,
      };
    },
  };
  const raws: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const [n1, n2] = orderedNodes({ nodeA: testKey(2 * i), nodeB: testKey(2 * i + 1) });
    raws.push(signChannelAnnouncement({ scid: scid(i), nodeA: testKey(2 * i), nodeB: testKey(2 * i + 1) }));
    const u = updates(i);
    if (u.ts0 !== undefined)
      raws.push(signChannelUpdate({ scid: scid(i), signer: n1, direction: 0, timestamp: u.ts0 }));
    if (u.ts1 !== undefined)
      raws.push(signChannelUpdate({ scid: scid(i), signer: n2, direction: 1, timestamp: u.ts1 }));
  }
  const v = new GossipValidator(graph, { staleAfterSec: 100 * DAY });
  const r = await runBatch(
    v,
    raws.map((raw) => ({ peer: 'p', raw })),
    { crypto: inThreadCrypto, utxo, now: () => T0 * 1000 },
  );
  assert.equal(r.accepted, raws.length);
  return graph;
}

test('"if the timestamp of the latest channel_update in either direction is older than two weeks: MAY prune the channel"', async () => {
  const graph = await graphOf(
    4,
    (i) =>
      [
        { ts0: T0, ts1: T0 }, // fresh: stays
        { ts0: T0, ts1: T0 - 20 * DAY }, // one side stale: goes (the oldest update counts)
        { ts0: T0 }, // one side never updated: goes, once the announcement is two weeks old
        { ts0: T0 - 20 * DAY, ts1: T0 - 20 * DAY },
      ][i]!,
  );
  // Announced at T0: nothing is pruned before the announcement itself is two weeks old.
  assert.deepEqual(pruneStale(graph, T0 + 1 * DAY), { channels: 0, directions: 3 });
  assert.equal(graph.stats().channels, 4);
  const r = pruneStale(graph, T0 + 15 * DAY);
  assert.equal(graph.stats().channels, 0, `left: ${JSON.stringify(r)}`);
  assert.equal(graph.stats().nodes, 0, 'nodes with no channel left are purged');
});

test('a spent funding output: not routable at once, forgotten 72 blocks later ("SHOULD forget a channel after a 72-block delay")', async () => {
  const graph = await graphOf(3, () => ({ ts0: T0, ts1: T0 }));
  // A block spending channel 1's output (and some unrelated outpoint).
  const packed = new Uint8Array(72);
  packed.set(txid(1), 0); // vout 0, big-endian u32 at 32: zero
  packed.set(txid(1), 36);
  new DataView(packed.buffer).setUint32(36 + 32, 1); // channel 1 is output 1 (scid ...|1)
  const c = graph.channelIndex(scid(1));
  assert.ok(graph.edgeFlagsAt(c * 2) & EDGE_ROUTABLE);
  assert.equal(fundingSpent(graph, packed, 800_000), 1);
  assert.ok(graph.channelFlagsAt(c) & CHANNEL_SPENT);
  assert.equal(graph.edgeFlagsAt(c * 2) & EDGE_ROUTABLE, 0);
  assert.equal(forgetSpent(graph, 800_071), 0);
  // A reorg that takes the spending block back restores it.
  assert.equal(unspendFrom(graph, 800_000), 1);
  assert.ok(graph.edgeFlagsAt(c * 2) & EDGE_ROUTABLE);
  fundingSpent(graph, packed, 800_001);
  assert.equal(forgetSpent(graph, 800_073), 1);
  assert.equal(graph.channel(scid(1)), undefined);
  assert.equal(graph.stats().channels, 2);
});

test('spentOutpoints packs every input of a block: txid in internal order, then vout', () => {
  const block = {
    header: {} as BlockData['header'],
    txdata: [
      { ins: [{ hash: txid(5), index: 3 }] },
      {
        ins: [
          { hash: txid(6), index: 0 },
          { hash: txid(7), index: 9 },
        ],
      },
    ],
  } as unknown as BlockData;
  const packed = spentOutpoints(block);
  assert.equal(packed.length, 3 * 36);
  assert.deepEqual(packed.subarray(36, 68), txid(6));
  assert.equal(new DataView(packed.buffer).getUint32(72 + 32), 9);
});
