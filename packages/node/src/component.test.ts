import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootLogger } from '@lnkit/runtime';
import { type NodeComponent, startComponents, stopComponents } from './component.ts';
import { NodeContext } from './context.ts';
import { NodeError } from './errors.ts';
import { nodeSteps, PLANNED_STEPS, STEPS_OUTSIDE_THE_LIST, STEPS_STARTED_LATE } from './steps/index.ts';

const context = () =>
  new NodeContext(
    {
      dataDir: '/nonexistent',
      network: 'regtest',
      chain: { url: 'http://127.0.0.1:1', auth: { user: 'u', password: 'p' } },
    },
    createRootLogger({ level: 'silent' }),
    {},
  );

function recording(log: string[], step: number, fail?: 'start' | 'stop'): NodeComponent {
  return {
    step,
    name: `c${step}`,
    start() {
      log.push(`start ${step}`);
      if (fail === 'start') throw new Error(`step ${step} broke`);
    },
    stop() {
      log.push(`stop ${step}`);
      if (fail === 'stop') throw new Error(`stop ${step} broke`);
    },
  };
}

test('a failed start stops what had started, last first (the failed one too), and rejects with its error', async () => {
  const log: string[] = [];
  await assert.rejects(
    startComponents(
      [recording(log, 1), recording(log, 2), recording(log, 3, 'start'), recording(log, 4)],
      context(),
    ),
    /step 3 broke/,
  );
  assert.deepEqual(log, ['start 1', 'start 2', 'start 3', 'stop 3', 'stop 2', 'stop 1']);
});

test('stop runs in reverse order and goes on past a component that fails to stop', async () => {
  const log: string[] = [];
  const started = await startComponents(
    [recording(log, 1), recording(log, 2, 'stop'), recording(log, 3)],
    context(),
  );
  log.length = 0;
  await stopComponents(started, context().log);
  assert.deepEqual(log, ['stop 3', 'stop 2', 'stop 1']);
});

test('a part read before the step that provides it ran names the part', () => {
  assert.throws(
    () => context().get('store'),
    (e: NodeError) => e instanceof NodeError && /no store yet/.test(e.message),
  );
});

test("every one of the guide's 19 steps is in exactly one place, the built ones in the guide's order", () => {
  const built = nodeSteps()
    .map((c) => c.step)
    .filter((s) => s > 0);
  const late = new Set<number>(STEPS_STARTED_LATE.map((s) => s.step));
  const inOrder = built.filter((s) => !late.has(s));
  assert.deepEqual(
    inOrder,
    [...inOrder].sort((a, b) => a - b),
  );
  // Each step started late comes right after the step it waits for.
  for (const { step, after } of STEPS_STARTED_LATE)
    assert.equal(built[built.indexOf(step) - 1], after, `step ${step} starts right after step ${after}`);
  // A step may take several components (step 4: the store, then the monitors' persister).
  const all = [
    ...new Set(built),
    ...STEPS_OUTSIDE_THE_LIST.map((s) => s.step),
    ...PLANNED_STEPS.map((s) => s.step),
  ];
  assert.deepEqual(
    [...all].sort((a, b) => a - b),
    Array.from({ length: 19 }, (_, i) => i + 1),
  );
});
