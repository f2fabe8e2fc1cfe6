// Run in a child process by supervision.test.ts, so that nothing but the actor and its
// supervisor is alive in it: a call is made while the actor is down and every restart fails;
// it must settle (with actor-stopped, when the supervisor gives up) and the process must then
// exit on its own. A supervisor whose pending restart does not hold the process open lets the
// event loop empty instead, and the process ends with the call never answered (exit code 13).
import { createRootLogger, spawn } from '../index.ts';
import { counterActor } from './counter.module.ts';

const h = await spawn(counterActor, {
  config: { failInitFrom: 1 },
  logger: createRootLogger({ level: 'silent' }),
  restart: { maxRestarts: 3, initialBackoffMs: 20 },
});
const crashed = new Promise<void>((resolve) =>
  h.events$.subscribe((e) => {
    if (e.type === 'crashed') resolve();
  }),
);
await h.ref.crashSoon();
await crashed;
let outcome: string;
try {
  outcome = `value ${await h.ref.get()}`;
} catch (e) {
  outcome = `error ${(e as { code?: string }).code}`;
}
await h.stop();
process.stdout.write(`${outcome}\n`);
