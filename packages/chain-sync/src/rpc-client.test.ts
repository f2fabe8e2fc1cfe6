import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ChainSyncError } from './errors.ts';
import { BitcoindRpcClient } from './rpc-client.ts';

test('a closed port is "unreachable" and names the URL', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  const rpc = new BitcoindRpcClient({
    url: `http://127.0.0.1:${port}`,
    auth: { user: 'u', password: 'p4ss' },
  });
  await assert.rejects(rpc.call('getblockcount'), (e: unknown) => {
    assert.ok(e instanceof ChainSyncError);
    assert.equal(e.code, 'unreachable');
    assert.ok(e.transient);
    assert.ok(e.message.includes(`http://127.0.0.1:${port}`));
    return true;
  });
});

test('a source that does not answer is a "timeout"', async (t) => {
  const server = createServer(() => {}); // accepts, never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const rpc = new BitcoindRpcClient({
    url: `http://127.0.0.1:${port}`,
    auth: { user: 'u', password: 'p' },
    timeoutMs: 100,
  });
  await assert.rejects(
    rpc.call('getblockcount'),
    (e: unknown) => e instanceof ChainSyncError && e.code === 'timeout',
  );
});

test('JSON-RPC errors keep bitcoind code and message; non-JSON answers are bad-response', async (t) => {
  let reply = '';
  const server = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(reply);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const rpc = new BitcoindRpcClient({ url: `http://127.0.0.1:${port}`, auth: { user: 'u', password: 'p' } });
  reply = JSON.stringify({ result: null, error: { code: -26, message: 'txn-mempool-conflict' }, id: 1 });
  await assert.rejects(rpc.call('sendrawtransaction', ['00']), (e: unknown) => {
    assert.ok(e instanceof ChainSyncError);
    assert.equal(e.code, 'rpc-error');
    assert.equal(e.rpcCode, -26);
    assert.equal(e.message, 'txn-mempool-conflict');
    return true;
  });
  reply = JSON.stringify({ result: null, error: { code: -5, message: 'Block not found' }, id: 1 });
  await assert.rejects(
    rpc.call('getblockheader', ['00']),
    (e: unknown) => e instanceof ChainSyncError && e.code === 'not-found',
  );
  reply = '<html>oops';
  await assert.rejects(
    rpc.call('getblockcount'),
    (e: unknown) => e instanceof ChainSyncError && e.code === 'bad-response',
  );
});
