import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';

export type { Logger } from 'pino';
export type LogLevel = LevelWithSilent;

export interface LoggerOptions {
  level?: LogLevel;
  /** Where the JSON lines go; stdout by default. For a file, a LogFile (log-file.ts): rotated, and a full disk drops lines instead of killing the thread. */
  destination?: DestinationStream;
}

/** Keys whose values are secrets: pino replaces them wherever they appear in a log object. */
export const REDACTED_KEYS = [
  'seed',
  'secret',
  'privateKey',
  'nodeSecret',
  'preimage',
  'token',
  '*.seed',
  '*.secret',
  '*.privateKey',
  '*.nodeSecret',
  '*.preimage',
  '*.token',
];

/**
 * Standard output as a pino destination that a write error cannot kill: pino's own emits an
 * 'error' event that nobody handles when stdout is a closed pipe or a file on a full disk, and
 * that is an uncaught exception. Here the line is dropped and the process goes on; at most
 * 4 MiB wait for a slow reader, beyond that lines are dropped too.
 */
export function stdoutDestination(): DestinationStream {
  const dest = pino.destination({ dest: 1, sync: true, maxLength: 4 * 1024 * 1024 });
  dest.on('error', () => {});
  return dest;
}

/** The root logger of a process or thread; JSON lines to stdout unless given a destination. */
export function createRootLogger(options: LoggerOptions = {}): Logger {
  const opts = {
    level: options.level ?? (process.env.LNKIT_LOG_LEVEL as LogLevel | undefined) ?? 'info',
    redact: { paths: REDACTED_KEYS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return pino(opts, options.destination ?? stdoutDestination());
}

/** One child logger per actor; every line it writes carries `actor`. */
export function actorLogger(root: Logger, actor: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ actor, ...bindings });
}
