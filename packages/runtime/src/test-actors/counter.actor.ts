// A small actor used by the runtime's tests: state persisted to a file, calls that fail,
// crash or hang, and every kind of stream.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { interval, Observable, range } from 'rxjs';
import { defineActor } from '../actor.ts';

export interface CounterConfig {
  stateFile?: string;
  /** create() throws on the first start (0) or on restarts (>= 1). */
  failInitFrom?: number;
  /**
   * A test's hand on restarts (over a SharedArrayBuffer, so it reaches into the worker): on
   * each restart create() stores its restart number in gate[1], then waits until the test
   * stores an outcome in gate[0]: 1 go on, 2 throw, 3 end the thread. See create-gate.ts.
   */
  createGate?: Int32Array;
}

const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, index: number, value: number): { value: Promise<string> | string };
  }
).waitAsync;

async function passGate(gate: Int32Array, restart: number): Promise<void> {
  Atomics.store(gate, 1, restart);
  // Waits without blocking the thread, so the supervisor can still stop it meanwhile.
  while (Atomics.load(gate, 0) === 0) await waitAsync(gate, 0, 0).value;
  const outcome = Atomics.exchange(gate, 0, 0);
  if (outcome === 2) throw new Error(`create() told to fail (restart ${restart})`);
  if (outcome === 3) process.exit(3);
}

class CounterError extends Error {
  override readonly name = 'CounterError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export default defineActor({
  name: 'counter',
  // A call that never answers, while the tests go on calling (crash it, read its metrics).
  concurrent: ['hang'],
  async create(ctx, config: CounterConfig) {
    if (config.failInitFrom !== undefined && ctx.restarts >= config.failInitFrom) {
      throw new Error(`cannot start (restart ${ctx.restarts})`);
    }
    if (config.createGate && ctx.restarts > 0) await passGate(config.createGate, ctx.restarts);
    let count =
      config.stateFile && existsSync(config.stateFile) ? Number(readFileSync(config.stateFile, 'utf8')) : 0;
    let activeTicks = 0;
    return {
      add(n: number): number {
        count += n;
        if (config.stateFile) writeFileSync(config.stateFile, String(count));
        return count;
      },
      get: () => count,
      echo: <T>(value: T): T => value,
      transform(input: { items: number[]; label: string; big: bigint; bytes: Uint8Array }) {
        return {
          sum: input.items.reduce((a, b) => a + b, 0),
          label: input.label.toUpperCase(),
          big: input.big * 2n,
          bytes: input.bytes.map((b) => b ^ 0xff),
          map: new Map([['k', 1]]),
        };
      },
      fail(message: string): never {
        throw new CounterError('bad-thing', message);
      },
      where: () => ({ placement: ctx.placement, threadId, restarts: ctx.restarts }),
      crashSoon(): string {
        // Late enough that the answer to this call leaves the thread first.
        setTimeout(() => {
          throw new Error('deliberate uncaught exception');
        }, 20);
        return 'crashing';
      },
      exitSoon(code: number): string {
        setTimeout(() => process.exit(code), 20);
        return 'exiting';
      },
      hang: () => new Promise<never>(() => {}),
      /** Waits on a timer: the thread's event loop is idle meanwhile. */
      idle: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      busy(ms: number): number {
        const end = performance.now() + ms;
        let x = 0;
        while (performance.now() < end) x += Math.sqrt(x + 1);
        return x;
      },
      activeTicks: () => activeTicks,
      /** 0..n-1 emitted in chunks across macrotasks, like a real producer. */
      range$(n: number, chunk = 1000): Observable<number> {
        return new Observable<number>((sub) => {
          let i = 0;
          let timer: NodeJS.Immediate | undefined;
          const step = () => {
            const end = Math.min(n, i + chunk);
            for (; i < end; i++) sub.next(i);
            if (i >= n) sub.complete();
            else timer = setImmediate(step);
          };
          step();
          return () => timer && clearImmediate(timer);
        });
      },
      /** n items at once, synchronously: a producer that ignores demand. */
      burst$: (n: number) => range(0, n),
      failAfter$(n: number): Observable<number> {
        return new Observable<number>((sub) => {
          for (let i = 0; i < n; i++) sub.next(i);
          sub.error(new CounterError('stream-broke', `failed after ${n}`));
        });
      },
      ticks$(): Observable<number> {
        return new Observable<number>((sub) => {
          activeTicks++;
          const s = interval(1).subscribe(sub);
          return () => {
            activeTicks--;
            s.unsubscribe();
          };
        });
      },
      async *pulled$(n: number): AsyncGenerator<number> {
        for (let i = 0; i < n; i++) yield i;
      },
    };
  },
});
