/**
 * When a worker pool may be closed: once every worker has loaded its task module and no task
 * handed to the pool is still running or queued.
 *
 * The workers load libsecp256k1's Node addon, which is built with C++ exceptions. A worker
 * terminated while it is still loading it, or is inside a call into it, has its N-API calls
 * fail; the addon throws, cannot hand the error to a JavaScript that is being torn down, and the
 * whole process aborts ("terminate called after throwing an instance of 'Napi::Error'", seen
 * once in a stress run, at the end of a test file whose pool was closed soon after it started).
 * Piscina's own close() does not wait for either: it counts only the tasks already on a worker,
 * and destroys the queue.
 *
 * The worker's side is a word on a BroadcastChannel after its imports (see pool-worker.mjs):
 * `new BroadcastChannel(workerData.readyChannel).postMessage(0)`, then close the channel.
 */
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';

export class PoolCloseGuard {
  /** The channel the pool's workers say they are loaded on (their workerData.readyChannel). */
  readonly channelName = `lnkit-pool-ready-${randomUUID()}`;
  readonly #channel = new BroadcastChannel(this.channelName);
  readonly #running = new Set<Promise<unknown>>();
  readonly #waiters: (() => void)[] = [];
  #loaded = 0;

  constructor(readonly threads: number) {
    // Listening must not keep the process alive: a pool nobody closes still lets it exit.
    this.#channel.unref();
    this.#channel.onmessage = () => {
      this.#loaded++;
      this.#wake();
    };
  }

  /** Workers that said they have loaded. */
  get loaded(): number {
    return this.#loaded;
  }

  /** A task handed to the pool: close waits for it to settle. */
  track<T>(task: Promise<T>): Promise<T> {
    this.#running.add(task);
    const done = () => {
      this.#running.delete(task);
      this.#wake();
    };
    task.then(done, done);
    return task;
  }

  /**
   * Resolves once every worker is loaded and no tracked task is left, or after `timeoutMs` (a
   * worker that failed to start never says so; Piscina told the task that needed it).
   */
  async safeToClose(timeoutMs: number): Promise<void> {
    if (this.#safe()) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#waiters.push(resolve);
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
  }

  close(): void {
    this.#channel.close();
    for (const w of this.#waiters.splice(0)) w();
  }

  #safe(): boolean {
    return this.#loaded >= this.threads && this.#running.size === 0;
  }

  #wake(): void {
    if (this.#safe()) for (const w of this.#waiters.splice(0)) w();
  }
}
