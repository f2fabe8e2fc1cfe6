import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeysError } from './errors.ts';
import { createLaneBuffer, NodeKeyLane, serveNodeKeyLane } from './signer-pool-lane.ts';

// In one thread: the lane's protocol does not care which thread serves it.
const point = (n: number) => Uint8Array.of(2, ...new Uint8Array(32).fill(n));
const answer = (p: Uint8Array) => p.subarray(1).map((b) => b ^ 0x55);

test('requests are answered in their own slots, more at once than there are slots', async () => {
  const lane = new NodeKeyLane(createLaneBuffer());
  serveNodeKeyLane(lane.buffer, answer);
  const calls = Array.from({ length: 100 }, (_, i) => lane.ecdh(point(i)));
  // 64 slots: the rest are refused at once, for the caller to send as pool tasks.
  assert.equal(calls.filter((c) => c === undefined).length, 36);
  const answers = await Promise.all(calls.slice(0, 64));
  for (const [i, a] of answers.entries()) assert.deepEqual(a, answer(point(i)));
  // Every slot came back.
  assert.equal((await Promise.all(Array.from({ length: 64 }, (_, i) => lane.ecdh(point(i))))).length, 64);
  lane.close();
});

test('a failure in the server crosses as its KeysError code, and the slot is reused', async () => {
  const lane = new NodeKeyLane(createLaneBuffer());
  serveNodeKeyLane(lane.buffer, (p) => {
    if (p[1] === 7) throw new KeysError('seed-unreadable', 'no seed');
    if (p[1] === 8) throw new Error('anything else');
    return answer(p);
  });
  await assert.rejects(
    lane.ecdh(point(7))!,
    (e: unknown) => e instanceof KeysError && e.code === 'seed-unreadable',
  );
  await assert.rejects(
    lane.ecdh(point(8))!,
    (e: unknown) => e instanceof KeysError && e.code === 'signer-failed',
  );
  assert.deepEqual(await lane.ecdh(point(9)), answer(point(9)));
  lane.close();
});

test('with nobody serving, a request is given up after its timeout; close refuses the rest', async () => {
  const lane = new NodeKeyLane(createLaneBuffer(), { answerTimeoutMs: 50, sweepMs: 10 });
  await assert.rejects(
    lane.ecdh(point(1))!,
    (e: unknown) => e instanceof KeysError && e.code === 'signer-unavailable',
  );
  const waiting = lane.ecdh(point(2))!;
  lane.close();
  await assert.rejects(waiting, (e: unknown) => e instanceof KeysError && e.code === 'signer-unavailable');
  assert.equal(lane.ecdh(point(3)), undefined, 'a closed lane takes no request');
});
