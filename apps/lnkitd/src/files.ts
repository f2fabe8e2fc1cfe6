/** Files lnkitd keeps in the data dir for its CLI and for other processes. */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const TOKEN_FILE = 'api-token';
export const RUNTIME_FILE = 'lnkitd.json';
export const EMBEDDED_CHAIN_FILE = 'embedded-chain.json';
export const LOG_FILE = 'lnkitd.log';
export const LOCK_FILE = 'lnkitd.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else; it still holds the data dir.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // After a SIGKILL and a reboot the pid may belong to another program: where /proc tells,
  // only a process running lnkitd counts.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('lnkitd');
  } catch {
    return true;
  }
}

/**
 * Claims the data dir for this process: two daemons on one data dir would share the node key
 * and the store, and the embedded chain's database can have one owner only. A lock left by a
 * process that died (SIGKILL) is taken over. Returns the pid holding it, or null once claimed.
 */
export function claimDataDir(dataDir: string): number | null {
  const path = join(dataDir, LOCK_FILE);
  if (existsSync(path)) {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return pid;
  }
  writeFileDurable(path, `${process.pid}\n`, 0o644);
  return null;
}

export function releaseDataDir(dataDir: string): void {
  const path = join(dataDir, LOCK_FILE);
  if (existsSync(path) && readFileSync(path, 'utf8').trim() === String(process.pid))
    rmSync(path, { force: true });
}

/** Writes a file atomically (temp + rename) and durably, with the given mode. */
export function writeFileDurable(path: string, content: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
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
