// Piscina worker entry. In a source checkout the tasks are TypeScript, so tsx's loader is
// registered in this thread first (Node 20 workers do not inherit --import).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerData } from 'piscina';

const source = new URL('./pool-tasks.ts', import.meta.url);
let tasks;
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  tasks = await import(source.href);
} else {
  tasks = await import(new URL('./pool-tasks.js', import.meta.url).href);
}
// Loaded: the pool may now terminate this thread safely (pool-close-guard.ts says why).
announceReady(workerData?.readyChannel);

function announceReady(name) {
  if (!name) return;
  const channel = new BroadcastChannel(name);
  channel.postMessage(0);
  channel.close();
}

export default function run(task) {
  return tasks.runTask(task);
}
