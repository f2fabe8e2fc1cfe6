// A Scheduler for tests: time moves only when the test says so, and the test fires each
// restart timer itself, so every interleaving of crash, backoff, restart and stop can be
// forced in a chosen order on a fast machine as on a slow one.
import type { Scheduler, Timer } from '../scheduler.ts';

interface Pending {
  at: number;
  inMs: number;
  fn: () => void;
}

export class ManualScheduler implements Scheduler {
  private nowMs = 0;
  private readonly timers = new Set<Pending>();
  private readonly waiters = new Set<() => void>();
  // Like a real timer, a pending one holds the process open, so a test awaiting a caller
  // that waits on it is not cancelled by an empty event loop.
  private keepAlive: NodeJS.Timeout | undefined;

  now(): number {
    return this.nowMs;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const t: Pending = { at: this.nowMs + ms, inMs: ms, fn };
    this.timers.add(t);
    this.keepAlive ??= setInterval(() => {}, 1 << 30);
    for (const w of this.waiters) w();
    this.waiters.clear();
    return { cancel: () => this.remove(t) };
  }

  /** The delays of the timers not yet fired, in the order they were set. */
  pending(): number[] {
    return [...this.timers].map((t) => t.inMs);
  }

  /** Resolves once a timer is pending (at once if one already is). */
  async timerSet(): Promise<void> {
    if (this.timers.size > 0) return;
    await new Promise<void>((resolve) => this.waiters.add(resolve));
  }

  /** Moves the clock on by `ms` without firing anything (an incarnation that lived long). */
  advance(ms: number): void {
    this.nowMs += ms;
  }

  /** Moves the clock to the earliest pending timer and fires it. */
  fireNext(): void {
    const next = [...this.timers].sort((a, b) => a.at - b.at)[0];
    if (!next) throw new Error('no timer is pending');
    this.nowMs = Math.max(this.nowMs, next.at);
    this.remove(next);
    next.fn();
  }

  private remove(t: Pending): void {
    this.timers.delete(t);
    if (this.timers.size === 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}
