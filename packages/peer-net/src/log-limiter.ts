/**
 * Rate-limited logging of what peers do wrong. A failed handshake, a bad frame or a cap hit
 * costs an outside peer nothing, so a line per event at info would let anyone fill the
 * operator's disk and drown what matters. The first event of each cause in an interval is
 * logged at info, with how many of that cause were held back since the previous info line;
 * the others go to debug. Causes are this package's fixed names (error codes, limit names),
 * never text from the peer, so the map stays small.
 */
import type { Logger } from '@lnkit/runtime';

/** 60 s: an operator still sees each kind of trouble within a minute, at most one line of it. */
export const DEFAULT_MISBEHAVIOUR_LOG_INTERVAL_MS = 60_000;

export type LogDecision =
  | { readonly level: 'info'; readonly suppressed: number }
  | { readonly level: 'debug' };

export class LogLimiter {
  private readonly causes = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(readonly intervalMs: number) {}

  /** Which level this event of `cause` gets at `now`, and (at info) how many were held back. */
  note(cause: string, now: number): LogDecision {
    const c = this.causes.get(cause);
    if (c && now - c.loggedAt < this.intervalMs) {
      c.suppressed++;
      return { level: 'debug' };
    }
    const suppressed = c?.suppressed ?? 0;
    this.causes.set(cause, { loggedAt: now, suppressed: 0 });
    return { level: 'info', suppressed };
  }
}

/** Logs one peer misbehaviour event through a LogLimiter: info now and then, debug otherwise. */
export function logMisbehaviour(
  log: Logger | undefined,
  limiter: LogLimiter,
  cause: string,
  fields: Record<string, unknown>,
  msg: string,
  now: number = Date.now(),
): void {
  if (!log) return;
  const d = limiter.note(cause, now);
  if (d.level === 'debug') log.debug(fields, msg);
  else log.info(d.suppressed > 0 ? { ...fields, suppressedSinceLast: d.suppressed } : fields, msg);
}
