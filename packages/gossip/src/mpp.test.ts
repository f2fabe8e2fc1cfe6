import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DefaultRouter } from './default-router.ts';
import { GossipError } from './errors.ts';
import type { FixedGraph } from './fixed-graph.ts';
import { forwardingFeeMsat } from './pathfinder.ts';
import { graphOf, type Link, nodeId } from './route-fixtures.ts';
import type { Route } from './router.ts';

const SAT = 1000n;
const query = (amountMsat: bigint, extra = {}) => ({
  payer: nodeId(1),
  payee: nodeId(5),
  amountMsat,
  finalCltvExpiryDelta: 18,
  currentBlockHeight: 100,
  ...extra,
});

/** `from → via → 5` on channels of `capacitySat`, scids from `scid`. */
function path(scid: number, from: number, via: number, capacitySat: bigint): Link[] {
  const out = { htlcMaximumMsat: capacitySat * SAT };
  return [
    { scid, from, to: via, capacitySat, out },
    { scid: scid + 1, from: via, to: 5, capacitySat, out },
  ];
}

/** Every part checked against the graph as its hops will: fees, limits, and the capacity all parts share. */
function checkParts(g: FixedGraph, parts: Route[], amountMsat: bigint) {
  const sent = new Map<string, bigint>();
  for (const r of parts) {
    let from = nodeId(1);
    r.hops.forEach((h, k) => {
      const ch = g.channel(h.shortChannelId)!;
      const dir = Buffer.compare(Buffer.from(from), Buffer.from(h.nodeId)) < 0 ? 0 : 1;
      const p = ch.directions[dir]!;
      assert.ok(h.amountMsat >= p.htlcMinimumMsat && h.amountMsat <= p.htlcMaximumMsat);
      if (k > 0) {
        const fee = forwardingFeeMsat(p.feeBaseMsat, p.feeProportionalMillionths, Number(h.amountMsat));
        assert.equal(r.hops[k - 1]!.amountMsat, h.amountMsat + BigInt(fee));
      }
      const key = `${h.shortChannelId}/${dir}`;
      sent.set(key, (sent.get(key) ?? 0n) + h.amountMsat);
      assert.ok(sent.get(key)! <= ch.capacitySat! * SAT, `channel ${key} over its capacity`);
      from = h.nodeId;
    });
    assert.equal(r.feeMsat, r.hops[0]!.amountMsat - r.hops.at(-1)!.amountMsat);
  }
  assert.equal(
    parts.reduce((sum, r) => sum + r.hops.at(-1)!.amountMsat, 0n),
    amountMsat,
  );
}

describe('multi-path route search', () => {
  test('one path is enough: one part', () => {
    const g = graphOf([...path(10, 1, 2, 2_000_000n), ...path(20, 1, 3, 2_000_000n)]);
    const parts = new DefaultRouter({ graph: g }).findRoutes(query(1_000_000n * SAT));
    assert.equal(parts.length, 1);
    checkParts(g, parts, 1_000_000n * SAT);
  });

  test('no path carries 1,000,000 sat, two of 600,000 do together', () => {
    const g = graphOf([...path(10, 1, 2, 600_000n), ...path(20, 1, 3, 600_000n)]);
    const router = new DefaultRouter({ graph: g });
    assert.throws(
      () => router.findRoute(query(1_000_000n * SAT)),
      (e: unknown) => (e as GossipError).code === 'no-route',
    );
    const parts = router.findRoutes(query(1_000_000n * SAT));
    assert.equal(parts.length, 2);
    assert.notEqual(parts[0]!.hops[0]!.shortChannelId, parts[1]!.hops[0]!.shortChannelId);
    checkParts(g, parts, 1_000_000n * SAT);
    const fees = parts.reduce((s, r) => s + r.feeMsat, 0n);
    assert.ok(fees <= (1_000_000n * SAT) / 100n + 50_000n);
  });

  test('three parts when it takes three', () => {
    const g = graphOf([
      ...path(10, 1, 2, 400_000n),
      ...path(20, 1, 3, 400_000n),
      ...path(30, 1, 4, 400_000n),
    ]);
    const parts = new DefaultRouter({ graph: g }).findRoutes(query(1_100_000n * SAT));
    assert.equal(parts.length, 3);
    checkParts(g, parts, 1_100_000n * SAT);
    assert.throws(
      () => new DefaultRouter({ graph: g }).findRoutes(query(1_100_000n * SAT, { maxParts: 2 })),
      (e: unknown) => e instanceof GossipError && e.code === 'no-route' && /up to 2 parts/.test(e.message),
    );
  });

  test('a channel the parts share carries their sum, and no more', () => {
    // 1 → 9, then two ways from 9 to 5.
    const shared = (capacitySat: bigint) =>
      graphOf([
        { scid: 1, from: 1, to: 9, capacitySat, out: { htlcMaximumMsat: capacitySat * SAT } },
        ...path(10, 9, 2, 600_000n),
        ...path(20, 9, 3, 600_000n),
      ]);
    const g = shared(1_100_000n);
    const parts = new DefaultRouter({ graph: g }).findRoutes(query(1_000_000n * SAT));
    assert.equal(parts.length, 2);
    assert.ok(parts.every((r) => r.hops[0]!.shortChannelId === 1n));
    checkParts(g, parts, 1_000_000n * SAT);
    // 1,000,000 sat and the fees (about 204 sat at nodes 9, 2 and 3) do not fit in 1,000,100 sat.
    assert.throws(
      () => new DefaultRouter({ graph: shared(1_000_100n) }).findRoutes(query(1_000_000n * SAT)),
      (e: unknown) => (e as GossipError).code === 'no-route',
    );
  });

  test('the fee limit holds for all parts together', () => {
    // Each way charges 1,000 msat + 100 ppm at its middle node: parts of a and b msat
    // (a + b = 1e9) pay 2,000 + ⌊a / 10,000⌋ + ⌊b / 10,000⌋, so 101,999 or 102,000 msat.
    const g = graphOf([...path(10, 1, 2, 600_000n), ...path(20, 1, 3, 600_000n)]);
    const router = new DefaultRouter({ graph: g });
    const parts = router.findRoutes(query(1_000_000n * SAT, { maxFeeMsat: 102_000n }));
    const fees = parts.reduce((s, r) => s + r.feeMsat, 0n);
    assert.ok(fees === 101_999n || fees === 102_000n, `${fees}`);
    checkParts(g, parts, 1_000_000n * SAT);
    assert.throws(
      () => router.findRoutes(query(1_000_000n * SAT, { maxFeeMsat: 101_998n })),
      (e: unknown) => (e as GossipError).code === 'no-route',
    );
  });

  test('parts over route hints share the hint channel’s htlc_maximum_msat', () => {
    const g = graphOf([...path(10, 1, 2, 600_000n), ...path(20, 1, 3, 600_000n)]);
    const hint = [
      {
        nodeId: nodeId(5),
        shortChannelId: 99n,
        feeBaseMsat: 0,
        feeProportionalMillionths: 0,
        cltvExpiryDelta: 10,
        htlcMaximumMsat: 1_200_000n * SAT,
      },
    ];
    const parts = new DefaultRouter({ graph: g }).findRoutes(
      query(1_000_000n * SAT, { payee: nodeId(77), routeHints: [hint] }),
    );
    assert.equal(parts.length, 2);
    assert.ok(parts.every((r) => r.hops.at(-1)!.shortChannelId === 99n));
    assert.equal(
      parts.reduce((s, r) => s + r.hops.at(-1)!.amountMsat, 0n),
      1_000_000n * SAT,
    );
  });
});
