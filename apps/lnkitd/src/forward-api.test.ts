/**
 * The forwarding endpoints over a node that records what it was asked. forwardinghistory:
 * `since` as seconds or a date and time (a bad one named), amounts as strings, the issue's
 * fields (a failure's name only when there is one), the node's refusals with their words.
 * setfees: the fields given (and only those) passed on, each out of range named, the answer's
 * amounts as strings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, intParam, msatParam } from './api.ts';
import { type ForwardNode, type ForwardRow, forwardRoutes } from './forward-api.ts';

const badParam = (param: string, what: string) =>
  new ApiError(400, 'invalid-parameter', `parameter "${param}" ${what}`);
const IN = '11'.repeat(32);
const OUT = '22'.repeat(32);
const settled: ForwardRow = {
  inChannel: IN,
  outChannel: OUT,
  paymentHash: 'aa'.repeat(32),
  amountInMsat: 5_001_000n,
  amountOutMsat: 5_000_000n,
  feeMsat: 1000n,
  status: 'settled',
  failure: null,
  createdAt: 1_764_597_600,
  resolvedAt: 1_764_597_601,
};
const asked: unknown[] = [];
let refuse = false;
const node: ForwardNode = {
  setFees: async (channel, change) => {
    asked.push({ channel, change });
    if (refuse) throw Object.assign(new Error(`no open channel ${channel}`), { code: 'unknown-channel' });
    return {
      channel,
      feeBaseMsat: change.feeBaseMsat ?? 1000,
      feeProportionalMillionths: change.feeProportionalMillionths ?? 0,
      cltvExpiryDelta: change.cltvExpiryDelta ?? 72,
      htlcMinimumMsat: change.htlcMinimumMsat ?? 1n,
      htlcMaximumMsat: change.htlcMaximumMsat ?? 2n ** 64n - 1n,
      enabled: true,
    };
  },
  listIntercepted: async () => [
    {
      id: `${IN}:7`,
      inChannelId: IN,
      outShortChannelId: '700x1x0',
      outChannelId: OUT,
      paymentHash: 'bb'.repeat(32),
      amountInMsat: 2_001_000n,
      amountOutMsat: 2_000_000n,
      inCltvExpiry: 900,
      outCltvExpiry: 828,
      expiresAt: 1_764_597_630,
    },
  ],
  resolveIntercepted: async (id, answer) => {
    asked.push({ id, answer });
    if (id.endsWith(':9'))
      throw Object.assign(new Error(`no intercepted HTLC ${id}`), { code: 'unknown-htlc' });
  },
  forwardingHistory: async (opts) => {
    asked.push(opts);
    if (refuse) throw Object.assign(new Error('the node is not running'), { code: 'not-running' });
    return {
      forwards: [
        settled,
        { ...settled, outChannel: '700000x1x0', feeMsat: 0n, status: 'failed', failure: 'unknown_next_peer' },
      ],
    };
  },
};
const routes = forwardRoutes(node, {
  apiError: (status, code, message) => new ApiError(status, code, message),
  badParam,
  intParam,
  msatParam,
});
const get = (query: string) => routes['/v1/forwardinghistory']!.GET!({}, new URLSearchParams(query));

test('forwardinghistory: the issue’s fields, amounts as strings, a failure’s name only when failed', async () => {
  const out = (await get('')) as { forwards: Record<string, unknown>[] };
  assert.deepEqual(asked.pop(), { since: 0 });
  assert.deepEqual(out.forwards[0], {
    inChannel: IN,
    outChannel: OUT,
    paymentHash: 'aa'.repeat(32),
    amountInMsat: '5001000',
    amountOutMsat: '5000000',
    feeMsat: '1000',
    status: 'settled',
    createdAt: 1_764_597_600,
    resolvedAt: 1_764_597_601,
  });
  assert.equal(out.forwards[1]?.failure, 'unknown_next_peer');
  assert.equal(out.forwards[1]?.outChannel, '700000x1x0');
});

test('forwardinghistory --since: seconds or a date and time; anything else named', async () => {
  await get('since=1764597600');
  assert.deepEqual(asked.pop(), { since: 1_764_597_600 });
  await get(`since=${encodeURIComponent('2025-12-01T14:00:00Z')}`);
  assert.deepEqual(asked.pop(), { since: 1_764_597_600 });
  for (const bad of ['yesterday', '-5', '2025-13-45T99:00:00Z', '1.5'])
    await assert.rejects(
      get(`since=${encodeURIComponent(bad)}`),
      (e: unknown) => e instanceof ApiError && e.status === 400 && /parameter "since"/.test(e.message),
      bad,
    );
  refuse = true;
  await assert.rejects(get(''), (e: unknown) => e instanceof ApiError && /not running/.test(e.message));
  refuse = false;
});

const setfees = (body: Record<string, unknown>) => routes['/v1/setfees']!.POST!(body, new URLSearchParams());

test('setfees: the fields given passed on as numbers, the policy answered; each bad one named, nothing passed on', async () => {
  asked.length = 0;
  const out = await setfees({ channel: OUT, baseMsat: '10', ppm: 250, cltvDelta: '80' });
  assert.deepEqual(asked.pop(), {
    channel: OUT,
    change: { feeBaseMsat: 10, feeProportionalMillionths: 250, cltvExpiryDelta: 80 },
  });
  assert.deepEqual(out, {
    channel: OUT,
    baseMsat: 10,
    ppm: 250,
    cltvDelta: 80,
    htlcMinimumMsat: '1',
    htlcMaximumMsat: '18446744073709551615',
    enabled: true,
  });
  await setfees({ channel: 'all', htlcMinimumMsat: '5000' });
  assert.deepEqual(asked.pop(), { channel: 'all', change: { htlcMinimumMsat: 5000n } });
  for (const [body, param] of [
    [{ baseMsat: 1 }, 'channel'],
    [{ channel: OUT }, 'baseMsat'],
    [{ channel: OUT, baseMsat: '0x10' }, 'baseMsat'],
    [{ channel: OUT, ppm: 4_294_967_296 }, 'ppm'],
    [{ channel: OUT, cltvDelta: 17 }, 'cltvDelta'],
    [{ channel: OUT, htlcMaximumMsat: '-1' }, 'htlcMaximumMsat'],
  ] as const)
    await assert.rejects(
      setfees(body),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.message.includes(`parameter "${param}"`),
      JSON.stringify(body),
    );
  assert.equal(asked.length, 0, 'nothing bad reached the node');
  refuse = true;
  await assert.rejects(
    setfees({ channel: '33'.repeat(32), baseMsat: 1 }),
    (e: unknown) => e instanceof ApiError && e.status === 404 && /no open channel 3333/.test(e.message),
  );
  refuse = false;
  asked.length = 0;
});

test('intercepted: the held HTLCs, amounts as strings; resolvehtlc passes each answer on, names what is missing, and a 404 for an unknown id', async () => {
  const listed = (await routes['/v1/intercepted']!.GET!({}, new URLSearchParams())) as {
    htlcs: Record<string, unknown>[];
  };
  assert.deepEqual(listed.htlcs[0], {
    id: `${IN}:7`,
    inChannelId: IN,
    outShortChannelId: '700x1x0',
    outChannelId: OUT,
    paymentHash: 'bb'.repeat(32),
    amountInMsat: '2001000',
    amountOutMsat: '2000000',
    inCltvExpiry: 900,
    outCltvExpiry: 828,
    expiresAt: 1_764_597_630,
  });
  const post = (body: Record<string, unknown>) =>
    routes['/v1/resolvehtlc']!.POST!(body, new URLSearchParams());
  asked.length = 0;
  assert.deepEqual(await post({ id: `${IN}:7`, action: 'resume' }), { id: `${IN}:7`, action: 'resume' });
  await post({ id: `${IN}:7`, action: 'fail', failure: 'temporary_node_failure' });
  await post({ id: `${IN}:7`, action: 'settle', preimage: 'AB'.repeat(32) });
  assert.deepEqual(asked, [
    { id: `${IN}:7`, answer: { action: 'resume' } },
    { id: `${IN}:7`, answer: { action: 'fail', failure: 'temporary_node_failure' } },
    { id: `${IN}:7`, answer: { action: 'settle', preimage: 'ab'.repeat(32) } },
  ]);
  for (const [body, param] of [
    [{ action: 'resume' }, 'id'],
    [{ id: `${IN}:7`, action: 'cancel' }, 'action'],
    [{ id: `${IN}:7`, action: 'fail' }, 'failure'],
    [{ id: `${IN}:7`, action: 'settle' }, 'preimage'],
  ] as const)
    await assert.rejects(
      post(body),
      (e: ApiError) => e.status === 400 && e.message.includes(`"${param}"`),
      param,
    );
  await assert.rejects(
    post({ id: `${IN}:9`, action: 'resume' }),
    (e: ApiError) => e.status === 404 && e.code === 'unknown-htlc',
  );
});
