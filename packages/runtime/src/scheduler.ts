/**
 * The clock and timers the supervisor uses for restart backoff. Injected so that a test can
 * fire a restart exactly when it wants (before or after a call, a stop, a failing create),
 * instead of racing a real timer against the machine's load.
 */

export interface Timer {
  cancel(): void;
}

export interface Scheduler {
  now(): number;
  /**
   * Runs `fn` after `ms`. A pending timer keeps the process alive: a caller may be waiting
   * for the restart it leads to, and nothing else may be holding the event loop open.
   */
  setTimer(fn: () => void, ms: number): Timer;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};
