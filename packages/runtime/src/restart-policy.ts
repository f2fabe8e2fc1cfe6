/**
 * When a crashed actor is started again, as pure functions of its crash history: exponential
 * backoff from the number of consecutive crashes, a count that starts over after an incarnation
 * that lived `resetAfterMs`, and giving up after `maxRestarts` consecutive crashes. The
 * supervisor (supervised-actor.ts) feeds the history in and carries the decision out.
 */

export interface RestartPolicy {
  /** Consecutive crashes after which the actor is left stopped. */
  maxRestarts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** An incarnation that lived longer than this resets the crash count. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
  maxRestarts: 10,
  initialBackoffMs: 100,
  maxBackoffMs: 30_000,
  resetAfterMs: 60_000,
});

/** One incarnation that ended in a crash: when it started and when it died. */
export interface Crash {
  startedAtMs: number;
  crashedAtMs: number;
}

export type RestartDecision =
  | { restartInMs: number; consecutiveCrashes: number }
  | { giveUp: true; consecutiveCrashes: number };

/** A policy from spawn's `restart` option: `false` never restarts, a partial one fills in defaults. */
export function resolveRestartPolicy(
  option: Partial<RestartPolicy> | false | undefined,
  base: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartPolicy {
  if (option === false) return { ...base, maxRestarts: 0 };
  return { ...base, ...option };
}

/**
 * How many crashes in a row end the history: counted back from the last one, up to and
 * including the first whose incarnation had lived long enough to reset the count.
 */
export function consecutiveCrashes(history: readonly Crash[], policy: RestartPolicy): number {
  let n = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    n++;
    const c = history[i]!;
    if (c.crashedAtMs - c.startedAtMs > policy.resetAfterMs) break;
  }
  return n;
}

export function backoffMs(consecutive: number, policy: RestartPolicy): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, consecutive - 1));
}

/** What to do after the last crash in `history`. */
export function nextAction(history: readonly Crash[], policy: RestartPolicy): RestartDecision {
  const n = consecutiveCrashes(history, policy);
  if (n > policy.maxRestarts) return { giveUp: true, consecutiveCrashes: n };
  return { restartInMs: backoffMs(n, policy), consecutiveCrashes: n };
}

/** The part of the history the next decision can still depend on (so it stays bounded). */
export function relevantCrashes(history: readonly Crash[], policy: RestartPolicy): Crash[] {
  return history.slice(history.length - consecutiveCrashes(history, policy));
}
