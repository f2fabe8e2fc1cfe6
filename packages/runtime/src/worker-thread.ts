/**
 * One incarnation of a worker actor: its Worker, the comlink remote of its host, `ready` (its
 * create() finished) and its death. Every call made through it settles: with the actor's answer,
 * or when the thread dies (actor-crashed) or is ended on purpose (the error given to kill(),
 * actor-stopped when it is stopped). What happens after a death is the supervisor's business
 * (supervised-actor.ts); this class only reports it, once, through `onDeath`.
 */
import type { MessagePort } from 'node:worker_threads';
import { MessagePort as MessagePortClass, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './endpoint.ts';
import { deserializeError, RuntimeError } from './errors.ts';
import type { ActorMetricsSnapshot } from './metrics.ts';
import type { CallResult, ExposedHost, WorkerData } from './worker-main.ts';

const WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/** How long a stopping actor's own stop() may take before its thread is ended anyway. */
const STOP_GRACE_MS = 5000;

export interface WorkerThreadOptions {
  workerData: WorkerData;
  config: unknown;
  resourceLimits?: { maxOldGenerationSizeMb?: number };
  /** Called once if the thread dies on its own (not after kill() or stop()). */
  onDeath(reason: string): void;
}

export class WorkerThread {
  readonly name: string;
  /** Resolves with the API's method names once create() has finished; rejects if it failed or the thread died first. */
  readonly ready: Promise<string[]>;
  private readonly worker: Worker;
  private readonly remote: Comlink.Remote<ExposedHost>;
  private readonly died: Promise<never>;
  private markDead!: (e: Error) => void;
  private isAlive = true;

  constructor(options: WorkerThreadOptions) {
    this.name = options.workerData.name;
    this.worker = new Worker(WORKER_ENTRY, {
      workerData: options.workerData,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    });
    this.remote = Comlink.wrap<ExposedHost>(nodeEndpoint(this.worker));
    this.died = new Promise<never>((_, reject) => {
      this.markDead = reject;
    });
    this.died.catch(() => {});
    const onDeath = (reason: string) => {
      if (!this.isAlive) return;
      this.end(new RuntimeError('actor-crashed', `actor ${this.name} crashed: ${reason}`, this.name));
      options.onDeath(reason);
    };
    this.worker.on('error', (e) => onDeath(`uncaught ${e?.name ?? 'error'}: ${e?.message ?? e}`));
    this.worker.on('exit', (code) => onDeath(`thread exited with code ${code}`));
    this.ready = this.guard(() =>
      (this.remote.init(options.config) as Promise<CallResult>).then((r) => {
        if (!r.ok) throw deserializeError(r.error);
        return r.value as string[];
      }),
    );
    this.ready.catch(() => {});
  }

  get alive(): boolean {
    return this.isAlive;
  }

  async call(method: string, args: unknown[]): Promise<unknown> {
    const r = await this.guard(() =>
      (this.remote.call(method, withPorts(args)) as Promise<CallResult>).catch((e: unknown) => {
        throw this.notCloneable(method, e);
      }),
    );
    if (!r.ok) throw deserializeError(r.error);
    return r.value;
  }

  /** Opens stream `method(...args)` in the thread, pumping into `port` (transferred to it). */
  stream(method: string, args: unknown[], port: MessagePort): Promise<void> {
    return this.guard(() =>
      (this.remote.stream(method, args, Comlink.transfer(port, [port as never])) as Promise<void>).catch(
        (e: unknown) => {
          throw this.notCloneable(method, e);
        },
      ),
    );
  }

  snapshot(): Promise<ActorMetricsSnapshot> {
    return this.guard(() => this.remote.snapshot() as Promise<ActorMetricsSnapshot>);
  }

  profile(seconds: number, path: string): Promise<{ path: string; samples: number }> {
    return this.guard(() => this.remote.profile(seconds, path) as Promise<{ path: string; samples: number }>);
  }

  /** Lets the actor stop cleanly (its definition's stop()), then ends the thread. */
  async stop(): Promise<void> {
    if (!this.isAlive) return;
    let grace: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.guard(() => this.remote.stop() as Promise<void>),
        new Promise((r) => {
          grace = setTimeout(r, STOP_GRACE_MS);
        }),
      ]);
    } catch {
      /* it died on the way out */
    } finally {
      clearTimeout(grace);
    }
    // Calls still in flight (one that never returns, one the stop cut short) end here rather
    // than wait forever on a thread that is about to go.
    await this.kill(new RuntimeError('actor-stopped', `actor ${this.name} is stopped`, this.name));
  }

  /** Ends the thread now; calls in flight get `reason`. */
  async kill(reason: Error): Promise<void> {
    this.end(reason);
    await this.worker.terminate();
    this.remote[Comlink.releaseProxy]();
  }

  private end(reason: Error): void {
    if (!this.isAlive) return;
    this.isAlive = false;
    this.markDead(reason);
  }

  /** Sends a request, whose answer loses to the thread's end; made after the end, it gets the reason at once. */
  private guard<T>(send: () => Promise<T>): Promise<T> {
    return this.isAlive ? Promise.race([send(), this.died]) : this.died;
  }

  // Arguments to a worker actor are copied with the structured clone algorithm; one that cannot
  // be copied (a function, a symbol, a class with private state) is the caller's mistake, so it
  // gets a RuntimeError naming the method rather than the platform's DataCloneError.
  private notCloneable(method: string, e: unknown): unknown {
    return e instanceof Error && e.name === 'DataCloneError'
      ? new RuntimeError(
          'not-cloneable',
          `arguments to ${this.name}.${method} cannot be copied to its worker thread: ${e.message}`,
          this.name,
        )
      : e;
  }
}

/** A call's MessagePorts (top-level arguments) are moved to the thread, as they cannot be copied. */
function withPorts(args: unknown[]): unknown[] {
  const ports = args.filter((a): a is MessagePort => a instanceof MessagePortClass);
  return ports.length === 0 ? args : Comlink.transfer(args, ports as never[]);
}
