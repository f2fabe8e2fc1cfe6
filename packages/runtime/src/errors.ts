export type RuntimeErrorCode =
  | 'actor-crashed'
  | 'actor-stopped'
  | 'actor-init-failed'
  | 'unknown-method'
  | 'stream-overflow'
  | 'profile-failed'
  | 'remote-error'
  | 'not-cloneable';

/** Every failure the runtime reports is a RuntimeError with a stable `code`. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    readonly actor?: string,
  ) {
    super(message);
  }
}

/** Errors cross threads as plain objects; this keeps name, message, code and stack. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  [key: string]: unknown;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const out: SerializedError = { name: e.name, message: e.message };
    if (e.stack !== undefined) out.stack = e.stack;
    for (const [k, v] of Object.entries(e)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    }
    return out;
  }
  return { name: 'Error', message: String(e) };
}

/** Rebuilds an Error on the receiving side; `name` and `code` survive so callers can branch on them. */
export function deserializeError(s: SerializedError): Error {
  const e = new Error(s.message);
  Object.defineProperty(e, 'name', { value: s.name, enumerable: false, configurable: true });
  for (const [k, v] of Object.entries(s)) {
    if (k !== 'name' && k !== 'message' && k !== 'stack') (e as unknown as Record<string, unknown>)[k] = v;
  }
  if (s.stack) e.stack = s.stack;
  return e;
}
