/**
 * The channel endpoints (openchannel, listchannels, closechannel) over a node that records what
 * it was asked: parameters parsed strictly, each bad one a 400 naming it; amounts as strings both
 * ways; the node's refusals keep their code, with the status that says what to do.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LnkitNode } from '@lnkit/node';
import { type ApiTestServer, apiTestServer } from './api-test-server.ts';
import type { ChannelNode, ChannelView, OpenChannelOptions } from './channel-node.ts';

const TOKEN = 'ef'.repeat(32);
const SELF = `02${'11'.repeat(32)}`;
/** secp256k1's generator, compressed: a node id that is a point. */
const G = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
/** 2G: a node id the fake node is not connected to. */
const UNCONNECTED = '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5';
const CHANNEL = 'ab'.repeat(32);
const TXID = 'cd'.repeat(32);

const nodeError = (code: string, message: string) => Object.assign(new Error(message), { code });

const channel: ChannelView = {
  channelId: CHANNEL,
  peer: G,
  state: 'ready',
  type: 'anchors',
  public: false,
  isFunder: true,
  capacitySat: 1_000_000n,
  localBalanceMsat: 899_999_999n,
  remoteBalanceMsat: 100_000_001n,
  shortChannelId: '103x1x0',
  fundingTxid: TXID,
  confirmations: 3,
  minimumDepth: 3,
  closingTxid: null,
};

const asked: unknown[][] = [];
const fakeNode: ChannelNode = {
  nodeId: SELF,
  openChannel: async (nodeId: string, amountSat: bigint, opts?: OpenChannelOptions) => {
    asked.push(['openChannel', nodeId, amountSat, opts]);
    if (nodeId === UNCONNECTED)
      throw nodeError('peer-not-connected', `peer ${nodeId} is not connected; connect to it first`);
    if (amountSat === 999n)
      throw nodeError('invalid-argument', 'amountSat 999 is below the minimum of 1000 sat');
    if (amountSat === 5_000_000_000n)
      throw nodeError(
        'insufficient-funds',
        'the wallet has 100000 sat, the funding needs 5000000000 sat and its fee',
      );
    if (amountSat === 13n) throw nodeError('storage-unavailable', 'the data dir refuses writes');
    if (amountSat === 14n) throw Object.assign(new Error('the signer went away'), { code: 'signer-failed' });
    return { channelId: CHANNEL, fundingTxid: TXID };
  },
  listChannels: async () => [
    channel,
    {
      ...channel,
      state: 'closed',
      closingTxid: TXID,
      closedReason: 'cooperative close',
      onchain: {
        kind: 'holder-commitment',
        spendTxid: TXID,
        confirmedAtHeight: 120,
        outputs: [
          {
            id: `${TXID}:0`,
            output: 'to_local',
            valueSat: 5_000n,
            status: 'pending',
            claimableAtHeight: 264,
          },
          {
            id: `${TXID}:1`,
            output: 'htlc',
            valueSat: 700n,
            status: 'taken-by-peer',
            spentByTxid: 'ee'.repeat(32),
            spentAtHeight: 130,
          },
        ],
        pendingSweepSat: 5_000n,
        done: false,
      },
    },
  ],
  closeChannel: async (channelId: string, opts?: { force?: boolean }) => {
    asked.push(['closeChannel', channelId, opts]);
    if (channelId !== CHANNEL) throw nodeError('unknown-channel', `no channel ${channelId}`);
    return { channelId, closingTxid: opts?.force ? TXID : null };
  },
  events: { pending: () => [], since: () => [], stream$: { subscribe: () => ({ unsubscribe() {} }) } },
};

let api: ApiTestServer;
before(async () => {
  api = await apiTestServer(fakeNode as unknown as LnkitNode, TOKEN);
});
after(() => api.close());
const call = (path: string, body?: unknown) => api.call(path, body);

const errorOf = (r: { json: Record<string, unknown> }) => r.json.error as { code: string; message: string };

test('openchannel: what was asked reaches the node, amounts parsed exactly; the answer is {channelId, fundingTxid}', async () => {
  asked.length = 0;
  const r = await call('/v1/openchannel', {
    nodeId: G.toUpperCase(),
    amountSat: '1000000',
    pushMsat: '100000001',
    type: 'static-remotekey',
    public: true,
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json, { channelId: CHANNEL, fundingTxid: TXID });
  await call('/v1/openchannel', { nodeId: G, amountSat: 2_100_000_000_000_000 });
  await call('/v1/openchannel', { nodeId: G, amountSat: '20000', pushMsat: '20000000' });
  assert.deepEqual(asked, [
    ['openChannel', G, 1_000_000n, { pushMsat: 100_000_001n, type: 'static-remotekey', public: true }],
    ['openChannel', G, 2_100_000_000_000_000n, {}],
    ['openChannel', G, 20_000n, { pushMsat: 20_000_000n }],
  ]);
});

test('openchannel: each bad parameter is a 400 naming it, and the node is not asked', async () => {
  asked.length = 0;
  for (const [body, param] of [
    [{ amountSat: '1000000' }, 'nodeId'],
    [{ nodeId: 'nope', amountSat: '1000000' }, 'nodeId'],
    [{ nodeId: `02${'00'.repeat(31)}07`, amountSat: '1000000' }, 'nodeId'],
    [{ nodeId: SELF, amountSat: '1000000' }, 'nodeId'],
    [{ nodeId: G }, 'amountSat'],
    [{ nodeId: G, amountSat: '0' }, 'amountSat'],
    [{ nodeId: G, amountSat: '-1' }, 'amountSat'],
    [{ nodeId: G, amountSat: '1e6' }, 'amountSat'],
    [{ nodeId: G, amountSat: '0x10' }, 'amountSat'],
    [{ nodeId: G, amountSat: 1.5 }, 'amountSat'],
    [{ nodeId: G, amountSat: '2100000000000001' }, 'amountSat'],
    [{ nodeId: G, amountSat: '1000', pushMsat: '1000001' }, 'pushMsat'],
    [{ nodeId: G, amountSat: '1000', pushMsat: '-1' }, 'pushMsat'],
    [{ nodeId: G, amountSat: '1000', pushMsat: 'all' }, 'pushMsat'],
    [{ nodeId: G, amountSat: '1000', type: 'legacy' }, 'type'],
    [{ nodeId: G, amountSat: '1000', type: 1 }, 'type'],
    [{ nodeId: G, amountSat: '1000', public: 'yes' }, 'public'],
  ] as const) {
    const r = await call('/v1/openchannel', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(errorOf(r).code, 'invalid-parameter');
    assert.match(errorOf(r).message, new RegExp(`parameter "${param}"`), JSON.stringify(body));
  }
  assert.deepEqual(asked, []);
  assert.match(
    errorOf(await call('/v1/openchannel', { nodeId: G, amountSat: '1000', pushMsat: '1000001' })).message,
    /from 0 to 1000000 /,
    'the push limit is the funding in msat',
  );
});

test("openchannel: the node's refusals keep their code and message", async () => {
  for (const [body, status, code, message] of [
    [{ nodeId: UNCONNECTED, amountSat: '1000000' }, 409, 'peer-not-connected', /is not connected/],
    [{ nodeId: G, amountSat: '999' }, 400, 'invalid-parameter', /below the minimum/],
    [{ nodeId: G, amountSat: '5000000000' }, 409, 'insufficient-funds', /the wallet has 100000 sat/],
    [{ nodeId: G, amountSat: '13' }, 503, 'storage-unavailable', /refuses writes/],
    [{ nodeId: G, amountSat: '14' }, 500, 'signer-failed', /went away/],
  ] as const) {
    const r = await call('/v1/openchannel', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(errorOf(r).code, code);
    assert.match(errorOf(r).message, message);
  }
});

test('listchannels: the issue fields first, amounts as strings, the rest for scripts', async () => {
  const r = await call('/v1/listchannels');
  assert.equal(r.status, 200);
  const [open, closed] = r.json.channels as Record<string, unknown>[];
  assert.deepEqual(open, {
    channelId: CHANNEL,
    peer: G,
    state: 'ready',
    type: 'anchors',
    public: false,
    capacitySat: '1000000',
    localBalanceMsat: '899999999',
    remoteBalanceMsat: '100000001',
    shortChannelId: '103x1x0',
    fundingTxid: TXID,
    isFunder: true,
    confirmations: 3,
    minimumDepth: 3,
    closingTxid: null,
    closedReason: null,
  });
  assert.deepEqual(Object.keys(open!).slice(0, 10), [
    'channelId',
    'peer',
    'state',
    'type',
    'public',
    'capacitySat',
    'localBalanceMsat',
    'remoteBalanceMsat',
    'shortChannelId',
    'fundingTxid',
  ]);
  assert.equal(closed!.closedReason, 'cooperative close');
  // A closed channel's state on chain: its amounts as strings too.
  assert.deepEqual(closed!.onchain, {
    kind: 'holder-commitment',
    spendTxid: TXID,
    confirmedAtHeight: 120,
    outputs: [
      { id: `${TXID}:0`, output: 'to_local', valueSat: '5000', status: 'pending', claimableAtHeight: 264 },
      {
        id: `${TXID}:1`,
        output: 'htlc',
        valueSat: '700',
        status: 'taken-by-peer',
        spentByTxid: 'ee'.repeat(32),
        spentAtHeight: 130,
      },
    ],
    pendingSweepSat: '5000',
    done: false,
  });
  assert.ok(!('onchain' in open!), 'none while the funding is unspent');
  assert.equal((await call('/v1/listchannels', {})).status, 405, 'a GET');
});

test('closechannel: {channelId, closingTxid}; a bad id a 400, an unknown one a 404', async () => {
  asked.length = 0;
  assert.deepEqual((await call('/v1/closechannel', { channelId: CHANNEL.toUpperCase() })).json, {
    channelId: CHANNEL,
    closingTxid: null,
  });
  assert.deepEqual((await call('/v1/closechannel', { channelId: CHANNEL, force: true })).json, {
    channelId: CHANNEL,
    closingTxid: TXID,
  });
  assert.deepEqual(asked, [
    ['closeChannel', CHANNEL, {}],
    ['closeChannel', CHANNEL, { force: true }],
  ]);
  for (const [body, param] of [
    [{}, 'channelId'],
    [{ channelId: 'ab' }, 'channelId'],
    [{ channelId: `${CHANNEL}00` }, 'channelId'],
    [{ channelId: CHANNEL, force: 'true' }, 'force'],
  ] as const) {
    const r = await call('/v1/closechannel', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(errorOf(r).message, new RegExp(`parameter "${param}"`));
  }
  const unknown = await call('/v1/closechannel', { channelId: 'ee'.repeat(32) });
  assert.equal(unknown.status, 404);
  assert.equal(errorOf(unknown).code, 'unknown-channel');
});
