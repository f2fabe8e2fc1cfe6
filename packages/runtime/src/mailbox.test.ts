// The mailbox: one call at a time, in arrival order, in both placements (a worker through
// spawn, the test's own thread through spawnLocal). Every check is on the order of events
// inside the actor, never on timing: a gated call holds the mailbox until the test opens
// its gate, and the controls (open, log) are concurrent so they answer meanwhile.
//
// Why no waiting is needed before reading the log: a call's body runs up to its first await
// as soon as the host receives it, and the host receives messages in the order they were
// sent. So when log() answers, every call sent before it has started, unless it is queued.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import type { ApiOf } from './actor.ts';
import { spawnLocal } from './local.ts';
import { createRootLogger } from './logger.ts';
import { type ActorHandle, spawn } from './spawn.ts';
import mailboxDef from './test-actors/mailbox.actor.ts';

const MAILBOX = new URL('./test-actors/mailbox.actor.ts', import.meta.url);
const quiet = createRootLogger({ level: 'silent' });
type Mailbox = ActorHandle<ApiOf<typeof mailboxDef>>;

const placements: Record<string, () => Promise<Mailbox>> = {
  worker: () => spawn<typeof mailboxDef>(MAILBOX, { config: {}, logger: quiet }),
  'in-thread': () => spawnLocal(mailboxDef, { config: {}, logger: quiet }),
};

async function withActor(start: () => Promise<Mailbox>, fn: (h: Mailbox) => Promise<void>): Promise<void> {
  const h = await start();
  try {
    await fn(h);
  } finally {
    await h.stop();
  }
}

/** The code a call rejects with; attach it as the call is made, so no rejection goes unhandled. */
const codeOf = (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    (v) => assert.fail(`expected a rejection, got ${String(v)}`),
    (e: { code?: string }) => e.code,
  );

for (const [placement, start] of Object.entries(placements)) {
  describe(`mailbox (${placement})`, () => {
    test('two overlapping calls are handled one after the other', () =>
      withActor(start, async (h) => {
        const a = h.ref.step('a');
        const b = h.ref.step('b');
        await h.ref.open('b'); // b could finish at once, if it had started
        assert.deepEqual(await h.ref.log(), ['start a'], 'b has not started while a runs');
        await h.ref.open('a');
        assert.deepEqual(await Promise.all([a, b]), ['a', 'b']);
        assert.deepEqual(await h.ref.log(), ['start a', 'end a', 'start b', 'end b']);
      }));

    test('a call that rejects or throws does not block the next', () =>
      withActor(start, async (h) => {
        const a = codeOf(h.ref.failStep('a'));
        const thrown = codeOf(h.ref.throwNow('t'));
        const b = h.ref.step('b');
        await h.ref.open('a');
        await h.ref.open('b');
        assert.equal(await a, 'failed-on-purpose');
        assert.equal(await thrown, 'thrown-on-purpose');
        assert.equal(await b, 'b');
        assert.deepEqual(await h.ref.log(), ['start a', 'end a', 'threw t', 'start b', 'end b']);
      }));

    test('a method marked concurrent runs alongside the call that holds the mailbox', () =>
      withActor(start, async (h) => {
        const a = h.ref.step('a');
        const side = h.ref.sideStep('s');
        assert.deepEqual(await h.ref.log(), ['start a', 'start s']);
        await h.ref.open('s');
        assert.equal(await side, 's');
        assert.deepEqual(await h.ref.log(), ['start a', 'start s', 'end s'], 's ended while a still ran');
        await h.ref.open('a');
        assert.equal(await a, 'a');
      }));

    test('a stream opens and flows while a call holds the mailbox', () =>
      withActor(start, async (h) => {
        const a = h.ref.step('a');
        assert.deepEqual(await lastValueFrom(h.ref.count$(3).pipe(toArray())), [0, 1, 2]);
        assert.deepEqual(await h.ref.log(), ['start a']);
        await h.ref.open('a');
        await a;
      }));

    test('1,000 queued calls run in arrival order, one at a time', () =>
      withActor(start, async (h) => {
        const n = 1000;
        const expected = Array.from({ length: n }, (_, i) => i);
        // Bodies that take 0, 1 or 2 turns of the event loop: run together, they would finish out of order.
        const answers = await Promise.all(expected.map((i) => h.ref.record(i, i % 3)));
        assert.deepEqual(answers, expected);
        const { order, mostAtOnce } = await h.ref.order();
        assert.deepEqual(order, expected);
        assert.equal(mostAtOnce, 1);
      }));

    test('metrics count waiting calls as mailbox depth, and all unanswered ones as queue depth', () =>
      withActor(start, async (h) => {
        const calls = Promise.allSettled([
          h.ref.step('a'),
          h.ref.step('b'),
          h.ref.step('c'),
          h.ref.sideStep('s'),
        ]);
        // A call, so it travels behind the four above (metrics() takes another path).
        assert.deepEqual(await h.ref.log(), ['start a', 'start s']);
        const during = await h.metrics();
        assert.equal(
          during.queueDepth,
          4,
          'a running, b and c waiting, s running alongside (log() is answered)',
        );
        assert.equal(during.mailboxDepth, 2);
        for (const id of ['a', 'b', 'c', 's']) await h.ref.open(id);
        assert.deepEqual(
          (await calls).map((r) => r.status),
          ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
        );
        const after = await h.metrics();
        assert.equal(after.queueDepth, 0);
        assert.equal(after.mailboxDepth, 0);
      }));

    test('stop() refuses the calls still waiting, and its own stop() ends the running one', async () => {
      const h = await start();
      const a = codeOf(h.ref.step('a'));
      const waiting = [codeOf(h.ref.step('b')), codeOf(h.ref.step('c'))];
      assert.deepEqual(await h.ref.log(), ['start a']);
      await h.stop();
      assert.deepEqual(await Promise.all(waiting), ['actor-stopped', 'actor-stopped']);
      assert.equal(await a, 'closed', 'the definition stop() failed what a waited on');
      assert.equal(await codeOf(h.ref.log()), 'actor-stopped', 'a call after stop');
    });
  });
}
