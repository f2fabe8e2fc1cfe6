// The supervisor's state machine without threads: fake incarnations the test starts, fails and
// kills by hand, and restart timers it fires itself. Each test walks one path through
// starting / running / restarting / gave-up / stopped and checks where the waiting callers end up.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { captureLogger } from '@lnkit/test-support';
import { RuntimeError } from './errors.ts';
import type { RestartPolicy } from './restart-policy.ts';
import { type ActorEvent, type Incarnation, SupervisedActor } from './supervised-actor.ts';
import { ManualScheduler } from './test-actors/manual-scheduler.ts';

class FakeThread implements Incarnation {
  readonly ready: Promise<string[]>;
  alive = true;
  stopped = false;
  killedWith: Error | undefined;
  private settle!: { resolve(m: string[]): void; reject(e: Error): void };

  constructor(
    readonly restarts: number,
    private readonly onDeath: (reason: string) => void,
  ) {
    this.ready = new Promise<string[]>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.ready.catch(() => {});
  }

  /** create() finished. */
  up(): void {
    this.settle.resolve(['get']);
  }

  /** create() threw. */
  failCreate(message: string): void {
    this.settle.reject(new RuntimeError('actor-init-failed', message));
  }

  /** The thread died on its own (uncaught exception, process.exit). */
  die(reason: string): void {
    this.alive = false;
    this.settle.reject(new RuntimeError('actor-crashed', reason));
    this.onDeath(reason);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.alive = false;
  }

  async kill(reason: Error): Promise<void> {
    this.killedWith ??= reason;
    this.alive = false;
  }
}

const POLICY: RestartPolicy = {
  maxRestarts: 2,
  initialBackoffMs: 100,
  maxBackoffMs: 1000,
  resetAfterMs: 60_000,
};

function rig(policy: Partial<RestartPolicy> = {}) {
  const scheduler = new ManualScheduler();
  const threads: FakeThread[] = [];
  const { logger, lines } = captureLogger();
  const actor = new SupervisedActor<FakeThread>({
    name: 'a',
    policy: { ...POLICY, ...policy },
    scheduler,
    log: logger,
    start: (restarts, onDeath) => {
      const t = new FakeThread(restarts, onDeath);
      threads.push(t);
      return t;
    },
  });
  const events: ActorEvent[] = [];
  actor.events$.subscribe((e) => events.push(e));
  const last = () => threads[threads.length - 1]!;
  return { actor, scheduler, threads, last, events, lines, types: () => events.map((e) => e.type) };
}

/** Starts the actor with its first incarnation up. */
async function running(policy: Partial<RestartPolicy> = {}) {
  const r = rig(policy);
  const started = r.actor.start();
  r.last().up();
  await started;
  return r;
}

/** A promise's outcome, readable without awaiting it. */
function track<T>(p: Promise<T>) {
  const t: { done: boolean; value?: T; code?: string } = { done: false };
  p.then(
    (v) => Object.assign(t, { done: true, value: v }),
    (e: { code?: string }) => Object.assign(t, { done: true, code: e.code }),
  );
  return t;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('starting', () => {
  test('the first incarnation up: running, and acquire gives it at once', async () => {
    const r = await running();
    assert.equal(r.actor.status, 'running');
    assert.deepEqual(r.actor.methods, ['get']);
    assert.equal(await r.actor.acquire(), r.threads[0]);
    assert.deepEqual(r.events, [{ type: 'started', actor: 'a', restarts: 0 }]);
  });

  test('a first create() that fails rejects start(), ends the thread and restarts nothing', async () => {
    const r = rig();
    const started = r.actor.start();
    r.last().failCreate('no config');
    await assert.rejects(started, /no config/);
    assert.equal(r.actor.status, 'stopped');
    assert.ok(r.threads[0]!.killedWith);
    assert.deepEqual(r.scheduler.pending(), []);
    assert.equal(r.threads.length, 1);
  });

  test('a first thread that dies before it is up rejects start(), and is not restarted', async () => {
    const r = rig();
    const started = r.actor.start();
    r.last().die('thread exited with code 1');
    await assert.rejects(started, /code 1/);
    assert.deepEqual(r.scheduler.pending(), []);
    assert.deepEqual(r.types(), []);
  });
});

describe('crash and restart', () => {
  test('a death while running: backoff, then a new incarnation; a caller meanwhile gets the new one', async () => {
    const r = await running();
    r.threads[0]!.die('uncaught Error: boom');
    assert.equal(r.actor.status, 'restarting');
    assert.deepEqual(r.scheduler.pending(), [100]);
    assert.deepEqual(r.types(), ['started', 'crashed', 'restart-scheduled']);
    const call = track(r.actor.acquire());
    r.scheduler.fireNext();
    assert.equal(r.threads.length, 2);
    assert.equal(r.last().restarts, 1);
    await turn();
    assert.equal(call.done, false, 'waits while create() runs');
    r.last().up();
    await turn();
    assert.equal(call.value, r.threads[1]);
    assert.equal(r.actor.status, 'running');
    assert.equal(r.actor.restarts, 1);
    assert.deepEqual(r.events.at(-1), { type: 'started', actor: 'a', restarts: 1 });
    assert.ok(r.lines.some((l) => l.msg === 'actor crashed' && l.reason === 'uncaught Error: boom'));
    assert.ok(r.lines.some((l) => l.msg === 'actor restarted' && l.restarts === 1));
  });

  test('a restart whose create() fails is a crash: the thread is ended and the next backoff is longer', async () => {
    const r = await running();
    r.threads[0]!.die('boom');
    r.scheduler.fireNext();
    r.last().failCreate('state unreadable');
    await turn();
    assert.ok(r.threads[1]!.killedWith, 'the failed incarnation is ended');
    assert.deepEqual(r.scheduler.pending(), [200]);
    const crashed = r.events.filter((e) => e.type === 'crashed');
    assert.match(
      String(crashed.at(-1)?.type === 'crashed' && crashed.at(-1)?.reason),
      /create\(\) failed: state unreadable/,
    );
    await r.actor.stop();
  });

  test('a thread that dies as its create() answers is not handed out: callers wait for the one after', async () => {
    const r = await running();
    r.threads[0]!.die('boom');
    const call = track(r.actor.acquire());
    r.scheduler.fireNext();
    r.last().up();
    r.last().die('exited right after create()'); // before the supervisor saw it come up
    await turn();
    assert.equal(call.done, false);
    assert.equal(r.actor.status, 'restarting');
    assert.equal(r.types().filter((t) => t === 'started').length, 1, 'only the first incarnation started');
    r.scheduler.fireNext();
    r.last().up();
    await turn();
    assert.equal(call.value, r.threads[2]);
  });

  test('a late death of an incarnation already replaced is ignored', async () => {
    const r = await running();
    const first = r.threads[0]!;
    first.die('boom');
    r.scheduler.fireNext();
    r.last().up();
    await turn();
    first.die('its exit event, late');
    assert.equal(r.actor.status, 'running');
    assert.deepEqual(r.scheduler.pending(), []);
  });

  test('the crash count starts over after an incarnation that lived resetAfterMs', async () => {
    const r = await running();
    for (const expected of [100, 200]) {
      r.last().die('boom');
      assert.deepEqual(r.scheduler.pending(), [expected]);
      r.scheduler.fireNext();
      r.last().up();
      await turn();
    }
    r.scheduler.advance(60_001);
    r.last().die('boom');
    assert.deepEqual(r.scheduler.pending(), [100]);
    await r.actor.stop();
  });
});

describe('giving up', () => {
  test('after maxRestarts consecutive crashes: gave-up, the waiting caller and later ones get actor-stopped', async () => {
    const r = await running();
    r.threads[0]!.die('boom');
    const call = track(r.actor.acquire());
    for (let i = 0; i < 2; i++) {
      r.scheduler.fireNext();
      r.last().failCreate('still broken');
      await turn();
    }
    assert.equal(r.actor.status, 'gave-up');
    assert.equal(call.code, 'actor-stopped');
    assert.deepEqual(r.scheduler.pending(), [], 'no restart is left pending');
    await assert.rejects(r.actor.acquire(), (e: RuntimeError) => e.code === 'actor-stopped');
    assert.deepEqual(r.types(), [
      'started',
      'crashed',
      'restart-scheduled',
      'crashed',
      'restart-scheduled',
      'crashed',
      'stopped',
    ]);
    assert.deepEqual(r.events.at(-1), { type: 'stopped', actor: 'a', reason: 'gave-up' });
  });

  test('stop() after giving up completes the events without a second stopped', async () => {
    const r = await running({ maxRestarts: 0 });
    r.threads[0]!.die('boom');
    let completed = false;
    r.actor.events$.subscribe({ complete: () => (completed = true) });
    await r.actor.stop();
    assert.ok(completed);
    assert.equal(r.types().filter((t) => t === 'stopped').length, 1);
  });
});

describe('stopping', () => {
  test('while running: the incarnation is stopped cleanly, and later callers get actor-stopped', async () => {
    const r = await running();
    await r.actor.stop();
    assert.ok(r.threads[0]!.stopped);
    assert.equal(r.actor.status, 'stopped');
    await assert.rejects(r.actor.acquire(), (e: RuntimeError) => e.code === 'actor-stopped');
    assert.deepEqual(r.events.at(-1), { type: 'stopped', actor: 'a', reason: 'requested' });
  });

  test('during the backoff: the timer is cancelled and the waiting caller gets actor-stopped', async () => {
    const r = await running();
    r.threads[0]!.die('boom');
    const call = track(r.actor.acquire());
    await r.actor.stop();
    await turn();
    assert.equal(call.code, 'actor-stopped');
    assert.deepEqual(r.scheduler.pending(), []);
    assert.equal(r.threads.length, 1, 'no incarnation was started');
  });

  test('while a restart is in create(): it is stopped, the caller gets actor-stopped, and its late ready is ignored', async () => {
    const r = await running();
    r.threads[0]!.die('boom');
    const call = track(r.actor.acquire());
    r.scheduler.fireNext();
    const creating = r.last();
    await r.actor.stop();
    assert.ok(creating.stopped);
    creating.up();
    await turn();
    assert.equal(call.code, 'actor-stopped');
    assert.equal(r.actor.status, 'stopped');
    assert.equal(r.types().filter((t) => t === 'started').length, 1);
  });

  test('a listener that stops the actor when it crashes leaves nothing scheduled', async () => {
    const r = await running();
    r.actor.events$.subscribe((e) => {
      if (e.type === 'crashed') void r.actor.stop();
    });
    r.threads[0]!.die('boom');
    await r.actor.stop();
    assert.equal(r.actor.status, 'stopped');
    assert.deepEqual(r.scheduler.pending(), []);
  });

  test('stop() twice is one stop', async () => {
    const r = await running();
    const a = r.actor.stop();
    const b = r.actor.stop();
    assert.equal(a, b);
    await a;
    assert.equal(r.types().filter((t) => t === 'stopped').length, 1);
  });
});
