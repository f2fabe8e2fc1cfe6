/**
 * Step 18, background processing: the node's own timers, one per task the components asked for
 * (ctx.background): today the default fee estimator's refresh (step 1) and the default
 * broadcaster's rebroadcast (step 3); the manager and graph snapshots (step 17) and graph
 * pruning join them. A task still running when its next turn comes is not started twice; a
 * failing task is logged and runs again at its next turn.
 */
import type { NodeComponent } from '../component.ts';

export function backgroundStep(): NodeComponent {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();
  return {
    step: 18,
    name: 'background processing',
    start(ctx) {
      for (const task of ctx.background) {
        let busy = false;
        const timer = setInterval(() => {
          if (busy) return;
          busy = true;
          const run = (async () => {
            try {
              await task.run();
            } catch (err) {
              ctx.log.warn(
                { task: task.name, err: (err as Error).message },
                `background task ${task.name} failed`,
              );
            } finally {
              busy = false;
            }
          })();
          running.add(run);
          void run.finally(() => running.delete(run));
        }, task.everyMs);
        // The node's timers never keep the process alive on their own.
        timer.unref();
        timers.push(timer);
      }
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.all(running);
    },
  };
}
