/**
 * A log file that never takes the process down and never grows without bound: a pino
 * destination (anything with `write(line)`) appending JSON lines to one file, rotated by size.
 *
 * - A write the file refuses (a full disk: ENOSPC, EDQUOT; EIO, ...) is not an 'error' event,
 *   which would kill the thread: the lines are dropped and counted, the fault is reported once
 *   (stderr, `onFault`), and for `retryMs` every line is dropped without touching the disk.
 *   The first write that succeeds afterwards starts with a line saying how many were dropped
 *   and since when, and the fault is cleared (`onFault(null)`).
 * - Rotation by size: once the file holds `maxBytes`, it becomes `path.1` (`path.1` becomes
 *   `path.2`, ...), and a new file is started; `maxFiles` files are kept, the current one
 *   included, so the log takes about `maxBytes × maxFiles` at most.
 * - Several threads may append to one file (lnkitd's main thread and its worker actors): one
 *   of them rotates it (`rotate: true`, the main thread), which also looks at the file's size
 *   every `checkEveryMs` since the others grow it too; the others (`rotate: false`) reopen the
 *   file when they find it was rotated. Lines are whole: each batch is appended (O_APPEND) in
 *   one write of whole lines.
 *
 * Lines are batched: written once per turn of the event loop, and at exit (`flushSync`).
 * Writes are synchronous, as pino's own sync destination's are: a log file is local, and a
 * write to it returns once the kernel has the bytes.
 */
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** 10 MiB a file, 5 files: 50 MiB of log, days of an info-level log on a busy routing node. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 5;

export interface LogFileFault {
  path: string;
  /** The system's code of the failed write (ENOSPC, EIO, ...), or 'unknown'. */
  osCode: string;
  message: string;
  /** When writes began to fail (ms since the epoch). */
  since: number;
  /** Lines dropped since then. */
  droppedLines: number;
}

export interface LogFileOptions {
  /** Rotate once the file holds this many bytes; 0: never. Default DEFAULT_LOG_MAX_BYTES. */
  maxBytes?: number;
  /** Files kept, the current one included (path, path.1, …). Default DEFAULT_LOG_MAX_FILES. */
  maxFiles?: number;
  /**
   * false: never rotate the file, only reopen it when another writer has rotated it (worker
   * actors, whose file the main thread rotates). Default true.
   */
  rotate?: boolean;
  /** After a failed write, lines are dropped for this long before the file is tried again. Default 1000. */
  retryMs?: number;
  /** How often a rotating writer looks at the file's size while it has nothing to write. Default 1000. */
  checkEveryMs?: number;
  /** Bytes held for the next write at most; beyond, lines are dropped and counted. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Called when writes begin to fail, and with null once one succeeds again. */
  onFault?: (fault: LogFileFault | null) => void;
  /** Where the one-line reports of a fault and its end go. Default: stderr (fd 2, never throwing). */
  report?: (text: string) => void;
  now?: () => number;
}

export interface LogFileStats {
  /** Every line dropped since the file was opened (refused writes and overfull buffers). */
  droppedLines: number;
  rotations: number;
  fault: LogFileFault | null;
}

const DESCRIPTIONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EIO: 'an I/O error on the device',
  EFBIG: 'the file is too large for its filesystem',
  EROFS: 'the filesystem is read-only',
  EACCES: 'permission denied',
};

function stderrReport(text: string): void {
  try {
    writeSync(2, `${text}\n`);
  } catch {
    // stderr on the same full disk: nothing more can be said.
  }
}

export class LogFile {
  private fd: number | undefined;
  private ino: number | undefined;
  private pending: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private fault: LogFileFault | undefined;
  private retryAt = 0;
  /** A write cut short left half a line: the next text starts on a line of its own. */
  private partial = false;
  /** Lines dropped because too much was logged in one turn, not yet said in the file. */
  private overflowDropped = 0;
  private droppedTotal = 0;
  private rotations = 0;
  private ended = false;
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly rotates: boolean;
  private readonly retryMs: number;
  private readonly maxBufferedBytes: number;
  private readonly now: () => number;
  private readonly report: (text: string) => void;
  private readonly onExit = () => this.flushSync();

  constructor(
    readonly path: string,
    private readonly options: LogFileOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.maxFiles = Math.max(1, options.maxFiles ?? DEFAULT_LOG_MAX_FILES);
    this.rotates = options.rotate ?? true;
    this.retryMs = options.retryMs ?? 1000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.report = options.report ?? stderrReport;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    } catch {
      // The first write says what is wrong.
    }
    if (this.rotates && this.maxBytes > 0) {
      this.timer = setInterval(() => {
        if (!this.scheduled && !this.fault) this.guarded(() => this.prepare());
      }, options.checkEveryMs ?? 1000);
      this.timer.unref();
    }
    process.on('exit', this.onExit);
  }

  /** pino's destination interface: one or more whole lines. Never throws. */
  write(line: string): boolean {
    if (this.ended) return true;
    if (this.fault && this.now() < this.retryAt) {
      this.drop(1);
      return true;
    }
    if (this.pendingBytes + line.length > this.maxBufferedBytes) {
      // While a fault lasts, its own count says it.
      if (!this.fault) this.overflowDropped++;
      this.drop(1);
      return true;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushSync());
    }
    return true;
  }

  /** Writes what is held now (pino calls it at exit, through multistream too). */
  flushSync(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const text = this.notice() + lines.join('');
    try {
      this.prepare();
      this.append(text);
    } catch (e) {
      this.failed(e, lines.length);
      return;
    }
    this.overflowDropped = 0;
    if (this.fault) {
      const { droppedLines, osCode } = this.fault;
      this.fault = undefined;
      this.report(
        `lnkit: log file ${this.path} written again (${droppedLines} lines dropped while ${osCode})`,
      );
      this.options.onFault?.(null);
    }
  }

  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }

  /** Writes what is held and closes the file. */
  end(): void {
    if (this.ended) return;
    this.flushSync();
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    process.off('exit', this.onExit);
    this.close();
  }

  stats(): LogFileStats {
    return {
      droppedLines: this.droppedTotal,
      rotations: this.rotations,
      fault: this.fault ? { ...this.fault } : null,
    };
  }

  /** The line that says what was dropped, at the head of the first write that succeeds after. */
  private notice(): string {
    const lead = this.partial ? '\n' : '';
    const dropped = (this.fault?.droppedLines ?? 0) + this.overflowDropped;
    if (dropped === 0) return lead;
    const why = this.fault
      ? `the log file could not be written (${this.fault.osCode}) from ${new Date(this.fault.since).toISOString()}`
      : `more than ${this.maxBufferedBytes} bytes were logged at once`;
    const line = {
      level: 40,
      time: this.now(),
      pid: process.pid,
      actor: 'log',
      droppedLines: dropped,
      msg: `${dropped} log lines dropped: ${why}`,
    };
    return `${lead}${JSON.stringify(line)}\n`;
  }

  private drop(lines: number): void {
    this.droppedTotal += lines;
    if (this.fault) this.fault.droppedLines += lines;
  }

  private failed(e: unknown, lines: number): void {
    this.retryAt = this.now() + this.retryMs;
    this.drop(lines);
    if (this.fault) return;
    const osCode = (e as NodeJS.ErrnoException)?.code ?? 'unknown';
    const what = DESCRIPTIONS[osCode] ?? (e as Error)?.message ?? String(e);
    this.fault = {
      path: this.path,
      osCode,
      message: `cannot write the log file ${this.path}: ${what} (${osCode})`,
      since: this.now(),
      droppedLines: lines,
    };
    this.report(`lnkit: ${this.fault.message}; log lines are dropped until it can be written again`);
    this.options.onFault?.({ ...this.fault });
    // A file that failed is opened afresh next time: it may have been replaced meanwhile.
    this.close();
  }

  /** Opens the file if needed, follows a rotation made by another writer, rotates if due. */
  private prepare(): void {
    if (this.fd !== undefined) {
      const onDisk = statSync(this.path, { throwIfNoEntry: false });
      if (!onDisk || onDisk.ino !== this.ino) this.close();
    }
    if (this.fd === undefined) this.open();
    if (this.rotates && this.maxBytes > 0 && fstatSync(this.fd!).size >= this.maxBytes) {
      this.rotate();
    }
  }

  private open(): void {
    const fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    this.fd = fd;
    this.ino = fstatSync(fd).ino;
  }

  private close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already gone with its device.
    }
    this.fd = undefined;
    this.ino = undefined;
  }

  /** path.(N-2) → path.(N-1) (over the oldest), …, path → path.1; then a new path. */
  private rotate(): void {
    this.close();
    const name = (i: number) => (i === 0 ? this.path : `${this.path}.${i}`);
    if (this.maxFiles === 1) unlinkSync(this.path);
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      try {
        renameSync(name(i - 1), name(i));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    this.rotations++;
    this.open();
  }

  private append(text: string): void {
    const bytes = Buffer.from(text);
    let off = 0;
    try {
      while (off < bytes.length) off += writeSync(this.fd!, bytes, off, bytes.length - off);
      this.partial = false;
    } catch (e) {
      if (off > 0) this.partial = true;
      throw e;
    }
  }

  /** For the timer: a failure there is the next write's to report. */
  private guarded(fn: () => void): void {
    try {
      fn();
    } catch {
      this.close();
    }
  }
}

/** A LogFile as a pino destination (see LogFile). */
export function logFileDestination(path: string, options: LogFileOptions = {}): LogFile {
  return new LogFile(path, options);
}
