/**
 * The network graph's endpoints (graphinfo, listnodes, listgraphchannels, getnode, queryroutes)
 * over a node that records what it was asked: parameters parsed strictly, each bad one a 400
 * naming it; amounts as strings both ways; what is not there, and the router's refusals, a 404
 * with the router's code.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LnkitNode } from '@lnkit/node';
import { type ApiTestServer, apiTestServer } from './api-test-server.ts';

const TOKEN = 'cd'.repeat(32);
/** secp256k1's generator, compressed: a node id that is a point. */
const G = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
const UNKNOWN = '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5';
/** 02 followed by 32 bytes that are no x coordinate of the curve. */
const OFF_CURVE = `02${'00'.repeat(31)}07`;

type Route = Awaited<ReturnType<LnkitNode['queryRoutes']>>[number];

const asked: unknown[][] = [];
const route: Route = {
  hops: [
    {
      nodeId: Buffer.from(G, 'hex'),
      shortChannelId: (700_003n << 40n) | 1n,
      amountMsat: 9_007_199_254_740_991n,
      cltvExpiry: 150,
    },
  ],
  feeMsat: 3100n,
  probability: 0.5,
};
const fakeNode = {
  nodeId: `02${'11'.repeat(32)}`,
  graphInfo: async () => ({ nodes: 5, channels: 4, directions: 8, memoryBytes: 1234, lastSyncAt: null }),
  listNodes: async (o: unknown) => {
    asked.push(['listNodes', o]);
    return { items: [{ nodeId: G, index: 3, channels: 1 }], next: 3 };
  },
  listGraphChannels: async (o: unknown) => {
    asked.push(['listGraphChannels', o]);
    return { items: [], next: null };
  },
  getNode: async (id: string) => {
    asked.push(['getNode', id]);
    return id === G ? { node: { nodeId: G, index: 3, channels: 0 }, channels: [] } : undefined;
  },
  queryRoutes: async (id: string, amountMsat: bigint, options: unknown) => {
    asked.push(['queryRoutes', id, amountMsat, options]);
    if (amountMsat === 2n) throw Object.assign(new Error('no route to ... for 2 msat'), { code: 'no-route' });
    if (amountMsat === 3n)
      throw Object.assign(new Error('the cheapest costs 3100 msat'), { code: 'route-fee-limit' });
    return [route];
  },
} as unknown as LnkitNode;

let api: ApiTestServer;
before(async () => {
  api = await apiTestServer(fakeNode, TOKEN);
});
after(() => api.close());
const call = (path: string, body?: unknown) => api.call(path, body);

const errorOf = (r: { json: Record<string, unknown> }) => r.json.error as { code: string; message: string };

test('graphinfo and the lists: pages by limit and after, each checked', async () => {
  assert.deepEqual((await call('/v1/graphinfo')).json, {
    nodes: 5,
    channels: 4,
    directions: 8,
    memoryBytes: 1234,
    lastSyncAt: null,
  });
  asked.length = 0;
  assert.deepEqual((await call('/v1/listnodes?limit=2&after=5')).json, {
    nodes: [{ nodeId: G, index: 3, channels: 1 }],
    next: 3,
  });
  assert.deepEqual((await call('/v1/listgraphchannels')).json, { channels: [], next: null });
  assert.deepEqual(asked, [
    ['listNodes', { limit: 2, after: 5 }],
    ['listGraphChannels', { limit: 1000 }],
  ]);
  for (const [query, param] of [
    ['limit=0', 'limit'],
    ['limit=0x10', 'limit'],
    ['limit=100001', 'limit'],
    ['after=-1', 'after'],
    ['after=1e3', 'after'],
  ] as const) {
    const r = await call(`/v1/listnodes?${query}`);
    assert.equal(r.status, 400, query);
    assert.match(errorOf(r).message, new RegExp(`parameter "${param}"`), query);
  }
});

test('getnode: a bad node id is a 400 naming nodeId, an unknown one a 404', async () => {
  assert.deepEqual((await call('/v1/getnode', { nodeId: G.toUpperCase() })).json, {
    node: { nodeId: G, index: 3, channels: 0 },
    channels: [],
  });
  for (const nodeId of [undefined, 7, 'xyz', `04${G.slice(2)}`, G.slice(0, 64), OFF_CURVE]) {
    const r = await call('/v1/getnode', nodeId === undefined ? {} : { nodeId });
    assert.equal(r.status, 400, String(nodeId));
    assert.equal(errorOf(r).code, 'invalid-parameter');
    assert.match(errorOf(r).message, /parameter "nodeId"/);
  }
  const r = await call('/v1/getnode', { nodeId: UNKNOWN });
  assert.equal(r.status, 404);
  assert.equal(errorOf(r).code, 'unknown-node');
  assert.match(errorOf(r).message, new RegExp(UNKNOWN));
});

test('queryroutes: amounts as strings both ways; bad ones a 400 naming them; refusals a 404 with the router code', async () => {
  asked.length = 0;
  const r = await call('/v1/queryroutes', { nodeId: G, amountMsat: '1000', maxFeeMsat: '50' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, {
    routes: [
      {
        hops: [{ nodeId: G, shortChannelId: '700003x0x1', amountMsat: '9007199254740991', cltvExpiry: 150 }],
        feeMsat: '3100',
        probability: 0.5,
      },
    ],
  });
  await call('/v1/queryroutes', { nodeId: G, amountMsat: 9_007_199_254_740_991 });
  assert.deepEqual(asked, [
    ['queryRoutes', G, 1000n, { maxFeeMsat: 50n }],
    ['queryRoutes', G, 9_007_199_254_740_991n, {}],
  ]);

  for (const [body, param] of [
    [{ amountMsat: '1000' }, 'nodeId'],
    [{ nodeId: 'nope', amountMsat: '1000' }, 'nodeId'],
    [{ nodeId: G }, 'amountMsat'],
    [{ nodeId: G, amountMsat: '0' }, 'amountMsat'],
    [{ nodeId: G, amountMsat: '0x10' }, 'amountMsat'],
    [{ nodeId: G, amountMsat: '1e3' }, 'amountMsat'],
    [{ nodeId: G, amountMsat: '9007199254740992' }, 'amountMsat'],
    [{ nodeId: G, amountMsat: 1.5 }, 'amountMsat'],
    [{ nodeId: G, amountMsat: '1000', maxFeeMsat: '-1' }, 'maxFeeMsat'],
    [{ nodeId: G, amountMsat: '1000', maxFeeMsat: 'all' }, 'maxFeeMsat'],
  ] as const) {
    const bad = await call('/v1/queryroutes', body);
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.match(errorOf(bad).message, new RegExp(`parameter "${param}"`), JSON.stringify(body));
  }

  for (const [amountMsat, code] of [
    ['2', 'no-route'],
    ['3', 'route-fee-limit'],
  ] as const) {
    const refused = await call('/v1/queryroutes', { nodeId: G, amountMsat });
    assert.equal(refused.status, 404);
    assert.equal(errorOf(refused).code, code);
  }
});
