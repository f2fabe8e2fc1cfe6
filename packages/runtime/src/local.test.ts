// In-thread actors (spawnLocal): the handle of a spawned actor, on the caller's thread, from a
// definition object. The mailbox itself is tested in both placements in mailbox.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { captureLogger, nextEvent } from '@lnkit/test-support';
import { lastValueFrom, Subject, take, toArray } from 'rxjs';
import { type ActorDefinition, defineActor } from './actor.ts';
import { spawnLocal } from './local.ts';
import { createRootLogger } from './logger.ts';
import { toPrometheus } from './metrics.ts';

const quiet = createRootLogger({ level: 'silent' });

/** A channel-sized actor: a little state, a call, a stream. */
const channel = defineActor({
  name: 'channel',
  concurrent: ['peek'],
  create(ctx, config: { capacitySat: number }) {
    let balanceSat = config.capacitySat;
    const updates = new Subject<number>();
    ctx.logger.info({ capacitySat: config.capacitySat }, 'channel opened');
    return {
      pay(amountSat: number): number {
        if (amountSat > balanceSat) throw Object.assign(new Error('not enough'), { code: 'insufficient' });
        balanceSat -= amountSat;
        updates.next(balanceSat);
        return balanceSat;
      },
      peek: () => balanceSat,
      where: () => ({ threadId, placement: ctx.placement, name: ctx.name }),
      keep: <T>(value: T): T => value,
      updates$: () => updates.asObservable(),
    };
  },
});

const codeOf = (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    (v) => assert.fail(`expected a rejection, got ${String(v)}`),
    (e: { code?: string }) => e.code,
  );

test('an in-thread actor runs on the caller thread behind the same handle as a spawned one', async () => {
  const h = await spawnLocal(channel, { name: 'ch-1', config: { capacitySat: 100 }, logger: quiet });
  try {
    assert.equal(h.name, 'ch-1');
    assert.equal(h.placement, 'in-process');
    assert.deepEqual(await h.ref.where(), { threadId, placement: 'in-process', name: 'ch-1' });
    const seen = lastValueFrom(h.ref.updates$().pipe(take(2), toArray()));
    assert.equal(await h.ref.pay(30), 70);
    assert.equal(await h.ref.pay(20), 50);
    assert.deepEqual(await seen, [70, 50]);
    assert.equal(await codeOf(h.ref.pay(1000)), 'insufficient');
    assert.equal(await h.ref.peek(), 50, 'a call that threw changed nothing');
    const shared = { note: 'not copied' };
    assert.equal(await h.ref.keep(shared), shared, 'arguments are shared, as in-process');
    assert.equal(await codeOf((h.ref as unknown as { nope(): Promise<unknown> }).nope()), 'unknown-method');
    assert.equal((h.ref as unknown as { then?: unknown }).then, undefined, 'the ref is not a thenable');
    assert.equal(h.restarts(), 0);
    const m = await h.metrics();
    assert.equal(m.actor, 'ch-1');
    assert.equal(m.placement, 'in-process');
    assert.equal(m.errors, 1, 'the failed payment (an unknown name is refused by the ref itself)');
    assert.equal(m.latency.count, 6, 'where, three payments, peek, keep');
    assert.match(toPrometheus([m]), /lnkit_actor_mailbox_depth\{actor="ch-1"\} 0/);
  } finally {
    const stopped = nextEvent(h.events$, (e) => e.type === 'stopped', { what: 'stopped event' });
    await h.stop();
    assert.deepEqual(await stopped, { type: 'stopped', actor: 'ch-1', reason: 'requested' });
  }
  assert.equal(await codeOf(h.ref.peek()), 'actor-stopped');
  await h.stop(); // twice is harmless
});

test('an in-thread actor logs through a child of the given logger, with its actor field', async () => {
  const { logger, lines } = captureLogger();
  const h = await spawnLocal(channel, { name: 'ch-log', config: { capacitySat: 7 }, logger });
  await h.stop();
  const line = lines.find((l) => l.msg === 'channel opened');
  assert.equal(line?.actor, 'ch-log');
  assert.equal(line?.capacitySat, 7);
});

test('a create() that fails, or a concurrent name that is not a call, fails the spawn with actor-init-failed', async () => {
  const broken = defineActor({
    name: 'broken',
    create(): { x(): number } {
      throw new Error('no state to read');
    },
  });
  assert.equal(await codeOf(spawnLocal(broken, { config: {}, logger: quiet })), 'actor-init-failed');
  defineActor({
    name: 'typo',
    // @ts-expect-error the types refuse a name that is not one of the API's calls
    concurrent: ['pya'],
    create: () => ({ pay: () => 1 }),
  });
  // An API built at run time is checked when the actor starts.
  const misnamed = { name: 'misnamed', concurrent: ['missing'], create: () => ({ x: () => 1 }) };
  assert.equal(
    await codeOf(
      spawnLocal(misnamed as ActorDefinition<unknown, { x(): number }>, { config: {}, logger: quiet }),
    ),
    'actor-init-failed',
  );
});

test('10,000 in-thread actors each keep their own state and mailbox', async () => {
  const n = 10_000;
  const handles = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      spawnLocal(channel, { name: `ch-${i}`, config: { capacitySat: i + 1 }, logger: quiet }),
    ),
  );
  try {
    const balances = await Promise.all(handles.map((h) => h.ref.pay(1)));
    assert.deepEqual(
      balances,
      Array.from({ length: n }, (_, i) => i),
    );
  } finally {
    await Promise.all(handles.map((h) => h.stop()));
  }
});
