/**
 * The node is an ordered list of components, one per guide step that is built (steps/index.ts).
 * They start in order, each reading from the context what the steps before it provided; they
 * stop in reverse order. A build that fails part-way stops what had started, last first, and
 * rejects with the error that stopped it: actors hold threads and sockets, and a failed build
 * must leave a process that can exit.
 */
import type { Logger } from '@lnkit/runtime';
import type { NodeContext } from './context.ts';

export interface NodeComponent {
  /** The guide's step (0: the chain check the node makes before step 1). */
  readonly step: number;
  readonly name: string;
  start(ctx: NodeContext): Promise<void> | void;
  /**
   * Stops what this component started, and nothing the user supplied. Also called after its
   * own start() failed part-way, so it must stop only what is there.
   */
  stop?(): Promise<void> | void;
}

/** Starts each component in order; on a failure stops those started (and the failed one), then rejects. */
export async function startComponents(
  components: readonly NodeComponent[],
  ctx: NodeContext,
): Promise<NodeComponent[]> {
  const started: NodeComponent[] = [];
  for (const component of components) {
    started.push(component);
    try {
      await component.start(ctx);
    } catch (err) {
      ctx.log.debug(
        { step: component.step, component: component.name, err: (err as Error).message },
        `step ${component.step} (${component.name}) failed; stopping the steps started before it`,
      );
      await stopComponents(started, ctx.log);
      throw err;
    }
  }
  return started;
}

/** Stops components last first; a component that fails to stop is logged, and the rest still stop. */
export async function stopComponents(started: readonly NodeComponent[], log: Logger): Promise<void> {
  for (const component of [...started].reverse()) {
    try {
      await component.stop?.();
    } catch (err) {
      log.warn(
        { step: component.step, component: component.name, err: (err as Error).message },
        `step ${component.step} (${component.name}) did not stop cleanly`,
      );
    }
  }
}
