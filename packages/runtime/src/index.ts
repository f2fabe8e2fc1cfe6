export { createRootLogger, actorLogger, REDACTED_KEYS, type Logger, type LogLevel, type LoggerOptions } from './logger.ts';
