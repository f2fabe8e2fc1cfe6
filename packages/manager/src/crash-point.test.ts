/**
 * crash-point.ts in a child process of its own (it reads its environment once, at load): armed,
 * the process dies of SIGKILL at exactly the n-th time the point is reached — from a worker
 * thread too — after saying where; traced, each point is said with its count; unset, nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const MODULE = new URL('./crash-point.ts', import.meta.url).href;
/** Node 20 workers do not inherit --import: a worker's body registers tsx itself, from here. */
const TSX_API = import.meta.resolve('tsx/esm/api');

/** Reaches `sent:commitment_signed` three times and `snapshot-written` once, saying `after N` after each. */
const script = (inWorker: boolean) => {
  const body = `
    ${inWorker ? `const { register } = await import(${JSON.stringify(TSX_API)}); register();` : ''}
    const { crashPoint } = await import(${JSON.stringify(MODULE)});
    // Written at once (a worker's process.stdout is relayed through the main thread, later).
    const { writeSync } = await import('node:fs');
    for (let i = 1; i <= 3; i++) {
      crashPoint('sent', 'commitment_signed');
      writeSync(1, 'after ' + i + '\\n');
    }
    crashPoint('snapshot-written');
    writeSync(1, 'done\\n');`;
  if (!inWorker) return body;
  return `
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(new URL('data:text/javascript,' + encodeURIComponent(${JSON.stringify(body)})));
    await new Promise((r) => w.once('exit', r));
    process.stdout.write('worker ended\\n');`;
};

function run(env: Record<string, string>, inWorker = false) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(inWorker)], {
    env: { ...process.env, LNKIT_CRASH_AT: '', LNKIT_CRASH_TRACE: '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test('armed: SIGKILL at exactly the n-th time the point is reached, after saying where', () => {
  const r = run({ LNKIT_CRASH_AT: 'sent:commitment_signed:2' });
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(r.stdout, 'after 1\n');
  assert.match(r.stderr, /^lnkit-crash-point: SIGKILL at sent:commitment_signed:2$/m);
});

test('armed in a worker thread: the whole process dies', () => {
  const r = run({ LNKIT_CRASH_AT: 'snapshot-written:1' }, true);
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(r.stdout, 'after 1\nafter 2\nafter 3\n');
  assert.doesNotMatch(r.stdout, /worker ended/);
  assert.match(r.stderr, /^lnkit-crash-point: SIGKILL at snapshot-written:1$/m);
});

test('traced: each point with its count; a point armed past its last count never fires', () => {
  const r = run({ LNKIT_CRASH_TRACE: '1', LNKIT_CRASH_AT: 'sent:commitment_signed:4' });
  assert.equal(r.signal, null);
  assert.equal(r.stdout, 'after 1\nafter 2\nafter 3\ndone\n');
  assert.deepEqual(
    r.stderr.split('\n').filter((l) => l.startsWith('lnkit-crash-point')),
    [
      'lnkit-crash-point sent:commitment_signed 1',
      'lnkit-crash-point sent:commitment_signed 2',
      'lnkit-crash-point sent:commitment_signed 3',
      'lnkit-crash-point snapshot-written 1',
    ],
  );
});

test('counted from SIGUSR2: the steps before it do not fire the point, the count starts there', () => {
  const body = `
    const { crashPoint } = await import(${JSON.stringify(MODULE)});
    const { writeSync } = await import('node:fs');
    crashPoint('sent', 'commitment_signed');
    crashPoint('sent', 'commitment_signed');
    writeSync(1, 'before the signal\\n');
    process.once('SIGUSR2', () => setImmediate(() => {
      crashPoint('sent', 'commitment_signed');
      writeSync(1, 'after 1\\n');
      crashPoint('sent', 'commitment_signed');
      writeSync(1, 'after 2\\n');
    }));
    process.kill(process.pid, 'SIGUSR2');
    setTimeout(() => {}, 60_000);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], {
    env: {
      ...process.env,
      LNKIT_CRASH_AT: 'sent:commitment_signed:2',
      LNKIT_CRASH_FROM: 'SIGUSR2',
      LNKIT_CRASH_TRACE: '1',
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(r.stdout, 'before the signal\nafter 1\n');
  assert.deepEqual(
    r.stderr.split('\n').filter((l) => l.startsWith('lnkit-crash-point')),
    [
      'lnkit-crash-point sent:commitment_signed 1',
      'lnkit-crash-point sent:commitment_signed 2',
      'lnkit-crash-point counting',
      'lnkit-crash-point sent:commitment_signed 1',
      'lnkit-crash-point sent:commitment_signed 2',
      'lnkit-crash-point: SIGKILL at sent:commitment_signed:2',
    ],
  );
});

test('unset: nothing said, nothing killed; a malformed spec stops the start with a clear message', () => {
  const quiet = run({});
  assert.equal(quiet.signal, null);
  assert.equal(quiet.stdout, 'after 1\nafter 2\nafter 3\ndone\n');
  assert.doesNotMatch(quiet.stderr, /lnkit-crash-point/);
  const bad = run({ LNKIT_CRASH_AT: 'sent:commitment_signed' });
  assert.equal(bad.signal, null);
  assert.match(bad.stderr, /LNKIT_CRASH_AT must be <point>:<n>/);
});
