// Runs every *.test.ts below the given folders with Node's own test runner
// (TypeScript through tsx). Node 20's `--test` takes no globs, so we list files here.
// Usage: node scripts/test.mjs [--channel-threads N] [DIR|FILE ...]   (default: the current folder)
// --channel-threads N: the channels of every manager the test kits and the LDK harness build
// step in N channel host threads (LNKIT_TEST_CHANNEL_THREADS), not in the manager's thread.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const roots = process.argv.slice(2);
const env = { ...process.env, NODE_BACKEND: 'js' };
const flag = roots.indexOf('--channel-threads');
if (flag !== -1) {
  const n = roots[flag + 1];
  if (!n || !/^[1-9][0-9]?$/.test(n)) {
    console.error(`--channel-threads needs a count from 1 to 99; got ${n ?? 'nothing'}`);
    process.exit(2);
  }
  env.LNKIT_TEST_CHANNEL_THREADS = n;
  roots.splice(flag, 2);
}
if (roots.length === 0) roots.push('.');

function collect(path, out) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isFile()) {
    if (path.endsWith('.test.ts')) out.push(path);
    return;
  }
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    collect(join(path, name), out);
  }
}

const files = [];
for (const r of roots) collect(resolve(r), files);
files.sort();
if (files.length === 0) {
  console.error('no test files found under', roots.join(' '));
  process.exit(1);
}
const args = [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  `--test-concurrency=${process.env.LNKIT_TEST_CONCURRENCY ?? '2'}`,
  '--test-timeout=600000',
  // A file whose process outlives its tests (a test failed before it stopped what it started)
  // is ended after a grace period, naming what kept it alive; see test-exit-guard.mjs for why
  // this is not --test-force-exit.
  '--import',
  new URL('./test-exit-guard.mjs', import.meta.url).href,
  ...files,
];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
process.exit(r.status ?? 1);
