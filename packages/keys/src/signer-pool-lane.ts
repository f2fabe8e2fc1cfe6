/**
 * The node key's ECDH lane: BOLT 8 handshakes ask the signer pool for ECDH with the node key
 * through shared memory instead of a pool task.
 *
 * Why: a pool task costs the calling thread about as much as the ECDH itself (Piscina's
 * bookkeeping and a structured clone each way; measured in the peer thread at 35–60 µs per
 * call against 90 µs for a native ECDH on a loaded machine), and a handshake makes one such
 * call per side. Through the lane the caller writes the 33-byte point into a slot of a
 * SharedArrayBuffer and wakes the workers; a worker claims the slot, writes the 32-byte
 * secret back and wakes the caller. The node key stays in the workers (only points and
 * secrets of the handshake cross), as with a task.
 *
 * Protocol: slot states go FREE → REQUESTED (caller) → CLAIMED (one worker, by
 * compare-exchange) → DONE or FAILED (that worker) → FREE (caller, once it has read the
 * answer). `posted` counts requests, so a worker that waits on it never misses one: it reads
 * the count, scans, and waits only while the count is unchanged. Workers wait with
 * Atomics.waitAsync, so the same threads keep running ordinary pool tasks (the pool runs with
 * `atomics: 'async'` for this). The caller never blocks: it waits with waitAsync too, and only
 * once its own synchronous work is done, so an answer that came meanwhile costs it no wake-up.
 */
import { KeysError, type KeysErrorCode } from './errors.ts';

const SLOTS = 64;
const SLOT_BYTES = 68; // 33 in (the point), 32 out (the secret), 3 spare; multiple of 4 for the views below
const HEADER_INTS = 2; // posted, closed
const POSTED = 0;
const CLOSED = 1;

const FREE = 0;
const REQUESTED = 1;
const CLAIMED = 2;
const DONE = 3;
const FAILED = 4;

/** Atomics.waitAsync (Node 16+), which the ES2022 lib of this repository does not declare. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      view: Int32Array,
      index: number,
      value: number,
      timeoutMs?: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** Why a worker could not answer, as the slot's first output byte carries it. */
const FAILURE_CODES: readonly KeysErrorCode[] = ['signer-failed', 'seed-unreadable'];

/**
 * A slot whose worker never answers (it died mid-request) is given up after this long, and
 * not reused. The handshake that waited has timed out long before (10 s by default). Checked
 * by one timer every SWEEP_MS rather than a timeout on each wait: a waitAsync with a timeout
 * costs the caller a timer task of its own on every call.
 */
const ANSWER_TIMEOUT_MS = 30_000;
const SWEEP_MS = 1000;

interface Views {
  header: Int32Array;
  states: Int32Array;
  bytes: Uint8Array;
}

function views(buffer: SharedArrayBuffer): Views {
  return {
    header: new Int32Array(buffer, 0, HEADER_INTS),
    states: new Int32Array(buffer, HEADER_INTS * 4, SLOTS),
    bytes: new Uint8Array(buffer, (HEADER_INTS + SLOTS) * 4, SLOTS * SLOT_BYTES),
  };
}

export function createLaneBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER_INTS + SLOTS) * 4 + SLOTS * SLOT_BYTES);
}

/** The calling side (the thread that owns the ChannelSignerPool). Not for use from several threads. */
export class NodeKeyLane {
  readonly #v: Views;
  readonly #free: number[] = [];
  /** When each slot in use was requested; NaN for a slot that is free. */
  readonly #requestedAt = new Float64Array(SLOTS).fill(Number.NaN);
  /** Slots given up on (see ANSWER_TIMEOUT_MS). */
  readonly #expired = new Uint8Array(SLOTS);
  #pending = 0;
  /**
   * Gives up on slots that waited too long; also holds the event loop open while answers are
   * awaited, which a pending waitAsync does not.
   */
  readonly #sweeper: NodeJS.Timeout;

  readonly #answerTimeoutMs: number;

  /** The timings are for tests; the defaults are ANSWER_TIMEOUT_MS and SWEEP_MS. */
  constructor(
    readonly buffer: SharedArrayBuffer,
    timing: { answerTimeoutMs?: number; sweepMs?: number } = {},
  ) {
    this.#v = views(buffer);
    this.#answerTimeoutMs = timing.answerTimeoutMs ?? ANSWER_TIMEOUT_MS;
    for (let i = SLOTS - 1; i >= 0; i--) this.#free.push(i);
    this.#sweeper = setInterval(() => this.#sweep(), timing.sweepMs ?? SWEEP_MS);
    this.#sweeper.unref();
  }

  /** ECDH with the node key, or undefined when every slot is in use (send a pool task instead). */
  ecdh(publicKey: Uint8Array): Promise<Uint8Array> | undefined {
    const { header, states, bytes } = this.#v;
    if (Atomics.load(header, CLOSED) !== 0) return undefined;
    const slot = this.#free.pop();
    if (slot === undefined) return undefined;
    bytes.set(publicKey, slot * SLOT_BYTES);
    this.#requestedAt[slot] = performance.now();
    Atomics.store(states, slot, REQUESTED);
    Atomics.add(header, POSTED, 1);
    // Every worker: one that is busy with a pool task would take the wake-up and leave it waiting.
    Atomics.notify(header, POSTED);
    if (this.#pending++ === 0) this.#sweeper.ref();
    return this.#answer(slot).finally(() => {
      if (--this.#pending === 0) this.#sweeper.unref();
    });
  }

  async #answer(slot: number): Promise<Uint8Array> {
    const { header, states, bytes } = this.#v;
    // Not waiting yet: the caller has its own work to do first (a handshake computes its
    // in-thread ECDH meanwhile), and a worker that answers before anyone waits wakes no one —
    // no task on this thread's event loop, no cross-thread wake-up. This await resumes at the
    // first microtask checkpoint, when the caller's synchronous work is done.
    await undefined;
    for (;;) {
      const state = Atomics.load(states, slot);
      if (state === DONE || state === FAILED) break;
      if (Atomics.load(header, CLOSED) !== 0)
        throw new KeysError('signer-unavailable', 'the signer pool is closed');
      if (this.#expired[slot]) {
        // The slot is not returned: a late answer must not land in a reused slot.
        throw new KeysError('signer-unavailable', 'the signer pool did not answer the node key ECDH');
      }
      const wait = waitAsync(states, slot, state);
      if (wait.async) await wait.value;
    }
    this.#requestedAt[slot] = Number.NaN;
    const out = slot * SLOT_BYTES + 33;
    const failed = Atomics.load(states, slot) === FAILED;
    const result = failed ? undefined : bytes.slice(out, out + 32);
    const code = FAILURE_CODES[bytes[out] ?? 0] ?? 'signer-failed';
    Atomics.store(states, slot, FREE);
    this.#free.push(slot);
    if (!result) throw new KeysError(code, 'node key ECDH failed in the signer pool');
    return result;
  }

  /** Wakes every waiting caller with 'signer-unavailable' and stops the workers' loops. */
  close(): void {
    const { header, states } = this.#v;
    Atomics.store(header, CLOSED, 1);
    Atomics.notify(header, POSTED);
    for (let i = 0; i < SLOTS; i++) Atomics.notify(states, i);
    clearInterval(this.#sweeper);
  }

  #sweep(): void {
    const now = performance.now();
    for (let slot = 0; slot < SLOTS; slot++) {
      // NaN (a free slot) is never past the deadline.
      if (!(now - this.#requestedAt[slot]! >= this.#answerTimeoutMs) || this.#expired[slot]) continue;
      this.#expired[slot] = 1;
      // Wakes the waiting caller, which sees the slot expired.
      Atomics.notify(this.#v.states, slot);
    }
  }
}

/**
 * The worker side: answers requests until the lane closes. `ecdh` throws a KeysError (its code
 * crosses) or anything else ('signer-failed'); the message does not cross, as it may name keys.
 */
export function serveNodeKeyLane(
  buffer: SharedArrayBuffer,
  ecdh: (publicKey: Uint8Array) => Uint8Array,
): void {
  const { header, states, bytes } = views(buffer);
  const serve = async () => {
    for (;;) {
      const seen = Atomics.load(header, POSTED);
      if (Atomics.load(header, CLOSED) !== 0) return;
      for (let slot = 0; slot < SLOTS; slot++) {
        if (Atomics.load(states, slot) !== REQUESTED) continue;
        if (Atomics.compareExchange(states, slot, REQUESTED, CLAIMED) !== REQUESTED) continue;
        const at = slot * SLOT_BYTES;
        let state = DONE;
        try {
          bytes.set(ecdh(bytes.slice(at, at + 33)), at + 33);
        } catch (e) {
          state = FAILED;
          const code = e instanceof KeysError ? FAILURE_CODES.indexOf(e.code) : 0;
          bytes[at + 33] = Math.max(code, 0);
        }
        Atomics.store(states, slot, state);
        Atomics.notify(states, slot);
      }
      const wait = waitAsync(header, POSTED, seen);
      if (wait.async) await wait.value;
    }
  };
  void serve();
}
