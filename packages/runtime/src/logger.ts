import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';

export type { Logger } from 'pino';
export type LogLevel = LevelWithSilent;

export interface LoggerOptions {
  level?: LogLevel;
  /** Where the JSON lines go; stdout by default. */
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

/** The root logger of a process or thread. */
export function createRootLogger(options: LoggerOptions = {}): Logger {
  const opts = {
    level: options.level ?? (process.env.LNKIT_LOG_LEVEL as LogLevel | undefined) ?? 'info',
    redact: { paths: REDACTED_KEYS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** One child logger per actor; every line it writes carries `actor`. */
export function actorLogger(root: Logger, actor: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ actor, ...bindings });
}
