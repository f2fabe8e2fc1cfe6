/**
 * Crash points, for tests only (the crash matrix, test/e2e/payments-crash-matrix.test.ts): a
 * way to SIGKILL the node at one exact step of a payment, to check that what it persisted up
 * to there is enough to end the payment exactly once after a restart.
 *
 * - `LNKIT_CRASH_AT=<point>:<n>` — at the n-th time `<point>` is reached in this thread, the
 *   process writes `lnkit-crash-point: SIGKILL at <point>:<n>` to stderr and SIGKILLs itself
 *   (from a worker thread too: the signal ends the whole process, which is what a crash is).
 * - `LNKIT_CRASH_TRACE=1` — every point reached is written to stderr as
 *   `lnkit-crash-point <point> <n>` (how a test finds the steps of a flow).
 * - `LNKIT_CRASH_FROM=SIGUSR2` — the counts start again from zero each time the process gets
 *   SIGUSR2 (it says `lnkit-crash-point counting`), and the armed point fires only after one:
 *   a test restarts a node armed for its next step, lets the restart's own steps (the
 *   reestablish, what the last crash left to finish) go by, then starts the count. The signal
 *   reaches the main thread only: the points counted this way are the main thread's (all of the
 *   manager's are).
 *
 * Both are read once, when this module loads. Unset — always, outside tests — a call is one
 * test of a constant: the point's name is only put together when a point is armed.
 *
 * The points (kind, detail):
 * - `sent`, message kind — a message handed to the peer link (channel-manager.ts `#send`);
 * - `received`, message kind — a channel message from a peer, decoded, before its channel has it;
 * - `handled`, message kind — the same once its channel handled it (its step's effects started);
 * - `monitor-persisted` — a monitor update answered completed, or its in-progress persist completed;
 * - `snapshot-written` — a channel snapshot write finished;
 * - `payments-written`, the write — a write to the payments' books finished (payments/store.ts).
 */
import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

interface Armed {
  point: string;
  n: number;
}

function parse(spec: string | undefined): Armed | undefined {
  if (!spec) return undefined;
  const at = spec.lastIndexOf(':');
  const n = Number(spec.slice(at + 1));
  if (at <= 0 || !Number.isSafeInteger(n) || n < 1)
    throw new Error(`LNKIT_CRASH_AT must be <point>:<n> with n ≥ 1, not ${JSON.stringify(spec)}`);
  return { point: spec.slice(0, at), n };
}

const armed = parse(process.env.LNKIT_CRASH_AT);
const tracing = process.env.LNKIT_CRASH_TRACE === '1';
/** Whether any point is armed or traced: callers need not test it, crashPoint does first. */
export const CRASH_POINTS_ON = armed !== undefined || tracing;
const reached = new Map<string, number>();
let counting = true;
if (CRASH_POINTS_ON && process.env.LNKIT_CRASH_FROM === 'SIGUSR2' && isMainThread) {
  counting = false;
  process.on('SIGUSR2', () => {
    reached.clear();
    counting = true;
    say('lnkit-crash-point counting');
  });
}

function say(line: string): void {
  try {
    writeSync(2, `${line}\n`);
  } catch {
    // stderr closed or full: the crash (or the trace) does not depend on being heard
  }
}

/** A step a crash may follow (see above). Does nothing unless LNKIT_CRASH_AT or LNKIT_CRASH_TRACE is set. */
export function crashPoint(kind: string, detail?: string): void {
  if (!CRASH_POINTS_ON) return;
  const point = detail === undefined ? kind : `${kind}:${detail}`;
  const n = (reached.get(point) ?? 0) + 1;
  reached.set(point, n);
  if (tracing) say(`lnkit-crash-point ${point} ${n}`);
  if (armed && counting && armed.point === point && armed.n === n) {
    say(`lnkit-crash-point: SIGKILL at ${point}:${n}`);
    process.kill(process.pid, 'SIGKILL');
  }
}
