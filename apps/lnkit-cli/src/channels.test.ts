/**
 * lnkit-cli's channel commands and `events`, as a process against an API that records what it
 * was sent: arguments reach the API as typed, bad usage is exit 2 naming what is wrong, the
 * human output and the --json output, and the event stream as one line per event.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@lnkit/test-support';
import { eventLine, SseParser } from './channel-text.ts';

const CLI = fileURLToPath(new URL('../bin/lnkit-cli.mjs', import.meta.url));
const TOKEN = '34'.repeat(32);
const G = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
const CHANNEL = 'ab'.repeat(32);
const TXID = 'cd'.repeat(32);

const channel = {
  channelId: CHANNEL,
  peer: G,
  state: 'ready',
  type: 'anchors',
  public: true,
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
};

/** A force-closed channel whose commitment confirmed: one output claimed, one waiting for its delay. */
const closedOnChain = {
  ...channel,
  state: 'closed',
  closingTxid: TXID,
  closedReason: 'force-closed by us',
  onchain: {
    kind: 'holder-commitment',
    spendTxid: TXID,
    confirmedAtHeight: 120,
    outputs: [
      { id: `${TXID}:0`, output: 'to_local', valueSat: '5000', status: 'pending', claimableAtHeight: 264 },
      {
        id: `${TXID}:1`,
        output: 'htlc',
        valueSat: '700',
        status: 'claimed',
        spentByTxid: 'ee'.repeat(32),
        spentAtHeight: 130,
      },
    ],
    pendingSweepSat: '5000',
    done: false,
  },
};

/** What /v1/listchannels answers. */
let listed: unknown[] = [channel];

const received: { method: string; path: string; body: unknown }[] = [];
/** Open event streams, to write events to. */
const streams: ServerResponse[] = [];
const dir = mkdtempSync(join(tmpdir(), 'lnkit-cli-channels-'));
let server: ReturnType<typeof createServer>;

function answer(req: IncomingMessage, res: ServerResponse, body: unknown): void {
  const path = req.url ?? '';
  if (path.startsWith('/v1/events')) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': hello\n\n');
    streams.push(res);
    return;
  }
  const reply = (status: number, json: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  };
  if (path === '/v1/openchannel' && (body as { amountSat: string }).amountSat === '1')
    reply(400, {
      error: { code: 'invalid-parameter', message: 'parameter "amountSat" is below the minimum' },
    });
  else if (path === '/v1/openchannel') reply(200, { channelId: CHANNEL, fundingTxid: TXID });
  else if (path === '/v1/listchannels') reply(200, { channels: listed });
  else if (path === '/v1/closechannel') reply(200, { channelId: CHANNEL, closingTxid: null });
  else if (path === '/v1/setfees')
    reply(200, {
      channel: (body as { channel: string }).channel,
      baseMsat: 10,
      ppm: 250,
      cltvDelta: 80,
      htlcMinimumMsat: '1',
      htlcMaximumMsat: '990000000',
      enabled: true,
    });
  else reply(404, { error: { code: 'not-found', message: 'no endpoint' } });
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : undefined;
      received.push({ method: req.method ?? '', path: req.url ?? '', body });
      assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
      answer(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(join(dir, 'lnkitd.json'), JSON.stringify({ api: `http://127.0.0.1:${port}`, pid: 1 }));
  writeFileSync(join(dir, 'api-token'), TOKEN);
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** lnkit-cli run to its end (async: the test's own server must go on answering meanwhile). */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, '--datadir', dir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('openchannel: the arguments as typed, the flags as JSON; human and --json output', async () => {
  received.length = 0;
  const human = await cli(
    'openchannel',
    G,
    '1000000',
    '--push-msat',
    '100000001',
    '--type',
    'anchors',
    '--public',
  );
  assert.equal(human.status, 0, human.stderr);
  assert.match(
    human.stdout,
    new RegExp(`^channel ${CHANNEL} opening\nfunding transaction ${TXID} broadcast`),
  );
  const json = await cli('--json', 'openchannel', G, '20000');
  assert.deepEqual(JSON.parse(json.stdout), { channelId: CHANNEL, fundingTxid: TXID });
  assert.deepEqual(received, [
    {
      method: 'POST',
      path: '/v1/openchannel',
      body: { nodeId: G, amountSat: '1000000', pushMsat: '100000001', type: 'anchors', public: true },
    },
    { method: 'POST', path: '/v1/openchannel', body: { nodeId: G, amountSat: '20000' } },
  ]);
  // The API's refusal: its message on stderr, exit 1; with --json its JSON on stdout.
  const refused = await cli('openchannel', G, '1');
  assert.equal(refused.status, 1);
  assert.equal(refused.stderr, 'lnkit-cli: parameter "amountSat" is below the minimum\n');
  const refusedJson = await cli('--json', 'openchannel', G, '1');
  assert.equal(JSON.parse(refusedJson.stdout).error.code, 'invalid-parameter');
});

test('bad usage: exit 2, naming what is wrong, and nothing sent', async () => {
  received.length = 0;
  for (const [args, message] of [
    [['openchannel', G], /expected two arguments: NODEID SATS/],
    [['openchannel', G, '1000', 'extra'], /expected two arguments/],
    [['openchannel', G, '1000', '--push-msat'], /--push-msat needs a number/],
    [['openchannel', G, '1000', '--type'], /--type needs anchors or static-remotekey/],
    [['closechannel'], /expected one argument: CHANNEL_ID/],
    [['closechannel', CHANNEL, '--public'], /--public goes with openchannel, not closechannel/],
    [['openchannel', G, '1000', '--force'], /--force goes with closechannel, not openchannel/],
    [['listchannels', '--push-msat', '5'], /--push-msat goes with openchannel, not listchannels/],
    [['listchannels', 'x'], /expected no arguments/],
    [['events', '--since'], /--since needs an event seq/],
  ] as const) {
    const r = await cli(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.deepEqual(received, []);
});

test('listchannels and closechannel: human lines, the API JSON with --json', async () => {
  received.length = 0;
  const human = await cli('listchannels');
  assert.equal(human.status, 0, human.stderr);
  assert.equal(
    human.stdout,
    [
      `${CHANNEL}  ready  anchors, public, 1000000 sat  opened by us to ${G}`,
      '  balance: local 899999999 msat, remote 100000001 msat',
      `  funding: ${TXID} (3/3 confirmations), short channel id 103x1x0`,
      '',
    ].join('\n'),
  );
  assert.deepEqual(JSON.parse((await cli('--json', 'listchannels')).stdout), { channels: [channel] });
  const closed = await cli('closechannel', CHANNEL, '--force');
  assert.equal(closed.status, 0, closed.stderr);
  assert.match(closed.stdout, /closing; the closing transaction is not agreed yet/);
  assert.deepEqual(received.at(-1), {
    method: 'POST',
    path: '/v1/closechannel',
    body: { channelId: CHANNEL, force: true },
  });
});

test('events: one line per event as it comes, --json a JSON line; --since asked; the end of the stream is exit 3', async () => {
  received.length = 0;
  streams.length = 0;
  const lines: string[] = [];
  const proc = spawn(process.execPath, [CLI, '--datadir', dir, '--json', 'events', '--since', '4'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let out = '';
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('close', r));
  await waitFor(() => streams[0], { what: 'the CLI to open the stream' });
  assert.equal(received[0]!.path, '/v1/events?since=4');
  const record = {
    seq: 5,
    at: '2026-01-01T00:00:00.000Z',
    kind: 'ChannelReady',
    data: { channelId: CHANNEL },
  };
  // Split across writes, as TCP may deliver it; a heartbeat between.
  const wire = `id: 5\nevent: ChannelReady\ndata: ${JSON.stringify(record)}\n\n`;
  streams[0]!.write(wire.slice(0, 20));
  streams[0]!.write(`${wire.slice(20)}: heartbeat\n\n`);
  await waitFor(() => lines.length === 1 || undefined, { what: 'the first line' });
  assert.deepEqual(JSON.parse(lines[0]!), record);
  streams[0]!.end();
  assert.equal(await exited, 3);
  assert.match(stderr, /ended the event stream/);
});

test('SseParser and eventLine: fields, comments, CRLF, multi-line data', () => {
  const p = new SseParser();
  assert.deepEqual(p.push(': hi\r\n\r\nid: 1\r\nevent: A\r\ndata: x\r\n'), []);
  assert.deepEqual(p.push('data: y\r\n\r\nevent: no-data\n\n'), [{ id: '1', event: 'A', data: 'x\ny' }]);
  assert.equal(
    eventLine({
      id: '2',
      event: 'ChannelClosed',
      data: JSON.stringify({
        seq: 2,
        at: 'T',
        kind: 'ChannelClosed',
        data: { channelId: 'aa', reason: 'cooperative close', force: false, height: 7, txid: null },
      }),
    }),
    'T #2 ChannelClosed channelId=aa reason=cooperative close force=false height=7 txid=null',
  );
});

test('setfees: the channel (or all) and each option sent as typed; the policy in words, the API JSON with --json; bad usage named', async () => {
  received.length = 0;
  const human = await cli('setfees', CHANNEL, '--base-msat', '10', '--ppm', '250', '--cltv-delta', '80');
  assert.equal(human.status, 0, human.stderr);
  assert.equal(
    human.stdout,
    `channel ${CHANNEL}: 10 msat + 250 ppm per forward, cltv delta 80\n  HTLCs from 1 to 990000000 msat\n`,
  );
  const json = await cli('--json', 'setfees', 'all', '--htlc-min-msat', '1', '--htlc-max-msat', '990000000');
  assert.equal(JSON.parse(json.stdout).channel, 'all');
  assert.deepEqual(received, [
    {
      method: 'POST',
      path: '/v1/setfees',
      body: { channel: CHANNEL, baseMsat: '10', ppm: '250', cltvDelta: '80' },
    },
    {
      method: 'POST',
      path: '/v1/setfees',
      body: { channel: 'all', htlcMinimumMsat: '1', htlcMaximumMsat: '990000000' },
    },
  ]);
  received.length = 0;
  for (const [args, message] of [
    [['setfees', '--ppm', '5'], /expected CHANNEL_ID or all/],
    [['setfees', CHANNEL, '--ppm'], /--ppm needs a number/],
    [['listchannels', '--ppm', '5'], /--ppm goes with setfees, not listchannels/],
  ] as const) {
    const r = await cli(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.deepEqual(received, []);
});

test('listchannels: a closed channel’s state on chain, each output in words', async () => {
  listed = [closedOnChain];
  try {
    const human = await cli('listchannels');
    assert.equal(human.status, 0, human.stderr);
    assert.ok(
      human.stdout.endsWith(
        [
          `  closing: ${TXID}`,
          '  closed:  force-closed by us',
          `  on chain: holder-commitment ${TXID} confirmed at block 120; 5000 sat still to sweep`,
          '    to_local 5000 sat: claimable at block 264',
          `    htlc 700 sat: claimed by ${'ee'.repeat(32)} at block 130`,
          '',
        ].join('\n'),
      ),
      human.stdout,
    );
  } finally {
    listed = [channel];
  }
});
