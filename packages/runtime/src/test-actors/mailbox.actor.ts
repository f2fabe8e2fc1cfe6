// An actor for the mailbox tests: calls whose bodies wait on gates the test opens, a log of
// when each body starts and ends, and calls that record their order. The same definition
// runs in a worker (spawn) and in the test's thread (spawnLocal).
import { range } from 'rxjs';
import { defineActor } from '../actor.ts';

class GateError extends Error {
  override readonly name = 'GateError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Gate {
  promise: Promise<void>;
  open(): void;
  fail(e: Error): void;
}

export default defineActor({
  name: 'mailbox',
  concurrent: [
    // The test's own controls: they must answer while a gated call holds the mailbox.
    'open',
    'log',
    'order',
    // Marked to show that a concurrent call runs alongside the one that holds the mailbox.
    'sideStep',
  ],
  create() {
    const log: string[] = [];
    const order: number[] = [];
    const gates = new Map<string, Gate>();
    let running = 0;
    let mostAtOnce = 0;
    const gate = (id: string): Gate => {
      let g = gates.get(id);
      if (!g) {
        let open!: () => void;
        let fail!: (e: Error) => void;
        const promise = new Promise<void>((resolve, reject) => {
          open = resolve;
          fail = reject;
        });
        promise.catch(() => {});
        g = { promise, open, fail };
        gates.set(id, g);
      }
      return g;
    };
    const gated = async (id: string): Promise<string> => {
      log.push(`start ${id}`);
      try {
        await gate(id).promise;
      } finally {
        log.push(`end ${id}`);
      }
      return id;
    };
    return {
      /** Logs its start, waits until the test calls open(id), logs its end. */
      step: (id: string): Promise<string> => gated(id),
      /** As step, then rejects. */
      async failStep(id: string): Promise<never> {
        await gated(id);
        throw new GateError('failed-on-purpose', `${id} failed`);
      },
      /** As step, but listed as concurrent. */
      sideStep: (id: string): Promise<string> => gated(id),
      /** Throws before returning anything. */
      throwNow(id: string): never {
        log.push(`threw ${id}`);
        throw new GateError('thrown-on-purpose', `${id} threw`);
      },
      /** 0..n-1, at once: a stream opened while a call holds the mailbox. */
      count$: (n: number) => range(0, n),
      open(id: string): void {
        gate(id).open();
      },
      log: (): string[] => [...log],
      /** Records `i` after `hops` turns of the event loop, and how many records ran at once. */
      async record(i: number, hops: number): Promise<number> {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        for (let k = 0; k < hops; k++) await new Promise((r) => setImmediate(r));
        order.push(i);
        running--;
        return i;
      },
      order: (): { order: number[]; mostAtOnce: number } => ({ order: [...order], mostAtOnce }),
      /** Fails every gate: what an actor's stop() does to the work it has in progress. */
      failAll(): void {
        for (const g of gates.values()) g.fail(new GateError('closed', 'actor stopped'));
      },
    };
  },
  stop(api) {
    api.failAll();
  },
});
