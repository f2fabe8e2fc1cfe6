/**
 * The node's storage-unavailable state, without a disk: a write the machine refused makes
 * storage unavailable (one fault, one error line), the next write that succeeds ends it, a
 * write refused for another reason says nothing about the disk, and untilDurable waits out
 * the fault and wakes as soon as another write succeeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreError } from '@lnkit/store';
import { captureLogger } from '@lnkit/test-support';
import { NodeError } from './errors.ts';
import { NodeFaults } from './faults.ts';
import { StorageStatus } from './storage-status.ts';

const full = () =>
  new StoreError(
    'write-failed',
    'write to meta failed: no space left on the device (ENOSPC)',
    '/d',
    'ENOSPC',
  );
const tooLong = () => new StoreError('write-failed', 'write to meta failed: key too long');

function status(retry = { initialRetryMs: 60_000, maxRetryMs: 60_000 }) {
  const log = captureLogger({ level: 'debug' });
  const changes: string[] = [];
  const faults = new NodeFaults((kind, f) => changes.push(`${kind}:${f ? 'raised' : 'cleared'}`));
  return { storage: new StorageStatus(log.logger, faults, retry), faults, changes, log };
}

test('a refused write makes storage unavailable once; the next good write ends it', () => {
  const { storage, faults, changes, log } = status();
  assert.equal(storage.available, true);
  storage.onWrite({ ok: false, error: tooLong() });
  assert.equal(storage.available, true, 'a write that can never succeed is not a fault of the disk');
  storage.onWrite({ ok: false, error: full() });
  storage.onWrite({ ok: false, error: full() });
  assert.equal(storage.available, false);
  assert.match(faults.list()[0]?.message ?? '', /no space left on the device \(ENOSPC\)/);
  assert.throws(
    () => storage.assertAvailable('opening a channel'),
    (e: NodeError) =>
      e instanceof NodeError && e.code === 'storage-unavailable' && /opening a channel/.test(e.message),
  );
  assert.equal(log.lines.filter((l) => l.level === 50).length, 1, 'one error line, however many refusals');
  storage.onWrite({ ok: true });
  assert.equal(storage.available, true);
  assert.deepEqual(faults.list(), []);
  assert.deepEqual(changes, ['storage-unavailable:raised', 'storage-unavailable:cleared']);
  assert.ok(log.lines.some((l) => l.level === 40 && /a write succeeded after 2 refused/.test(String(l.msg))));
});

test('untilDurable waits out a refused write and is woken by another write that succeeds', async () => {
  const { storage } = status(); // a minute between tries: only the wake-up can end the wait
  let tries = 0;
  let diskFull = true;
  const written = storage.untilDurable(async () => {
    tries++;
    if (diskFull) throw full();
    return 'stored';
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(tries, 1);
  assert.equal(storage.available, false);
  diskFull = false;
  storage.onWrite({ ok: true }); // another component's write went through: space again
  assert.equal(await written, 'stored');
  assert.equal(tries, 2);
});

test('untilDurable tries again after its backoff, throws what is not a fault of the disk, and ends when the node stops', async () => {
  const { storage } = status({ initialRetryMs: 1, maxRetryMs: 2 });
  let tries = 0;
  assert.equal(
    await storage.untilDurable(async () => {
      if (++tries < 4) throw full();
      return tries;
    }),
    4,
  );
  await assert.rejects(
    storage.untilDurable(async () => {
      throw tooLong();
    }),
    /key too long/,
  );
  const slow = status();
  const waiting = slow.storage.untilDurable(async () => {
    throw full();
  });
  await new Promise((r) => setImmediate(r));
  slow.storage.close();
  await assert.rejects(waiting, (e: NodeError) => e.code === 'not-running');
});

test('once the node is stopping, a waiting write is tried once more: given up if refused again, kept if it succeeds', async () => {
  const { storage } = status();
  let tries = 0;
  const write = async () => {
    tries++;
    throw full();
  };
  const given = storage.untilDurable(write);
  await new Promise((r) => setImmediate(r));
  assert.equal(tries, 1);
  storage.stopping();
  await assert.rejects(given, (e: NodeError) => e.code === 'not-running' && /no space left/.test(e.message));
  assert.equal(tries, 2, 'tried once more, at once (not after the 60 s backoff)');

  // The disk takes writes again by the time the stop wakes a waiting write: it is kept.
  const other = status();
  let refused = false;
  const kept = other.storage.untilDurable(async () => {
    if (!refused) {
      refused = true;
      throw full();
    }
    return 'durable';
  });
  await new Promise((r) => setImmediate(r));
  other.storage.stopping();
  assert.equal(await kept, 'durable');
});
