/**
 * Step 2, Logger: the user's pino logger (withLogger) or a new root logger. It is made before
 * the other steps, into the context, because every step logs through a child of it (with its
 * `actor` field), step 1 included; worker actors log to `logFile` as JSON lines.
 */
import { createRootLogger, type Logger } from '@lnkit/runtime';

export function rootLogger(supplied: Logger | undefined): Logger {
  return supplied ?? createRootLogger();
}
