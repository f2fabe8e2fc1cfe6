// Signer pool worker entry. In a source checkout the tasks are TypeScript, so tsx's loader is
// registered in this thread first (Node 20 workers do not inherit --import).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerData } from 'piscina';

const source = new URL('./signer-pool-tasks.ts', import.meta.url);
let tasks;
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  tasks = await import(source.href);
} else {
  tasks = await import(new URL('./signer-pool-tasks.js', import.meta.url).href);
}
tasks.startNodeKeyLane(workerData.seedFile, workerData.nodeKeyLane);
// Loaded: the pool may now terminate this thread safely (@lnkit/crypto pool-close-guard.ts says why).
if (workerData.readyChannel) {
  const channel = new BroadcastChannel(workerData.readyChannel);
  channel.postMessage(0);
  channel.close();
}

export default function run(task) {
  return tasks.runSignerTask(workerData.seedFile, task);
}
