import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { actorModule, createRootLogger, Supervisor, spawn } from './index.ts';
import type counterDef from './test-actors/counter.actor.ts';
import { counterActor } from './test-actors/counter.module.ts';
import { namedActor } from './test-actors/named.module.ts';

const quiet = createRootLogger({ level: 'silent' });
const LOADED = Symbol.for('lnkit.test.named-actor-loaded');
const loadedHere = () => (globalThis as Record<symbol, unknown>)[LOADED] === true;

test('a worker actor spawned from its descriptor is loaded only in its own thread', async () => {
  assert.equal(loadedHere(), false);
  const w = await spawn(namedActor, { config: {}, logger: quiet });
  try {
    assert.equal(w.name, 'named', 'the name comes from the descriptor');
    assert.equal(await w.ref.ping(), 'pong');
    assert.equal(loadedHere(), false, 'the module was not imported on this thread');
  } finally {
    await w.stop();
  }
  // The check can see an import: running it in-process does load it here.
  const p = await spawn(namedActor, { placement: 'in-process', config: {}, logger: quiet });
  await p.stop();
  assert.equal(loadedHere(), true);
});

for (const placement of ['worker', 'in-process'] as const) {
  test(`a descriptor naming another actor than its module defines fails to start (${placement})`, async () => {
    const wrong = actorModule<typeof counterDef>('not-counter', counterActor.url);
    await assert.rejects(
      spawn(wrong, { placement, config: {}, logger: quiet }),
      (e: Error & { code?: string }) =>
        e.code === 'actor-init-failed' &&
        e.message.includes('defines the actor "counter", but its descriptor names "not-counter"'),
    );
  });
}

test('a descriptor whose module cannot be loaded fails to start with actor-init-failed', async () => {
  const missing = actorModule<typeof counterDef>(
    'counter',
    new URL('./test-actors/missing.actor.ts', import.meta.url),
  );
  await assert.rejects(
    spawn(missing, { config: {}, logger: quiet }),
    (e: Error & { code?: string }) =>
      e.code === 'actor-init-failed' && /missing\.actor\.ts cannot be loaded/.test(e.message),
  );
});

test('spawn and Supervisor.spawn type the config and the handle from the descriptor, with no cast', async () => {
  const sup = new Supervisor(quiet);
  try {
    const a = await spawn(counterActor, { config: {}, logger: quiet });
    const b = await sup.spawn(counterActor, { name: 'b', config: { failInitFrom: 5 } });
    const sum: number = (await a.ref.add(2)) + (await b.ref.add(3));
    assert.equal(sum, 5);
    await a.stop();
  } finally {
    await sup.stopAll();
  }
  // Checked by the type checker only (never called): what the descriptor's types refuse.
  const _refused = async () => {
    // @ts-expect-error stateFile is a string
    await spawn(counterActor, { config: { stateFile: 3 } });
    const h = await sup.spawn(counterActor, { config: {} });
    // @ts-expect-error the counter has no method nope
    await h.ref.nope();
    // @ts-expect-error add takes a number
    await h.ref.add('1');
  };
});

test('spawning by the path or URL of the module still works, typed by spawn<typeof definition>', async () => {
  for (const where of [counterActor.url, new URL(counterActor.url), fileURLToPath(counterActor.url)]) {
    const h = await spawn<typeof counterDef>(where, { config: {}, logger: quiet });
    try {
      assert.equal(h.name, 'counter', 'the name is read from the module');
      const n: number = await h.ref.add(1);
      assert.equal(n, 1);
    } finally {
      await h.stop();
    }
  }
});
