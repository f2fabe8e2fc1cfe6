/**
 * Step 18, background processing: the node's own timers, one per task the components asked for
 * (ctx.background): today the default fee estimator's refresh (step 1), the default
 * broadcaster's rebroadcast (step 3), and the scorer and the graph snapshot (step 12's gossip).
 * The manager's snapshot (step 17) needs no timer: the manager writes it on every change. A round starts only when the one before has
 * finished (chain-sync's timerScheduler), a failing round is logged and the task runs again at
 * its next turn, and stop() waits for a round under way.
 */
import { type IntervalScheduler, timerScheduler } from '@lnkit/chain-sync';
import type { NodeComponent } from '../component.ts';

export function backgroundStep(scheduler: IntervalScheduler = timerScheduler): NodeComponent {
  const timers: { cancel(): void }[] = [];
  const running = new Set<Promise<void>>();
  return {
    step: 18,
    name: 'background processing',
    start(ctx) {
      for (const task of ctx.background) {
        timers.push(
          scheduler.every(task.everyMs, () => {
            const round = (async () => {
              try {
                await task.run();
              } catch (err) {
                ctx.log.warn(
                  { task: task.name, err: (err as Error).message },
                  `background task ${task.name} failed; it runs again in ${task.everyMs} ms`,
                );
              }
            })();
            running.add(round);
            return round.finally(() => running.delete(round));
          }),
        );
      }
    },
    async stop() {
      for (const timer of timers) timer.cancel();
      await Promise.all(running);
    },
  };
}
