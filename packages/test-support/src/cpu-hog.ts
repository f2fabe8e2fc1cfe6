import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The script that spins; also started by scripts/stress.mjs. */
export const HOG_SCRIPT = fileURLToPath(new URL('./hog.mjs', import.meta.url));

/**
 * Starts a child process that keeps one core busy, to run a test under load the way a busy CI
 * machine would. `stop()` kills it; it also dies with this process (on exit, or by noticing that
 * its parent is gone), and it does not keep this process alive by itself.
 */
export function cpuHog(): { stop(): void; pid: number | undefined } {
  const child = spawn(process.execPath, [HOG_SCRIPT, String(process.pid)], { stdio: 'ignore' });
  child.unref();
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  return {
    pid: child.pid,
    stop() {
      process.off('exit', kill);
      kill();
    },
  };
}
