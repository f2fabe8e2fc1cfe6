/**
 * End to end: lnkitd with its data dir on a small filesystem (a 2 MiB tmpfs) that fills up.
 * Before, the peer actor died of ENOSPC from its log, its port stopped listening, the API hung,
 * and the process died a minute later of an unhandled 'error' from the log destination. Now
 * the node stays up: getinfo answers with the faults, the peer port still listens, the chain
 * tip waits at the last block stored; once space is freed the tip is written again and the
 * chain followed, and the log says how many lines it lost.
 *
 * The store refuses writes once less than 1 MiB is free (before lmdb, whose own failure path
 * is not safe to take twice), so the filled disk stops the chain tip's writes. Mounting needs
 * root (or CAP_SYS_ADMIN): elsewhere the test is skipped, saying so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { nextEvent, waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import { CLI_POLL_MS, Daemon } from './daemon.ts';

interface Fault {
  kind: string;
  message: string;
  since: string;
}
interface Info {
  blockHeight: number;
  synced: boolean;
  listening: { host: string; port: number };
  faults: Fault[];
  chainError: string | null;
}
interface Metrics {
  actors: { actor: string; restarts: number }[];
  peers: { counters: { handshakesFailed: number } } | null;
}

const mountPoint = mkdtempSync(join(tmpdir(), 'lnkit-e2e-disk-full-'));
const filler = join(mountPoint, 'filler');
let mounted = false;
let skipWhy = '';
let chain: TestChain | undefined;
let d: Daemon | undefined;

before(async () => {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mountPoint], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    skipWhy = `cannot mount a tmpfs here (${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}); it needs root or CAP_SYS_ADMIN`;
    return;
  }
  mounted = true;
  // The chain lives in this process, off the small filesystem: only the node's data dir fills.
  chain = await startTestChain();
  d = new Daemon(join(mountPoint, 'node'), [
    '--listen',
    '127.0.0.1:0',
    '--api',
    '127.0.0.1:0',
    '--log-level',
    'debug',
    '--bitcoind-rpc',
    chain.rpcUrl,
    '--bitcoind-rpcuser',
    chain.rpcUser,
    '--bitcoind-rpcpassword',
    chain.rpcPassword,
  ]);
  await d.start();
});

after(async () => {
  await d?.kill('SIGKILL');
  await chain?.stop();
  if (mounted && spawnSync('umount', [mountPoint]).status !== 0) spawnSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Writes to `path` until the filesystem has no byte left. */
function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [64 * 1024, 512, 1]) {
      const chunk = Buffer.alloc(size);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Sends bytes that are no BOLT 8 act one and waits for the node to drop the connection. */
async function badHandshake(port: number): Promise<void> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await nextEvent(socket, 'connect', undefined, { what: 'a TCP connection to the peer port' });
  const closed = nextEvent(socket, 'close', undefined, { what: 'the node to drop a bad handshake' });
  socket.resume();
  socket.write(Buffer.alloc(50, 0xff));
  await closed;
}

test('a full disk: the node stays up and says so, and resumes once space is freed', async (t) => {
  if (!mounted || !d || !chain) return t.skip(skipWhy);
  const node = d;
  const info = () => node.json<Info>('getinfo');
  const start = info();
  assert.deepEqual(start.faults, []);
  const peerPort = start.listening.port;
  try {
    fillUp(filler);
    await chain.mine(1);
    // The tip's write is refused: a fault, the tip held where it was stored.
    const full = await waitFor(
      () => {
        const i = info();
        return i.faults.some((f) => f.kind === 'storage-unavailable') ? i : undefined;
      },
      { what: 'getinfo to show storage-unavailable', intervalMs: CLI_POLL_MS },
    );
    assert.equal(full.blockHeight, start.blockHeight, 'the tip waits at the last block stored');
    assert.equal(full.synced, false);
    assert.equal(full.chainError, null);
    assert.match(full.faults.find((f) => f.kind === 'storage-unavailable')!.message, /ENOSPC/);

    // Peers' misbehaviour is logged (debug here) by the peer actor onto the full disk: it lives on.
    for (let i = 0; i < 5; i++) await badHandshake(peerPort);
    await waitFor(() => info().faults.some((f) => f.kind === 'log-unwritable'), {
      what: 'getinfo to show the log file cannot be written',
      intervalMs: CLI_POLL_MS,
    });
    await chain.mine(1);
    await badHandshake(peerPort); // the port still listens, and still drops what is not BOLT 8
    const metrics = node.json<Metrics>('metrics');
    assert.equal(
      metrics.actors.find((a) => a.actor === 'peer-manager')?.restarts,
      0,
      'the peer actor never died',
    );
    assert.ok((metrics.peers?.counters.handshakesFailed ?? 0) >= 6, 'each bad handshake counted');
    assert.equal(info().blockHeight, start.blockHeight);
    assert.equal(node.proc?.exitCode, null, 'lnkitd is still running');

    // Space again: the waiting write goes through, then the next block; the faults clear.
    rmSync(filler);
    const resumed = await waitFor(
      () => {
        const i = info();
        return i.blockHeight === start.blockHeight + 2 && i.faults.length === 0 ? i : undefined;
      },
      { what: 'the tip to be written again and the faults to clear', intervalMs: CLI_POLL_MS },
    );
    await waitFor(() => info().synced, { what: 'getinfo synced again', intervalMs: CLI_POLL_MS });
    await chain.mine(1);
    await waitFor(() => info().blockHeight === resumed.blockHeight + 1, {
      what: 'the next block to be followed',
      intervalMs: CLI_POLL_MS,
    });
  } catch (e) {
    // What lnkitd printed, for a failure to be read without the data dir (gone with the mount).
    t.diagnostic(`lnkitd printed:\n${node.output.slice(-6000)}`);
    throw e;
  }
  const log = readFileSync(join(node.dataDir, 'lnkitd.log'), 'utf8');
  assert.match(
    log,
    /"droppedLines":\d+,"msg":"\d+ log lines dropped: the log file could not be written \(ENOSPC\)/,
  );
  assert.match(log, /storage available again/);
  assert.ok(!existsSync(filler));
  assert.equal(await node.kill('SIGTERM'), 0, 'and it stops cleanly');
});
