import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { nextEvent, waitFor } from '@lnkit/test-support';
import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import {
  type ActorHandle,
  type ApiOf,
  actorLogger,
  createRootLogger,
  Supervisor,
  spawn,
  toPrometheus,
} from './index.ts';
import type counterDef from './test-actors/counter.actor.ts';
import { counterActor } from './test-actors/counter.module.ts';
import { crashSoon } from './test-actors/crash.ts';
import { CreateGate } from './test-actors/create-gate.ts';

type CounterApi = ApiOf<typeof counterDef>;
const quiet = createRootLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'lnkit-runtime-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function both(fn: (h: ActorHandle<CounterApi>) => Promise<unknown>): Promise<[unknown, unknown]> {
  const w = await spawn(counterActor, { placement: 'worker', config: {}, logger: quiet });
  const p = await spawn(counterActor, { placement: 'in-process', config: {}, logger: quiet });
  try {
    return [await fn(w), await fn(p)];
  } finally {
    await w.stop();
    await p.stop();
  }
}

async function errorOf(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { code?: string };
    return { name: err.name, message: err.message, code: err.code };
  }
  assert.fail('expected a rejection');
}

describe('location transparency', () => {
  test('a worker actor runs on another thread, an in-process one on this thread', async () => {
    const [w, p] = (await both((h) => h.ref.where())) as { threadId: number; placement: string }[];
    assert.notEqual(w!.threadId, threadId);
    assert.equal(p!.threadId, threadId);
    assert.equal(w!.placement, 'worker');
    assert.equal(p!.placement, 'in-process');
  });

  test('the same calls give identical results in a worker and in-process', async () => {
    const input = { items: [1, 2, 3, 40], label: 'abc', big: 2n ** 70n, bytes: new Uint8Array([0, 1, 254]) };
    const [w, p] = await both(async (h) => ({
      adds: [await h.ref.add(5), await h.ref.add(-2), await h.ref.get()],
      echo: await h.ref.echo({ nested: [1, 'two', null], when: new Date(0) }),
      transformed: await h.ref.transform(input),
      error: await errorOf(h.ref.fail('no good')),
      unknown: await errorOf((h.ref as unknown as { nope(): Promise<unknown> }).nope()),
      stream: await lastValueFrom(h.ref.range$(2500, 100).pipe(toArray())),
      streamError: await errorOf(lastValueFrom(h.ref.failAfter$(3))),
      pulled: await lastValueFrom(h.ref.pulled$(10).pipe(toArray())),
    }));
    assert.deepEqual(w, p);
    const r = w as { adds: number[]; error: Record<string, unknown>; transformed: { big: bigint } };
    assert.deepEqual(r.adds, [5, 3, 3]);
    assert.deepEqual(r.error, { name: 'CounterError', message: 'no good', code: 'bad-thing' });
    assert.equal(r.transformed.big, 2n ** 71n);
  });
});

test('an argument a worker cannot receive is a not-cloneable RuntimeError, for calls and streams', async () => {
  const h = await spawn(counterActor, { config: {}, logger: quiet });
  try {
    const call = await errorOf(h.ref.echo(() => 1));
    assert.equal(call.name, 'RuntimeError');
    assert.equal(call.code, 'not-cloneable');
    assert.match(String(call.message), /counter\.echo cannot be copied/);
    const stream = await errorOf(lastValueFrom(h.ref.range$(Symbol('n') as unknown as number)));
    assert.equal(stream.code, 'not-cloneable');
    assert.equal(await h.ref.add(2), 2, 'the actor is unharmed');
  } finally {
    await h.stop();
  }
});

describe('streams across threads', () => {
  for (const kind of ['Observable', 'AsyncIterable'] as const) {
    test(`100,000 items from an ${kind} arrive in order and complete`, async () => {
      // An Observable cannot be paused, so a producer that ignores demand is allowed to run
      // ahead up to the high-water mark; the AsyncIterable is pulled with the default bounds.
      const h = await spawn(counterActor, {
        config: {},
        logger: quiet,
        ...(kind === 'Observable' ? { stream: { highWaterMark: 200_000 } } : {}),
      });
      try {
        let expected = 0;
        let outOfOrder = 0;
        await new Promise<void>((resolve, reject) => {
          (kind === 'Observable' ? h.ref.range$(100_000) : h.ref.pulled$(100_000)).subscribe({
            next: (v) => {
              if (v !== expected) outOfOrder++;
              expected++;
            },
            error: reject,
            complete: resolve,
          });
        });
        assert.equal(expected, 100_000);
        assert.equal(outOfOrder, 0);
      } finally {
        await h.stop();
      }
    });
  }

  test('an error crosses after the items emitted before it', async () => {
    const h = await spawn(counterActor, { config: {}, logger: quiet });
    try {
      const seen: number[] = [];
      const err = await new Promise<Error & { code?: string }>((resolve) => {
        h.ref.failAfter$(5).subscribe({
          next: (v) => seen.push(v),
          error: resolve,
          complete: () => resolve(new Error('completed')),
        });
      });
      assert.deepEqual(seen, [0, 1, 2, 3, 4]);
      assert.equal(err.code, 'stream-broke');
      assert.equal(err.message, 'failed after 5');
    } finally {
      await h.stop();
    }
  });

  test('unsubscribing stops the source in the worker', async () => {
    const h = await spawn(counterActor, { config: {}, logger: quiet });
    try {
      const got = await firstValueFrom(h.ref.ticks$().pipe(take(3), toArray()));
      assert.deepEqual(got, [0, 1, 2]);
      // take(3) unsubscribed; the cancel message must reach the producer.
      await waitFor(async () => (await h.ref.activeTicks()) === 0, {
        what: 'the producer to be unsubscribed',
      });
    } finally {
      await h.stop();
    }
  });

  test('a slow consumer of a producer that ignores demand gets stream-overflow, not unbounded memory', async () => {
    const h = await spawn(counterActor, {
      config: {},
      logger: quiet,
      stream: { window: 64, highWaterMark: 1000 },
    });
    try {
      let received = 0;
      const err = await new Promise<Error & { code?: string }>((resolve) => {
        h.ref.burst$(50_000).subscribe({
          next: () => {
            received++;
          },
          error: resolve,
          complete: () => resolve(new Error('completed')),
        });
      });
      assert.equal(err.code, 'stream-overflow');
      assert.ok(received <= 1000, `received ${received}`);
      const m = await h.metrics();
      assert.equal(m.streamBuffered, 0, 'the producer buffer is released');
    } finally {
      await h.stop();
    }
  });

  test('with overflow drop-oldest, a slow consumer gets the newest items in order and the completion', async () => {
    const h = await spawn(counterActor, {
      config: {},
      logger: quiet,
      stream: { window: 64, highWaterMark: 1000, overflow: 'drop-oldest' },
    });
    try {
      // 50,000 items emitted at once: at most 1000 wait for credit, the oldest are dropped.
      const got = await lastValueFrom(h.ref.burst$(50_000).pipe(toArray()));
      assert.equal(got.length, 1000);
      assert.deepEqual(
        got,
        Array.from({ length: 1000 }, (_, i) => 49_000 + i),
      );
      assert.equal((await h.metrics()).streamBuffered, 0);
    } finally {
      await h.stop();
    }
  });

  test('an AsyncIterable source is pulled on demand: a large stream with a small window does not overflow', async () => {
    const h = await spawn(counterActor, {
      config: {},
      logger: quiet,
      stream: { window: 16, highWaterMark: 32 },
    });
    try {
      const all = await lastValueFrom(h.ref.pulled$(5000).pipe(toArray()));
      assert.equal(all.length, 5000);
      assert.equal(all[4999], 4999);
    } finally {
      await h.stop();
    }
  });
});

describe('supervision', () => {
  test('an uncaught exception: waiting callers get actor-crashed, the actor restarts from its persisted state', async () => {
    const stateFile = join(dir, 'count-crash');
    const h = await spawn(counterActor, {
      config: { stateFile },
      logger: quiet,
      restart: { initialBackoffMs: 20 },
    });
    try {
      assert.equal(await h.ref.add(7), 7);
      const waiting = h.ref.hang();
      const openStream = errorOf(lastValueFrom(h.ref.ticks$()));
      // The stream's producer runs (and hang(), sent before it, has arrived) before the crash.
      await waitFor(async () => (await h.ref.activeTicks()) === 1, { what: 'the tick stream to open' });
      await crashSoon(h);
      const e = await errorOf(waiting);
      assert.equal(e.code, 'actor-crashed');
      assert.match(String(e.message), /deliberate uncaught exception/);
      assert.equal((await openStream).code, 'actor-crashed');
      // The next call waits for the new incarnation, which read its state back.
      assert.equal(await h.ref.get(), 7);
      assert.equal((await h.ref.where()).restarts, 1);
      assert.equal(h.restarts(), 1);
      assert.equal((await h.metrics()).restarts, 1);
    } finally {
      await h.stop();
    }
  });

  test('process.exit inside the worker is a crash too, and is restarted', async () => {
    const stateFile = join(dir, 'count-exit');
    const events: string[] = [];
    const h = await spawn(counterActor, {
      config: { stateFile },
      logger: quiet,
      restart: { initialBackoffMs: 20 },
    });
    h.events$.subscribe((e) => events.push(e.type));
    try {
      await h.ref.add(3);
      const waiting = h.ref.hang();
      await h.ref.exitSoon(3);
      assert.equal((await errorOf(waiting)).code, 'actor-crashed');
      assert.equal(await h.ref.add(1), 4);
      assert.deepEqual(events.slice(0, 3), ['crashed', 'restart-scheduled', 'started']);
    } finally {
      await h.stop();
    }
  });

  test('an actor whose create() fails: spawn rejects with actor-init-failed and leaves no thread behind', async () => {
    await assert.rejects(
      spawn(counterActor, { config: { failInitFrom: 0 }, logger: quiet }),
      (e: Error & { code?: string }) => e.code === 'actor-init-failed' && /cannot start/.test(e.message),
    );
  });

  test('a restart whose create() fails counts as another crash, until the supervisor gives up', async () => {
    const h = await spawn(counterActor, {
      config: { failInitFrom: 1 },
      logger: quiet,
      restart: { maxRestarts: 2, initialBackoffMs: 10 },
    });
    const events: string[] = [];
    h.events$.subscribe((e) => events.push(e.type));
    try {
      const gaveUp = firstValueFrom(h.events$.pipe(filter((e) => e.type === 'stopped')));
      await crashSoon(h);
      assert.deepEqual(await gaveUp, { type: 'stopped', actor: 'counter', reason: 'gave-up' });
      assert.equal(events.filter((e) => e === 'crashed').length, 3);
      assert.equal((await errorOf(h.ref.get())).code, 'actor-stopped');
    } finally {
      await h.stop();
    }
  });

  test('a call made while restarts keep failing gets actor-stopped when the supervisor gives up, not a hang', async () => {
    const h = await spawn(counterActor, {
      config: { failInitFrom: 1 },
      logger: quiet,
      restart: { maxRestarts: 3, initialBackoffMs: 20 },
    });
    try {
      const crashed = firstValueFrom(h.events$.pipe(filter((e) => e.type === 'crashed')));
      await crashSoon(h);
      await crashed;
      // Made while the actor is down; three restarts fail after it.
      assert.equal((await errorOf(h.ref.get())).code, 'actor-stopped');
    } finally {
      await h.stop();
    }
  });

  test('a call made while the actor restarts waits for its create() to finish, even a slow one', async () => {
    const stateFile = join(dir, 'count-slow');
    const gate = new CreateGate();
    const h = await spawn(counterActor, {
      config: { stateFile, createGate: gate.cells },
      logger: quiet,
      restart: { initialBackoffMs: 10 },
    });
    try {
      await h.ref.add(5);
      await crashSoon(h);
      await gate.reached(1); // the new thread is up, its create() is not
      const answer = h.ref.get();
      gate.release('ok');
      assert.equal(await answer, 5);
      assert.equal(h.restarts(), 1);
    } finally {
      await h.stop();
    }
  });

  test('stopping an actor rejects the calls waiting for its restart', async () => {
    const h = await spawn(counterActor, {
      config: {},
      logger: quiet,
      restart: { initialBackoffMs: 5000 },
    });
    const crashed = firstValueFrom(h.events$.pipe(filter((e) => e.type === 'crashed')));
    await crashSoon(h);
    await crashed;
    const waiting = errorOf(h.ref.get());
    await new Promise((r) => setImmediate(r)); // the call has reached the supervisor and waits
    await h.stop();
    assert.equal((await waiting).code, 'actor-stopped');
  });

  test('an actor that keeps crashing is given up on, and callers get actor-stopped', async () => {
    const h = await spawn(counterActor, {
      config: {},
      logger: quiet,
      restart: { maxRestarts: 1, initialBackoffMs: 10 },
    });
    try {
      const restarted = nextEvent(h.events$, (e) => e.type === 'started' && e.restarts === 1);
      await crashSoon(h);
      await restarted;
      const gaveUp = nextEvent(h.events$, (e) => e.type === 'stopped');
      await crashSoon(h);
      assert.deepEqual(await gaveUp, { type: 'stopped', actor: 'counter', reason: 'gave-up' });
      assert.equal((await errorOf(h.ref.get())).code, 'actor-stopped');
    } finally {
      await h.stop();
    }
  });
});

describe('metrics and profiling', () => {
  test('metrics count messages and latency, and render as Prometheus text', async () => {
    const sup = new Supervisor(quiet);
    try {
      const a = await sup.spawn(counterActor, { name: 'a', config: {} });
      const b = await sup.spawn(counterActor, {
        name: 'b',
        placement: 'in-process',
        config: {},
      });
      for (let i = 0; i < 10; i++) await a.ref.add(1);
      await b.ref.busy(30);
      // Never answered; stopping the actor ends it with actor-stopped.
      const hanging = errorOf(a.ref.hang());
      const snaps = await waitFor(
        async () => {
          const all = await sup.metrics();
          return all.find((s) => s.actor === 'a')?.queueDepth === 1 && all;
        },
        { what: 'the hanging call to reach the actor' },
      );
      const sa = snaps.find((s) => s.actor === 'a')!;
      const sb = snaps.find((s) => s.actor === 'b')!;
      assert.equal(sa.placement, 'worker');
      assert.ok(sa.messagesIn >= 11);
      assert.ok(sa.messagesOut >= 10);
      assert.equal(sa.latency.count, 10);
      assert.equal(sa.queueDepth, 1, 'the hanging call is in flight');
      assert.ok(sb.latency.sumMs >= 30);
      const text = toPrometheus(snaps);
      assert.match(text, /lnkit_actor_messages_in_total\{actor="a"\} \d+/);
      assert.match(text, /lnkit_actor_handling_seconds_count\{actor="a"\} 10/);
      await sup.stopAll();
      assert.equal((await hanging).code, 'actor-stopped');
    } finally {
      await sup.stopAll();
    }
  });

  test("event-loop utilisation is the actor thread's own: near 1 while it computes, low while it idles", async () => {
    const h = await spawn(counterActor, { config: {}, logger: quiet });
    try {
      // Each interval also holds the handling of its messages (active, and slow when the machine
      // is loaded) and the wait for this thread's next request (idle): 800 ms of computing, or
      // of waiting, keeps both small beside it.
      await h.metrics(); // start a fresh measuring interval
      await h.ref.busy(800);
      const busy = (await h.metrics()).eventLoopUtilization;
      // The mirror of busy(): the thread waits on its own timer, its event loop idle.
      await h.ref.idle(800);
      const idle = (await h.metrics()).eventLoopUtilization;
      assert.ok(busy > 0.6, `busy thread reported ${busy}`);
      assert.ok(idle < 0.3, `idle thread reported ${idle}`);
    } finally {
      await h.stop();
    }
  });

  test('one actor is CPU-profiled while another keeps answering', async () => {
    const sup = new Supervisor(quiet);
    try {
      const a = await sup.spawn(counterActor, { name: 'hot', config: {} });
      const b = await sup.spawn(counterActor, { name: 'other', config: {} });
      const path = join(dir, 'hot.cpuprofile');
      let profiled = false;
      const profiling = sup.profile('hot', 1, path).finally(() => {
        profiled = true;
      });
      const work = a.ref.busy(300);
      // The other actor is asked again and again until the profile is done: it must have answered meanwhile.
      let answeredDuring = 0;
      while (!profiled) {
        await b.ref.get();
        if (!profiled) answeredDuring++;
      }
      const result = await profiling;
      await work;
      assert.ok(answeredDuring > 0, 'the other actor answered while the profile was taken');
      assert.ok(result.samples > 0);
      const profile = JSON.parse(readFileSync(path, 'utf8')) as {
        nodes: { callFrame: { functionName: string } }[];
      };
      assert.ok(statSync(path).size > 0);
      assert.ok(
        profile.nodes.some((n) => n.callFrame.functionName === 'busy'),
        'the profile shows the busy function',
      );
      await assert.rejects(sup.profile('missing', 1, path), /no actor named missing/);
    } finally {
      await sup.stopAll();
    }
  });
});

describe('logging', () => {
  const readLines = (path: string) => {
    try {
      return readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { actor?: string; msg?: string; level: number });
    } catch {
      return [];
    }
  };
  const waitForLines = (path: string, pred: (l: { actor?: string; msg?: string }) => boolean) =>
    waitFor(() => readLines(path).some(pred), { what: `a matching line in ${path}` });

  test('a worker actor logs with its actor field, at the level given in its config', async () => {
    const debugFile = join(dir, 'debug.log');
    const warnFile = join(dir, 'warn.log');
    const d = await spawn(counterActor, {
      name: 'chatty',
      config: {},
      logger: quiet,
      logLevel: 'debug',
      logFile: debugFile,
    });
    const w = await spawn(counterActor, {
      name: 'terse',
      config: {},
      logger: quiet,
      logLevel: 'warn',
      logFile: warnFile,
    });
    await d.stop();
    await w.stop();
    assert.ok(await waitForLines(debugFile, (l) => l.actor === 'chatty' && l.msg === 'actor started'));
    assert.equal(
      readLines(warnFile).filter((l) => l.msg === 'actor started').length,
      0,
      'debug lines are not written at warn',
    );
  });

  test('secret-named fields are redacted wherever they sit in a log line', () => {
    const lines: string[] = [];
    const logger = createRootLogger({ level: 'info', destination: { write: (s: string) => lines.push(s) } });
    const child = actorLogger(logger, 'keys');
    child.info(
      { privateKey: 'aa11', seed: 'bb22', peer: { nodeSecret: 'cc33', preimage: 'dd44' }, token: 'ee55' },
      'loaded',
    );
    assert.equal(lines.length, 1);
    for (const secret of ['aa11', 'bb22', 'cc33', 'dd44', 'ee55'])
      assert.ok(!lines[0]!.includes(secret), `${secret} reached the log`);
    const line = JSON.parse(lines[0]!) as { actor: string; privateKey: string; peer: { nodeSecret: string } };
    assert.equal(line.actor, 'keys');
    assert.equal(line.privateKey, '[redacted]');
    assert.equal(line.peer.nodeSecret, '[redacted]');
  });

  test('a crash and the restart are logged by the supervisor, naming the actor', async () => {
    const lines: { actor?: string; msg?: string; restarts?: number }[] = [];
    const logger = createRootLogger({
      level: 'info',
      destination: { write: (s: string) => lines.push(JSON.parse(s)) },
    });
    const h = await spawn(counterActor, {
      name: 'fragile',
      config: {},
      logger,
      logLevel: 'silent',
      restart: { initialBackoffMs: 10 },
    });
    try {
      const restarted = firstValueFrom(
        h.events$.pipe(filter((e) => e.type === 'started' && e.restarts === 1)),
      );
      await crashSoon(h);
      await restarted;
      assert.ok(lines.some((l) => l.actor === 'fragile' && l.msg === 'actor crashed'));
      assert.ok(lines.some((l) => l.actor === 'fragile' && l.msg === 'actor restarted' && l.restarts === 1));
    } finally {
      await h.stop();
    }
  });
});
