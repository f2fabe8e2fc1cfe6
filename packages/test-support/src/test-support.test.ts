import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { captureLogger, cpuHog, nextEvent, TestSupportError, waitFor } from './index.ts';

describe('waitFor', () => {
  it('re-checks until the check returns something truthy, and returns it', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
    assert.deepEqual(value, { calls: 3 });
  });

  it('treats a throwing check as "not yet"', async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        if (++calls < 3) throw new Error('not ready');
        return 'ready';
      },
      { intervalMs: 1 },
    );
    assert.equal(value, 'ready');
  });

  it('times out with an error naming what it waited for and the last error the check threw', async () => {
    const err = await waitFor(
      () => {
        throw new Error('tip is 41');
      },
      { timeoutMs: 50, intervalMs: 5, what: 'tip at height 42' },
    ).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TestSupportError);
    assert.equal(err.code, 'timeout');
    assert.match(err.message, /tip at height 42/);
    assert.match(err.message, /last error: tip is 41/);
  });

  it('times out even when a check never settles', async () => {
    const err = await waitFor(() => new Promise<false>(() => {}), {
      timeoutMs: 50,
      what: 'a hung check',
    }).catch((e: unknown) => e);
    assert.ok(err instanceof TestSupportError);
    assert.match(err.message, /a hung check/);
  });

  it('keeps the process alive while it polls (its timer is ref’d)', () => {
    // With an unref'd timer the child would exit before the condition holds and print nothing.
    const index = fileURLToPath(new URL('./index.ts', import.meta.url));
    const script = `import { waitFor } from ${JSON.stringify(index)};
      const start = Date.now();
      await waitFor(() => Date.now() - start > 100, { intervalMs: 20 });
      console.log('done');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.trim(), 'done');
  });
});

describe('nextEvent', () => {
  it('resolves with the first matching value of an Observable, not an earlier one', async () => {
    const events = new Subject<number>();
    const next = nextEvent(events, (n) => n % 2 === 0);
    events.next(1);
    events.next(3);
    events.next(4);
    events.next(6);
    assert.equal(await next, 4);
    assert.equal(events.observed, false, 'unsubscribed once settled');
  });

  it('resolves with the next value at all when given no match', async () => {
    const events = new Subject<string>();
    const next = nextEvent(events);
    events.next('a');
    assert.equal(await next, 'a');
  });

  it('rejects when the Observable completes or fails before a match', async () => {
    const completes = new Subject<number>();
    const a = nextEvent(completes, (n) => n > 10, { what: 'a big number' });
    completes.next(1);
    completes.complete();
    await assert.rejects(a, (e: unknown) => e instanceof TestSupportError && e.code === 'completed');

    const fails = new Subject<number>();
    const b = nextEvent(fails);
    fails.error(new Error('boom'));
    await assert.rejects(b, (e: unknown) => e instanceof TestSupportError && /boom/.test(e.message));
  });

  it('resolves with the first matching event of an EventEmitter, and removes its listeners', async () => {
    const emitter = new EventEmitter();
    const next = nextEvent<{ height: number }>(emitter, 'block', (b) => b.height === 2);
    emitter.emit('block', { height: 1 });
    emitter.emit('other', { height: 2 });
    emitter.emit('block', { height: 2 });
    assert.deepEqual(await next, { height: 2 });
    assert.equal(emitter.listenerCount('block'), 0);
    assert.equal(emitter.listenerCount('error'), 0);
  });

  it("rejects on the emitter's 'error' event", async () => {
    const emitter = new EventEmitter();
    const next = nextEvent(emitter, 'block');
    emitter.emit('error', new Error('socket closed'));
    await assert.rejects(next, /socket closed/);
  });

  it('times out naming what it waited for', async () => {
    const events = new Subject<number>();
    const next = nextEvent(events, (n) => n === 7, { timeoutMs: 30, what: 'the seventh block' });
    events.next(6);
    await assert.rejects(
      next,
      (e: unknown) =>
        e instanceof TestSupportError && e.code === 'timeout' && /the seventh block/.test(e.message),
    );
    assert.equal(events.observed, false);
  });
});

describe('captureLogger', () => {
  it('has each line parsed in `lines` as soon as it is logged', () => {
    const { logger, lines } = captureLogger();
    logger.child({ actor: 'poller' }).info({ height: 5 }, 'tip');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.msg, 'tip');
    assert.equal(lines[0]?.height, 5);
    assert.equal(lines[0]?.actor, 'poller');
  });

  it('honours the level', () => {
    const { logger, lines } = captureLogger({ level: 'warn' });
    logger.info('dropped');
    logger.warn('kept');
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['kept'],
    );
  });

  it('waitForLine finds a line already written, or waits for the next matching one', async () => {
    const { logger, waitForLine } = captureLogger();
    logger.info('first');
    assert.equal((await waitForLine((l) => l.msg === 'first')).msg, 'first');
    const later = waitForLine((l) => l.msg === 'second');
    logger.info('not it');
    logger.info('second');
    assert.equal((await later).msg, 'second');
    await assert.rejects(
      waitForLine((l) => l.msg === 'never', { timeoutMs: 20, what: '"never"' }),
      /"never".*last: .*second/,
    );
  });
});

describe('cpuHog', () => {
  it('runs a child process until stopped', async () => {
    const hog = cpuHog();
    const pid = hog.pid;
    assert.ok(pid);
    assert.doesNotThrow(() => process.kill(pid, 0), 'hog is running');
    hog.stop();
    await waitFor(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      { what: 'the hog to exit' },
    );
  });
});
