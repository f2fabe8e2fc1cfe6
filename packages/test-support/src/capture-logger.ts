import { type DestinationStream, type Logger, pino } from 'pino';
import { describeError, TestSupportError } from './errors.ts';
import { DEFAULT_TIMEOUT_MS } from './wait-for.ts';

export type LogLine = Record<string, unknown>;

export interface CapturedLogger {
  /** A pino logger (the type @lnkit/runtime exports as `Logger`). */
  logger: Logger;
  /** Every line written so far, parsed; appended synchronously as each line is logged. */
  lines: LogLine[];
  /**
   * The stream behind `logger`, to hand to a logger built elsewhere, e.g.
   * `createRootLogger({ destination })`, when a test checks production settings such as redaction.
   */
  destination: DestinationStream;
  /** Resolves with the first line (already written or still to come) that `match` accepts. */
  waitForLine(
    match: (line: LogLine) => boolean,
    opts?: { timeoutMs?: number; what?: string },
  ): Promise<LogLine>;
}

/** A logger whose JSON lines land in memory, so a test can wait for "the line that says X". */
export function captureLogger(opts: { level?: string } = {}): CapturedLogger {
  const lines: LogLine[] = [];
  const waiters = new Set<(line: LogLine) => void>();
  const destination: DestinationStream = {
    write(chunk: string) {
      // pino writes one JSON line per call to a plain stream, synchronously.
      for (const text of chunk.split('\n')) {
        if (text.trim() === '') continue;
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch (err) {
          line = { unparsed: text, parseError: describeError(err) };
        }
        lines.push(line);
        for (const waiter of [...waiters]) waiter(line);
      }
    },
  };
  const logger = pino({ level: opts.level ?? 'trace' }, destination);

  function waitForLine(
    match: (line: LogLine) => boolean,
    waitOpts: { timeoutMs?: number; what?: string } = {},
  ): Promise<LogLine> {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    const timeoutMs = waitOpts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = (line: LogLine) => {
        if (!match(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new TestSupportError(
            'timeout',
            `timed out after ${timeoutMs} ms waiting for log line ${waitOpts.what ?? '(matching)'}; ` +
              `${lines.length} lines logged, last: ${JSON.stringify(lines.at(-1) ?? null)}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      waiters.add(waiter);
    });
  }

  return { logger, lines, destination, waitForLine };
}
