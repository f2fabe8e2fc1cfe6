/**
 * Faults a client can cause at will (a malformed request, a wrong token, a slow or dropped
 * connection) are logged once per cause per interval, with a count of the others, never once
 * per request: a flood must neither fill the disk with log lines nor bury the line that matters.
 */
import type { Logger } from '@lnkit/runtime';

/** The causes one counter keeps apart; a flood of new ones is folded into one, so memory stays bounded. */
const MAX_CAUSES = 64;
const OTHER = 'other';

interface Window {
  startMs: number;
  /** Faults of this cause since the last one logged. */
  unlogged: number;
}

/** The pure core: which faults to log, fed the time. */
export class FaultCounter {
  private readonly windows = new Map<string, Window>();

  constructor(readonly intervalMs: number) {}

  /**
   * Counts one fault. Returns undefined when it is not to be logged (one of its cause was logged
   * less than an interval ago), or, when it is, how many of its cause went unlogged before it.
   */
  note(cause: string, nowMs: number): number | undefined {
    const key = this.windows.has(cause) || this.windows.size < MAX_CAUSES ? cause : OTHER;
    const w = this.windows.get(key);
    if (w && nowMs - w.startMs < this.intervalMs) {
      w.unlogged++;
      return undefined;
    }
    this.windows.set(key, { startMs: nowMs, unlogged: 0 });
    return w?.unlogged ?? 0;
  }

  /**
   * The causes whose interval has ended with faults not yet logged, and their counts; their
   * windows start again. A cause quiet for a whole interval is forgotten.
   */
  due(nowMs: number): { cause: string; count: number }[] {
    const out: { cause: string; count: number }[] = [];
    for (const [cause, w] of this.windows) {
      if (nowMs - w.startMs < this.intervalMs) continue;
      if (w.unlogged === 0) this.windows.delete(cause);
      else {
        out.push({ cause, count: w.unlogged });
        this.windows.set(cause, { startMs: nowMs, unlogged: 0 });
      }
    }
    return out;
  }
}

export type FaultLevel = 'debug' | 'info' | 'warn' | 'error';

export interface FaultLog {
  /** Logs `message` with `fields` unless a fault of `cause` was logged within the interval. */
  fault(cause: string, level: FaultLevel, message: string, fields?: Record<string, unknown>): void;
  /** Logs the counts still unlogged and stops the timer. */
  close(): void;
}

/** The shell around FaultCounter: a logger, the clock, and a timer that logs the counts left over. */
export function faultLog(logger: Logger, opts: { intervalMs?: number } = {}): FaultLog {
  const counter = new FaultCounter(opts.intervalMs ?? 60_000);
  const last = new Map<string, { level: FaultLevel; message: string }>();
  const report = (nowMs: number) => {
    for (const { cause, count } of counter.due(nowMs)) {
      const { level, message } = last.get(cause) ?? { level: 'warn', message: 'faults' };
      logger[level](
        { cause, count, intervalMs: counter.intervalMs },
        `${message}: ${count} more in the last ${Math.round(counter.intervalMs / 1000)} s`,
      );
    }
  };
  const timer = setInterval(() => report(Date.now()), counter.intervalMs);
  timer.unref();
  return {
    fault(cause, level, message, fields = {}) {
      const unlogged = counter.note(cause, Date.now());
      if (!last.has(cause) && last.size < MAX_CAUSES) last.set(cause, { level, message });
      if (unlogged === undefined) return;
      logger[level]({ cause, ...fields, ...(unlogged > 0 ? { unlogged } : {}) }, message);
    },
    close() {
      clearInterval(timer);
      report(Number.POSITIVE_INFINITY);
    },
  };
}
