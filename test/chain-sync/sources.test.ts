/**
 * The two block sources against bcoin: the same bytes over JSON-RPC and REST, the header cache
 * saving round trips, and a slow source (answers stall past the timeout) survived by the poller.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  BitcoindRpcClient,
  type ChainEvent,
  ChainPoller,
  type JsonRpc,
  RestBlockSource,
  RpcBlockSource,
} from '@lnkit/chain-sync';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
  await chain.mine(101);
  await chain.fundScript(new Uint8Array([0x00, 0x14, ...new Array(20).fill(3)]), 25_000n);
  await chain.mine(1);
});
after(async () => {
  await chain.stop();
});

const auth = () => ({ user: chain.rpcUser, password: chain.rpcPassword });

test('RPC and REST sources give the same header and block bytes as the node, parsed', async () => {
  const tip = (await chain.rpc('getbestblockhash')) as string;
  const rpc = new RpcBlockSource({ url: chain.rpcUrl, auth: auth() });
  const rest = new RestBlockSource({ url: chain.restUrl });
  const rawBlock = (await chain.rpc('getblock', [tip, 0])) as string;
  const rawHeader = (await chain.rpc('getblockheader', [tip, false])) as string;
  for (const source of [rpc, rest]) {
    assert.deepEqual(await source.getBestBlock(), { hashHex: tip, height: 102 });
    const block = await source.getBlock(tip);
    assert.equal(Buffer.from(block.header.header).toString('hex'), rawHeader);
    assert.equal(block.header.height, 102);
    assert.equal(block.txdata.length, 2, 'coinbase and the payment');
    // The parsed block serializes back to the node's bytes: header, count, transactions.
    const again = Buffer.concat([
      Buffer.from(block.header.header),
      Buffer.from([block.txdata.length]),
      ...block.txdata.map((tx) => Buffer.from(tx.toBuffer())),
    ]);
    assert.equal(again.toString('hex'), rawBlock);
  }
});

test('the header cache answers a known header without a round trip', async () => {
  const calls: string[] = [];
  const client = new BitcoindRpcClient({ url: chain.rpcUrl, auth: auth() });
  const counting: JsonRpc = {
    url: client.url,
    call: <T>(method: string, params?: unknown[]) => {
      calls.push(method);
      return client.call<T>(method, params);
    },
  };
  const source = new RpcBlockSource(counting);
  const hash = (await chain.rpc('getblockhash', [50])) as string;
  const first = await source.getHeader(hash);
  assert.equal(calls.filter((m) => m === 'getblockheader').length, 1);
  assert.equal(await source.getHeader(hash), first);
  await source.getBlock(hash); // needs the height: from the cache
  assert.deepEqual(calls, ['getblockheader', 'getblock']);
  assert.equal(source.headers.size, 1);
});

/** Forwards JSON-RPC to the chain; while `stalled`, holds each request unanswered. */
async function stallingProxy(target: string) {
  const held: ServerResponse[] = [];
  const state = { stalled: false };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.stalled) {
        held.push(res);
        return;
      }
      fetch(target, {
        method: 'POST',
        headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      })
        .then(async (r) =>
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
        )
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
    heldCount: () => held.length,
  };
}

test('a slow source: requests time out, the poller logs and backs off, then resumes with no gap or duplicate', async (t) => {
  const proxy = await stallingProxy(chain.rpcUrl);
  t.after(() => proxy.close());
  const { logger, lines } = captureLogger({ level: 'info' });
  const start = { hashHex: (await chain.rpc('getbestblockhash')) as string, height: await chain.height() };
  const poller = new ChainPoller(new RpcBlockSource({ url: proxy.url, auth: auth(), timeoutMs: 400 }), {
    logger,
    start,
    pollIntervalMs: 20,
    initialBackoffMs: 20,
    maxBackoffMs: 80,
  });
  const events: ChainEvent[] = [];
  poller.events$.subscribe((e) => events.push(e));
  t.after(() => poller.stop());
  poller.start();
  await chain.mine(5);
  await waitFor(() => poller.bestBlock?.height === start.height + 5, { what: 'first 5' });
  proxy.state.stalled = true;
  await chain.mine(5);
  await waitFor(() => lines.filter((l) => l.code === 'timeout').length >= 2, { what: 'two timeouts' });
  proxy.state.stalled = false;
  await chain.mine(5);
  await waitFor(() => poller.bestBlock?.height === start.height + 15, { what: 'all 15' });
  await poller.stop();
  const heights = events.filter((e) => e.type === 'blockConnected').map((e) => e.height);
  assert.deepEqual(
    heights,
    Array.from({ length: 15 }, (_, i) => start.height + 1 + i),
  );
  const timeouts = lines.filter((l) => l.code === 'timeout');
  assert.ok(proxy.heldCount() >= 1, 'the proxy held requests');
  assert.match(
    String(timeouts[0]?.msg),
    new RegExp(`block source ${proxy.url} failed \\(timeout\\).*retrying in \\d+ ms`),
  );
  // Backoff: 20 ms doubling per consecutive failure, capped at 80 ms.
  for (const l of lines.filter((x) => x.level === 40)) {
    assert.equal(l.retryInMs, Math.min(80, 20 * 2 ** (Number(l.attempt) - 1)), String(l.msg));
    assert.ok(String(l.msg).endsWith(`retrying in ${l.retryInMs} ms`));
  }
  assert.ok(
    timeouts.some((l) => Number(l.attempt) >= 2),
    'consecutive failures are counted',
  );
  assert.ok(
    lines.some((l) => String(l.msg).includes('is back')),
    JSON.stringify(lines.map((l) => l.msg)),
  );
});
