/**
 * The whole Bitcoin node goes away mid-stream (its process, not only its HTTP server) and comes
 * back on the same port from its data dir, writing a new cookie as bitcoind does at each start.
 * The poller must retry with a clear log line, re-read the cookie, and carry on with no gap and
 * no duplicate, also through a reorg of blocks it had already emitted before the restart.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BitcoindBroadcaster,
  BitcoindRpcClient,
  type ChainEvent,
  ChainPoller,
  RpcBlockSource,
  subscribeListener,
} from '@lnkit/chain-sync';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';

test('the node stopped and started again from its data dir mid-stream: cookie re-read, reorg across the restart, no gap or duplicate', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lnkit-chain-restart-'));
  const dataDir = join(dir, 'chain');
  const cookieFile = join(dir, '.cookie');
  let chain: TestChain | undefined;
  t.after(async () => {
    await chain?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const credentials = { rpcUser: 'lnkit', rpcPassword: 'not-used-by-the-poller' };
  chain = await startTestChain({ dataDir, cookieFile, ...credentials });
  const port = chain.port;
  const url = chain.rpcUrl;
  await chain.mine(5);
  const start = { hashHex: (await chain.rpc('getbestblockhash')) as string, height: 5 };

  const { logger, lines } = captureLogger({ level: 'info' });
  // Cookie auth only: after the restart the old cookie is refused and the new one must be read.
  const poller = new ChainPoller(new RpcBlockSource({ url, auth: { cookieFile } }), {
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

  const before = await chain.mine(10);
  await waitFor(() => poller.bestBlock?.height === 15, { what: 'height 15' });
  const cookieBefore = await readFile(cookieFile, 'utf8');

  await chain.stop();
  chain = undefined;
  await waitFor(() => lines.some((l) => l.level === 40), { what: 'a retry log line' });
  chain = await startTestChain({ dataDir, cookieFile, port, ...credentials });
  assert.equal(chain.rpcUrl, url);
  assert.equal(await chain.height(), 15, 'the chain survived on disk');
  assert.notEqual(await readFile(cookieFile, 'utf8'), cookieBefore, 'a new cookie at each start');

  // Blocks 13..15, which the poller emitted before the restart, are replaced; then 5 more.
  const fresh = await chain.reorg(3);
  const after = await chain.mine(5);
  await waitFor(() => poller.bestBlock?.height === 21, { what: 'height 21' });
  await poller.stop();

  const seen = events
    .filter((e) => e.type !== 'progress')
    .map((e) => `${e.type === 'blockConnected' ? '+' : '-'}${e.height}:${e.header.hashHex}`);
  const expected = [
    ...before.map((hash, i) => `+${6 + i}:${hash}`),
    `-15:${before[9]}`,
    `-14:${before[8]}`,
    `-13:${before[7]}`,
    ...fresh.map((hash, i) => `+${13 + i}:${hash}`),
    ...after.map((hash, i) => `+${17 + i}:${hash}`),
  ];
  assert.deepEqual(seen, expected);

  const warn = lines.find((l) => l.level === 40);
  assert.ok(warn);
  assert.equal(warn.url, url);
  assert.match(String(warn.msg), /failed \((unreachable|rpc-error)\).*retrying in \d+ ms/);
  assert.ok(lines.some((l) => String(l.msg).includes('is back')));
  const cookieNow = (await readFile(cookieFile, 'utf8')).split(':')[1] ?? '';
  const logged = JSON.stringify(lines);
  for (const secret of [cookieBefore.split(':')[1] ?? '', cookieNow]) {
    assert.ok(secret.length === 64 && !logged.includes(secret), 'no cookie in the logs');
  }
});

test('a transaction the node forgot across its restart (empty mempool) is rebroadcast and confirms', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lnkit-chain-rebroadcast-'));
  const dataDir = join(dir, 'chain');
  let chain: TestChain | undefined;
  t.after(async () => {
    await chain?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const credentials = { rpcUser: 'lnkit', rpcPassword: 'rebroadcast-test-password' };
  chain = await startTestChain({ dataDir, ...credentials });
  const port = chain.port;
  await chain.mine(101);
  const { logger } = captureLogger({ level: 'info' });
  const rpc = new BitcoindRpcClient({
    url: chain.rpcUrl,
    auth: { user: credentials.rpcUser, password: credentials.rpcPassword },
  });
  const broadcaster = new BitcoindBroadcaster(rpc, { logger, rebroadcastIntervalMs: 50 });
  const poller = new ChainPoller(new RpcBlockSource(rpc), {
    logger,
    pollIntervalMs: 20,
    initialBackoffMs: 20,
  });
  subscribeListener(poller.events$, broadcaster, logger);
  t.after(() => {
    broadcaster.stop();
    return poller.stop();
  });
  poller.start();
  await waitFor(() => poller.bestBlock?.height === 101, { what: 'poller at tip' });

  const paid = await chain.signFunding(new Uint8Array([0x00, 0x14, ...new Array(20).fill(8)]), 40_000n);
  assert.deepEqual(await broadcaster.broadcastTransactions([paid.rawTx]), [
    { txid: paid.txid, accepted: true },
  ]);
  await chain.stop();
  const restarted = await startTestChain({ dataDir, port, ...credentials });
  chain = restarted;
  assert.deepEqual(await restarted.rpc('getrawmempool'), [], 'the restarted node forgot it');
  broadcaster.start();
  await waitFor(async () => ((await restarted.rpc('getrawmempool')) as string[]).includes(paid.txid), {
    what: 'rebroadcast',
  });
  const [mined] = await restarted.mine(1);
  await waitFor(() => broadcaster.pending.length === 0, { what: 'seen confirmed' });
  const block = (await restarted.rpc('getblock', [mined, true])) as { tx: string[] };
  assert.ok(block.tx.includes(paid.txid));
});
