/**
 * Benchmark harness. Each `*.bench.ts` in this folder default-exports a function that
 * measures something and calls `emit` once per figure; run.ts prints one JSON line per
 * figure. Figures compared with LDK carry `ldk` and `ratio` (lnkit / LDK) on the same line.
 */
export interface BenchFigure {
  /** e.g. "crypto.verify" */
  name: string;
  value: number;
  unit: string;
  /** Free-form labels: backend, batch size, placement ... */
  [label: string]: string | number | boolean | undefined;
}

export type Emit = (figure: BenchFigure) => void;
export type Bench = (emit: Emit) => Promise<void>;

/** Runs `fn` repeatedly for about `ms` milliseconds (after a short warm-up); returns ops/s. */
export async function opsPerSecond(
  fn: () => unknown | Promise<unknown>,
  ms = 1000,
  batch = 1,
): Promise<number> {
  const warmUntil = performance.now() + Math.min(200, ms / 5);
  while (performance.now() < warmUntil) await fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    await fn();
    ops += batch;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

/** Same as opsPerSecond for synchronous code, without an await per call. */
export function opsPerSecondSync(fn: () => unknown, ms = 1000, batch = 1): number {
  const warmUntil = performance.now() + Math.min(200, ms / 5);
  while (performance.now() < warmUntil) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 16; i++) fn();
    ops += 16 * batch;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
