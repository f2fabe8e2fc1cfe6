// Runs the tests N times in a row while a CPU-bound process holds one core, the way a busy CI
// machine would: a test that only passes on an idle machine shows up here as a failed run.
// Usage: pnpm test:stress [--runs N] [--no-hog] [DIR|FILE ...]
//   (default: 5 runs, the folders `pnpm test` runs). Exit code 1 if any run failed.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DEFAULT_FOLDERS = ['packages', 'apps', 'test'];
const TEST_SCRIPT = fileURLToPath(new URL('./test.mjs', import.meta.url));
const HOG_SCRIPT = fileURLToPath(new URL('../packages/test-support/src/hog.mjs', import.meta.url));

function parseArgs(argv) {
  let runs = 5;
  let hog = true;
  const folders = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) usage(`--runs needs a whole number >= 1; got "${argv[i]}"`);
    } else if (a.startsWith('--runs=')) {
      runs = Number(a.slice('--runs='.length));
      if (!Number.isInteger(runs) || runs < 1) usage(`--runs needs a whole number >= 1; got "${a}"`);
    } else if (a === '--no-hog') hog = false;
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else folders.push(a);
  }
  return { runs, hog, folders: folders.length > 0 ? folders : DEFAULT_FOLDERS };
}

function usage(error) {
  if (error) console.error(`stress: ${error}`);
  console.error('usage: pnpm test:stress [--runs N] [--no-hog] [DIR|FILE ...]');
  process.exit(error ? 2 : 0);
}

/** The runner's own summary lines ("ℹ pass 12"); the last of each wins (the run's total). */
function summary(output) {
  const count = (name) => {
    const all = [...output.matchAll(new RegExp(`^ℹ ${name} (\\d+)$`, 'gm'))];
    return all.length > 0 ? Number(all.at(-1)[1]) : undefined;
  };
  return { pass: count('pass'), fail: count('fail'), cancelled: count('cancelled') };
}

/** One run of scripts/test.mjs; its output is shown as it comes and kept for the summary. */
function runOnce(folders) {
  return new Promise((resolve) => {
    const started = performance.now();
    // Its own process group, so that stopping it also stops the test runner it started.
    const child = spawn(process.execPath, [TEST_SCRIPT, ...folders], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    current = child;
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
      process.stdout.write(c);
    });
    child.stderr.on('data', (c) => process.stderr.write(c));
    child.on('close', (code, signal) => {
      current = undefined;
      resolve({ code, signal, durationMs: performance.now() - started, ...summary(output) });
    });
  });
}

let hog;
let current;
function cleanUp() {
  if (hog && hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
  if (current && current.exitCode === null) {
    try {
      process.kill(-current.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

const { runs, hog: withHog, folders } = parseArgs(process.argv.slice(2));
if (withHog) {
  // The hog also exits by itself once this process is gone (it watches its parent).
  hog = spawn(process.execPath, [HOG_SCRIPT, String(process.pid)], { stdio: 'ignore' });
  hog.unref(); // killed at exit below; it must not keep this process alive
}
const load = withHog ? `one core held by a CPU hog (pid ${hog.pid})` : 'no hog';
console.log(`stress: ${runs} run(s) of node scripts/test.mjs ${folders.join(' ')}; ${load}`);

const results = [];
for (let i = 1; i <= runs; i++) {
  console.log(`\nstress: run ${i} of ${runs}`);
  results.push(await runOnce(folders));
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const n = (v) => (v === undefined ? '?' : String(v));
const ok = (r) => r.code === 0 && r.fail === 0 && r.cancelled === 0;
console.log(`\nstress: ${load}; node scripts/test.mjs ${folders.join(' ')}`);
results.forEach((r, i) => {
  const exit = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  console.log(
    `run ${i + 1}: ${ok(r) ? 'ok    ' : 'FAILED'} pass ${n(r.pass)}  fail ${n(r.fail)}  cancelled ${n(r.cancelled)}  ${seconds(r.durationMs)}  (${exit})`,
  );
});
const sum = (k) => results.reduce((t, r) => t + (r[k] ?? 0), 0);
const failedRuns = results.filter((r) => !ok(r)).length;
console.log(
  `total: ${runs - failedRuns} of ${runs} runs passed; pass ${sum('pass')}  fail ${sum('fail')}  cancelled ${sum('cancelled')}  ${seconds(sum('durationMs'))}`,
);
cleanUp();
process.exitCode = failedRuns > 0 ? 1 : 0;
