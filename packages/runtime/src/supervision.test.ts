// Every interleaving of crash, backoff timer, restart, create(), give-up and stop(), forced in a
// chosen order: the restart timers are fired by hand (ManualScheduler) and each restart's
// create() waits at a gate the test opens (CreateGate), so these run the same on a fast machine
// and a loaded one. What each checks: a call made in any of these states settles, with a value
// or a RuntimeError, and none is left waiting.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nextEvent, waitFor } from '@lnkit/test-support';
import { lastValueFrom, toArray } from 'rxjs';
import {
  type ActorEvent,
  type ActorHandle,
  type ApiOf,
  createRootLogger,
  type RestartPolicy,
  spawn,
} from './index.ts';
import type counterDef from './test-actors/counter.actor.ts';
import { counterActor } from './test-actors/counter.module.ts';
import { crashSoon } from './test-actors/crash.ts';
import { CreateGate } from './test-actors/create-gate.ts';
import { ManualScheduler } from './test-actors/manual-scheduler.ts';

type CounterApi = ApiOf<typeof counterDef>;
const quiet = createRootLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'lnkit-supervision-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Rig {
  h: ActorHandle<CounterApi>;
  scheduler: ManualScheduler;
  gate: CreateGate;
  events: ActorEvent[];
}

let files = 0;
async function rig(restart: Partial<RestartPolicy> = {}): Promise<Rig> {
  const scheduler = new ManualScheduler();
  const gate = new CreateGate();
  const h = await spawn(counterActor, {
    config: { stateFile: join(dir, `count-${files++}`), createGate: gate.cells },
    logger: quiet,
    scheduler,
    restart: { initialBackoffMs: 100, ...restart },
  });
  const events: ActorEvent[] = [];
  h.events$.subscribe((e) => events.push(e));
  return { h, scheduler, gate, events };
}

const is =
  <T extends ActorEvent['type']>(type: T) =>
  (e: ActorEvent) =>
    e.type === type;

/** Crashes the actor and returns once the supervisor has decided what to do about it. */
async function crash({ h }: Rig, then: 'restart-scheduled' | 'stopped' = 'restart-scheduled'): Promise<void> {
  const decided = nextEvent(h.events$, is(then), { what: `${then} after the crash` });
  await crashSoon(h);
  await decided;
}

/** A call's outcome, readable at any point without awaiting it. */
function track<T>(p: Promise<T>) {
  const t: { done: boolean; value?: T; code?: string } = { done: false };
  void p.then(
    (value) => {
      t.done = true;
      t.value = value;
    },
    (e: { code?: string }) => {
      t.done = true;
      t.code = e.code ?? String(e);
    },
  );
  return t;
}

/** Waits (with waitFor's generous timeout, so a call left hanging fails the test) for it to settle. */
async function settles(call: { done: boolean }): Promise<void> {
  await waitFor(() => call.done, { what: 'the call to settle' });
}

describe('a call made while the actor is down', () => {
  test('during the backoff: it waits, and is answered by the restarted actor', async () => {
    const r = await rig();
    try {
      await r.h.ref.add(4);
      await crash(r);
      assert.deepEqual(r.scheduler.pending(), [100]);
      const call = track(r.h.ref.get());
      const started = nextEvent(r.h.events$, is('started'));
      r.scheduler.fireNext();
      await r.gate.reached(1);
      assert.equal(call.done, false, 'still waiting while create() runs');
      r.gate.release('ok');
      await started;
      await settles(call);
      assert.deepEqual(call, { done: true, value: 4 });
      assert.equal(r.h.restarts(), 1);
    } finally {
      await r.h.stop();
    }
  });

  test('during the backoff, then stop(): it gets actor-stopped and the restart never happens', async () => {
    const r = await rig();
    try {
      await crash(r);
      const call = track(r.h.ref.get());
      await r.h.stop();
      await settles(call);
      assert.equal(call.code, 'actor-stopped');
      assert.deepEqual(r.scheduler.pending(), [], 'the restart timer was cancelled');
      assert.equal(r.h.restarts(), 0);
      assert.equal(await errorCode(r.h.ref.get()), 'actor-stopped');
    } finally {
      await r.h.stop();
    }
  });

  test('while the restart is in create(), then stop(): it gets actor-stopped', async () => {
    const r = await rig();
    try {
      await crash(r);
      const call = track(r.h.ref.get());
      r.scheduler.fireNext();
      await r.gate.reached(1);
      await r.h.stop();
      await settles(call);
      assert.equal(call.code, 'actor-stopped');
      assert.equal(r.events.filter(is('started')).length, 0, 'the half-started incarnation never came up');
    } finally {
      await r.h.stop();
    }
  });

  test('through restarts whose create() throws: it keeps waiting, and gets actor-stopped when the supervisor gives up', async () => {
    const r = await rig({ maxRestarts: 2 });
    try {
      await crash(r);
      const call = track(r.h.ref.get());
      for (const restart of [1, 2]) {
        const next = nextEvent(r.h.events$, is(restart === 1 ? 'restart-scheduled' : 'stopped'));
        r.scheduler.fireNext();
        await r.gate.reached(restart);
        assert.equal(call.done, false, `still waiting during restart ${restart}`);
        r.gate.release('throw');
        await next;
      }
      await settles(call);
      assert.equal(call.code, 'actor-stopped');
      assert.deepEqual(r.scheduler.pending(), [], 'nothing is left scheduled after giving up');
      assert.deepEqual(
        r.events.map((e) => e.type),
        ['crashed', 'restart-scheduled', 'crashed', 'restart-scheduled', 'crashed', 'stopped'],
      );
    } finally {
      await r.h.stop();
    }
  });

  test('through a restart whose thread dies in create(): it is answered by the restart after', async () => {
    const r = await rig();
    try {
      await r.h.ref.add(9);
      await crash(r);
      const call = track(r.h.ref.get());
      const rescheduled = nextEvent(r.h.events$, is('restart-scheduled'));
      r.scheduler.fireNext();
      await r.gate.reached(1);
      r.gate.release('exit');
      await rescheduled;
      assert.deepEqual(r.scheduler.pending(), [200], 'the second consecutive crash backs off twice as long');
      r.scheduler.fireNext();
      await r.gate.reached(2);
      r.gate.release('ok');
      await settles(call);
      assert.equal(call.value, 9);
      assert.equal(r.h.restarts(), 2);
    } finally {
      await r.h.stop();
    }
  });

  test('a stream opened during the backoff flows from the restarted actor', async () => {
    const r = await rig();
    try {
      await crash(r);
      const items = lastValueFrom(r.h.ref.range$(5, 2).pipe(toArray()));
      r.scheduler.fireNext();
      await r.gate.reached(1);
      r.gate.release('ok');
      assert.deepEqual(await items, [0, 1, 2, 3, 4]);
    } finally {
      await r.h.stop();
    }
  });
});

describe('a call on an actor that is running, given up on, or stopped', () => {
  test('in flight when the actor is stopped: it gets actor-stopped', async () => {
    const r = await rig();
    try {
      const call = track(r.h.ref.hang());
      await r.h.ref.get(); // the hang() call has reached the thread
      await r.h.stop();
      await settles(call);
      assert.equal(call.code, 'actor-stopped');
    } finally {
      await r.h.stop();
    }
  });

  test('in flight when the thread dies: it gets actor-crashed', async () => {
    const r = await rig();
    try {
      const call = track(r.h.ref.hang());
      await crash(r);
      await settles(call);
      assert.equal(call.code, 'actor-crashed');
    } finally {
      await r.h.stop();
    }
  });

  test('after the supervisor gave up: calls and streams get actor-stopped at once', async () => {
    const r = await rig({ maxRestarts: 0 });
    try {
      await crash(r, 'stopped');
      assert.deepEqual(r.scheduler.pending(), []);
      assert.equal(await errorCode(r.h.ref.get()), 'actor-stopped');
      assert.equal(await errorCode(lastValueFrom(r.h.ref.ticks$())), 'actor-stopped');
    } finally {
      await r.h.stop();
    }
  });
});

test('the backoff doubles with each consecutive crash, and starts over after an incarnation that lived resetAfterMs', async () => {
  const r = await rig({ resetAfterMs: 60_000 });
  try {
    const restartOnce = async (restart: number) => {
      const started = nextEvent(r.h.events$, (e) => e.type === 'started' && e.restarts === restart);
      r.scheduler.fireNext();
      await r.gate.reached(restart);
      r.gate.release('ok');
      await started;
    };
    await crash(r);
    assert.deepEqual(r.scheduler.pending(), [100]);
    await restartOnce(1);
    await crash(r);
    assert.deepEqual(r.scheduler.pending(), [200]);
    await restartOnce(2);
    r.scheduler.advance(60_001);
    await crash(r);
    assert.deepEqual(r.scheduler.pending(), [100], 'the crash count was reset');
  } finally {
    await r.h.stop();
  }
});

test('in a process where nothing else is alive, a call made while every restart fails settles with actor-stopped, and the process exits', async () => {
  const child = fileURLToPath(new URL('./test-actors/gives-up.child.ts', import.meta.url));
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const p = execFile(
        process.execPath,
        ['--import', 'tsx', child],
        { timeout: 120_000 },
        (_e, stdout, stderr) => resolve({ code: p.exitCode, stdout, stderr }),
      );
    },
  );
  assert.equal(stdout.trim(), 'error actor-stopped', `child said: ${stdout}${stderr}`);
  assert.equal(code, 0);
});

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code;
  }
  assert.fail('expected a rejection');
}
