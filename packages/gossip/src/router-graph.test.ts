// The router over the network graph itself (graph.ts), fed signed gossip as a peer would send it:
// a route, then the graph changing under the router between two searches (a direction disabled,
// a channel added), which its cached adjacency must follow.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inThreadCrypto } from '@lnkit/crypto';
import { DefaultRouter } from './default-router.ts';
import { NetworkGraph } from './graph.ts';
import {
  orderedNodes,
  REGTEST_CHAIN_HASH,
  signChannelAnnouncement,
  signChannelUpdate,
  type TestKey,
  testKey,
} from './testing.ts';
import { GossipValidator, runBatch } from './validate.ts';

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;
const K = [0, 1, 2, 3, 4].map(testKey);
const scid = (a: number, b: number) => (700_000n << 40n) | (BigInt(a * 10 + b) << 16n);

/** The update `from` signs for forwarding to `to` on their channel (direction by BOLT 7 key order). */
function updateFrom(
  from: TestKey,
  to: TestKey,
  s: bigint,
  extra: Partial<Parameters<typeof signChannelUpdate>[0]> = {},
) {
  const [n1] = orderedNodes({ nodeA: from, nodeB: to });
  return signChannelUpdate({
    scid: s,
    signer: from,
    direction: n1 === from ? 0 : 1,
    timestamp: NOW,
    ...extra,
  });
}

function channel(a: number, b: number, feeBaseMsat = 1000): Uint8Array[] {
  const s = scid(a, b);
  return [
    signChannelAnnouncement({ scid: s, nodeA: K[a]!, nodeB: K[b]! }),
    updateFrom(K[a]!, K[b]!, s, { feeBaseMsat }),
    updateFrom(K[b]!, K[a]!, s, { feeBaseMsat }),
  ];
}

test('routes over the network graph follow its changes', async () => {
  const graph = new NetworkGraph({ chainHash: REGTEST_CHAIN_HASH });
  const validator = new GossipValidator(graph);
  const feed = async (raws: Uint8Array[]) => {
    const r = await runBatch(
      validator,
      raws.map((raw) => ({ peer: 'peer', raw })),
      { crypto: inThreadCrypto, now: () => NOW_MS },
    );
    assert.equal(r.accepted, raws.length);
  };
  // 1 → 2 → 4 (2 charges 1,000 + 100 ppm) or 1 → 3 → 4 (3 charges 5,000 + 100 ppm).
  await feed([...channel(1, 2), ...channel(2, 4), ...channel(1, 3), ...channel(3, 4, 5000)]);
  const router = new DefaultRouter({ graph });
  const q = {
    payer: K[1]!.publicKey,
    payee: K[4]!.publicKey,
    amountMsat: 10_000_000n,
    finalCltvExpiryDelta: 18,
    currentBlockHeight: 1000,
  };
  const first = router.findRoute(q);
  assert.deepEqual(
    first.hops.map((h) => h.shortChannelId),
    [scid(1, 2), scid(2, 4)],
  );
  assert.deepEqual(first.hops[0]!.nodeId, K[2]!.publicKey);
  // 1,000 + 10,000,000 × 100 / 1e6; the default test delta is 40.
  assert.equal(first.feeMsat, 2_000n);
  assert.equal(first.hops[0]!.cltvExpiry, 1000 + 18 + 40);

  // 2 disables its direction towards 4.
  await feed([updateFrom(K[2]!, K[4]!, scid(2, 4), { timestamp: NOW + 1, disabled: true })]);
  const second = router.findRoute(q);
  assert.deepEqual(
    second.hops.map((h) => h.shortChannelId),
    [scid(1, 3), scid(3, 4)],
  );
  assert.equal(second.feeMsat, 6_000n);

  // A new direct channel: the router's adjacency is rebuilt for the new channel slot.
  await feed(channel(1, 4));
  const third = router.findRoute(q);
  assert.deepEqual(
    third.hops.map((h) => h.shortChannelId),
    [scid(1, 4)],
  );
  assert.equal(third.feeMsat, 0n);
});
