/**
 * End to end: two lnkitd processes on one bcoin regtest chain (A embeds it, B reaches it
 * through --bitcoind-rpc), driven only through lnkit-cli and the REST API.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { nextEvent, waitFor } from '@lnkit/test-support';
import { CLI_POLL_MS, Daemon, request, runToExit } from './daemon.ts';

interface Info {
  nodeId: string;
  blockHeight: number;
  blockHash: string;
  numPeers: number;
  network: string;
  listening: { host: string; port: number };
  version: string;
}
interface Peers {
  peers: { nodeId: string; address: string; inbound: boolean; features: { hex: string; names: string[] } }[];
}

/** A valid node id (the public key of secret 2) that no test node has. */
const NOBODY = '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5';
const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-'));
const fast = ['--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', '--log-level', 'debug'];
let a: Daemon;
let b: Daemon;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

before(async () => {
  // A fixed port for the embedded chain, so B finds it again after A restarts.
  a = new Daemon(join(root, 'a'), [...fast, '--embedded-rpc-port', String(await freePort())]);
  await a.start();
  const chain = JSON.parse(readFileSync(join(a.dataDir, 'embedded-chain.json'), 'utf8'));
  b = new Daemon(join(root, 'b'), [
    ...fast,
    '--bitcoind-rpc',
    chain.rpcUrl,
    '--bitcoind-rpcuser',
    chain.rpcUser,
    '--bitcoind-rpcpassword',
    chain.rpcPassword,
  ]);
  await b.start();
});

after(async () => {
  await b?.kill('SIGKILL');
  await a.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('two lnkitd on one regtest chain', () => {
  test('getinfo answers on both, with the files the CLI needs and a private token', () => {
    const ia = a.json<Info>('getinfo');
    const ib = b.json<Info>('getinfo');
    assert.match(ia.nodeId, /^0[23][0-9a-f]{64}$/);
    assert.notEqual(ia.nodeId, ib.nodeId);
    assert.equal(ia.network, 'regtest');
    assert.equal(ib.blockHash, ia.blockHash);
    assert.equal(ia.version, '0.1.0');
    assert.equal(ia.numPeers, 0);
    assert.equal(statSync(join(a.dataDir, 'api-token')).mode & 0o777, 0o600);
    assert.equal(statSync(join(a.dataDir, 'keys_seed')).mode & 0o777, 0o600);
    assert.equal(statSync(join(a.dataDir, 'embedded-chain.json')).mode & 0o777, 0o600);
    const human = a.cli('getinfo');
    assert.equal(human.status, 0);
    assert.match(human.stdout, new RegExp(`node id: +${ia.nodeId}`));
    // The log goes to the console as well as to the data dir's file.
    assert.match(a.output, /lnkitd ready: node 0[23][0-9a-f]{64}/);
  });

  test('connect from B to A: both list the other, with direction and features', async () => {
    const ia = a.json<Info>('getinfo');
    const ib = b.json<Info>('getinfo');
    const r = b.cli('connect', `${ia.nodeId}@127.0.0.1:${ia.listening.port}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /connected to/);
    const pa = await waitFor(() => a.json<Peers>('listpeers').peers.find((p) => p.nodeId === ib.nodeId), {
      what: 'A to list B',
      intervalMs: CLI_POLL_MS,
    });
    const pb = b.json<Peers>('listpeers').peers.find((p) => p.nodeId === ia.nodeId);
    assert.ok(pb);
    assert.equal(pa.inbound, true);
    assert.equal(pb.inbound, false);
    assert.equal(pb.address, `127.0.0.1:${ia.listening.port}`);
    assert.match(pa.address, /^127\.0\.0\.1:\d+$/);
    assert.ok(pb.features.names.includes('option_static_remotekey/required'), pb.features.names.join());
    assert.equal(a.json<Info>('getinfo').numPeers, 1);
  });

  test('mined blocks reach both nodes', async () => {
    const start = a.json<Info>('getinfo').blockHeight;
    const mined = a.json<{ blocks: number; hashes: string[] }>('mine', '12');
    assert.equal(mined.blocks, 12);
    const tip = mined.hashes.at(-1);
    for (const d of [a, b]) {
      const info = await waitFor(
        () => {
          const i = d.json<Info>('getinfo');
          return i.blockHeight === start + 12 ? i : undefined;
        },
        { what: 'the new tip', intervalMs: CLI_POLL_MS },
      );
      assert.equal(info.blockHash, tip);
    }
  });

  test('metrics and a profile of one actor', () => {
    const m = a.json<{ actors: { actor: string; placement: string; messagesIn: number }[] }>('metrics');
    const names = m.actors.map((x) => x.actor).sort();
    assert.deepEqual(names, ['chain-monitor', 'chain-sync', 'channel-manager', 'gossip', 'peer-manager']);
    // The chain monitor and the channel manager run on the node's thread: the monitor's
    // persister is the node's open store, and the manager's channels are in-thread state machines.
    const placement = Object.fromEntries(m.actors.map((x) => [x.actor, x.placement]));
    assert.deepEqual(placement, {
      'chain-monitor': 'in-process',
      'channel-manager': 'in-process',
      'chain-sync': 'worker',
      gossip: 'worker',
      'peer-manager': 'worker',
    });
    const prom = a.cli('metrics', '--prometheus');
    assert.match(prom.stdout, /lnkit_actor_messages_in_total\{actor="peer-manager"\} \d+/);
    const p = a.json<{ path: string; samples: number }>('profile', 'peer-manager', '--seconds', '1');
    assert.ok(existsSync(p.path));
    assert.ok(JSON.parse(readFileSync(p.path, 'utf8')).nodes.length > 0);
  });

  test('SIGKILL B and start it again: same node id, it reconnects to A, it follows the chain', async () => {
    const before = b.json<Info>('getinfo');
    const ia = a.json<Info>('getinfo');
    assert.equal(await b.kill('SIGKILL'), null);
    // lnkitd.json is left behind by a killed daemon: the CLI says it cannot reach it.
    const down = b.cli('getinfo');
    assert.equal(down.status, 3);
    assert.match(down.stderr, /cannot reach lnkitd at http:\/\/127\.0\.0\.1:\d+/);
    await waitFor(() => (a.json<Peers>('listpeers').peers.length === 0 ? true : undefined), {
      what: 'A to see B gone',
      intervalMs: CLI_POLL_MS,
    });
    a.json('mine', '3'); // blocks B misses while it is down
    // B comes back with a cookie file instead of user and password (the other credential form).
    const chain = JSON.parse(readFileSync(join(a.dataDir, 'embedded-chain.json'), 'utf8'));
    const cookie = join(root, 'rpc-cookie');
    writeFileSync(cookie, `${chain.rpcUser}:${chain.rpcPassword}\n`, { mode: 0o600 });
    b.args = [...fast, '--bitcoind-rpc', chain.rpcUrl, '--bitcoind-rpccookie', cookie];
    await b.start();
    const after = b.json<Info>('getinfo');
    assert.equal(after.nodeId, before.nodeId);
    assert.match(
      b.output,
      /syncing to the chain tip: block \d+ of \d+/,
      'progress is shown while it catches up',
    );
    await waitFor(
      () => (b.json<Peers>('listpeers').peers.some((p) => p.nodeId === ia.nodeId) ? true : undefined),
      { what: 'B to reconnect to A', intervalMs: CLI_POLL_MS },
    );
    await waitFor(
      () => (a.json<Peers>('listpeers').peers.some((p) => p.nodeId === before.nodeId) ? true : undefined),
      { what: 'A to list B again', intervalMs: CLI_POLL_MS },
    );
    await waitFor(() => (b.json<Info>('getinfo').blockHeight === before.blockHeight + 3 ? true : undefined), {
      what: 'B to catch up',
      intervalMs: CLI_POLL_MS,
    });
  });

  test('logs go to the data dir file with the actor of each line, and hold no secret', () => {
    for (const d of [a, b]) {
      const log = readFileSync(join(d.dataDir, 'lnkitd.log'), 'utf8');
      const actors = new Set(
        log
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { actor?: string }).actor),
      );
      for (const actor of ['node', 'peer-manager', 'chain-sync'])
        assert.ok(actors.has(actor), `${actor} logs to the file`);
      const seed = readFileSync(join(d.dataDir, 'keys_seed')).toString('hex');
      const token = readFileSync(join(d.dataDir, 'api-token'), 'utf8').trim();
      assert.ok(!log.includes(seed), 'the seed is not in the log');
      assert.ok(!log.includes(token), 'the API token is not in the log');
      const { rpcPassword } = JSON.parse(readFileSync(join(a.dataDir, 'embedded-chain.json'), 'utf8'));
      assert.ok(!log.includes(rpcPassword) && !d.output.includes(rpcPassword), 'nor the chain RPC password');
      assert.ok(!d.output.includes(seed) && !d.output.includes(token), 'nor on the console');
    }
  });

  test('disconnect forgets the peer', async () => {
    const ia = a.json<Info>('getinfo');
    const r = b.json<{ wasConnected: boolean }>('disconnect', ia.nodeId);
    assert.equal(r.wasConnected, true);
    await waitFor(() => (a.json<Peers>('listpeers').peers.length === 0 ? true : undefined), {
      what: 'A to see B gone',
      intervalMs: CLI_POLL_MS,
    });
    assert.equal(b.json<Peers>('listpeers').peers.length, 0);
    // The acknowledged disconnect is on disk: after a SIGKILL, B does not dial A again.
    assert.equal(await b.kill('SIGKILL'), null);
    const loggedBefore = logLines(b, /./).length;
    await b.start();
    // B dials its persistent peers while it starts, before it is ready. Once it has also followed
    // a block mined after that (a poll of its chain source, over loopback like a dial), a dial to
    // A would have been made and seen: A would list B, and B would have logged A's node id.
    const mined = a.json<{ hashes: string[] }>('mine', '1');
    await waitFor(() => b.json<Info>('getinfo').blockHash === mined.hashes[0], {
      what: 'B, restarted, to follow a new block',
      intervalMs: CLI_POLL_MS,
    });
    assert.equal(b.json<Peers>('listpeers').peers.length, 0);
    assert.equal(a.json<Peers>('listpeers').peers.length, 0);
    await inboundHandshakeFailure(b); // B's peer manager has written its lines up to now
    const namingA = logLines(b, /./)
      .slice(loggedBefore)
      .filter((l) => l.includes(ia.nodeId));
    assert.deepEqual(namingA, [], "B's log since the restart never names A");
  });

  test('SIGKILL A, which embeds the chain: it restarts on its chain and tip; B rides out the outage', async () => {
    const before = a.json<Info>('getinfo');
    const failuresBefore = logLines(b, /block source \S+ failed/).length;
    assert.equal(await a.kill('SIGKILL'), null);
    // A is down until B's poller has met the dead chain source (and said so), not for a fixed time.
    await waitFor(() => logLines(b, /block source \S+ failed/).length > failuresBefore, {
      what: "B's poller to report the chain source down",
    });
    await a.start();
    const after = a.json<Info>('getinfo');
    assert.equal(after.nodeId, before.nodeId);
    assert.equal(after.blockHeight, before.blockHeight);
    assert.equal(after.blockHash, before.blockHash);
    const mined = a.json<{ hashes: string[] }>('mine', '2');
    await waitFor(() => (b.json<Info>('getinfo').blockHash === mined.hashes.at(-1) ? true : undefined), {
      what: 'B to follow the restarted chain',
      intervalMs: CLI_POLL_MS,
    });
  });
});

/** The lines of a node's log file (every actor's, across restarts) that match. */
function logLines(d: Daemon, match: RegExp): string[] {
  const log = join(d.dataDir, 'lnkitd.log');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => match.test(l));
}

/** Sends a node's listener a first handshake act it must refuse, and waits for it to log so. */
async function inboundHandshakeFailure(d: Daemon): Promise<void> {
  const count = () => logLines(d, /inbound handshake failed/).length;
  const before = count();
  const socket = connect(d.json<Info>('getinfo').listening.port, '127.0.0.1');
  socket.on('error', () => {}); // the node closes it: that is the point
  await nextEvent(socket, 'connect', undefined, { what: 'a TCP connection to the node' });
  socket.end(Buffer.alloc(50, 0xff)); // BOLT 8 act one with an unknown version byte
  await waitFor(() => count() > before, { what: 'the node to log the refused handshake' });
  socket.destroy();
}

describe('the API refuses bad requests clearly', () => {
  const call = async (d: Daemon, method: string, path: string, body?: unknown, token?: string | null) => {
    const api = d.api();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token ?? api.token}`;
    const res = await request(`${api.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  };

  test('a missing or wrong token is 401', async () => {
    assert.equal((await call(a, 'GET', '/v1/getinfo', undefined, null)).status, 401);
    const wrong = await call(a, 'GET', '/v1/getinfo', undefined, 'ab'.repeat(32));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error?.code, 'unauthorized');
    const api = a.api();
    const other = await request(`${api.url}/v1/getinfo`, {
      headers: { authorization: `Basic ${api.token}` },
    });
    assert.equal(other.status, 401, 'only the Bearer scheme');
    // RFC 7235: the scheme name is case-insensitive; the token is not.
    const lower = await request(`${api.url}/v1/getinfo`, {
      headers: { authorization: `bearer ${api.token}` },
    });
    assert.equal(lower.status, 200);
    const upper = await request(`${api.url}/v1/getinfo`, {
      headers: { authorization: `Bearer ${api.token.toUpperCase()}` },
    });
    assert.equal(upper.status, 401);
  });

  test('bad parameters are 400 with a message naming the parameter', async () => {
    const cases: [string, unknown, string][] = [
      ['/v1/connect', {}, 'peer'],
      ['/v1/connect', { peer: 'nonsense' }, 'peer'],
      ['/v1/connect', { peer: 5 }, 'peer'],
      [
        '/v1/connect',
        { peer: `02${'11'.repeat(32)}@127.0.0.1:${a.json<Info>('getinfo').listening.port}` },
        'peer',
      ],
      ['/v1/connect', { peer: `${NOBODY}@127.0.0.1:99999` }, 'peer'],
      ['/v1/disconnect', { nodeId: 'zz' }, 'nodeId'],
      ['/v1/profile', { actor: 'nobody', seconds: 1 }, 'actor'],
      ['/v1/profile', { actor: 'peer-manager', seconds: -3 }, 'seconds'],
      ['/v1/mine', { blocks: 'many' }, 'blocks'],
      ['/v1/mine', {}, 'blocks'],
      ['/v1/profile', { actor: 'peer-manager' }, 'seconds'],
    ];
    for (const [path, body, param] of cases) {
      const r = await call(a, 'POST', path, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.match(r.body.error!.message, new RegExp(`"${param}"`), r.body.error!.message);
    }
    assert.equal((await call(a, 'POST', '/v1/connect', '{not json')).status, 400);
    assert.equal((await call(a, 'GET', '/v1/nothing')).status, 404);
    assert.equal((await call(a, 'GET', '/v1/connect')).status, 405);
  });

  test('an unreachable peer is a clear error, and the node keeps running', async () => {
    const r = await call(a, 'POST', '/v1/connect', { peer: `${NOBODY}@127.0.0.1:1` });
    assert.equal(r.status, 502);
    assert.match(r.body.error!.message, /could not connect/);
    assert.equal((await call(a, 'GET', '/v1/getinfo')).status, 200);
    // A failed connect is not remembered: nothing keeps dialling that address. A redial would be
    // scheduled (and logged) when the dial failed, before the answer above; A's peer manager logs
    // a handshake refused after that, so once that line is in the file, so would a redial be.
    await inboundHandshakeFailure(a);
    const redials = logLines(a, /reconnecting to persistent peer/).filter((l) => l.includes(NOBODY));
    assert.deepEqual(redials, []);
  });

  test('lnkitd refuses a data dir in use and ports in use with a message naming the option', async () => {
    const noStack = /\n\s+at /;
    const twice = await runToExit(['--datadir', a.dataDir, ...fast]);
    assert.equal(twice.code, 2);
    assert.match(twice.output, /another lnkitd \(pid \d+\) is running with --datadir/);
    assert.equal(a.json<Info>('getinfo').nodeId.length, 66, 'the running one is untouched');

    const ia = a.json<Info>('getinfo');
    const chain = JSON.parse(readFileSync(join(a.dataDir, 'embedded-chain.json'), 'utf8'));
    const onChain = ['--bitcoind-rpc', chain.rpcUrl, '--bitcoind-rpcuser', chain.rpcUser];
    onChain.push('--bitcoind-rpcpassword', chain.rpcPassword);
    const listen = await runToExit([
      '--datadir',
      join(root, 'listen-taken'),
      ...onChain,
      '--api',
      '127.0.0.1:0',
      '--listen',
      `127.0.0.1:${ia.listening.port}`,
    ]);
    assert.equal(listen.code, 1);
    assert.match(
      listen.output,
      /cannot listen for peers on 127\.0\.0\.1:\d+: the address is already in use \(see --listen\)/,
    );
    assert.doesNotMatch(listen.output, noStack);

    const apiPort = new URL(a.api().url).port;
    const api = await runToExit([
      '--datadir',
      join(root, 'api-taken'),
      ...onChain,
      '--listen',
      '127.0.0.1:0',
      '--api',
      `127.0.0.1:${apiPort}`,
    ]);
    assert.equal(api.code, 1);
    assert.match(api.output, new RegExp(`--api 127\\.0\\.0\\.1:${apiPort}: .*already in use`));
    assert.doesNotMatch(api.output, noStack);
  });

  test('mine is refused off the embedded chain, with a clear message', () => {
    const r = b.cli('mine', '1');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /only on the embedded regtest chain/);
  });

  test('the CLI explains usage errors and a stopped daemon', () => {
    const bad = a.cli('connect');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /NODEID@HOST:PORT/);
    // What the user typed comes back in the message, with the parameter it went to.
    const blocks = a.cli('mine', 'abc');
    assert.equal(blocks.status, 1);
    assert.match(blocks.stderr, /"blocks" must be a whole number .*; got "abc"/);
    const seconds = a.cli('profile', 'peer-manager', '--seconds', 'x');
    assert.equal(seconds.status, 1);
    assert.match(seconds.stderr, /"seconds" must be a whole number .*; got "x"/);
    const none = new Daemon(join(root, 'none'), []).cli('getinfo');
    assert.equal(none.status, 3);
    assert.match(none.stderr, /does not seem to be running/);
  });

  test('SIGTERM and SIGINT stop a node cleanly', async () => {
    assert.equal(await b.kill('SIGTERM'), 0);
    assert.equal(existsSync(join(b.dataDir, 'lnkitd.json')), false);
    assert.equal(existsSync(join(b.dataDir, 'lnkitd.lock')), false);
    assert.equal(await a.kill('SIGINT'), 0);
    assert.equal(existsSync(join(a.dataDir, 'lnkitd.json')), false);
    assert.match(a.output, /SIGINT: shutting down/);
    assert.match(readFileSync(join(a.dataDir, 'lnkitd.log'), 'utf8'), /"msg":"stopped"/);
  });
});
