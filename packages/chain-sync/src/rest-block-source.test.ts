import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ChainSyncError } from './errors.ts';
import { RestBlockSource } from './rest-block-source.ts';
import { BitcoindRpcClient } from './rpc-client.ts';

/** A REST source whose answers come from `answer`; the test changes it between calls. */
async function fakeRest(t: { after(fn: () => void): void }) {
  const state: { answer: (res: ServerResponse) => void } = { answer: (res) => res.end() };
  const server = createServer((_req, res) => state.answer(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return { state, url: `http://127.0.0.1:${port}/rest` };
}

const code = (expected: string) => (e: unknown) => e instanceof ChainSyncError && e.code === expected;
/** Long enough never to fire on a busy machine, for answers that are not about timing out. */
const PATIENT_MS = 30_000;
const HASH = 'ab'.repeat(32);

test('REST: answers that are not what bitcoind sends are typed errors naming the URL, never a throw of another kind', async (t) => {
  const { state, url } = await fakeRest(t);
  const source = new RestBlockSource({ url, timeoutMs: PATIENT_MS });
  state.answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>');
  await assert.rejects(source.getBestBlock(), (e: unknown) => {
    assert.ok(code('bad-response')(e), String(e));
    assert.ok((e as Error).message.includes(url), (e as Error).message);
    return true;
  });
  state.answer = (res) => res.end('null');
  await assert.rejects(source.getBestBlock(), code('bad-response'));
  await assert.rejects(source.getHeader(HASH), code('not-found'));
  state.answer = (res) => res.end('{"bestblockhash":"xyz","blocks":1}');
  await assert.rejects(source.getBestBlock(), code('invalid-argument'));
  state.answer = (res) => res.writeHead(401).end();
  await assert.rejects(source.getBestBlock(), code('unauthorized'));
  state.answer = (res) => res.writeHead(503).end();
  await assert.rejects(source.getBestBlock(), code('bad-response'));
});

test('REST: a source that dies or stalls in the middle of an answer is unreachable / timeout', async (t) => {
  const { state, url } = await fakeRest(t);
  const source = new RestBlockSource({ url, timeoutMs: PATIENT_MS });
  state.answer = (res) => {
    res.writeHead(200, { 'content-length': '1000' });
    // Dies once the first part is on its way: the client has the headers and half a body.
    res.write('{"bestblock', () => res.destroy());
  };
  await assert.rejects(source.getBestBlock(), (e: unknown) => {
    assert.ok(code('unreachable')(e), String(e));
    assert.ok((e as ChainSyncError).transient);
    return true;
  });
  state.answer = (res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('{"bestblock'); // and nothing more
  };
  // Here the timeout is the point: it fires whatever the load, since the answer never comes.
  const impatient = new RestBlockSource({ url, timeoutMs: 200 });
  await assert.rejects(impatient.getBestBlock(), code('timeout'));
});

test('RPC client: a malformed URL is a typed error that does not echo credentials', () => {
  for (const url of ['not a url', 'ftp://u:secretpw@127.0.0.1:1']) {
    assert.throws(
      () => new BitcoindRpcClient({ url, auth: { user: 'u', password: 'secretpw' } }),
      (e: unknown) => code('invalid-argument')(e) && !(e as Error).message.includes('secretpw'),
    );
  }
});

test('RPC client: a missing cookie file is "unauthorized" and names the URL', async () => {
  const rpc = new BitcoindRpcClient({
    url: 'http://127.0.0.1:1',
    auth: { cookieFile: '/nonexistent/lnkit/.cookie' },
  });
  await assert.rejects(rpc.call('getblockcount'), (e: unknown) => {
    assert.ok(code('unauthorized')(e));
    assert.match((e as Error).message, /cookie file .*http:\/\/127\.0\.0\.1:1.*ENOENT/);
    return true;
  });
});
