/** Files lnkitd keeps in the data dir for its CLI and for other processes. */
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from './errors.ts';

export const TOKEN_FILE = 'api-token';
export const RUNTIME_FILE = 'lnkitd.json';
export const EMBEDDED_CHAIN_FILE = 'embedded-chain.json';
export const LOG_FILE = 'lnkitd.log';
export const LOCK_FILE = 'lnkitd.lock';

/** When the process started, from /proc/PID/stat (clock ticks since boot), or '' where /proc does not tell. */
function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function commandLineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Who holds a data dir's lock: a live lnkitd other than this process. */
export interface LockHolder {
  pid: number;
  /** The data dir the holder wrote the lock for, when it is not this one (a copied data dir). */
  otherDataDir?: string;
}

/** The lock's content: pid, start time and data dir, one a line (older locks hold the pid only). */
function readLock(path: string): { pid: number; startTime?: string; dataDir?: string } {
  const [pid, startTime, dataDir] = readFileSync(path, 'utf8').split('\n');
  return {
    pid: Number(pid?.trim()),
    ...(startTime ? { startTime } : {}),
    ...(dataDir ? { dataDir } : {}),
  };
}

function alive(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else; it still holds the data dir.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // After a SIGKILL and a reboot the pid may belong to another program. The start time in the
  // lock tells whether it is still the process that wrote it; for a lock without one, where /proc
  // tells, only a process running lnkitd counts.
  const now = startTimeOf(pid);
  if (startTime && now) return now === startTime;
  const cmdline = commandLineOf(pid);
  return cmdline === undefined || cmdline.join(' ').includes('lnkitd');
}

/**
 * Claims the data dir for this process: two daemons on one data dir would share the node key
 * and the store, and the embedded chain's database can have one owner only. A lock left by a
 * process that died (SIGKILL) is taken over. Returns who holds it, or null once claimed.
 */
export function claimDataDir(dataDir: string): LockHolder | null {
  const path = join(dataDir, LOCK_FILE);
  // The same folder reached through a symbolic link is the same data dir.
  const real = realpathSync(dataDir);
  if (existsSync(path)) {
    const lock = readLock(path);
    if (
      Number.isInteger(lock.pid) &&
      lock.pid > 0 &&
      lock.pid !== process.pid &&
      alive(lock.pid, lock.startTime)
    )
      return {
        pid: lock.pid,
        ...(lock.dataDir && lock.dataDir !== real ? { otherDataDir: lock.dataDir } : {}),
      };
  }
  try {
    writeFileDurable(path, `${process.pid}\n${startTimeOf(process.pid)}\n${real}\n`, 0o644);
  } catch (e) {
    throw new ConfigError(`--datadir ${dataDir} ${fsProblem(e)}; ${WRITES_THERE}`, 'data-dir');
  }
  return null;
}

/** What to tell the user when claimDataDir found the data dir held. */
export function lockHeldMessage(dataDir: string, holder: LockHolder): string {
  const lock = join(dataDir, LOCK_FILE);
  if (holder.otherDataDir)
    return (
      `${lock} names pid ${holder.pid}, another lnkitd, which is running with --datadir ${holder.otherDataDir}: ` +
      `this data dir looks copied from that one, lock included. Two nodes must never run from one seed: ` +
      `stop pid ${holder.pid} first if this copy is to replace it`
    );
  return `another lnkitd (pid ${holder.pid}) is running with --datadir ${dataDir} (its pid is in ${lock}); stop it first, or give another --datadir`;
}

export function releaseDataDir(dataDir: string): void {
  const path = join(dataDir, LOCK_FILE);
  if (existsSync(path) && readLock(path).pid === process.pid) rmSync(path, { force: true });
}

const WRITES_THERE = 'lnkitd keeps its lock, keys, store and log there';

/** An errno as the reason a path cannot be used, in words. */
export function fsProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'EROFS':
      return 'is on a read-only filesystem';
    case 'EACCES':
    case 'EPERM':
      return `is not writable by this user (uid ${process.getuid?.() ?? '?'})`;
    case 'ENOSPC':
    case 'EDQUOT':
      return 'is on a full disk (or over its quota)';
    case 'ENOTDIR':
      return 'has a part of its path that is not a directory';
    case 'ENOENT':
      return 'does not exist';
    case 'ELOOP':
      return 'has a loop of symbolic links in its path';
    case 'EIO':
      return 'gave an I/O error (the disk may be failing)';
    default:
      return `cannot be written (${err.code ?? err.message})`;
  }
}

/** Why this process cannot write in `dir`, or undefined if it can. */
function writeProblem(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (e) {
    return fsProblem(e);
  }
}

/**
 * Makes sure the data dir exists and can be written, or says in words what is wrong with it
 * (never a raw `EROFS ... lnkitd.lock.tmp-123`).
 */
export function prepareDataDir(dataDir: string): void {
  if (existsSync(dataDir)) {
    if (!statSync(dataDir).isDirectory())
      throw new ConfigError(`--datadir ${dataDir} is not a directory`, 'data-dir');
  } else {
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    } catch (e) {
      // Node's recursive mkdir says ENOENT where the parent cannot be written (a read-only
      // filesystem): name the nearest folder that exists, and what is wrong with it.
      let parent = dirname(dataDir);
      while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
      const why = existsSync(parent) ? writeProblem(parent) : undefined;
      throw new ConfigError(
        `--datadir ${dataDir} cannot be created: ${why ? `${parent} ${why}` : fsProblem(e)}`,
        'data-dir',
      );
    }
  }
  const problem = writeProblem(dataDir);
  if (problem) throw new ConfigError(`--datadir ${dataDir} ${problem}; ${WRITES_THERE}`, 'data-dir');
}

/** True if every local user may write the file or folder (mode o+w). */
export function worldWritable(path: string): boolean {
  return (statSync(path).mode & 0o002) !== 0;
}

/** Writes a file atomically (temp + rename) and durably, with the given mode. */
export function writeFileDurable(path: string, content: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    // A full disk must not also leave a half-written temp file behind.
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The API token: created at first start (32 random bytes, hex, mode 0600), reused after. */
export function loadOrCreateToken(dataDir: string): string {
  const path = join(dataDir, TOKEN_FILE);
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(token)) return token;
    throw new Error(`${path} does not hold a valid API token; delete it to have a new one made`);
  }
  const token = randomBytes(32).toString('hex');
  writeFileDurable(path, `${token}\n`, 0o600);
  return token;
}

export interface RuntimeInfo {
  api: string;
  pid: number;
  nodeId: string;
  network: string;
}

export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  writeFileDurable(join(dataDir, RUNTIME_FILE), `${JSON.stringify(info, null, 2)}\n`, 0o644);
}

export function removeRuntimeInfo(dataDir: string): void {
  rmSync(join(dataDir, RUNTIME_FILE), { force: true });
}
