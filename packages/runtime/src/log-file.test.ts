/**
 * The log file: rotated by size with a cap, followed by the threads that share it, and a full
 * disk (here /dev/full, which refuses every write with ENOSPC) drops lines, counts them,
 * reports once and resumes — in a worker actor too, which must not crash of it.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { LogFile, type LogFileFault } from './log-file.ts';
import { createRootLogger } from './logger.ts';
import { spawn } from './spawn.ts';
import { counterActor } from './test-actors/counter.module.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-log-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A log path in a folder of its own, made. */
const fresh = () => {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  return join(dir, 'node.log');
};
const hasDevFull = existsSync('/dev/full');

const line = (i: number, size = 100) => `${JSON.stringify({ i, pad: 'x'.repeat(size - 20) })}\n`;
const linesOf = (path: string) =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

test('the file is rotated by size, and no more than maxFiles are kept', () => {
  const path = fresh();
  const log = new LogFile(path, { maxBytes: 1000, maxFiles: 3 });
  for (let i = 0; i < 100; i++) {
    log.write(line(i));
    log.flushSync();
  }
  log.end();
  const files = readdirSync(join(path, '..')).sort();
  assert.deepEqual(files, ['node.log', 'node.log.1', 'node.log.2'], 'the oldest beyond maxFiles are gone');
  for (const f of files) assert.ok(statSync(join(path, '..', f)).size <= 1000 + 100, `${f} near the cap`);
  // The newest lines are in the current file, the ones before in .1, then .2, none lost between.
  const kept = [...linesOf(`${path}.2`), ...linesOf(`${path}.1`), ...linesOf(path)].map((l) => l.i as number);
  assert.equal(kept.at(-1), 99);
  assert.deepEqual(
    kept,
    Array.from({ length: kept.length }, (_, k) => 100 - kept.length + k),
  );
  assert.equal(log.stats().rotations > 0, true);
});

test('a writer that does not rotate follows the rotation another writer made, and the rotating one sees the file grow', async () => {
  const path = fresh();
  const main = new LogFile(path, { maxBytes: 2000, maxFiles: 2, checkEveryMs: 20 });
  const worker = new LogFile(path, { rotate: false });
  try {
    // Only the worker writes: the main thread's periodic look rotates the file it grew.
    for (let i = 0; i < 30; i++) {
      worker.write(line(i));
      worker.flushSync();
    }
    await waitFor(() => existsSync(`${path}.1`), {
      what: 'the main thread to rotate the file the worker grew',
    });
    worker.write(line(1000));
    worker.flushSync();
    assert.ok(
      linesOf(path).some((l) => l.i === 1000),
      'the worker writes to the new file, not to the rotated one',
    );
    assert.ok(!linesOf(`${path}.1`).some((l) => l.i === 1000));
  } finally {
    main.end();
    worker.end();
  }
});

test('a full disk drops lines, counts them, reports once, and the first write that succeeds says how many were lost', {
  skip: !hasDevFull && 'no /dev/full here',
}, () => {
  const path = fresh();
  const real = `${path}.real`;
  symlinkSync('/dev/full', path);
  let now = 1_000_000;
  const faults: (LogFileFault | null)[] = [];
  const reports: string[] = [];
  const log = new LogFile(path, {
    retryMs: 1000,
    now: () => now,
    onFault: (f) => faults.push(f),
    report: (t) => reports.push(t),
  });
  log.write(line(1));
  log.flushSync(); // refused: ENOSPC
  for (let i = 2; i <= 10; i++) log.write(line(i)); // within retryMs: dropped without a write
  log.flushSync();
  now += 1001;
  log.write(line(11)); // tried again, refused again: still one fault
  log.flushSync();
  assert.equal(faults.length, 1, 'reported once');
  assert.equal(faults[0]?.osCode, 'ENOSPC');
  assert.match(faults[0]?.message ?? '', /no space left on the device \(ENOSPC\)/);
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /log lines are dropped until it can be written again/);
  assert.equal(log.stats().fault?.droppedLines, 11);

  // Space again: the path now leads to a file that takes writes.
  rmSync(path);
  symlinkSync(real, path);
  now += 1001;
  log.write(line(12));
  log.flushSync();
  log.end();
  const written = linesOf(real);
  assert.equal(written.length, 2);
  assert.equal(written[0]?.droppedLines, 11);
  assert.match(String(written[0]?.msg), /11 log lines dropped: the log file could not be written \(ENOSPC\)/);
  assert.equal(written[1]?.i, 12);
  assert.deepEqual(faults.at(-1), null, 'the fault is cleared');
  assert.equal(log.stats().fault, null);
  assert.equal(log.stats().droppedLines, 11);
  assert.match(reports.at(-1)!, /written again \(11 lines dropped while ENOSPC\)/);
});

test('pino writes through it, and flush at exit writes what is held', () => {
  const path = fresh();
  const file = new LogFile(path);
  const logger = createRootLogger({ level: 'info', destination: file });
  logger.info({ peer: 'p' }, 'hello');
  file.flushSync();
  assert.equal(linesOf(path)[0]?.msg, 'hello');
  file.end();
});

test('a worker actor whose log file is on a full disk keeps running', {
  skip: !hasDevFull && 'no /dev/full here',
}, async () => {
  const path = fresh();
  symlinkSync('/dev/full', path);
  const h = await spawn(counterActor, {
    name: 'on-full-disk',
    config: {},
    logger: createRootLogger({ level: 'silent' }),
    logLevel: 'debug',
    logFile: path,
  });
  try {
    for (let i = 0; i < 50; i++) assert.equal(await h.ref.add(1), i + 1);
    assert.equal(h.restarts(), 0, 'the thread never died of its log');
  } finally {
    await h.stop();
  }
});
