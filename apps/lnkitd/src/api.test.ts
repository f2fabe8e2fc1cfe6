/**
 * The REST API over raw TCP (fetch would normalise the targets under test): every request gets an
 * answer, the limits hold, and client faults are logged once per cause, not once per request.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { LnkitNode } from '@lnkit/node';
import { captureLogger, nextEvent, waitFor } from '@lnkit/test-support';
import { type ApiLimits, createApiServer, DEFAULT_API_LIMITS } from './api.ts';
import { FaultCounter } from './fault-log.ts';

const TOKEN = 'ab'.repeat(32);
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;

/** Enough of a node for the API: getinfo answers, or fails when told to. */
function fakeNode(opts: { failInfo?: boolean } = {}): LnkitNode {
  return {
    nodeId: `02${'11'.repeat(32)}`,
    info: async () => {
      if (opts.failInfo) throw Object.assign(new Error('the store is gone'), { code: 'store-failed' });
      return { nodeId: `02${'11'.repeat(32)}`, blockHeight: 7 };
    },
    listPeers: async () => [],
    actorNames: () => [],
  } as unknown as LnkitNode;
}

async function serve(limits: Partial<ApiLimits> = {}, node = fakeNode(), mined: number[] = []) {
  const capture = captureLogger({ level: 'debug' });
  const server = createApiServer({
    node,
    token: TOKEN,
    logger: capture.logger,
    limits,
    mine: async (n) => {
      mined.push(n);
      return Array.from({ length: n }, () => '00'.repeat(32));
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { server, port, lines: capture.lines, close };
}

interface Reply {
  status: number | undefined;
  head: string;
  body: string;
  /** Bytes the server sent before it closed the connection. */
  bytes: number;
}

function parseReply(raw: string): Reply {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
  return {
    status: m ? Number(m[1]) : undefined,
    head,
    body: end < 0 ? '' : raw.slice(end + 4),
    bytes: raw.length,
  };
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {}); // a reset by the server is an outcome the tests look at
  socket.resume(); // a paused socket never sees the server's end, so it would never 'close'
  await nextEvent(socket, 'connect', undefined, { what: 'a connection to the API' });
  return socket;
}

/** Sends raw bytes and collects what comes back until the server closes the connection. */
async function raw(port: number, data: string | Buffer): Promise<Reply> {
  const socket = await open(port);
  let text = '';
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
  });
  const closed = nextEvent(socket, 'close', undefined, { what: 'the API to close the connection' });
  socket.write(data);
  await closed;
  return parseReply(text);
}

const get = (target: string, extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`;

describe('every request target is answered', () => {
  let api: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    api = await serve();
  });
  after(() => api.close());

  test('a target that is not a path is a 400, with or without the token', async () => {
    for (const target of ['//', '//:', '//[', '//%', '//v1/getinfo', 'http://[', 'x', '*']) {
      for (const extra of ['', AUTH]) {
        const r = await raw(api.port, get(target, extra));
        assert.equal(r.status, 400, `${target} ${extra ? 'with' : 'without'} the token: ${r.head}`);
        assert.equal(JSON.parse(r.body).error.code, 'bad-request-target');
      }
    }
  });

  test('then the token (401), the endpoint (404) and the method (405)', async () => {
    assert.equal((await raw(api.port, get('/v1/getinfo'))).status, 401);
    assert.equal(
      (await raw(api.port, get('/v1/nothing'))).status,
      401,
      'no endpoint is named without the token',
    );
    assert.equal((await raw(api.port, get('/v1/nothing', AUTH))).status, 404);
    assert.equal((await raw(api.port, get('/constructor', AUTH))).status, 404);
    assert.equal((await raw(api.port, get('/v1/connect', AUTH))).status, 405);
    const ok = await raw(api.port, get('/v1/getinfo?x=%&y=%zz', AUTH));
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).blockHeight, 7);
    // RFC 9112: the absolute form names the same resource.
    assert.equal((await raw(api.port, get('http://127.0.0.1/v1/getinfo', AUTH))).status, 200);
  });

  test('what is not HTTP is a 400 from the parser, and is answered too', async () => {
    const r = await raw(api.port, 'hello\r\n\r\n');
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).error.code, /^not-http:HPE_/);
  });
});

describe('limits', () => {
  test('headers over maxHeaderBytes: 431', async () => {
    const api = await serve({ maxHeaderBytes: 1024 });
    try {
      const r = await raw(api.port, get('/v1/getinfo', `${AUTH}X-Pad: ${'a'.repeat(2000)}\r\n`));
      assert.equal(r.status, 431);
      assert.equal(JSON.parse(r.body).error.code, 'header-overflow');
    } finally {
      await api.close();
    }
  });

  test('a body over maxBodyBytes: 413, whether declared or sent in chunks', async () => {
    const api = await serve({ maxBodyBytes: 1024 });
    try {
      const declared = await raw(
        api.port,
        `POST /v1/connect HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
      );
      assert.equal(declared.status, 413);
      assert.match(
        declared.head,
        /connection: close/i,
        'the unread body is not drained: the connection closes',
      );
      const chunk = 'a'.repeat(800);
      const chunked = await raw(
        api.port,
        `POST /v1/connect HTTP/1.1\r\nHost: x\r\n${AUTH}Transfer-Encoding: chunked\r\n\r\n` +
          `${(800).toString(16)}\r\n${chunk}\r\n${(800).toString(16)}\r\n${chunk}\r\n`,
      );
      assert.equal(chunked.status, 413);
      // Without the token the body is never read: 401 at once.
      const unauthorized = await raw(
        api.port,
        'POST /v1/connect HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n',
      );
      assert.equal(unauthorized.status, 401);
    } finally {
      await api.close();
    }
  });

  test('a client dripping its headers is answered 408 and cut after the headers timeout', async () => {
    const api = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    try {
      const socket = await open(api.port);
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
      });
      const closed = nextEvent(socket, 'close', undefined, { what: 'the server to cut the slow client' });
      socket.write('GET /v1/getinfo HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      // One byte at a time, never the end of the headers, until the server cuts it.
      const drip = setInterval(() => socket.writable && socket.write('a'), 50);
      await closed;
      clearInterval(drip);
      assert.equal(parseReply(text).status, 408);
      await waitFor(() => api.lines.find((l) => l.cause === 'request-timeout'), {
        what: 'the timeout logged',
      });
    } finally {
      await api.close();
    }
  });

  test('a slow answer is not cut by the request timeout (it bounds receiving the request only)', async () => {
    let release: () => void = () => {};
    const slow = {
      ...fakeNode(),
      info: () => new Promise((r) => (release = () => r({ blockHeight: 1 }))),
    } as unknown as LnkitNode;
    const api = await serve({ headersTimeoutMs: 100, requestTimeoutMs: 200 }, slow);
    try {
      const reply = raw(api.port, get('/v1/getinfo', AUTH));
      // Held until a connection that sent nothing was cut: the timeouts have been checked since.
      const idle = await open(api.port);
      await nextEvent(idle, 'close', undefined, { what: 'an idle connection to be cut' });
      release();
      assert.equal((await reply).status, 200);
    } finally {
      await api.close();
    }
  });

  test('connections over maxConnections are closed unanswered; once they go, the API answers', async () => {
    const api = await serve({ maxConnections: 3 });
    try {
      const held = await Promise.all([open(api.port), open(api.port), open(api.port)]);
      await waitFor(() => new Promise<boolean>((r) => api.server.getConnections((_e, n) => r(n === 3))), {
        what: 'the server to count three connections',
      });
      const over = await raw(api.port, get('/v1/getinfo', AUTH));
      assert.equal(over.bytes, 0, 'no answer over the cap');
      await waitFor(() => api.lines.find((l) => l.cause === 'too-many-connections'), {
        what: 'the drop logged',
      });
      for (const s of held) s.destroy();
      await waitFor(async () => (await raw(api.port, get('/v1/getinfo', AUTH))).status === 200, {
        what: 'getinfo once the held connections are gone',
      });
    } finally {
      await api.close();
    }
  });
});

describe('faults are logged once per cause, with counts, never a stack per request', () => {
  test('a thousand bad requests: one line for their cause', async () => {
    const api = await serve();
    try {
      // Pipelined on a few connections, so the test is about the log, not about connecting.
      const batch = `GET // HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(250);
      const replies = await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const socket = await open(api.port);
          let text = '';
          socket.on('data', (c: Buffer) => {
            text += c.toString('latin1');
          });
          socket.write(`${batch}GET /v1/getinfo HTTP/1.1\r\nHost: x\r\n${AUTH}Connection: close\r\n\r\n`);
          await nextEvent(socket, 'close', undefined, { what: 'the batch answered' });
          return text;
        }),
      );
      for (const text of replies) assert.equal(text.match(/HTTP\/1\.1 400 /g)?.length, 250);
      const lines = api.lines.filter((l) => l.cause === 'bad-request-target');
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.ok(
        api.lines.every((l) => !JSON.stringify(l).includes('    at ')),
        'no stack trace in any line',
      );
      // Closing the server logs the count not yet reported.
      await api.close();
      const summary = api.lines.find((l) => l.cause === 'bad-request-target' && l.count === 999);
      assert.ok(summary, JSON.stringify(api.lines.slice(-3)));
    } finally {
      await api.close().catch(() => {});
    }
  });

  test('a failing endpoint: 500 for each request, one error line naming the cause', async () => {
    const api = await serve({}, fakeNode({ failInfo: true }));
    try {
      for (let i = 0; i < 20; i++) {
        const r = await raw(api.port, get('/v1/getinfo', AUTH));
        assert.equal(r.status, 500);
        assert.equal(JSON.parse(r.body).error.code, 'store-failed');
      }
      const lines = api.lines.filter((l) => l.cause === 'internal:store-failed');
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.err, 'the store is gone');
    } finally {
      await api.close();
    }
  });

  test('FaultCounter: the first of a cause is logged, the rest counted until the interval ends', () => {
    const c = new FaultCounter(1000);
    assert.equal(c.note('a', 0), 0);
    assert.equal(c.note('a', 10), undefined);
    assert.equal(c.note('a', 999), undefined);
    assert.equal(c.note('b', 500), 0, 'causes are apart');
    assert.deepEqual(c.due(999), []);
    assert.deepEqual(c.due(1000), [{ cause: 'a', count: 2 }]);
    assert.equal(c.note('a', 1500), undefined, 'a new interval began when the count was reported');
    assert.equal(c.note('a', 2000), 1, 'the one not logged since is counted on the next line');
    assert.deepEqual(c.due(5000), [], 'b, quiet for a whole interval, is forgotten');
    for (let i = 0; i < 200; i++) c.note(`cause-${i}`, 6000);
    assert.ok(c.due(6000).length === 0);
  });
});

describe('numbers in requests are parsed strictly', () => {
  test('mine: "0x10" is not 16, "16" and 16 are', async () => {
    const mined: number[] = [];
    const api = await serve({}, fakeNode(), mined);
    const post = (body: string) =>
      raw(
        api.port,
        `POST /v1/mine HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    try {
      for (const bad of [
        '"0x10"',
        '"1e1"',
        '" 16"',
        '"16 "',
        '"+16"',
        '"-1"',
        '16.5',
        '"16.0"',
        '0',
        '1001',
        'true',
        '[16]',
      ]) {
        const r = await post(`{"blocks":${bad}}`);
        assert.equal(r.status, 400, bad);
        assert.match(
          JSON.parse(r.body).error.message,
          /parameter "blocks" must be a whole number from 1 to 1000/,
          bad,
        );
      }
      assert.deepEqual(mined, []);
      for (const good of ['"16"', '16', '1.6e1'])
        assert.equal((await post(`{"blocks":${good}}`)).status, 200, good);
      assert.deepEqual(mined, [16, 16, 16]);
    } finally {
      await api.close();
    }
  });
});

test('the defaults are the documented ones', () => {
  assert.deepEqual(
    { ...DEFAULT_API_LIMITS },
    {
      maxConnections: 32,
      maxHeaderBytes: 8192,
      maxBodyBytes: 65536,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
    },
  );
});
