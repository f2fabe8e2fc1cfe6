import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DefaultRouter, defaultMaxFeeMsat } from './default-router.ts';
import { GossipError } from './errors.ts';
import { forwardingFeeMsat } from './pathfinder.ts';
import { graphOf, hexId, type Link, nodeId } from './route-fixtures.ts';
import type { Route, RouteQuery } from './router.ts';

const HEIGHT = 800_000;

// BOLT 7 "Routing Example": A (1), B (2), C (3), D (4); each node's policy on all its channels.
const A = 1;
const B = 2;
const C = 3;
const D = 4;
const policyOf: Record<
  number,
  { cltvExpiryDelta: number; feeBaseMsat: number; feeProportionalMillionths: number }
> = {
  [A]: { cltvExpiryDelta: 10, feeBaseMsat: 100, feeProportionalMillionths: 1000 },
  [B]: { cltvExpiryDelta: 20, feeBaseMsat: 200, feeProportionalMillionths: 2000 },
  [C]: { cltvExpiryDelta: 30, feeBaseMsat: 300, feeProportionalMillionths: 3000 },
  [D]: { cltvExpiryDelta: 40, feeBaseMsat: 400, feeProportionalMillionths: 4000 },
};
const link = (scid: number, from: number, to: number, extra: Partial<Link> = {}): Link => ({
  scid,
  from,
  to,
  out: policyOf[from]!,
  back: policyOf[to]!,
  ...extra,
});
const AB = 1;
const AD = 2;
const BC = 3;
const DC = 4;

function boltExample(changes: Record<number, Partial<Link>> = {}) {
  return graphOf([
    link(AB, A, B, changes[AB]),
    link(AD, A, D, changes[AD]),
    link(BC, B, C, changes[BC]),
    link(DC, D, C, changes[DC]),
  ]);
}

function query(extra: Partial<RouteQuery> = {}): RouteQuery {
  return {
    payer: nodeId(A),
    payee: nodeId(C),
    amountMsat: 4_999_999n,
    finalCltvExpiryDelta: 18,
    currentBlockHeight: HEIGHT,
    ...extra,
  };
}

/** Two free private hops into the payee, B → node 50 (881) → C (882). */
const freeHintViaNode50 = () => [
  {
    nodeId: nodeId(B),
    shortChannelId: 881n,
    feeBaseMsat: 0,
    feeProportionalMillionths: 0,
    cltvExpiryDelta: 10,
  },
  {
    nodeId: nodeId(50),
    shortChannelId: 882n,
    feeBaseMsat: 0,
    feeProportionalMillionths: 0,
    cltvExpiryDelta: 10,
  },
];

const summary = (r: Route) =>
  r.hops.map((h) => ({
    node: Buffer.from(h.nodeId).toString('hex'),
    scid: Number(h.shortChannelId),
    amountMsat: h.amountMsat,
    cltvExpiry: h.cltvExpiry,
  }));

function refused(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GossipError, `not a GossipError: ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('fees and CLTV (BOLT 7 routing example)', () => {
  test('A→B→C: 200 + 4,999,999 × 2,000 / 1,000,000 = 10,199 msat to B, cltv 20 + 18', () => {
    const r = new DefaultRouter({ graph: boltExample() }).findRoute(query());
    assert.deepEqual(summary(r), [
      { node: hexId(B), scid: AB, amountMsat: 5_010_198n, cltvExpiry: HEIGHT + 20 + 18 },
      { node: hexId(C), scid: BC, amountMsat: 4_999_999n, cltvExpiry: HEIGHT + 18 },
    ]);
    assert.equal(r.feeMsat, 10_199n);
    assert.ok(r.probability > 0 && r.probability <= 1);
  });

  test('A→D→C when B is avoided: 400 + 4,999,999 × 4,000 / 1,000,000 = 20,399 msat, cltv 40 + 18', () => {
    const r = new DefaultRouter({ graph: boltExample() }).findRoute(query({ avoidChannels: [BigInt(AB)] }));
    assert.deepEqual(summary(r), [
      { node: hexId(D), scid: AD, amountMsat: 5_020_398n, cltvExpiry: HEIGHT + 40 + 18 },
      { node: hexId(C), scid: DC, amountMsat: 4_999_999n, cltvExpiry: HEIGHT + 18 },
    ]);
    assert.equal(r.feeMsat, 20_399n);
  });

  test('a direct channel: no fee, no delta but the final one', () => {
    const r = new DefaultRouter({ graph: boltExample() }).findRoute(query({ payee: nodeId(B) }));
    assert.deepEqual(summary(r), [
      { node: hexId(B), scid: AB, amountMsat: 4_999_999n, cltvExpiry: HEIGHT + 18 },
    ]);
    assert.equal(r.feeMsat, 0n);
  });

  test('four hops: each fee on the amount the node forwards, from the payee back', () => {
    // 1 → 2 → 3 → 4 → 5, node k charges base 1000 + k·100 ppm, delta 10·k.
    const links: Link[] = [1, 2, 3, 4].map((k) => ({
      scid: k,
      from: k,
      to: k + 1,
      out: { feeBaseMsat: 1000, feeProportionalMillionths: k * 100, cltvExpiryDelta: 10 * k },
    }));
    const r = new DefaultRouter({ graph: graphOf(links) }).findRoute(
      query({ payer: nodeId(1), payee: nodeId(5), amountMsat: 123_456_789n }),
    );
    // Hand computation, flooring each proportional part:
    //   to 5: 123,456,789
    //   to 4: + 1000 + floor(123,456,789 × 400 / 1e6) = + 1000 + 49,382     = 123,507,171
    //   to 3: + 1000 + floor(123,507,171 × 300 / 1e6) = + 1000 + 37,052     = 123,545,223
    //   to 2: + 1000 + floor(123,545,223 × 200 / 1e6) = + 1000 + 24,709     = 123,570,932
    assert.deepEqual(
      r.hops.map((h) => h.amountMsat),
      [123_570_932n, 123_545_223n, 123_507_171n, 123_456_789n],
    );
    assert.deepEqual(
      r.hops.map((h) => h.cltvExpiry - HEIGHT),
      [18 + 40 + 30 + 20, 18 + 40 + 30, 18 + 40, 18],
    );
    assert.equal(r.feeMsat, 123_570_932n - 123_456_789n);
  });

  test('forwardingFeeMsat rounds down exactly, also where the product passes 2^53', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    for (let i = 0; i < 20_000; i++) {
      const amount = i % 2 === 0 ? rand(2 ** 31) * 2 ** 21 + rand(2 ** 21) : rand(10_000_000_000);
      const ppm = i % 3 === 0 ? rand(2 ** 32) : rand(10_000);
      const base = rand(10_000);
      const exact = BigInt(base) + (BigInt(amount) * BigInt(ppm)) / 1_000_000n;
      // A fee of 2^53 msat or more is not a number the router works with (it is over any limit).
      if (exact > BigInt(Number.MAX_SAFE_INTEGER)) continue;
      assert.equal(BigInt(forwardingFeeMsat(base, ppm, amount)), exact, `${base} ${ppm} ${amount}`);
    }
  });
});

describe('limits on the edges', () => {
  const viaD = (r: Route) => r.hops.map((h) => Number(h.shortChannelId)).join() === `${AD},${DC}`;

  test('htlc_maximum_msat below the amount rules an edge out', () => {
    const g = boltExample({ [BC]: { out: { ...policyOf[B], htlcMaximumMsat: 4_999_998n } } });
    assert.ok(viaD(new DefaultRouter({ graph: g }).findRoute(query())));
    // Exactly the amount is allowed.
    const g2 = boltExample({ [BC]: { out: { ...policyOf[B], htlcMaximumMsat: 4_999_999n } } });
    assert.ok(!viaD(new DefaultRouter({ graph: g2 }).findRoute(query())));
  });

  test('htlc_minimum_msat above the amount rules an edge out (checked on the amount that edge carries)', () => {
    // A→B carries 5,010,198: a minimum of exactly that is fine, one msat more is not.
    const ok = boltExample({ [AB]: { out: { ...policyOf[A], htlcMinimumMsat: 5_010_198n } } });
    assert.ok(!viaD(new DefaultRouter({ graph: ok }).findRoute(query())));
    const no = boltExample({ [AB]: { out: { ...policyOf[A], htlcMinimumMsat: 5_010_199n } } });
    assert.ok(viaD(new DefaultRouter({ graph: no }).findRoute(query())));
  });

  test('the capacity bounds the amount', () => {
    // 5,009 sat < 5,010,198 msat: A→B cannot carry it. htlc_maximum must not exceed the capacity.
    const g = boltExample({
      [AB]: { capacitySat: 5_009n, out: { ...policyOf[A], htlcMaximumMsat: 5_009_000n } },
    });
    assert.ok(viaD(new DefaultRouter({ graph: g }).findRoute(query())));
  });

  test('a disabled direction, or one without an update, is not used; the other direction is', () => {
    const g = boltExample({ [BC]: { out: { ...policyOf[B], disabled: true } } });
    assert.ok(viaD(new DefaultRouter({ graph: g }).findRoute(query())));
    const g2 = boltExample({ [BC]: { out: null } });
    assert.ok(viaD(new DefaultRouter({ graph: g2 }).findRoute(query())));
    // C → B still works with B → C disabled.
    const back = new DefaultRouter({ graph: g }).findRoute(query({ payer: nodeId(C), payee: nodeId(B) }));
    assert.equal(Number(back.hops[0]!.shortChannelId), BC);
  });

  test('an htlc_maximum_msat above the capacity makes a direction unroutable (BOLT 7 SHOULD ignore)', () => {
    const g = boltExample({
      [BC]: { capacitySat: 100_000n, out: { ...policyOf[B], htlcMaximumMsat: 100_000_001n } },
    });
    assert.ok(viaD(new DefaultRouter({ graph: g }).findRoute(query())));
  });
});

describe('limits on the route', () => {
  test('fee limit: 10,199 msat goes through B; 10,198 refuses, naming the cheapest fee', () => {
    const router = new DefaultRouter({ graph: boltExample() });
    assert.equal(router.findRoute(query({ maxFeeMsat: 10_199n })).feeMsat, 10_199n);
    refused(() => router.findRoute(query({ maxFeeMsat: 10_198n })), 'route-fee-limit', /10199 msat/);
  });

  test('the default fee limit is 1 % + 50 sat', () => {
    assert.equal(defaultMaxFeeMsat(1_000_000_000n), 10_050_000n);
    // A 3,000,000 msat base fee on the only path is over 1 % + 50 sat of 100,000 sat.
    const g = graphOf([
      { scid: 1, from: 1, to: 2 },
      { scid: 2, from: 2, to: 3, out: { feeBaseMsat: 1_050_001, feeProportionalMillionths: 0 } },
    ]);
    const q = { ...query(), payer: nodeId(1), payee: nodeId(3), amountMsat: 100_000_000n };
    refused(() => new DefaultRouter({ graph: g }).findRoute(q), 'route-fee-limit');
    assert.equal(
      new DefaultRouter({ graph: g }).findRoute({ ...q, maxFeeMsat: 1_050_001n }).feeMsat,
      1_050_001n,
    );
  });

  test('CLTV limit: through B needs 20 + 18 = 38; a limit of 37 refuses, 38 takes it', () => {
    const router = new DefaultRouter({ graph: boltExample() });
    assert.equal(router.findRoute(query({ maxTotalCltvExpiryDelta: 38 })).hops[0]!.cltvExpiry, HEIGHT + 38);
    refused(() => router.findRoute(query({ maxTotalCltvExpiryDelta: 37 })), 'route-cltv-limit', /needs 38/);
    refused(() => router.findRoute(query({ maxTotalCltvExpiryDelta: 17 })), 'route-cltv-limit', /final CLTV/);
  });

  test('the CLTV limit picks the longer-fee path when the cheap one needs too many blocks', () => {
    // Through B: cheap but B's delta is 500; through D: dearer, delta 40.
    const g = boltExample({ [BC]: { out: { ...policyOf[B], cltvExpiryDelta: 500 } } });
    const r = new DefaultRouter({ graph: g }).findRoute(query({ maxTotalCltvExpiryDelta: 100 }));
    assert.equal(Number(r.hops[0]!.shortChannelId), AD);
    assert.equal(r.hops[0]!.cltvExpiry, HEIGHT + 58);
  });

  test('a fee limit that the best-scored path breaks is met by a cheaper path when there is one', () => {
    // Two ways from 1 to 4: 1→2→4 on big channels (likely to succeed, fee 2,000) and 1→3→4 on
    // small ones (fee 500). For 400,000 sat the scorer prefers the big ones; a 1,000 msat limit
    // leaves only the small.
    const g = graphOf([
      { scid: 12, from: 1, to: 2, capacitySat: 100_000_000n, out: { htlcMaximumMsat: 100_000_000_000n } },
      {
        scid: 24,
        from: 2,
        to: 4,
        capacitySat: 100_000_000n,
        out: { feeBaseMsat: 2000, feeProportionalMillionths: 0, htlcMaximumMsat: 100_000_000_000n },
      },
      { scid: 13, from: 1, to: 3, capacitySat: 500_000n, out: { htlcMaximumMsat: 500_000_000n } },
      {
        scid: 34,
        from: 3,
        to: 4,
        capacitySat: 500_000n,
        out: { feeBaseMsat: 500, feeProportionalMillionths: 0, htlcMaximumMsat: 500_000_000n },
      },
    ]);
    const router = new DefaultRouter({ graph: g });
    const q = { ...query(), payer: nodeId(1), payee: nodeId(4), amountMsat: 400_000_000n };
    assert.equal(Number(router.findRoute(q).hops[1]!.shortChannelId), 24);
    const cheap = router.findRoute({ ...q, maxFeeMsat: 1000n });
    assert.equal(Number(cheap.hops[1]!.shortChannelId), 34);
    assert.equal(cheap.feeMsat, 500n);
  });

  test('a path within the fee limit that the scored search settles past is found by the cheapest-path search', () => {
    // 1 (payer) → 6 → 2, then 2 → 3 → 5 on big channels (3 charges 800) or 2 → 4 → 5 on small ones
    // (4 charges 10); 6 charges 500. The scored search settles node 2 on the big, likely path
    // (fee 800, under the 1,000 limit there); 6's 500 then puts it over, and node 2 is done.
    const big = { capacitySat: 100_000_000n };
    const bigMax = { htlcMaximumMsat: 100_000_000_000n };
    const small = { capacitySat: 500_000n };
    const smallMax = { htlcMaximumMsat: 500_000_000n };
    const free = { feeBaseMsat: 0, feeProportionalMillionths: 0 };
    const g = graphOf([
      { scid: 16, from: 1, to: 6, ...big, out: { ...bigMax } },
      {
        scid: 62,
        from: 6,
        to: 2,
        ...big,
        out: { ...bigMax, feeBaseMsat: 500, feeProportionalMillionths: 0 },
      },
      { scid: 23, from: 2, to: 3, ...big, out: { ...bigMax, ...free } },
      {
        scid: 35,
        from: 3,
        to: 5,
        ...big,
        out: { ...bigMax, feeBaseMsat: 800, feeProportionalMillionths: 0 },
      },
      { scid: 24, from: 2, to: 4, ...small, out: { ...smallMax, ...free } },
      {
        scid: 45,
        from: 4,
        to: 5,
        ...small,
        out: { ...smallMax, feeBaseMsat: 10, feeProportionalMillionths: 0 },
      },
    ]);
    const router = new DefaultRouter({ graph: g });
    const q = { ...query(), payer: nodeId(1), payee: nodeId(5), amountMsat: 400_000_000n };
    const best = router.findRoute(q);
    assert.deepEqual(
      best.hops.map((h) => Number(h.shortChannelId)),
      [16, 62, 23, 35],
    );
    assert.equal(best.feeMsat, 1_300n);
    const cheap = router.findRoute({ ...q, maxFeeMsat: 1_000n });
    assert.deepEqual(
      cheap.hops.map((h) => Number(h.shortChannelId)),
      [16, 62, 24, 45],
    );
    assert.equal(cheap.feeMsat, 510n);
    refused(() => router.findRoute({ ...q, maxFeeMsat: 509n }), 'route-fee-limit', /cheapest costs 510 msat/);
  });

  test('maxHops: a five-channel chain needs maxHops ≥ 5', () => {
    const links: Link[] = [1, 2, 3, 4, 5].map((k) => ({ scid: k, from: k, to: k + 1 }));
    const router = new DefaultRouter({ graph: graphOf(links) });
    const q = query({ payer: nodeId(1), payee: nodeId(6) });
    assert.equal(router.findRoute({ ...q, maxHops: 5 }).hops.length, 5);
    refused(() => router.findRoute({ ...q, maxHops: 4 }), 'no-route', /longer than 4 hops/);
  });
});

describe('route hints and first hops', () => {
  test('a private last hop from an invoice (BOLT 11 r): fees and delta of the hint', () => {
    const g = boltExample();
    const payee = nodeId(99); // not in the graph
    const hint = [
      {
        nodeId: nodeId(C),
        shortChannelId: 777n,
        feeBaseMsat: 1000,
        feeProportionalMillionths: 250,
        cltvExpiryDelta: 144,
      },
    ];
    const r = new DefaultRouter({ graph: g }).findRoute(
      query({ payee, amountMsat: 1_000_000n, routeHints: [hint] }),
    );
    // C charges 1000 + 1,000,000 × 250 / 1e6 = 1,250 to forward over the private channel; B
    // charges 200 + 1,001,250 × 2,000 / 1e6 = 2,202 to forward to C.
    assert.deepEqual(
      r.hops.map((h) => [Number(h.shortChannelId), h.amountMsat, h.cltvExpiry - HEIGHT]),
      [
        [AB, 1_003_452n, 18 + 144 + 20],
        [BC, 1_001_250n, 18 + 144],
        [777, 1_000_000n, 18],
      ],
    );
    assert.deepEqual(r.hops[2]!.nodeId, payee);
    assert.equal(r.feeMsat, 3_452n);
  });

  test('a hint of two private hops, and a hint preferred when it is cheaper than a public channel', () => {
    const g = boltExample();
    const hint = freeHintViaNode50();
    const r = new DefaultRouter({ graph: g }).findRoute(query({ routeHints: [hint] }));
    assert.deepEqual(
      r.hops.map((h) => Number(h.shortChannelId)),
      [AB, 881, 882],
    );
    assert.deepEqual(r.hops[1]!.nodeId, nodeId(50));
    assert.equal(r.feeMsat, 0n);
    assert.equal(r.hops[0]!.cltvExpiry, HEIGHT + 18 + 10 + 10);
  });

  test('a hint whose htlc_maximum_msat is below the amount is not used', () => {
    const hint = [
      {
        nodeId: nodeId(C),
        shortChannelId: 777n,
        feeBaseMsat: 0,
        feeProportionalMillionths: 0,
        cltvExpiryDelta: 10,
        htlcMaximumMsat: 999_999n,
      },
    ];
    refused(
      () =>
        new DefaultRouter({ graph: boltExample() }).findRoute(
          query({ payee: nodeId(99), amountMsat: 1_000_000n, routeHints: [hint] }),
        ),
      'no-route',
    );
  });

  test('first hops replace the payer’s graph channels, with their outbound liquidity', () => {
    const router = new DefaultRouter({ graph: boltExample() });
    // Only a private channel to D is usable, whatever the graph says about A's channels.
    const viaD = router.findRoute(
      query({ firstHops: [{ shortChannelId: 4242n, nodeId: nodeId(D), outboundMsat: 10_000_000n }] }),
    );
    assert.deepEqual(
      viaD.hops.map((h) => Number(h.shortChannelId)),
      [4242, DC],
    );
    refused(
      () =>
        router.findRoute(
          query({ firstHops: [{ shortChannelId: 4242n, nodeId: nodeId(D), outboundMsat: 5_020_397n }] }),
        ),
      'no-route',
    );
  });

  test('avoided channels are left out of hints and first hops too (a payment’s earlier failures)', () => {
    const router = new DefaultRouter({ graph: boltExample() });
    const hint = freeHintViaNode50();
    // The hint's second channel failed: the free hint is not taken again; the graph's path is.
    const again = router.findRoute(query({ routeHints: [hint], avoidChannels: [882n] }));
    assert.ok(!again.hops.some((h) => h.shortChannelId === 882n || h.shortChannelId === 881n));
    assert.ok(again.feeMsat > 0n);
    // Our private channel to D failed: with only it as a first hop, no route.
    const viaD = [{ shortChannelId: 4242n, nodeId: nodeId(D), outboundMsat: 10_000_000n }];
    refused(() => router.findRoute(query({ firstHops: viaD, avoidChannels: [4242n] })), 'no-route');
    assert.equal(router.findRoute(query({ firstHops: viaD })).hops[0]?.shortChannelId, 4242n);
  });

  test('a payer outside the graph with first hops', () => {
    const r = new DefaultRouter({ graph: boltExample() }).findRoute(
      query({
        payer: nodeId(70),
        firstHops: [{ shortChannelId: 5n, nodeId: nodeId(B), outboundMsat: 10_000_000n }],
      }),
    );
    assert.deepEqual(
      r.hops.map((h) => Number(h.shortChannelId)),
      [5, BC],
    );
    assert.equal(r.feeMsat, 10_199n);
  });
});

describe('no route, and bad queries', () => {
  test('errors are GossipErrors with a code', () => {
    const router = new DefaultRouter({ graph: boltExample() });
    refused(() => router.findRoute(query({ payee: nodeId(99) })), 'no-route', /no route from/);
    refused(() => router.findRoute(query({ payer: nodeId(98) })), 'no-route');
    refused(() => router.findRoute(query({ amountMsat: 20_000_000_000n })), 'no-route');
    refused(() => router.findRoute(query({ amountMsat: 0n })), 'invalid-argument');
    refused(() => router.findRoute(query({ payee: nodeId(A) })), 'invalid-argument');
    refused(() => router.findRoute(query({ payee: 'not hex' })), 'invalid-argument');
    refused(() => router.findRoute(query({ finalCltvExpiryDelta: -1 })), 'invalid-argument');
  });

  test('hex node ids are accepted', () => {
    const r = new DefaultRouter({ graph: boltExample() }).findRoute(
      query({ payer: hexId(A), payee: hexId(C) }),
    );
    assert.equal(r.feeMsat, 10_199n);
  });

  test('a router answers query after query from the same search memory', () => {
    const router = new DefaultRouter({ graph: boltExample() });
    for (let i = 0; i < 50; i++) {
      const avoid = i % 2 === 0 ? [] : [BigInt(AB)];
      assert.equal(
        router.findRoute(query({ avoidChannels: avoid })).feeMsat,
        i % 2 === 0 ? 10_199n : 20_399n,
      );
      if (i % 5 === 0) refused(() => router.findRoute(query({ payee: nodeId(99) })), 'no-route');
    }
  });
});
