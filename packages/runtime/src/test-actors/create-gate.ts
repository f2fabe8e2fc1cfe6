// The test's side of the counter actor's createGate: see when a restart's create() has begun,
// and decide how it ends, so a test can act while the new thread is up but not yet ready.
import { waitFor } from '@lnkit/test-support';

const OUTCOME = { ok: 1, throw: 2, exit: 3 } as const;

export class CreateGate {
  readonly cells = new Int32Array(new SharedArrayBuffer(8));

  /** Resolves once the create() of restart `restart` (1, 2, ...) is waiting at the gate. */
  async reached(restart: number): Promise<void> {
    await waitFor(() => Atomics.load(this.cells, 1) >= restart, {
      what: `create() of restart ${restart} to begin`,
    });
  }

  /** Lets the waiting create() go on, throw, or end its thread. */
  release(outcome: keyof typeof OUTCOME): void {
    Atomics.store(this.cells, 0, OUTCOME[outcome]);
    Atomics.notify(this.cells, 0);
  }
}
