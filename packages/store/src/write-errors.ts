/**
 * Why lmdb could not write, in the system's words. lmdb-js rejects a failed commit with a
 * generic "Commit failed (see commitError for details)"; the real error (ENOSPC, EIO, with the
 * errno as a number) is the rejection of the promise in its `commitError`, which lmdb-js
 * rejects in the same callback, before the caller's handler runs. Nothing may leave that
 * promise unhandled: in a worker thread or a test an unhandled rejection kills the process.
 */
import { constants } from 'node:os';

/** Faults of the machine, not of the write: the same write may succeed once they clear. */
const MACHINE_FAULTS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EIO: 'an I/O error on the device',
  EFBIG: 'the file is too large for its filesystem',
  EROFS: 'the filesystem is read-only',
};

const BY_TEXT: [RegExp, string][] = [
  [/no space left on device/i, 'ENOSPC'],
  [/disk quota exceeded/i, 'EDQUOT'],
  [/input\/output error/i, 'EIO'],
  [/file too large/i, 'EFBIG'],
  [/read-only file system/i, 'EROFS'],
];

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, n]) => [n as number, name]),
);

export interface WriteFailure {
  /** The system's code for a fault of the machine (ENOSPC, EDQUOT, EIO, EFBIG, EROFS). */
  osCode?: string;
  /** What went wrong, in words. */
  detail: string;
}

/** Reads the cause of a failed lmdb write; never rejects, and handles `commitError`. */
export async function writeFailure(e: unknown): Promise<WriteFailure> {
  let cause: unknown = e;
  const commitError = (e as { commitError?: unknown } | null)?.commitError;
  if (commitError instanceof Promise) {
    // Rejected by now if lmdb-js rejects it at all; a turn later, give up on it.
    cause =
      (await Promise.race([
        commitError.then(
          () => undefined,
          (c: unknown) => c,
        ),
        new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined))),
      ])) ?? e;
  }
  const osCode = osCodeOf(cause);
  if (osCode) return { osCode, detail: `${MACHINE_FAULTS[osCode]} (${osCode})` };
  return { detail: (cause as Error)?.message ?? String(cause) };
}

function osCodeOf(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | null)?.code;
  const name = typeof code === 'number' ? ERRNO_NAMES.get(code) : typeof code === 'string' ? code : undefined;
  if (name && name in MACHINE_FAULTS) return name;
  const message = (cause as Error | null)?.message ?? '';
  return BY_TEXT.find(([re]) => re.test(message))?.[1];
}
