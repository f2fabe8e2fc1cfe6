import type { IntervalScheduler } from './interval.ts';

/** For tests: an IntervalScheduler whose rounds run only when the test calls `tick()`. */
export class ManualScheduler implements IntervalScheduler {
  private readonly entries = new Set<{ intervalMs: number; task: () => Promise<void> }>();

  every(intervalMs: number, task: () => Promise<void>): { cancel(): void } {
    const entry = { intervalMs, task };
    this.entries.add(entry);
    return { cancel: () => void this.entries.delete(entry) };
  }

  /** The intervals of the rounds scheduled and not cancelled. */
  get intervalsMs(): number[] {
    return [...this.entries].map((e) => e.intervalMs);
  }

  /** Runs one round of every scheduled task, to completion. */
  async tick(): Promise<void> {
    for (const entry of [...this.entries]) await entry.task();
  }
}
