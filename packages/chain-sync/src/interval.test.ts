import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { timerScheduler } from './interval.ts';

test('timerScheduler runs rounds one after another, never two at once, until cancelled', async () => {
  let running = 0;
  let overlapped = false;
  let rounds = 0;
  let release: (() => void) | undefined;
  const job = timerScheduler.every(1, async () => {
    if (running++ > 0) overlapped = true;
    rounds++;
    if (rounds === 2) await new Promise<void>((r) => (release = r)); // a slow round
    running--;
  });
  await waitFor(() => release, { what: 'the second round to start' });
  // Timers of the same interval fire in the order they were armed: once a marker armed now has
  // fired 5 times, a round armed next to the slow one (the bug: overlapping rounds) would have run.
  let markers = 0;
  const marker = timerScheduler.every(1, async () => void markers++);
  await waitFor(() => markers >= 5, { what: 'five marker rounds' });
  assert.equal(rounds, 2, 'no round started while the slow one runs');
  job.cancel();
  release?.();
  const markersAtCancel = markers;
  await waitFor(() => markers >= markersAtCancel + 5, { what: 'five more marker rounds' });
  marker.cancel();
  assert.equal(rounds, 2, 'no round after cancel(), not even one armed by the round that was running');
  assert.equal(overlapped, false);
});

test('timerScheduler keeps going after a round that throws', async () => {
  let rounds = 0;
  const job = timerScheduler.every(1, async () => {
    rounds++;
    throw new Error('source down');
  });
  try {
    await waitFor(() => rounds >= 3, { what: 'three rounds despite the failures' });
  } finally {
    job.cancel();
  }
});
