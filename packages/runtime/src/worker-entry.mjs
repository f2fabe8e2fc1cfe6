// Entry of every actor worker thread. In a source checkout the runtime is TypeScript, so
// tsx's loader is registered in this thread first (Node 20 workers do not inherit --import).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('./worker-main.ts', import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('./worker-main.js', import.meta.url).href);
}
