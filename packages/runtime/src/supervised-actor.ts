/**
 * A supervised actor: the sequence of its incarnations (worker-thread.ts) under its restart
 * policy (restart-policy.ts), as an explicit state machine:
 *
 *   starting ──ready──► running ──death──► backoff ──timer──► creating ──ready──► running
 *                                  │         ▲                   │ death or create() fails
 *                                  │         └───────────────────┘
 *                                  └── (too many crashes) ──► gave-up
 *   any state ──stop()──► stopped
 *
 * The guarantee it keeps: whoever asks for the actor (acquire) gets a live incarnation, waits
 * for the next one while it is down (backoff or creating), or is refused with actor-stopped once
 * it is stopped or given up on. The waiting callers are released on each of those transitions,
 * so none is left pending; the backoff timer is a pending restart and holds the process open
 * until it fires or stop() cancels it.
 */
import { type Observable, Subject } from 'rxjs';
import { RuntimeError } from './errors.ts';
import type { Logger } from './logger.ts';
import { type Crash, nextAction, type RestartPolicy, relevantCrashes } from './restart-policy.ts';
import type { Scheduler, Timer } from './scheduler.ts';

export type ActorEvent =
  | { type: 'started'; actor: string; restarts: number }
  | { type: 'crashed'; actor: string; reason: string; restarts: number }
  | { type: 'restart-scheduled'; actor: string; inMs: number }
  | { type: 'stopped'; actor: string; reason: 'requested' | 'gave-up' };

/** What the supervisor needs of one incarnation (WorkerThread; a fake in unit tests). */
export interface Incarnation {
  /** The API's method names once create() has finished; rejects if it failed or the thread died first. */
  readonly ready: Promise<readonly string[]>;
  readonly alive: boolean;
  /** Stops the actor cleanly, then ends the thread; calls in flight get actor-stopped. */
  stop(): Promise<void>;
  /** Ends the thread now; calls in flight get `reason`. */
  kill(reason: Error): Promise<void>;
}

export type SupervisedStatus = 'starting' | 'running' | 'restarting' | 'gave-up' | 'stopped';

export interface SupervisedActorOptions<T extends Incarnation> {
  name: string;
  policy: RestartPolicy;
  scheduler: Scheduler;
  log: Logger;
  /** Starts incarnation number `restarts` (0 is the first); it reports its own death, once, through `onDeath`. */
  start(restarts: number, onDeath: (reason: string) => void): T;
}

type State<T> =
  | { kind: 'starting'; thread: T }
  | { kind: 'running'; thread: T; startedAtMs: number }
  | { kind: 'backoff'; timer: Timer }
  | { kind: 'creating'; thread: T; startedAtMs: number }
  | { kind: 'gave-up' }
  | { kind: 'stopped' };

export class SupervisedActor<T extends Incarnation> {
  private readonly events = new Subject<ActorEvent>();
  readonly events$: Observable<ActorEvent> = this.events.asObservable();
  private state: State<T> = { kind: 'stopped' };
  private crashes: Crash[] = [];
  private restartCount = 0;
  private apiMethods: readonly string[] | undefined;
  private waiting: { promise: Promise<T>; resolve(t: T): void; reject(e: Error): void } | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: SupervisedActorOptions<T>) {}

  get name(): string {
    return this.options.name;
  }

  get status(): SupervisedStatus {
    const k = this.state.kind;
    return k === 'backoff' || k === 'creating' ? 'restarting' : k;
  }

  get restarts(): number {
    return this.restartCount;
  }

  /** The API's method names, once an incarnation has come up. */
  get methods(): readonly string[] | undefined {
    return this.apiMethods;
  }

  /**
   * Starts the first incarnation. If its create() fails, or its thread dies before it is up,
   * this rejects and leaves no thread behind: nothing was running, so nothing is restarted.
   */
  async start(): Promise<void> {
    const { thread, startedAtMs } = this.startThread(0);
    this.state = { kind: 'starting', thread };
    try {
      this.apiMethods = await thread.ready;
      if (!thread.alive) throw this.crashedError('its thread ended as it started');
    } catch (e) {
      this.state = { kind: 'stopped' };
      await thread.kill(e as Error);
      this.events.complete();
      throw e;
    }
    this.state = { kind: 'running', thread, startedAtMs };
    this.emit({ type: 'started', actor: this.name, restarts: 0 });
  }

  /** A live incarnation to call: at once, after the restart under way, or actor-stopped. */
  acquire(): Promise<T> {
    const s = this.state;
    switch (s.kind) {
      case 'running':
        return Promise.resolve(s.thread);
      case 'backoff':
      case 'creating':
        return this.waitForNext();
      case 'gave-up':
        return Promise.reject(this.stoppedError('kept crashing and was stopped'));
      default:
        return Promise.reject(this.stoppedError('is stopped'));
    }
  }

  /** Stops the actor in whatever state it is; calls waiting for a restart get actor-stopped. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.stopNow();
    return this.stopped;
  }

  private async stopNow(): Promise<void> {
    const s = this.state;
    this.state = { kind: 'stopped' };
    this.release(this.stoppedError('is stopped'));
    if (s.kind === 'backoff') s.timer.cancel();
    if (s.kind === 'running' || s.kind === 'creating' || s.kind === 'starting') await s.thread.stop();
    if (s.kind !== 'gave-up') this.emit({ type: 'stopped', actor: this.name, reason: 'requested' });
    this.events.complete();
  }

  // --- transitions ---

  /** Starts incarnation `restarts`; its death counts only while it is the running or creating one. */
  private startThread(restarts: number): { thread: T; startedAtMs: number } {
    const startedAtMs = this.options.scheduler.now();
    let onDeath = (_reason: string) => {};
    const thread = this.options.start(restarts, (reason) => onDeath(reason));
    onDeath = (reason) => this.died(thread, startedAtMs, reason);
    return { thread, startedAtMs };
  }

  private launch(): void {
    this.restartCount++;
    const restarts = this.restartCount;
    const { thread, startedAtMs } = this.startThread(restarts);
    this.state = { kind: 'creating', thread, startedAtMs };
    thread.ready.then(
      (methods) => {
        // It may have died, or the actor been stopped, between answering and now.
        if (!this.isCurrent(thread, 'creating') || !thread.alive) return;
        this.apiMethods = methods;
        this.state = { kind: 'running', thread, startedAtMs };
        this.options.log.warn({ restarts }, 'actor restarted');
        this.waiting?.resolve(thread);
        this.waiting = undefined;
        this.emit({ type: 'started', actor: this.name, restarts });
      },
      (err: Error) => {
        // A create() that fails is a crash like any other. (If the thread died instead, its
        // death was reported already and it is no longer current.)
        if (!this.isCurrent(thread, 'creating')) return;
        this.options.log.error({ err: err.message }, 'actor failed to start again');
        void thread.kill(err);
        this.crashed(startedAtMs, `create() failed: ${err.message}`);
      },
    );
  }

  private died(thread: T, startedAtMs: number, reason: string): void {
    if (!this.isCurrent(thread, 'running') && !this.isCurrent(thread, 'creating')) return;
    void thread.kill(this.crashedError(reason));
    this.crashed(startedAtMs, reason);
  }

  private crashed(startedAtMs: number, reason: string): void {
    const { policy, scheduler, log } = this.options;
    this.crashes = relevantCrashes([...this.crashes, { startedAtMs, crashedAtMs: scheduler.now() }], policy);
    const decision = nextAction(this.crashes, policy);
    const { consecutiveCrashes } = decision;
    log.error({ reason, restarts: this.restartCount, consecutiveCrashes }, 'actor crashed');
    const crashed: ActorEvent = { type: 'crashed', actor: this.name, reason, restarts: this.restartCount };
    // The state moves before the events go out, so a listener that acts on one (stops the
    // actor, calls it) sees where the actor really is.
    if ('giveUp' in decision) {
      this.state = { kind: 'gave-up' };
      log.error({ consecutiveCrashes }, 'actor keeps crashing; supervisor gave up');
      this.release(this.stoppedError('kept crashing and was stopped'));
      this.emit(crashed);
      this.emit({ type: 'stopped', actor: this.name, reason: 'gave-up' });
      return;
    }
    const timer = scheduler.setTimer(() => {
      if (this.state.kind === 'backoff' && this.state.timer === timer) this.launch();
    }, decision.restartInMs);
    this.state = { kind: 'backoff', timer };
    this.emit(crashed);
    this.emit({ type: 'restart-scheduled', actor: this.name, inMs: decision.restartInMs });
  }

  // --- helpers ---

  private isCurrent(thread: T, kind: 'running' | 'creating'): boolean {
    return this.state.kind === kind && this.state.thread === thread;
  }

  private waitForNext(): Promise<T> {
    if (!this.waiting) {
      let resolve!: (t: T) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {});
      this.waiting = { promise, resolve, reject };
    }
    return this.waiting.promise;
  }

  private release(e: Error): void {
    this.waiting?.reject(e);
    this.waiting = undefined;
  }

  private emit(e: ActorEvent): void {
    this.events.next(e);
  }

  private stoppedError(why: string): RuntimeError {
    return new RuntimeError('actor-stopped', `actor ${this.name} ${why}`, this.name);
  }

  private crashedError(reason: string): RuntimeError {
    return new RuntimeError('actor-crashed', `actor ${this.name} crashed: ${reason}`, this.name);
  }
}
