/**
 * End to end: a running lnkitd against an unauthenticated local client that sends what it likes
 * (targets fetch would normalise away, dripped headers, floods of requests and connections), and
 * the operator's mistakes that must get a clear message (options named like Object.prototype
 * members, a binary lnkit.conf, a read-only or world-writable data dir, a copied lock).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createInvoice, plainKeySigner } from '@lnkit/invoice';
import { nextEvent, waitFor } from '@lnkit/test-support';
import { CLI_POLL_MS, Daemon, request, runToExit } from './daemon.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-hardening-'));
const MAX_CONNECTIONS = 8;
const HEADERS_TIMEOUT_MS = 1000;
let d: Daemon;

before(async () => {
  // A data dir every local user may write, allowed by the flag: the node starts, and warns.
  const dataDir = join(root, 'open');
  mkdirSync(dataDir);
  chmodSync(dataDir, 0o777);
  d = new Daemon(dataDir, [
    '--listen',
    '127.0.0.1:0',
    '--api',
    '127.0.0.1:0',
    '--api-max-connections',
    String(MAX_CONNECTIONS),
    '--api-headers-timeout-ms',
    String(HEADERS_TIMEOUT_MS),
    '--api-request-timeout-ms',
    '2000',
    '--allow-world-writable-datadir',
  ]);
  await d.start();
});

after(async () => {
  await d?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const port = () => Number(new URL(d.api().url).port);
const noStack = /\n\s+at |"stack":/;

/** Sockets the daemon has closed (ended or reset), from the moment they were opened. */
const closedSockets = new WeakSet<Socket>();

async function open(): Promise<Socket> {
  const socket = connect(port(), '127.0.0.1');
  socket.once('close', () => closedSockets.add(socket));
  socket.on('error', () => {}); // the daemon may reset it: that is what some tests look for
  socket.resume(); // a paused socket would never see the daemon's end
  await nextEvent(socket, 'connect', undefined, { what: 'a TCP connection to the API' });
  return socket;
}

/** Resolves once the socket is closed, by an end or a reset (nextEvent would reject on the reset). */
const whenClosed = (socket: Socket, what: string) => waitFor(() => closedSockets.has(socket), { what });

/** The lines of the daemon's log file. */
const logLines = () => readFileSync(join(d.dataDir, 'lnkitd.log'), 'utf8').split('\n').filter(Boolean);

describe('the API answers every request', () => {
  test('`//` and its siblings: a 4xx within a second, over raw TCP, the connection left open as nc leaves it', async () => {
    for (const target of ['//', '//:', '//[', '//%']) {
      const socket = await open();
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
      });
      const sentAt = performance.now();
      socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await waitFor(() => text.includes('\r\n\r\n'), {
        what: `an answer to GET ${target}`,
        timeoutMs: 10_000,
      });
      const elapsedMs = performance.now() - sentAt;
      assert.match(text, /^HTTP\/1\.1 4\d\d /, `${target}: ${text}`);
      assert.ok(elapsedMs < 1000, `${target} answered after ${elapsedMs.toFixed(0)} ms`);
      socket.destroy();
    }
  });

  test('a client dripping its headers is cut after the headers timeout', async () => {
    const socket = await open();
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    const closed = nextEvent(socket, 'close', undefined, { what: 'the daemon to cut the slow client' });
    socket.write('GET /v1/getinfo HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const drip = setInterval(() => socket.writable && socket.write('a'), 100);
    try {
      await closed;
    } finally {
      clearInterval(drip);
    }
    assert.match(text, /^HTTP\/1\.1 408 /);
  });

  test('a thousand bad requests do not put a thousand lines, nor any stack trace, in the log', async () => {
    const before = logLines().length;
    // 900 the request handler refuses, pipelined 150 on each of 6 connections (under the cap)...
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const socket = await open();
        let text = '';
        socket.on('data', (c: Buffer) => {
          text += c.toString('latin1');
        });
        socket.write('GET // HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(150));
        // Counted in all that came, not per chunk: a chunk may end in the middle of a status line.
        await waitFor(() => text.match(/HTTP\/1\.1 400 /g)?.length === 150, {
          what: '150 answers on one connection',
        });
        socket.destroy();
      }),
    );
    // ...and 100 that are not HTTP, refused by the parser, which closes each connection after its answer.
    for (let i = 0; i < 100; i += 4) {
      await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const socket = await open();
          let text = '';
          socket.on('data', (c: Buffer) => {
            text += c.toString('latin1');
          });
          socket.write('HELLO // HTTP/1.1\r\n\r\n');
          await whenClosed(socket, 'the answer to what is not HTTP');
          assert.match(text, /^HTTP\/1\.1 400 /);
        }),
      );
    }
    // A request of another cause, logged after the flood's lines: once it is in the file, they are.
    const wrong = await request(`${d.api().url}/v1/getinfo`, {
      headers: { authorization: `Bearer ${'cd'.repeat(32)}` },
    });
    assert.equal(wrong.status, 401);
    await waitFor(
      () =>
        logLines()
          .slice(before)
          .some((l) => l.includes('"cause":"unauthorized"')),
      {
        what: 'the 401 in the log',
      },
    );
    const added = logLines().slice(before);
    // At most one line per cause of the flood (none if its cause was logged in this interval);
    // other lines (a previous test's, other actors') may land meanwhile.
    const fromFlood = added.filter((l) => /"cause":"(bad-request-target|not-http:[A-Z_]+)"/.test(l));
    assert.ok(
      fromFlood.length <= 2,
      `${fromFlood.length} lines for the flood:\n${fromFlood.slice(0, 5).join('\n')}`,
    );
    assert.ok(added.length < 50, `${added.length} lines logged:\n${added.slice(0, 5).join('\n')}`);
    assert.deepEqual(
      added.filter((l) => noStack.test(l)),
      [],
    );
  });

  test('connections over the cap are closed unanswered, idle ones are reaped, and getinfo answers', async () => {
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => open()));
    const over = await open();
    let bytes = 0;
    over.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    const overClosed = whenClosed(over, 'the connection over the cap to be closed');
    over.write(`GET /v1/getinfo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${d.api().token}\r\n\r\n`);
    await overClosed;
    assert.equal(bytes, 0);
    // The held ones send nothing: the headers timeout reaps them, and the API answers again.
    await Promise.all(held.map((s) => whenClosed(s, 'an idle connection reaped')));
    assert.equal(d.json<{ nodeId: string }>('getinfo').nodeId.length, 66);
  });

  test('a flood of connections does not take the daemon toward its descriptor limit', async () => {
    const fds = () => readdirSync(`/proc/${d.proc!.pid}/fd`).length;
    const start = fds();
    const flood = await Promise.all(Array.from({ length: 300 }, () => open()));
    const during = fds();
    for (const s of flood) s.destroy();
    assert.ok(
      during < start + MAX_CONNECTIONS + 20,
      `${start} descriptors before, ${during} during the flood`,
    );
    await waitFor(() => d.cli('getinfo').status === 0, {
      what: 'getinfo after the flood',
      intervalMs: CLI_POLL_MS,
    });
  });

  test('mine takes decimal digits only: "0x10" is a 400 naming "blocks"', async () => {
    const { url, token } = d.api();
    const res = await request(`${url}/v1/mine`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ blocks: '0x10' }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(
      body.error.message,
      /parameter "blocks" must be a whole number .* in decimal digits; got "0x10"/,
    );
  });

  test('the CLI shows a hostile invoice description escaped, never raw control characters', async () => {
    const { invoice } = await createInvoice(
      {
        network: 'regtest',
        amountMsat: 1000n,
        paymentHash: new Uint8Array(32).fill(1),
        paymentSecret: new Uint8Array(32).fill(2),
        description: 'tea\u009b2J\u202e\u001b]0;owned\u0007',
      },
      plainKeySigner(new Uint8Array(32).fill(3)),
    );
    for (const args of [
      ['decodeinvoice', invoice],
      ['--json', 'decodeinvoice', invoice],
    ]) {
      const r = d.cli(...args);
      assert.equal(r.status, 0, r.stderr);
      const raw = [...r.stdout].filter(
        (c) => c !== '\n' && (c < ' ' || (c >= '\x7f' && c <= '\x9f') || c === '\u202e'),
      );
      assert.deepEqual(raw, [], args[0]);
    }
    assert.equal(
      d.json<{ description: string }>('decodeinvoice', invoice).description,
      'tea\u009b2J\u202e\u001b]0;owned\u0007',
    );
  });
});

describe('start-up refusals name what is wrong', () => {
  test('the world-writable data dir was allowed by the flag, and the node says so', () => {
    assert.match(d.output, /writable by every local user \(allowed by --allow-world-writable-datadir\)/);
  });

  test('without the flag, a world-writable data dir is refused (exit 2)', async () => {
    const dir = join(root, 'open-refused');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const r = await runToExit(['--datadir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.output, new RegExp(`lnkitd: ${dir} is writable by every local user, .*chmod o-w`));
  });

  test('options named like Object.prototype members are unknown, on the command line and in lnkit.conf', async () => {
    const flag = await runToExit(['--datadir', join(root, 'proto'), '--constructor', 'x']);
    assert.equal(flag.code, 2);
    assert.match(flag.output, /unknown option --constructor/);
    const dir = join(root, 'proto-conf');
    mkdirSync(dir);
    for (const line of ['constructor=', 'toString=', '__proto__=']) {
      writeFileSync(join(dir, 'lnkit.conf'), `alias=x\n${line}\n`);
      const r = await runToExit(['--datadir', dir]);
      assert.equal(r.code, 2);
      assert.match(r.output, new RegExp(`lnkit\\.conf:2: unknown setting "${line}"`));
    }
  });

  test('a binary lnkit.conf is refused naming the file and the line, and no byte of it is echoed', async () => {
    const dir = join(root, 'binary-conf');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'lnkit.conf'),
      Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x1b, 0x5d, 0x30, 0x3b, 0x07, 0x00, 0x0a]),
    );
    const r = await runToExit(['--datadir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.output, new RegExp(`${dir}/lnkit\\.conf:1: control character 0x1b at column 1`));
    assert.ok(![...r.output].some((c) => c !== '\n' && c < ' '), JSON.stringify(r.output));
  });

  test('a copied lock names the lnkitd holding it and the data dir it runs with', async () => {
    const copy = join(root, 'copied');
    mkdirSync(copy);
    copyFileSync(join(d.dataDir, 'lnkitd.lock'), join(copy, 'lnkitd.lock'));
    const r = await runToExit(['--datadir', copy]);
    assert.equal(r.code, 2);
    assert.match(
      r.output,
      new RegExp(
        `names pid ${d.proc!.pid}, another lnkitd, which is running with --datadir ${d.dataDir}: .*copied`,
      ),
    );
  });

  test('a read-only data dir, and a missing one under a read-only folder: messages naming them', async (t) => {
    const ro = mkdtempSync(join(root, 'ro-'));
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k,mode=0700', 'tmpfs', ro], {
      encoding: 'utf8',
    });
    if (mount.status !== 0)
      return t.skip(`cannot mount a read-only tmpfs here: ${(mount.stderr || String(mount.error)).trim()}`);
    try {
      const here = await runToExit(['--datadir', ro]);
      assert.equal(here.code, 2);
      assert.match(here.output, new RegExp(`--datadir ${ro} is on a read-only filesystem; lnkitd keeps`));
      const under = await runToExit(['--datadir', join(ro, 'missing')]);
      assert.equal(under.code, 2);
      assert.match(
        under.output,
        new RegExp(`--datadir ${ro}/missing cannot be created: ${ro} is on a read-only filesystem`),
      );
      for (const out of [here.output, under.output]) assert.doesNotMatch(out, /EROFS|ENOENT|tmp-\d+/);
    } finally {
      spawnSync('umount', [ro]);
    }
  });
});
