/** Test helpers: run lnkitd and lnkit-cli as real processes. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@lnkit/test-support';

const LNKITD = fileURLToPath(new URL('../../apps/lnkitd/bin/lnkitd.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../../apps/lnkit-cli/bin/lnkit-cli.mjs', import.meta.url));

/** Between checks that each run lnkit-cli (a whole Node process): do not poll a busy machine flat out. */
export const CLI_POLL_MS = 200;

/** Runs lnkitd expecting it to refuse to start: its exit code and everything it printed. */
export function runToExit(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [LNKITD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_BACKEND: 'js' },
    });
    let output = '';
    proc.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    proc.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`lnkitd ${args.join(' ')} did not exit:\n${output}`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

export class Daemon {
  proc: ChildProcess | undefined;
  output = '';

  constructor(
    readonly dataDir: string,
    public args: string[],
  ) {}

  async start(): Promise<void> {
    const runtime = join(this.dataDir, 'lnkitd.json');
    const before = existsSync(runtime) ? readFileSync(runtime, 'utf8') : '';
    this.output = '';
    this.proc = spawn(process.execPath, [LNKITD, '--datadir', this.dataDir, ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_BACKEND: 'js' },
    });
    this.proc.stdout!.on('data', (c: Buffer) => {
      this.output += c.toString();
    });
    this.proc.stderr!.on('data', (c: Buffer) => {
      this.output += c.toString();
    });
    const exited = new Promise<never>((_, reject) =>
      this.proc!.once('exit', (code) => reject(new Error(`lnkitd exited with ${code}:\n${this.output}`))),
    );
    exited.catch(() => {});
    // Ready once it (re)wrote lnkitd.json with its own pid.
    await Promise.race([
      waitFor(
        () => {
          if (!existsSync(runtime)) return undefined;
          const text = readFileSync(runtime, 'utf8');
          return text !== before && JSON.parse(text).pid === this.proc!.pid ? true : undefined;
        },
        // A start loads every worker's TypeScript through tsx: about 3 s on a quiet machine, and
        // more than 30 s was seen on 2 cores at a load average of 28.
        { what: 'lnkitd to be ready', intervalMs: 50, timeoutMs: 180_000 },
      ),
      exited,
    ]);
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    return new Promise((resolve) => {
      // A process ended by a signal has exitCode null and its signalCode set: it is gone too,
      // and its 'exit' has been and will not come again.
      if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null)
        return resolve(this.proc?.exitCode ?? null);
      this.proc.once('exit', (code) => resolve(code));
      this.proc.kill(signal);
    });
  }

  cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [CLI, '--datadir', this.dataDir, ...args], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  json<T = Record<string, unknown>>(...args: string[]): T {
    const r = this.cli('--json', ...args);
    if (r.status !== 0)
      throw new Error(`lnkit-cli ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  api(): { url: string; token: string } {
    return {
      url: JSON.parse(readFileSync(join(this.dataDir, 'lnkitd.json'), 'utf8')).api,
      token: readFileSync(join(this.dataDir, 'api-token'), 'utf8').trim(),
    };
  }
}

export interface ApiResponse {
  status: number;
  text: string;
  json(): Promise<unknown>;
}

/**
 * An HTTP request on a connection of its own, closed after the answer. These tests also run
 * lnkit-cli with spawnSync, which blocks this thread: a keep-alive socket that the daemon closed
 * meanwhile (its keep-alive timeout) still looks open to fetch()'s pool, and the next request
 * sent on it fails with "other side closed". Seen on a loaded machine.
 */
export function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method ?? 'GET', headers: { ...init.headers, connection: 'close' }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, text, json: async () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** One event of GET /v1/events, as lnkitd writes it: `id`, `event`, and the record as `data`. */
export interface StreamedEvent {
  id: string;
  event: string;
  record: { seq: number; at: string; kind: string; data: Record<string, string | number | boolean | null> };
}

/**
 * GET /v1/events held open: the events as they come (in `events`), its comments counted
 * (heartbeats), and a way to hang up. Resolves once the answer's head is in, with its status.
 */
export function eventStream(
  url: string,
  token: string,
  opts: { since?: number; lastEventId?: number } = {},
): Promise<{
  status: number;
  events: StreamedEvent[];
  comments: number;
  ended: Promise<void>;
  close(): void;
}> {
  return new Promise((resolve, reject) => {
    const query = opts.since === undefined ? '' : `?since=${opts.since}`;
    const req = httpRequest(`${url}/v1/events${query}`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(opts.lastEventId === undefined ? {} : { 'last-event-id': String(opts.lastEventId) }),
      },
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const out = {
        status: res.statusCode ?? 0,
        events: [] as StreamedEvent[],
        comments: 0,
        ended: new Promise<void>((r) => res.once('close', r)),
        close: () => req.destroy(),
      };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('error', () => {}); // a hang-up by close() is expected
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const fields: Record<string, string> = {};
          for (const line of buffer.slice(0, end).split('\n')) {
            if (line.startsWith(':')) out.comments++;
            else fields[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 2);
          }
          buffer = buffer.slice(end + 2);
          if (fields.data !== undefined)
            out.events.push({ id: fields.id!, event: fields.event!, record: JSON.parse(fields.data) });
        }
      });
      resolve(out);
    });
    req.end();
  });
}
