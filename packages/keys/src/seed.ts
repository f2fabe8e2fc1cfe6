/**
 * The node's seed: guide step 7. A 32-byte `keys_seed` file in the data dir, created once from
 * the OS's secure random source, written with fsync and mode 0600, and read back on every
 * restart. A file that exists but cannot be used is an error: silently making a new seed would
 * hand the node a new identity and lose every channel's keys.
 */
import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from '@lnkit/crypto';
import { KeysError } from './errors.ts';

export const SEED_FILE_NAME = 'keys_seed';
export const SEED_LENGTH = 32;

export interface SeedResult {
  seed: Uint8Array;
  /** True when this call created the file (first start). */
  created: boolean;
  path: string;
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

/**
 * Reads `<dataDir>/keys_seed`, or creates it if (and only if) it does not exist. For a fresh
 * data dir only: a node whose store already holds state must use readSeed and refuse to start
 * without its seed (a new one would be a new node id over the old channels).
 */
export function loadOrCreateSeed(dataDir: string): SeedResult {
  const path = join(dataDir, SEED_FILE_NAME);
  const existing = readSeedFile(path);
  if (existing) return { seed: existing, created: false, path };
  return createSeed(dataDir);
}

/** Reads `<dataDir>/keys_seed`: undefined when there is none; throws KeysError when it cannot be used. */
export function readSeed(dataDir: string): { seed: Uint8Array; path: string } | undefined {
  const path = join(dataDir, SEED_FILE_NAME);
  const seed = readSeedFile(path);
  return seed ? { seed, path } : undefined;
}

/**
 * Makes a new seed in `<dataDir>/keys_seed`. Refuses (seed-exists) when the file is there:
 * replacing a seed replaces the node's identity, so no caller may do it by accident.
 */
export function createSeed(dataDir: string): SeedResult {
  const path = join(dataDir, SEED_FILE_NAME);
  if (existsSync(path)) {
    throw new KeysError(
      'seed-exists',
      `seed file ${path} already exists; refusing to replace it with a new seed`,
    );
  }
  const seed = randomBytes(SEED_LENGTH);
  writeSeedFile(dataDir, path, seed);
  return { seed, created: true, path };
}

/** Returns the seed, or undefined when the file does not exist; throws KeysError otherwise. */
export function readSeedFile(path: string): Uint8Array | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return undefined;
    throw new KeysError('seed-unreadable', `cannot read seed file ${path} (${code ?? 'unknown error'})`);
  }
  if (bytes.length !== SEED_LENGTH) {
    throw new KeysError(
      'seed-wrong-length',
      `seed file ${path} is ${bytes.length} bytes, expected ${SEED_LENGTH}; refusing to replace it with a new seed`,
    );
  }
  return new Uint8Array(bytes);
}

function writeSeedFile(dataDir: string, path: string, seed: Uint8Array): void {
  // Written to a temporary name first and renamed, so a crash mid-write never leaves a short
  // `keys_seed` behind (which the next start would rightly refuse).
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    // A crash between open and rename leaves this file behind; a restart in a container often
    // has the same pid. It never became keys_seed, so no key was ever derived from it.
    rmSync(tmp, { force: true });
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      let off = 0;
      while (off < seed.length) off += writeSync(fd, seed, off, seed.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    // The rename is durable only once the directory entry is synced.
    const dirFd = openSync(dataDir, constants.O_RDONLY);
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch (err) {
    throw new KeysError(
      'seed-write-failed',
      `cannot write seed file ${path} (${errnoCode(err) ?? 'unknown error'})`,
    );
  }
}
