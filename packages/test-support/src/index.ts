// @lnkit/test-support — shared helpers for lnkit's tests: wait for events and conditions instead of
// sleeping, capture log lines, and load the machine. Dev-only; no package ships it.

export { type CapturedLogger, captureLogger, type LogLine } from './capture-logger.ts';
export { cpuHog, HOG_SCRIPT } from './cpu-hog.ts';
export { TestSupportError, type TestSupportErrorCode } from './errors.ts';
export { type NextEventOptions, nextEvent } from './next-event.ts';
export { DEFAULT_TIMEOUT_MS, type WaitForOptions, waitFor } from './wait-for.ts';
