// Preloaded into every test file's process by scripts/test.mjs. Once all of a file's tests
// have finished, a process that is still alive after a grace period is ended, naming what kept
// it alive: a test that fails before it stops what it started (a node's poller, a server)
// would otherwise hold its file, and the whole run, forever.
//
// This replaces `--test-force-exit`, which exits as soon as the tests finish and, with more
// than one file at a time, can drop the last verdicts a file sends its parent (the run then
// reports fewer tests than ran, and a failure's name and error can be lost; nodejs/node#64833).
// The timer is unref'd, so a file that cleans up exits at once, as it would without this.
import { after } from 'node:test';

const GRACE_MS = Number(process.env.LNKIT_TEST_EXIT_GRACE_MS ?? 10_000);

// The runner's parent process loads this too; only the per-file child processes act on it.
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by Node's test runner in each file's process, not a build input.
if (process.env.NODE_TEST_CONTEXT?.startsWith('child')) {
  after(() => {
    const timer = setTimeout(() => {
      const file = process.argv.find((a) => a.endsWith('.test.ts')) ?? process.argv.at(-1);
      process.stderr.write(
        `${file}: still running ${GRACE_MS} ms after its last test, kept alive by ` +
          `${process.getActiveResourcesInfo().join(', ')}; ending it (exit code ${process.exitCode ?? 0})\n`,
      );
      process.exit();
    }, GRACE_MS);
    timer.unref();
  });
}
