/**
 * `pnpm bench [NAME ...]`: runs every test/bench/*.bench.ts (or those whose file name
 * contains one of NAME) in turn and prints one JSON line per figure on stdout.
 * Progress goes to stderr so stdout stays machine-readable.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchFigure } from './harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const started = Date.now();
let failed = 0;
for (const file of files) {
  const t0 = Date.now();
  process.stderr.write(`# ${file} ...\n`);
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
    await mod.default((figure: BenchFigure) => {
      process.stdout.write(`${JSON.stringify(figure)}\n`);
    });
    process.stderr.write(`# ${file} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (e) {
    failed++;
    process.stderr.write(`# ${file} FAILED: ${(e as Error).stack ?? e}\n`);
  }
}
process.stderr.write(
  `# benchmarks finished in ${((Date.now() - started) / 1000).toFixed(1)} s, ${failed} failed\n`,
);
process.exit(failed ? 1 : 0);
