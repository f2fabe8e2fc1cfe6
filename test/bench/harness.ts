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

/**
 * Measures arms side by side under the same load: each round runs every arm in turn for
 * slices of about `sliceMs`, over and over until each has run about `ms`, so that a change in
 * the machine's load (this one is shared) falls on every arm alike. Returns each arm's ops/s
 * per round; compare arms round by round (`medianRatio`).
 */
export async function interleaved(
  arms: Record<string, () => unknown | Promise<unknown>>,
  rounds: number,
  ms: number,
  sliceMs = 50,
): Promise<Record<string, number[]>> {
  const names = Object.keys(arms);
  for (const name of names) await opsPerSecond(arms[name]!, 200);
  const out: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    const ops = names.map(() => 0);
    const spent = names.map(() => 0);
    while (spent.some((t) => t < ms)) {
      for (let i = 0; i < names.length; i++) {
        const fn = arms[names[i]!]!;
        const start = performance.now();
        let now = start;
        let n = 0;
        while (now - start < sliceMs) {
          await fn();
          n++;
          now = performance.now();
        }
        ops[i]! += n;
        spent[i]! += now - start;
      }
    }
    for (const [i, name] of names.entries()) out[name]!.push((ops[i]! * 1000) / spent[i]!);
  }
  return out;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The median of the round-by-round ratios of `a` to `b` (rounds from `interleaved`). */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}
