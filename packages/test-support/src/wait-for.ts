import { describeError, TestSupportError } from './errors.ts';

export interface WaitForOptions {
  /** Give up after this long (default 30 s: generous, because the test machine is busy). */
  timeoutMs?: number;
  /** What is awaited, in words; the timeout error names it. */
  what?: string;
  /** Pause between checks (default 10 ms). */
  intervalMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

type Falsy = undefined | null | false;

/**
 * Re-runs `check` until it returns (or resolves to) a truthy value, and returns that value.
 * A check that throws counts as "not yet"; if time runs out, the error names `what` and the
 * last error the check threw, so a failing test says what it was waiting for and why it never came.
 * The pause between checks is an ordinary (ref'd) timer: a test waiting here keeps its process alive.
 */
export async function waitFor<T>(
  check: () => T | Falsy | Promise<T | Falsy>,
  opts: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = opts.intervalMs ?? 10;
  const what = opts.what ?? 'condition';
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    attempts++;
    const remainingMs = deadline - performance.now();
    const result = await withDeadline(check, remainingMs).then(
      (value) => ({ value }),
      (err: unknown) => {
        if (err !== hung) lastError = err;
        return undefined;
      },
    );
    if (result?.value) return result.value;
    if (performance.now() >= deadline) {
      const last = lastError === undefined ? '' : `; last error: ${describeError(lastError)}`;
      throw new TestSupportError(
        'timeout',
        `timed out after ${timeoutMs} ms (${attempts} checks) waiting for ${what}${last}`,
        lastError === undefined ? undefined : { cause: lastError },
      );
    }
    await new Promise<void>((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, remainingMs))));
  }
}

const hung = Symbol('check still running at the deadline');

/** Runs one check, but stops waiting for it at the deadline so a hung check cannot hang the test. */
function withDeadline<T>(check: () => T | Promise<T>, remainingMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(hung), Math.max(0, remainingMs));
    Promise.resolve()
      .then(check)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}
