/**
 * The timer behind the broadcaster's rebroadcast and the fee estimator's refresh. Injected, so a
 * test drives rounds one by one (and sees that a stopped or confirmed thing is not sent again)
 * instead of sleeping and hoping the timer fired.
 */
export interface IntervalScheduler {
  /** Runs `task` every `intervalMs` until cancelled. */
  every(intervalMs: number, task: () => Promise<void>): { cancel(): void };
}

/**
 * Real timers. The next round is armed when the previous one has finished, so a slow source
 * never has rounds piling up behind each other. Unref'd: a background refresh alone does not
 * keep the process alive.
 */
export const timerScheduler: IntervalScheduler = {
  every(intervalMs, task) {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = () => {
      timer = setTimeout(() => {
        void task()
          .catch(() => {}) // a task reports its own failures; the next round still runs
          .finally(() => {
            if (!cancelled) arm();
          });
      }, intervalMs);
      timer.unref();
    };
    arm();
    return {
      cancel() {
        cancelled = true;
        clearTimeout(timer);
      },
    };
  },
};
