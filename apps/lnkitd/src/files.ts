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
