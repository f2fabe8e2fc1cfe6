import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type ChainEvent,
  ChainPoller,
  ChainSyncError,
  RestBlockSource,
  RpcBlockSource,
} from '@lnkit/chain-sync';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(async () => {
  await chain.stop();
});

const rpcSource = () =>
  new RpcBlockSource({ url: chain.rpcUrl, auth: { user: chain.rpcUser, password: chain.rpcPassword } });

function summary(events: ChainEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.type === 'progress') continue;
    out.push(`${e.type === 'blockConnected' ? '+' : '-'}${e.height}:${e.header.hashHex}`);
  }
  return out;
}

test('200 blocks arrive in chain order, parsed, each linked to the previous one', async (t) => {
  const genesis = (await chain.rpc('getblockhash', [0])) as string;
  const { logger } = captureLogger({ level: 'info' });
  const poller = new ChainPoller(rpcSource(), {
    logger,
    start: { hashHex: genesis, height: 0 },
    pollIntervalMs: 20,
  });
  const events: ChainEvent[] = [];
  poller.events$.subscribe((e) => events.push(e));
  t.after(() => poller.stop());
  poller.start();
  for (let i = 0; i < 4; i++) await chain.mine(50);
  await waitFor(() => poller.bestBlock?.height === 200, { what: 'height 200' });
  await poller.stop();
  const connected = events.filter((e) => e.type === 'blockConnected');
  assert.equal(connected.length, 200);
  assert.equal(events.filter((e) => e.type === 'blockDisconnected').length, 0);
  let prev = genesis;
  for (const [i, e] of connected.entries()) {
    assert.equal(e.height, i + 1);
    assert.equal(e.header.hashHex, await chain.rpc('getblockhash', [i + 1]));
    assert.equal(e.header.prevHashHex, prev);
    assert.ok(e.txdata[0]?.isCoinbase());
    prev = e.header.hashHex;
  }
  const last = events.at(-1);
  assert.deepEqual(last, { type: 'progress', height: 200, tipHeight: 200, synced: true });
});

for (const kind of ['rpc', 'rest'] as const) {
  test(`a depth-3 reorg gives exactly the disconnect/connect sequence (${kind} source)`, async (t) => {
    await chain.mine(5);
    const source = kind === 'rpc' ? rpcSource() : new RestBlockSource({ url: chain.restUrl });
    const { logger } = captureLogger({ level: 'info' });
    const poller = new ChainPoller(source, { logger, pollIntervalMs: 20 });
    const events: ChainEvent[] = [];
    poller.events$.subscribe((e) => events.push(e));
    const tipHeight = await chain.height();
    t.after(() => poller.stop());
    poller.start();
    await waitFor(() => poller.bestBlock?.height === tipHeight, { what: 'poller at tip' });
    // The poller must have seen the blocks that get replaced (a REST source knows stale headers only so).
    await chain.mine(3);
    await waitFor(() => poller.bestBlock?.height === tipHeight + 3, { what: 'three more' });
    const old = await Promise.all(
      [3, 2, 1].map(async (d) => (await chain.rpc('getblockhash', [tipHeight + 4 - d])) as string),
    );
    events.length = 0;
    const fresh = await chain.reorg(3);
    await waitFor(() => poller.bestBlock?.hashHex === fresh[3], { what: 'reorg seen' });
    await poller.stop();
    const h = tipHeight;
    assert.deepEqual(summary(events), [
      `-${h + 3}:${old[2]}`,
      `-${h + 2}:${old[1]}`,
      `-${h + 1}:${old[0]}`,
      `+${h + 1}:${fresh[0]}`,
      `+${h + 2}:${fresh[1]}`,
      `+${h + 3}:${fresh[2]}`,
      `+${h + 4}:${fresh[3]}`,
    ]);
  });
}

test('the RPC server of the node stopped and started again mid-stream: retried with a clear log line, no gap or duplicate', async (t) => {
  const { logger, lines, waitForLine } = captureLogger({ level: 'info' });
  const start = { hashHex: (await chain.rpc('getbestblockhash')) as string, height: await chain.height() };
  const poller = new ChainPoller(rpcSource(), {
    logger,
    start,
    pollIntervalMs: 20,
    initialBackoffMs: 20,
    maxBackoffMs: 100,
  });
  const events: ChainEvent[] = [];
  poller.events$.subscribe((e) => events.push(e));
  t.after(() => poller.stop());
  poller.start();
  await chain.mine(20);
  await waitFor(() => poller.bestBlock?.height === start.height + 20, { what: 'first 20' });
  await chain.stopRpc();
  await chain.mine(20);
  // Down for at least two polls: the second warning shows the backoff growing, not a single hiccup.
  await waitForLine((l) => l.level === 40 && l.attempt === 2, { what: 'a second retry log line' });
  await chain.startRpc();
  await chain.mine(10);
  await waitFor(() => poller.bestBlock?.height === start.height + 50, { what: 'all 50' });
  await poller.stop();
  const heights = events.filter((e) => e.type === 'blockConnected').map((e) => e.height);
  assert.deepEqual(
    heights,
    Array.from({ length: 50 }, (_, i) => start.height + 1 + i),
  );
  const warn = lines.find((l) => l.level === 40);
  assert.ok(warn);
  assert.equal(warn.url, chain.rpcUrl);
  assert.match(
    String(warn.msg),
    new RegExp(`block source ${chain.rpcUrl} failed \\(unreachable\\).*retrying in \\d+ ms`),
  );
  assert.ok(!JSON.stringify(lines).includes(chain.rpcPassword), 'the password never appears in logs');
  assert.ok(lines.some((l) => String(l.msg).includes('is back')));
});

test('wrong RPC credentials give a clear error naming the URL, without the password', async () => {
  const source = new RpcBlockSource({
    url: chain.rpcUrl,
    auth: { user: chain.rpcUser, password: 'not-the-password' },
  });
  await assert.rejects(source.getBestBlock(), (err: unknown) => {
    assert.ok(err instanceof ChainSyncError);
    assert.equal(err.code, 'unauthorized');
    assert.ok(err.message.includes(chain.rpcUrl), err.message);
    assert.ok(!err.message.includes('not-the-password'));
    return true;
  });
  // Credentials in the URL are used nowhere in messages either.
  const withUserInfo = chain.rpcUrl.replace('http://', 'http://u:secretpw@');
  const other = new RpcBlockSource({ url: withUserInfo, auth: { user: 'u', password: 'secretpw' } });
  await assert.rejects(
    other.getBestBlock(),
    (err: unknown) => err instanceof ChainSyncError && !err.message.includes('secretpw'),
  );
});
